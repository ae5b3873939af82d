import {Args} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {USER_SETTINGS, type UserConfigEntry, setUserSetting} from '../../cli/user-config.js'

export default class ConfigSet extends XaiCommand<UserConfigEntry> {
  static override summary = 'Store a user-level setting (defaults every command reads below its flags and XAI_* variables).'
  static override description = `Settings live in $XAI_CONFIG_DIR/config.json (default: ~/.config/xai/config.json), mode 0600.
Precedence: flag > XAI_* environment variable > the project's xai.config.json > these settings > built-in defaults.

Keys:
${Object.entries(USER_SETTINGS)
  .map(([key, s]) => `  ${key.padEnd(16)} ${s.description}`)
  .join('\n')}
  apiKeys.<network> An API key for a remote network (shown masked by get/list)`

  static override examples = [
    {description: 'Keep devnets in one folder for every project', command: '<%= config.bin %> <%= command.id %> home ~/.xai'},
    {description: 'Default devnet name', command: '<%= config.bin %> <%= command.id %> devnet staging'},
    {description: 'Default network outside a project', command: '<%= config.bin %> <%= command.id %> network http://127.0.0.1:8545'},
    {description: 'An API key for a remote network', command: '<%= config.bin %> <%= command.id %> apiKeys.sepolia abc123'},
  ]

  static override args = {
    key: Args.string({description: 'Setting name', required: true}),
    value: Args.string({description: 'Value', required: true}),
  }

  async run(): Promise<UserConfigEntry> {
    const {args} = await this.parse(ConfigSet)
    const entry = setUserSetting(args.key, args.value)
    if (!this.jsonEnabled()) process.stdout.write(`${entry.key} = ${entry.secret ? '(set, hidden)' : String(entry.value)}\n`)
    return entry.secret ? {...entry, value: '(hidden)'} : entry
  }
}
