
import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {type DevnetStatus, getDevnetStatus} from '../../devnet/devnet-status.js'

export default class DevnetStatusCommand extends XaiCommand<DevnetStatus> {
  static override summary = 'Show whether a devnet runs, its nodes and their block height.'
  static override description = `Reads devnet.json, checks each node's PID and asks running nodes for their latest block (eth_blockNumber).`

  static override examples = [
    {description: 'Status of the default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Height of node 0, for scripts', command: "<%= config.bin %> <%= command.id %> --json | jq '.nodes[0].height'"},
    {description: 'Fail a CI step unless the devnet runs', command: "<%= config.bin %> <%= command.id %> --json | jq -e '.running'"},
    {description: 'A named devnet kept outside the project', command: '<%= config.bin %> <%= command.id %> --name staging --dir ~/.xai'},
  ]

  static override flags = {
    ...devnetFlags,
  }

  async run(): Promise<DevnetStatus> {
    const {flags} = await this.parse(DevnetStatusCommand)
    const status = await getDevnetStatus({dir: devnetsRoot(flags.dir), name: flags.name})
    if (!this.jsonEnabled()) {
      const lines = [
        `Devnet "${status.name}": ${status.running ? 'running' : 'stopped'} (chain ${status.chainId}, ${status.blockTime === 0 ? 'automine' : `block time ${status.blockTime} ms`})`,
        ...status.nodes.map(
          (n) =>
            `  node ${n.index}  ${n.running ? `running  PID ${n.pid}` : 'stopped'}  ${n.rpcUrl}${n.height === null ? '' : `  height ${n.height}`}`,
        ),
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    }
    return status
  }
}
