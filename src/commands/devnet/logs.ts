import {Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {devnetPaths, requireDevnetRecord} from '../../devnet/devnet-folder.js'
import {type NodeLogEntry, followNodeLogs, formatLogEntry, logEntryJson, nodeLogFiles, tailNodeLogs} from '../../devnet/devnet-logs.js'

/** `xai devnet logs --json`: the parsed entries, `{node, time, level, msg, ...fields}` each. */
export type DevnetLogsResult = Record<string, unknown>[]

export default class DevnetLogs extends XaiCommand<DevnetLogsResult> {
  static override summary = "Show the devnet nodes' logs, merged by time."
  static override description = `Prints the last lines of each node's log (<devnet>/node-<i>/node.log), merged by time when several nodes are shown. Each JSON line is printed as \`HH:MM:SS.mmm node-<i> LEVEL message key=value …\` (local time; the pid field every line carries is left out); lines that are not JSON, such as stack traces, are printed as they are.

With --follow it keeps printing lines as the nodes append them, until Ctrl-C; a log that is truncated or replaced is read again from its start, and a node whose log does not exist yet is waited for.

--raw prints the JSON lines unchanged. --json prints an array of entries {node, time, level, msg, ...fields}; with --follow, one entry per line (NDJSON).`

  static override examples = [
    {description: 'The last 50 lines of every node, merged by time', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Follow node 2 as it runs', command: '<%= config.bin %> <%= command.id %> --node 2 --follow'},
    {description: 'Start from nothing and follow all nodes', command: '<%= config.bin %> <%= command.id %> -f -n 0'},
    {description: 'Warnings and errors of all nodes, for scripts', command: "<%= config.bin %> <%= command.id %> --lines 1000 --json | jq '.[] | select(.level == \"warn\" or .level == \"error\")'"},
    {description: 'Committed blocks as they happen (NDJSON)', command: "<%= config.bin %> <%= command.id %> --node 0 --follow --json | jq -c 'select(.msg == \"committed block\") | {height, round, txs}'"},
    {description: 'The raw JSON lines, for another log tool', command: '<%= config.bin %> <%= command.id %> --raw --follow'},
  ]

  static override flags = {
    ...devnetFlags,
    node: Flags.integer({description: 'Only this node (its index)', min: 0, env: 'XAI_DEVNET_NODE'}),
    follow: Flags.boolean({char: 'f', description: 'Keep printing lines as they are appended, until Ctrl-C', default: false, env: 'XAI_DEVNET_FOLLOW'}),
    lines: Flags.integer({char: 'n', description: 'Lines of each node to print first', default: 50, min: 0, env: 'XAI_DEVNET_LINES'}),
    raw: Flags.boolean({description: 'Print the JSON lines unchanged', default: false, exclusive: ['json'], env: 'XAI_DEVNET_RAW'}),
    'poll-interval': Flags.integer({description: 'Milliseconds between checks for new lines with --follow', default: 250, min: 10, hidden: true}),
  }

  /** Set while following with --json: entries went out as NDJSON, no array at the end. */
  private streamed = false

  async run(): Promise<DevnetLogsResult> {
    const {flags} = await this.parse(DevnetLogs)
    const paths = devnetPaths({dir: devnetsRoot(flags.dir), name: flags.name})
    const record = await requireDevnetRecord(paths)
    const files = nodeLogFiles(paths, record, flags.node)
    const json = this.jsonEnabled()
    const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
    const print = (entries: NodeLogEntry[]): void => {
      if (entries.length === 0) return
      const text = entries.map((entry) => (json ? JSON.stringify(logEntryJson(entry)) : flags.raw ? entry.raw : formatLogEntry(entry, {color})))
      process.stdout.write(`${text.join('\n')}\n`)
    }

    const tail = await tailNodeLogs(files, {lines: flags.lines, includePartial: !flags.follow})
    for (const node of tail.missing) this.note(`node-${node}: no log yet (${paths.nodeLog(node)})${flags.follow ? ', waiting for it' : ''}`)
    if (!flags.follow) {
      if (!json) print(tail.entries)
      return tail.entries.map(logEntryJson)
    }

    this.streamed = json
    print(tail.entries)
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      await followNodeLogs(files, {from: tail.positions, signal: this.signal, pollMs: flags['poll-interval'], onEntries: print})
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    return []
  }

  override logJson(json: unknown): void {
    if (this.streamed) return
    super.logJson(json)
  }
}
