import {Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../../cli/devnet-flags.js'
import {XaiCommand} from '../../../cli/xai-command.js'
import {type CreateApiKeyResult, createDevnetApiKey} from '../../../devnet/devnet-keys.js'
import {API_SCOPES, DEFAULT_RATE_LIMIT_PER_MINUTE, type ApiScope} from '../../../util/api-keys.js'

export default class DevnetKeyCreate extends XaiCommand<CreateApiKeyResult> {
  static override summary = 'Create an API key with scopes for the devnet\'s REST and /admin endpoints.'
  static override description = `Prints a new key (xai_<id>_<secret>) once; the nodes store only its SHA-256 (node-<i>/keys/api-keys.json) and accept it within a second, without a restart. Scopes nest: read < write (REST writes) < admin (POST /admin). Each key has its own rate limit; past it a request gets 429 with Retry-After. Every refused request is a security event (api-unauthorized, api-rate-limited).`

  static override examples = [
    {description: 'A key for a CI job that deploys contracts', command: '<%= config.bin %> <%= command.id %> --name ci --scope write'},
    {description: 'An operator key for fault injection through /admin, 60 requests a minute', command: '<%= config.bin %> <%= command.id %> --name ops --scope admin --rate-limit 60'},
    {description: 'Keep the key in a file from a script', command: "<%= config.bin %> <%= command.id %> --name dashboard --scope read --json | jq -r .key > dashboard.key"},
  ]

  static override flags = {
    ...devnetFlags,
    'key-name': Flags.string({description: 'What the key is for (shown by list)', required: true, env: 'XAI_KEY_NAME'}),
    scope: Flags.option({options: API_SCOPES, description: 'What the key may do (admin includes write, write includes read)', default: 'write', env: 'XAI_KEY_SCOPE'})(),
    'rate-limit': Flags.integer({description: 'Requests per minute the key may make', default: DEFAULT_RATE_LIMIT_PER_MINUTE, min: 1, env: 'XAI_KEY_RATE_LIMIT'}),
  }

  async run(): Promise<CreateApiKeyResult> {
    const {flags} = await this.parse(DevnetKeyCreate)
    const result = await createDevnetApiKey({dir: devnetsRoot(flags.dir), name: flags.name}, {name: flags['key-name'], scopes: [flags.scope as ApiScope], rateLimitPerMinute: flags['rate-limit']})
    if (!this.jsonEnabled()) {
      process.stdout.write(`${result.key}\n`)
      this.note(`Key ${result.info.id} (${result.info.scopes.join(', ')}, ${result.info.rateLimitPerMinute}/min) stored hashed on ${result.nodes} node(s). It is shown only now.`)
    }
    return result
  }
}
