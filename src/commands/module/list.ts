import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {formatModuleList} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {type ModuleInfo, listModules} from '../../client/registry-client.js'

export interface ModuleListResult {
  modules: ModuleInfo[]
  /** The block the registry was read at. */
  head: number
}

export default class ModuleList extends XaiCommand<ModuleListResult> {
  static override summary = "List the chain's native modules: version, address and whether they run."
  static override description = `Reads the module registry (its system address 0x00000000000000000000000000000a1100000000) through eth_call: every module it knows, the registry itself first, with the version that runs in the next block, whether it is built in or activated from uploaded source, and any scheduled upgrade or deactivation. \`xai module show <id>\` shows one module's code hash and parameters.`

  static override examples = [
    {description: 'Modules of the default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Their ids, for scripts', command: "<%= config.bin %> <%= command.id %> --json | jq -r '.modules[].id'"},
    {description: 'Of any xai node', command: '<%= config.bin %> <%= command.id %> --rpc-url http://127.0.0.1:8545'},
  ]

  static override flags = {...chainTargetFlags}

  async run(): Promise<ModuleListResult> {
    const {flags} = await this.parse(ModuleList)
    const network = await resolveChainTarget(flags)
    const client = createChainClient(network)
    const head = await client.getBlockNumber()
    const modules = await listModules(client, {blockNumber: head})
    if (!this.jsonEnabled()) process.stdout.write(formatModuleList(modules))
    return {modules, head: Number(head)}
  }
}
