// `npm run bench -- tx-cost`: the CPU a validator spends per transaction outside the network, in
// one process, stage by stage: admission (decode, sender recovery, mempool checks and the modules'
// checkTx), building the block (the proposer: EVM, module hooks, roots), re-executing it (every
// other validator) and committing it. Process CPU (process.cpuUsage) over each stage divided by the
// transactions: unlike wall time, it hardly moves with other work on a shared machine.
import {parseArgs} from 'node:util'

import {Address} from '@ethereumjs/util'
import {encodeDeployData, encodeFunctionData, getContractAddress, type Hex, hexToBytes, toHex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'

import {Chain} from '../src/chain/chain.js'
import {createDevGenesis} from '../src/chain/genesis.js'
import {Mempool} from '../src/chain/mempool.js'
import {defaultGenesisModules} from '../src/modules/builtin/index.js'
import {createModuleHost} from '../src/modules/host/create-host.js'
import {addModulesToGenesis} from '../src/modules/host/genesis-modules.js'
import {openMemoryStore} from '../src/storage/database.js'
import {deriveDevAccounts} from '../src/util/dev-accounts.js'
import {silentLogger} from '../src/util/logger.js'
import {compileBenchToken} from './lib/contract.js'
import {median} from './lib/stats.js'

const HELP = `Usage: npm run bench -- tx-cost [--txs N] [--rounds R] [--kind transfers|erc20|both] [--json]

Per-transaction CPU of admission, block building, re-execution and commit, in one process, on a
chain with the devnet's built-in modules (two chains: the proposer's and a validator's).`

type Stage = 'admit' | 'build' | 'reexecute' | 'commit'
const STAGES: Stage[] = ['admit', 'build', 'reexecute', 'commit']

function cpuUs(): number {
  const {user, system} = process.cpuUsage()
  return user + system
}

async function createChain(genesis: ReturnType<typeof addModulesToGenesis>): Promise<{chain: Chain; mempool: Mempool}> {
  const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
  return {chain, mempool: new Mempool(chain)}
}

export async function main(argv: string[]): Promise<number> {
  const {values} = parseArgs({args: argv, options: {txs: {type: 'string'}, rounds: {type: 'string'}, kind: {type: 'string'}, json: {type: 'boolean', default: false}, help: {type: 'boolean', short: 'h', default: false}}})
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const perBlock = Number(values.txs ?? 500)
  const rounds = Number(values.rounds ?? 5)
  const kinds = values.kind === 'both' || values.kind === undefined ? ['transfers', 'erc20'] : [values.kind]
  const accounts = deriveDevAccounts()
  const genesis = addModulesToGenesis(createDevGenesis({accounts: accounts.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules())
  const token = kinds.includes('erc20') ? await compileBenchToken() : undefined
  const results: Record<string, Record<Stage, number>> = {}
  for (const kind of kinds) {
    const proposer = await createChain(genesis)
    const validator = await createChain(genesis)
    const signers = accounts.map((a) => privateKeyToAccount(a.privateKey as Hex))
    const nonces = signers.map(() => 0)
    let timestamp = 1_700_000_001n
    const coinbase = new Address(hexToBytes('0x00000000000000000000000000000000000000c0'))
    let to: Hex = '0x000000000000000000000000000000000000dEaD'
    let data: Hex | undefined
    const sign = (i: number, tx: {to?: Hex; data?: Hex; gas: bigint}) =>
      signers[i]!.signTransaction({chainId: 31337, type: 'eip1559', nonce: nonces[i]++, value: kind === 'transfers' ? 1n : 0n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, ...tx})
    // One block on both chains, returning the CPU of each stage.
    const block = async (raws: Hex[]): Promise<Record<Stage, number>> => {
      const bytes = raws.map((r) => hexToBytes(r))
      let t = cpuUs()
      for (const raw of bytes) await proposer.mempool.addRaw(raw)
      for (const raw of bytes) await validator.mempool.addRaw(raw)
      const admit = (cpuUs() - t) / 2
      t = cpuUs()
      const selected = proposer.mempool.selectForBlock(proposer.chain.nextBaseFee(), bytes.length)
      const built = await proposer.chain.buildBlock(selected, {timestamp, coinbase})
      const build = cpuUs() - t
      if (built.rejected.length > 0) throw new Error(`rejected: ${built.rejected[0]!.error}`)
      // The validator re-executes the proposal's transactions (its own pooled copies, as decodeBundle takes them).
      t = cpuUs()
      const mine = built.record.block.transactions.map((tx) => validator.mempool.get(tx.hash())!.tx)
      const again = await validator.chain.buildBlock(mine, {timestamp, coinbase})
      const reexecute = cpuUs() - t
      if (toHex(again.record.block.hash()) !== toHex(built.record.block.hash())) throw new Error('re-execution gave another block')
      t = cpuUs()
      await proposer.chain.commitBlock(built)
      await validator.chain.commitBlock(again)
      const commit = (cpuUs() - t) / 2
      timestamp += 1n
      return {admit, build, reexecute, commit}
    }
    if (kind === 'erc20') {
      // Deploy the token (its constructor credits every sender).
      const deploy = await sign(0, {data: encodeDeployData({abi: token!.abi, bytecode: token!.bytecode, args: [signers.map((s) => s.address), 10n ** 24n]}), gas: 3_000_000n})
      await block([deploy])
      to = getContractAddress({from: signers[0]!.address, nonce: 0n})
      data = encodeFunctionData({abi: token!.abi, functionName: 'transfer', args: ['0x000000000000000000000000000000000000bEEF', 1n]})
    }
    const samples: Record<Stage, number[]> = {admit: [], build: [], reexecute: [], commit: []}
    for (let round = 0; round < rounds + 1; round++) {
      const raws: Hex[] = []
      for (let i = 0; i < perBlock; i++) raws.push(await sign(i % signers.length, {to, data, gas: kind === 'transfers' ? 21_000n : 100_000n}))
      const cost = await block(raws)
      if (round === 0) continue // warm-up
      for (const stage of STAGES) samples[stage].push(cost[stage] / perBlock)
    }
    results[kind] = Object.fromEntries(STAGES.map((s) => [s, median(samples[s])])) as Record<Stage, number>
    await proposer.chain.close()
    await validator.chain.close()
  }
  if (values.json) process.stdout.write(`${JSON.stringify({perBlock, rounds, results}, null, 2)}\n`)
  else {
    process.stdout.write(`CPU µs per transaction (median of ${rounds} blocks of ${perBlock}; one node's share)\n`)
    process.stdout.write(`${'kind'.padEnd(10)}${STAGES.map((s) => s.padStart(11)).join('')}${'validator'.padStart(11)}${'proposer'.padStart(11)}\n`)
    for (const [kind, r] of Object.entries(results)) {
      const validatorTotal = r.admit + r.reexecute + r.commit
      const proposerTotal = r.admit + r.build + r.commit
      process.stdout.write(`${kind.padEnd(10)}${STAGES.map((s) => Math.round(r[s]).toString().padStart(11)).join('')}${Math.round(validatorTotal).toString().padStart(11)}${Math.round(proposerTotal).toString().padStart(11)}\n`)
    }
  }
  return 0
}
