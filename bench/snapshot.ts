// `npm run bench -- snapshot`: the evm_snapshot + evm_revert round trip (ms) after 1,000 blocks
// of history, on xai's single-node devnet and on anvil in the same run. Usage: npm run bench -- snapshot --help
import {parseArgs} from 'node:util'

import {killAllTracked} from './lib/proc.js'
import {RpcClient} from './lib/rpc.js'
import {median, round} from './lib/stats.js'
import {TARGETS} from './lib/targets.js'

const HELP = `Usage: npm run bench -- snapshot [options]

  --target <list>     targets, comma-separated (default xai,anvil)
  --history <n>       blocks mined before timing (default 1000)
  --rounds <n>        timed round trips per case (default 50)
  -h, --help

Two cases per target, both in manual mining (evm_setAutomine false): "empty" is evm_snapshot then
evm_revert with nothing in between; "10 blocks" mines 10 blocks (anvil_mine) between them, which the
revert drops (mining is not timed). Prints one JSON line per target with the median milliseconds.`

export async function main(argv: string[]): Promise<number> {
  const {values} = parseArgs({
    args: argv,
    options: {
      target: {type: 'string', default: 'xai,anvil'},
      history: {type: 'string', default: '1000'},
      rounds: {type: 'string', default: '50'},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const history = Number(values.history)
  const rounds = Number(values.rounds)
  for (const name of values.target!.split(',')) {
    const factory = TARGETS[name.trim()]
    if (!factory) throw new Error(`unknown target ${name}`)
    const target = factory({blockTimeSec: 1, startTimeoutMs: 120_000})
    try {
      await target.start()
      const rpc = new RpcClient(target.rpcUrl, {maxSockets: 1})
      await rpc.request('evm_setAutomine', [false])
      await rpc.request('evm_setIntervalMining', [0])
      for (let done = 0; done < history; done += 100) await rpc.request('anvil_mine', [`0x${Math.min(100, history - done).toString(16)}`, '0x0'])
      const height = BigInt(await rpc.request<string>('eth_blockNumber'))
      const empty: number[] = []
      const withBlocks: number[] = []
      for (let i = 0; i < rounds + 5; i++) {
        const t0 = performance.now()
        const id = await rpc.request<string>('evm_snapshot')
        if ((await rpc.request('evm_revert', [id])) !== true) throw new Error(`${name}: evm_revert did not revert`)
        if (i >= 5) empty.push(performance.now() - t0)
      }
      for (let i = 0; i < rounds + 5; i++) {
        const t0 = performance.now()
        const id = await rpc.request<string>('evm_snapshot')
        const snapMs = performance.now() - t0
        await rpc.request('anvil_mine', ['0xa', '0x0'])
        const t1 = performance.now()
        if ((await rpc.request('evm_revert', [id])) !== true) throw new Error(`${name}: evm_revert did not revert`)
        if (i >= 5) withBlocks.push(snapMs + performance.now() - t1)
      }
      const after = BigInt(await rpc.request<string>('eth_blockNumber'))
      if (after !== height) throw new Error(`${name}: height ${after} after the reverts, expected ${height}`)
      process.stdout.write(`${JSON.stringify({target: name, history: Number(height), rounds, emptyMedianMs: round(median(empty), 2), tenBlocksMedianMs: round(median(withBlocks), 2)})}\n`)
    } finally {
      await target.stop()
    }
  }
  await killAllTracked()
  return 0
}
