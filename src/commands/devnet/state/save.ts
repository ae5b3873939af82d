import {Args} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../../cli/devnet-flags.js'
import {XaiCommand} from '../../../cli/xai-command.js'
import {type DevnetStateResult, saveDevnetState} from '../../../devnet/devnet-state.js'

export default class DevnetStateSave extends XaiCommand<DevnetStateResult> {
  static override summary = "Write a running devnet's state to a file (anvil's dump format)."
  static override description = `Dumps the head state of the devnet's node 0 (anvil_dumpState): every account with its nonce, balance, code and storage, as anvil's JSON {block, accounts, best_block_number}. The file is written by atomic rename.

\`xai devnet up --state FILE\` and \`anvil --load-state FILE\` start from it; \`xai devnet state load FILE\` writes it into a running single-node devnet. Blocks and transactions are not part of a dump.`

  static override examples = [
    {description: 'Save the default devnet\'s state', command: '<%= config.bin %> <%= command.id %> state.json'},
    {description: 'Start a fresh devnet from it', command: '<%= config.bin %> devnet up --name copy --base-port 8645 --state state.json'},
    {description: 'Load it into anvil', command: 'anvil --load-state state.json'},
  ]

  static override args = {
    file: Args.string({description: 'File to write (replaced if it exists)', required: true}),
  }

  static override flags = {...devnetFlags}

  async run(): Promise<DevnetStateResult> {
    const {args, flags} = await this.parse(DevnetStateSave)
    const result = await saveDevnetState({dir: devnetsRoot(flags.dir), name: flags.name, file: args.file})
    this.note(`Wrote the state of devnet "${result.name}" at block ${result.block ?? '?'} to ${result.file}: ${result.accounts} accounts, ${result.slots} storage slots`)
    return result
  }
}
