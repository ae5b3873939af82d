import {Args, Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {FAULT_KINDS, type FaultResult, injectFault} from '../../devnet/fault.js'

const DONE: Record<FaultResult['kind'], (r: FaultResult) => string> = {
  kill: (r) => `Killed node ${r.node} (PID ${r.pid}, SIGKILL). Bring it back with: xai devnet fault restart --node ${r.node}`,
  pause: (r) => `Paused node ${r.node} (PID ${r.pid}, SIGSTOP). Resume it with: xai devnet fault resume --node ${r.node}`,
  resume: (r) => `Resumed node ${r.node} (PID ${r.pid}, SIGCONT).`,
  restart: (r) => `Restarted node ${r.node}${r.pid === null ? '' : ` (was PID ${r.pid})`} as PID ${r.newPid}; it catches up from its peers.`,
  disconnect: (r) => `Node ${r.node} dropped its peers and refuses them. Undo with: xai devnet fault reconnect --node ${r.node}`,
  reconnect: (r) => `Node ${r.node} accepts and dials its peers again.`,
}

export default class DevnetFault extends XaiCommand<FaultResult> {
  static override summary = 'Inject a fault into one node of a running devnet.'
  static override description = `Test an application against a misbehaving network. A devnet of 4 validators keeps committing with one of them faulty; with two of four cut off it stops committing (safety over liveness) and resumes once they are back.

  kill        SIGKILL the node's process (no clean shutdown)
  pause       SIGSTOP it: it holds its sockets but answers nothing
  resume      SIGCONT a paused node
  restart     stop it (SIGTERM, then SIGKILL) and start it again from its data; it catches up by block sync
  disconnect  the node closes every peer connection and refuses new ones until reconnect
  reconnect   the node accepts and dials its peers again

Watch the effect with \`xai devnet status --watch\` (or the dashboard of \`xai devnet up\`).`

  static override examples = [
    {description: 'Kill validator 1 under load, then bring it back', command: '<%= config.bin %> <%= command.id %> kill --node 1\n<%= config.bin %> <%= command.id %> restart --node 1'},
    {description: 'Freeze a validator for a while', command: '<%= config.bin %> <%= command.id %> pause --node 2 && sleep 10 && <%= config.bin %> <%= command.id %> resume --node 2'},
    {description: 'Split the network: two of four validators cut off', command: '<%= config.bin %> <%= command.id %> disconnect --node 2 && <%= config.bin %> <%= command.id %> disconnect --node 3'},
    {description: 'From a script', command: "<%= config.bin %> <%= command.id %> restart --node 0 --json | jq '.newPid'"},
  ]

  static override args = {
    kind: Args.string({description: 'The fault to inject', required: true, options: [...FAULT_KINDS]}),
  }

  static override flags = {
    ...devnetFlags,
    node: Flags.integer({description: 'Index of the node (0-based)', required: true, min: 0, char: 'n', env: 'XAI_DEVNET_NODE'}),
    'grace-period': Flags.integer({description: 'restart: milliseconds between SIGTERM and SIGKILL', default: 10_000, min: 0, env: 'XAI_GRACE_PERIOD'}),
  }

  async run(): Promise<FaultResult> {
    const {args, flags} = await this.parse(DevnetFault)
    const kind = args.kind as FaultResult['kind']
    const result = await injectFault({
      dir: devnetsRoot(flags.dir),
      name: flags.name,
      kind,
      node: flags.node,
      execPath: process.execPath,
      graceMs: flags['grace-period'],
    })
    this.note(DONE[kind](result))
    return result
  }
}
