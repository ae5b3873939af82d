import {Args} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {formatModule} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {type ModuleInfo, readModule} from '../../client/registry-client.js'

export default class ModuleShow extends XaiCommand<ModuleInfo> {
  static override summary = "Show a native module's registry entry: address, version, code hash, schedule and parameters."
  static override description = `The module's system address, the current version and its code hash (keccak256 of the source; a built-in module's is keccak256("xai-builtin:<id>@<version>")), the block it runs from, a version scheduled by an upgrade, a scheduled deactivation, and its parameters: the ones governance set, and for a built-in module every parameter it runs with, defaults included.`

  static override examples = [
    {description: 'The faucet', command: '<%= config.bin %> <%= command.id %> faucet'},
    {description: 'Governance parameters in force, for scripts', command: '<%= config.bin %> <%= command.id %> governance --json | jq .effectiveParams'},
  ]

  static override args = {
    id: Args.string({description: 'Module id (e.g. faucet)', required: true}),
  }

  static override flags = {...chainTargetFlags}

  async run(): Promise<ModuleInfo> {
    const {args, flags} = await this.parse(ModuleShow)
    const network = await resolveChainTarget(flags)
    const info = await readModule(createChainClient(network), args.id)
    if (!this.jsonEnabled()) process.stdout.write(formatModule(info))
    return info
  }
}
