import {setTimeout as sleep} from 'node:timers/promises'

import {Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {type DevnetStatus, getDevnetStatus} from '../../devnet/devnet-status.js'
import {classifyNode, watchDevnet} from '../../devnet/watch-devnet.js'
import {errorMessage, isXaiError} from '../../util/errors.js'

export default class DevnetStatusCommand extends XaiCommand<DevnetStatus> {
  static override summary = 'Show whether a devnet runs, its nodes and their block height.'
  static override description = `Reads devnet.json, checks each node's PID and asks running nodes for their head block and, on multi-node devnets, their consensus round and step, peers and mempool. Faults show up per node: DOWN (no process), PAUSED (stopped by \`xai devnet fault pause\`), DISCONNECTED (network cut), NO ANSWER (RPC silent), SYNCING or "behind by N" blocks.

With --watch it keeps watching until Ctrl-C, which leaves the view and keeps the devnet running: on a terminal, a live dashboard (nodes, committed blocks with their proposer, tx/s); without a terminal, one plain status block every --interval ms; with --json, one DevnetStatus document per line (NDJSON).`

  static override examples = [
    {description: 'Status of the default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Watch it live (dashboard on a terminal; Ctrl-C leaves, the devnet keeps running)', command: '<%= config.bin %> <%= command.id %> --watch'},
    {description: 'Height of node 0, for scripts', command: "<%= config.bin %> <%= command.id %> --json | jq '.nodes[0].height'"},
    {description: 'Fail a CI step unless the devnet runs', command: "<%= config.bin %> <%= command.id %> --json | jq -e '.running'"},
    {description: 'Record every node\'s height each second as NDJSON', command: "<%= config.bin %> <%= command.id %> --watch --json --interval 1000 | jq -c '[.nodes[].height]'"},
    {description: 'A named devnet kept outside the project', command: '<%= config.bin %> <%= command.id %> --name staging --dir ~/.xai'},
  ]

  static override flags = {
    ...devnetFlags,
    watch: Flags.boolean({char: 'w', description: 'Keep watching until Ctrl-C (the devnet keeps running)', default: false, env: 'XAI_DEVNET_WATCH'}),
    interval: Flags.integer({description: 'Milliseconds between updates with --watch [default: 500 for the dashboard, else 2000]', min: 100, env: 'XAI_DEVNET_INTERVAL'}),
  }

  /** Set while watching with --json: documents went out as NDJSON, none at the end. */
  private streamed = false

  async run(): Promise<DevnetStatus> {
    const {flags} = await this.parse(DevnetStatusCommand)
    const location = {dir: devnetsRoot(flags.dir), name: flags.name}
    const json = this.jsonEnabled()
    if (!flags.watch) {
      const status = await getDevnetStatus(location)
      if (!json) process.stdout.write(formatStatus(status))
      return status
    }

    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      // The first poll fails the command as usual (no devnet → exit 3); later failures are reported and retried.
      let status = await getDevnetStatus({...location, rpcTimeoutMs: 1_000})
      if (!json && process.stdout.isTTY === true && process.stderr.isTTY === true) {
        const {runDashboard} = await import('../../cli/dashboard/index.js')
        await runDashboard({
          snapshots: watchDevnet(location, {intervalMs: flags.interval ?? 500, signal: this.signal}),
          name: flags.name,
          signal: this.signal,
          footer: 'Ctrl-C leaves the view; the devnet keeps running.',
        })
        return status
      }
      this.streamed = json
      const intervalMs = flags.interval ?? 2_000
      for (;;) {
        const started = Date.now()
        process.stdout.write(json ? `${JSON.stringify(status)}\n` : `${formatStatus(status, new Date())}\n`)
        await sleep(Math.max(0, intervalMs - (Date.now() - started)), undefined, {signal: this.signal}).catch(() => undefined)
        if (this.signal.aborted) return status
        try {
          status = await getDevnetStatus({...location, rpcTimeoutMs: Math.min(1_000, intervalMs)})
        } catch (err) {
          process.stderr.write(`✖ ${errorMessage(err)}${isXaiError(err) ? ` [${err.code}]` : ''}\n`)
        }
      }
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }

  override logJson(json: unknown): void {
    if (this.streamed) return
    super.logJson(json)
  }
}

/**
 * The human status block: a line for the devnet, then one per node. Multi-node devnets add the
 * consensus round and step, peers, mempool and the node's fault state (from classifyNode).
 */
export function formatStatus(status: DevnetStatus, at?: Date): string {
  const multiNode = status.nodes.length > 1 || status.nodes.some((n) => n.peers !== null)
  const anyRunning = status.nodes.some((n) => n.running)
  const heights = status.nodes.flatMap((n) => (n.height === null ? [] : [n.height]))
  const headHeight = heights.length === 0 ? null : Math.max(...heights)
  const state = status.running ? 'running' : anyRunning ? 'degraded' : 'stopped'
  const stamp = at ? `[${at.toTimeString().slice(0, 8)}] ` : ''
  const lines = [
    `${stamp}Devnet "${status.name}": ${state} (chain ${status.chainId}, ${status.blockTime === 0 ? 'automine' : `block time ${status.blockTime} ms`})`,
    ...status.nodes.map((n) => {
      if (!multiNode) {
        return `  node ${n.index}  ${n.running ? `running  PID ${n.pid}` : 'stopped'}  ${n.rpcUrl}${n.height === null ? '' : `  height ${n.height}`}`
      }
      const label = !anyRunning ? 'stopped' : classifyNode(n, {headHeight}).label
      const parts = [
        `node ${n.index}`,
        label.padEnd(12),
        n.pid === null ? null : `PID ${n.pid}`,
        n.rpcUrl,
        n.height === null ? null : `height ${n.height}`,
        n.round === null ? null : `round ${n.round}${n.step === null ? '' : ` (${n.step})`}`,
        n.peers === null ? null : `peers ${n.peers}`,
        n.mempool === null ? null : `mempool ${n.mempool}`,
      ]
      return `  ${parts.filter((p) => p !== null).join('  ')}`
    }),
  ]
  return `${lines.join('\n')}\n`
}
