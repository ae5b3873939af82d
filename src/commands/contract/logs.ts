import {Args, Errors, Flags} from '@oclif/core'
import {getAddress} from 'viem'

import {XaiCommand} from '../../cli/xai-command.js'
import {
  type ContractLogEntry,
  type ContractLogsResult,
  type FollowContractLogsResult,
  assertWsUrl,
  deploymentBlock,
  followContractLogs,
  parseBlockNumber,
  readContractLogs,
  wsUrlFor,
} from '../../contracts/contract-logs.js'
import {resolveContractTarget} from '../../contracts/contract-target.js'
import {isXaiError} from '../../util/errors.js'
import {abiFlag, chainFlags, resolveChainContext} from './deploy.js'

export default class ContractLogs extends XaiCommand<ContractLogsResult | FollowContractLogsResult> {
  static override summary = "Show a contract's events, decoded with its ABI; --follow streams new ones live over WebSocket."
  static override description = `The contract is a name (its newest deployment on the current chain, from the deploy journal, with its artifact's ABI) or an address with --abi <Name>. Logs are read with eth_getLogs, 5,000 blocks per request, from --from-block (default: the block the named contract was deployed in, else 0) to --to-block (default: the head), and decoded; a log no event of the ABI matches is shown raw (topics and data).

--event keeps one event: a name (every overload of it) or a signature such as 'Transfer(address,address,uint256)'.

--follow then keeps printing new logs as the node pushes them (eth_subscribe over WebSocket: --ws-url, default the RPC URL with ws:// or wss://) until Ctrl-C, without missing or repeating one at the switch. A dropped connection ends it with exit 3. With --json, --follow prints one JSON object per log (NDJSON); without --follow, --json prints one document with every log.`

  static override examples = [
    {description: 'Every event of Token since its deployment', command: '<%= config.bin %> <%= command.id %> Token'},
    {description: 'Transfers from block 100 on, for scripts', command: "<%= config.bin %> <%= command.id %> Token --event Transfer --from-block 100 --json | jq '.logs[].args'"},
    {description: 'An overload by signature, at an address', command: "<%= config.bin %> <%= command.id %> 0x5FbDB2315678afecb367f032d93F642f64180aa3 --abi Token --event 'Transfer(address,address,uint256)'"},
    {description: 'Watch live (Ctrl-C stops)', command: '<%= config.bin %> <%= command.id %> Token --follow'},
    {description: 'Stream live as NDJSON', command: "<%= config.bin %> <%= command.id %> Token --event Transfer --follow --json | jq -c '.args'"},
  ]

  static override args = {
    contract: Args.string({description: 'Contract name, or an address (with --abi)', required: true}),
  }

  static override flags = {
    ...chainFlags,
    ...abiFlag,
    event: Flags.string({char: 'e', description: "Only this event: a name, or a signature such as 'Transfer(address,address,uint256)'", env: 'XAI_CONTRACT_EVENT'}),
    'from-block': Flags.string({description: 'First block (decimal or 0x-hex) [default: the deployment block of a named contract, else 0]', env: 'XAI_CONTRACT_FROM_BLOCK'}),
    'to-block': Flags.string({description: 'Last block (decimal, 0x-hex or latest) [default: latest]', exclusive: ['follow'], env: 'XAI_CONTRACT_TO_BLOCK'}),
    follow: Flags.boolean({char: 'f', description: 'Then stream new logs as they come, until Ctrl-C', default: false, env: 'XAI_CONTRACT_FOLLOW'}),
    'ws-url': Flags.string({description: 'WebSocket endpoint for --follow [default: the RPC URL with ws:// or wss://]', env: 'XAI_WS_URL'}),
  }

  /** Set while following with --json: logs went out as NDJSON, no document at the end. */
  private streamed = false

  async run(): Promise<ContractLogsResult | FollowContractLogsResult> {
    const {args, flags} = await this.parse(ContractLogs)
    const json = this.jsonEnabled()
    const explicitFrom = flags['from-block'] === undefined ? undefined : parseBlockNumber(flags['from-block'], '--from-block')
    const toBlock = flags['to-block'] === undefined ? undefined : parseBlockNumber(flags['to-block'], '--to-block')
    const wsUrl = flags['ws-url'] === undefined ? undefined : assertWsUrl(flags['ws-url'])
    const {project, network} = await resolveChainContext(flags)
    const target = await resolveContractTarget(project, args.contract, {chainId: network.chainId, abiName: flags.abi})
    const fromBlock = explicitFrom ?? (await deploymentBlock(project, args.contract, network.chainId, target.address)) ?? 0n

    if (!flags.follow) {
      const result = await readContractLogs({target, network, event: flags.event, fromBlock, toBlock, signal: this.signal})
      if (!json) {
        process.stdout.write(result.logs.map((log) => `${formatLogLine(log)}\n`).join(''))
        this.note(`${result.logs.length} log${result.logs.length === 1 ? '' : 's'} of ${result.contract ?? result.address} in blocks ${result.fromBlock}–${result.toBlock}`)
      }
      return result
    }

    this.streamed = json
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      return await followContractLogs({
        target,
        network,
        event: flags.event,
        fromBlock,
        wsUrl: wsUrl ?? wsUrlFor(network.rpcUrl),
        signal: this.signal,
        onLog: (log) => process.stdout.write(json ? `${JSON.stringify(log)}\n` : `${formatLogLine(log)}\n`),
        onEvent: (event) => {
          if (event.type === 'subscribed') this.note(`Following ${target.contract ?? getAddress(target.address)} at ${getAddress(target.address)} from block ${fromBlock} (${event.detail}); Ctrl-C stops.`)
          else this.note(`— caught up at block ${event.detail}; waiting for new logs…`)
        },
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }

  override logJson(json: unknown): void {
    if (this.streamed) return
    super.logJson(json)
  }

  /** While streaming NDJSON, an error is one line on stdout (and the human message on stderr). */
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (!this.streamed || !isXaiError(err)) return super.catch(err)
    process.stdout.write(`${JSON.stringify({error: err.toJSON()})}\n`)
    process.stderr.write(`✖ ${err.message} [${err.code}]\n`)
    if (err.hint) process.stderr.write(`Hint: ${err.hint}\n`)
    process.exitCode = err.exitCode
    throw new Errors.ExitError(err.exitCode)
  }
}

/** `#12 Transfer(from=0x…, to=0x…, value=250) tx 0x…`; a raw log shows its topics and data. */
export function formatLogLine(log: ContractLogEntry): string {
  const tx = `tx ${log.txHash ?? '(pending)'}`
  if (log.event === null) return `#${log.blockNumber} (unknown log of ${log.address}: topics ${log.topics.join(',') || 'none'} data ${log.data}) ${tx}`
  const args =
    log.args === null || typeof log.args !== 'object'
      ? ''
      : Object.entries(log.args as Record<string, unknown>)
          .map(([name, value]) => `${name}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
          .join(', ')
  return `#${log.blockNumber} ${log.event}(${args}) ${tx}`
}
