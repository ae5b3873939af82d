import {Args} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../../cli/devnet-flags.js'
import {XaiCommand} from '../../../cli/xai-command.js'
import {type DevnetStateResult, loadDevnetState} from '../../../devnet/devnet-state.js'

export default class DevnetStateLoad extends XaiCommand<DevnetStateResult> {
  static override summary = 'Write the accounts of a state file into a running single-node devnet.'
  static override description = `Reads a dump (written by \`xai devnet state save\`, \`anvil --dump-state\` or anvil_dumpState: JSON, gzipped JSON or its hex) and writes it into the head state of the devnet's node (anvil_loadState), as anvil_setBalance, setNonce, setCode and setStorageAt do: each account's nonce, balance and code are set and its dumped storage slots written; other accounts and slots stay. The chain does not move: no block is made, and the dump's block number is not restored.

A devnet decided by consensus refuses (its state is what the validators agree on); start a new devnet from the file instead with \`xai devnet up --state FILE\`. Every field of the file is checked before anything is written.`

  static override examples = [
    {description: 'Load a state saved earlier', command: '<%= config.bin %> <%= command.id %> state.json'},
    {description: "Load anvil's dump into a named devnet, as JSON", command: '<%= config.bin %> <%= command.id %> anvil-state.json --name staging --json'},
  ]

  static override args = {
    file: Args.string({description: 'The state file to read', required: true}),
  }

  static override flags = {...devnetFlags}

  async run(): Promise<DevnetStateResult> {
    const {args, flags} = await this.parse(DevnetStateLoad)
    const result = await loadDevnetState({dir: devnetsRoot(flags.dir), name: flags.name, file: args.file})
    this.note(`Loaded ${result.accounts} accounts (${result.slots} storage slots) from ${result.file} into devnet "${result.name}"`)
    return result
  }
}
