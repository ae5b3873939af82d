import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type UserConfigEntry, listUserSettings} from '../../cli/user-config.js'

export default class ConfigList extends XaiCommand<{path: string; settings: UserConfigEntry[]}> {
  static override summary = 'List the user-level settings and the file they live in.'
  static override examples = [
    {description: 'All settings', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'As JSON', command: '<%= config.bin %> <%= command.id %> --json'},
  ]

  static override flags = {reveal: Flags.boolean({description: 'Show API keys in clear', default: false, env: 'XAI_CONFIG_REVEAL'})}

  async run(): Promise<{path: string; settings: UserConfigEntry[]}> {
    const {flags} = await this.parse(ConfigList)
    const result = listUserSettings({reveal: flags.reveal})
    if (!this.jsonEnabled()) {
      const lines = result.settings.map((s) => `${s.key} = ${String(s.value)}`)
      process.stdout.write(`# ${result.path}\n${lines.length === 0 ? '(no settings)\n' : `${lines.join('\n')}\n`}`)
    }
    return result
  }
}
