import {Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {type ResetDevnetResult, resetDevnet} from '../../devnet/reset-devnet.js'

export default class DevnetReset extends XaiCommand<ResetDevnetResult> {
  static override summary = 'Delete a devnet: its chain data, genesis and logs.'
  static override description = `Removes .xai/devnets/<name>/ so the next \`xai devnet up\` starts from a fresh genesis. Refuses while the devnet runs; --force stops it first (and does not complain if there is nothing to delete). Also the way out of a corrupt devnet folder.`

  static override examples = [
    {description: 'Wipe the stopped default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Stop and wipe it in one go, then start afresh', command: '<%= config.bin %> <%= command.id %> --force && <%= config.bin %> devnet up'},
    {description: 'Wipe a named devnet from a script', command: '<%= config.bin %> <%= command.id %> --name staging --force --json'},
  ]

  static override flags = {
    ...devnetFlags,
    force: Flags.boolean({char: 'f', description: 'Stop running nodes first; succeed even if there is no such devnet', default: false, env: 'XAI_DEVNET_FORCE'}),
    'grace-period': Flags.integer({description: 'Milliseconds between SIGTERM and SIGKILL when stopping nodes', default: 10_000, min: 0, env: 'XAI_GRACE_PERIOD'}),
  }

  async run(): Promise<ResetDevnetResult> {
    const {flags} = await this.parse(DevnetReset)
    const result = await resetDevnet(
      {dir: devnetsRoot(flags.dir), name: flags.name, force: flags.force, graceMs: flags['grace-period']},
      {
        onEvent: (event) => {
          if (event.type === 'node-stopped' && event.outcome !== 'not-running') this.note(`Stopped node ${event.index} (PID ${event.pid}, ${event.outcome})`)
        },
      },
    )
    this.note(result.removed ? `Removed ${result.folder}` : `Nothing to remove at ${result.folder}`)
    return result
  }
}
