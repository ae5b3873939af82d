import {devnetFlags, devnetsRoot} from '../../../cli/devnet-flags.js'
import {XaiCommand} from '../../../cli/xai-command.js'
import {type ApiKeyInfo, listDevnetApiKeys} from '../../../devnet/devnet-keys.js'

export default class DevnetKeyList extends XaiCommand<{keys: ApiKeyInfo[]}> {
  static override summary = "List the devnet's API keys (ids, names, scopes, limits; never the keys)."
  static override description = 'Reads node 0\'s key file; revoked keys are listed with the time they were revoked. The devnet\'s own key (devnet.json apiKey) and the nodes\' admin tokens are not in this list: they stay valid as before (write and admin scope).'

  static override examples = [
    {description: 'The keys of the default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Ids of the keys still valid', command: "<%= config.bin %> <%= command.id %> --json | jq -r '.keys[] | select(.revokedAt == null) | .id'"},
  ]

  static override flags = {...devnetFlags}

  async run(): Promise<{keys: ApiKeyInfo[]}> {
    const {flags} = await this.parse(DevnetKeyList)
    const keys = await listDevnetApiKeys({dir: devnetsRoot(flags.dir), name: flags.name})
    if (!this.jsonEnabled()) {
      if (keys.length === 0) this.note('No API keys (create one with xai devnet key create).')
      for (const key of keys) {
        process.stdout.write(`${key.id}  ${key.name.padEnd(16)} ${key.scopes.join(',').padEnd(6)} ${String(key.rateLimitPerMinute).padStart(5)}/min  created ${key.createdAt}${key.revokedAt ? `  REVOKED ${key.revokedAt}` : ''}\n`)
      }
    }
    return {keys}
  }
}
