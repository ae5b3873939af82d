import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type UserConfigEntry, getUserSetting} from '../../cli/user-config.js'
import {ExitCode, XaiError} from '../../util/errors.js'

export default class ConfigGet extends XaiCommand<UserConfigEntry> {
  static override summary = 'Print one user-level setting (API keys masked unless --reveal).'
  static override examples = [
    {description: 'The default devnet folder', command: '<%= config.bin %> <%= command.id %> home'},
    {description: 'An API key, in clear, for a script', command: '<%= config.bin %> <%= command.id %> apiKeys.sepolia --reveal --json | jq -r .value'},
  ]

  static override args = {key: Args.string({description: 'Setting name', required: true})}
  static override flags = {reveal: Flags.boolean({description: 'Show API keys in clear', default: false, env: 'XAI_CONFIG_REVEAL'})}

  async run(): Promise<UserConfigEntry> {
    const {args, flags} = await this.parse(ConfigGet)
    const entry = getUserSetting(args.key, {reveal: flags.reveal})
    if (entry === undefined) {
      throw new XaiError('CONFIG_NOT_SET', `${args.key} is not set`, {exitCode: ExitCode.usage, hint: `Set it: xai config set ${args.key} <value>`, details: {key: args.key}})
    }
    if (!this.jsonEnabled()) process.stdout.write(`${String(entry.value)}\n`)
    return entry
  }
}
