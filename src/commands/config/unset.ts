import {Args} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {unsetUserSetting} from '../../cli/user-config.js'

export default class ConfigUnset extends XaiCommand<{key: string; removed: boolean}> {
  static override summary = 'Remove a user-level setting (the built-in default applies again).'
  static override examples = [{description: 'Forget the default devnet name', command: '<%= config.bin %> <%= command.id %> devnet'}]
  static override args = {key: Args.string({description: 'Setting name', required: true})}

  async run(): Promise<{key: string; removed: boolean}> {
    const {args} = await this.parse(ConfigUnset)
    const removed = unsetUserSetting(args.key)
    if (!this.jsonEnabled()) process.stdout.write(removed ? `${args.key} removed\n` : `${args.key} was not set\n`)
    return {key: args.key, removed}
  }
}
