import {Args} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../../cli/devnet-flags.js'
import {XaiCommand} from '../../../cli/xai-command.js'
import {type ApiKeyInfo, revokeDevnetApiKey} from '../../../devnet/devnet-keys.js'

export default class DevnetKeyRevoke extends XaiCommand<ApiKeyInfo> {
  static override summary = 'Revoke an API key on every node of the devnet.'
  static override description = 'The nodes refuse the key within a second (401, an api-unauthorized security event); it stays in the list, marked revoked.'

  static override examples = [{description: 'Revoke key 3f2a9c01', command: '<%= config.bin %> <%= command.id %> 3f2a9c01'}]

  static override args = {id: Args.string({description: 'The key id (xai_<id>_…)', required: true})}
  static override flags = {...devnetFlags}

  async run(): Promise<ApiKeyInfo> {
    const {args, flags} = await this.parse(DevnetKeyRevoke)
    const id = args.id.replace(/^xai_/, '').split('_')[0]!
    const revoked = await revokeDevnetApiKey({dir: devnetsRoot(flags.dir), name: flags.name}, id)
    this.note(`Revoked key ${revoked.id} (${revoked.name}).`)
    return revoked
  }
}
