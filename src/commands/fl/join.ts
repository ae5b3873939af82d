import {Flags} from '@oclif/core'
import {basename, join} from 'node:path'

import {devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createClientAttestor, parseTpmSpec} from '../../fl/attest-factory.js'
import {loadDataset} from '../../fl/data.js'
import {type JoinResult, joinFederation} from '../../fl/wire/join.js'
import {loadOrCreateKey} from '../../fl/wire/keys.js'

export default class FlJoin extends XaiCommand<JoinResult> {
  static override summary = 'Join a federation as a client: train on your own CSV, send signed updates, leave when it ends.'
  static override description = `Connects to xai fl serve (or an xai fl edge), proves its key, takes the model and training settings from the server, and trains on --data (the layout --dataset takes; xai fl split writes one per client) whenever it is sampled. Its secp256k1 key is --key (created on first use, mode 0600). The data never leaves this process: only the signed, compressed update does.`

  static override examples = [
    {description: 'Client 0 of a split, on this machine', command: '<%= config.bin %> <%= command.id %> --server ws://127.0.0.1:7700 --data ./fed-data/client-0.csv'},
    {description: 'On another host, with its own key and id', command: '<%= config.bin %> <%= command.id %> --server ws://10.0.0.5:7700 --data ./mine.csv --id alice --key ./alice.key --json'},
  ]

  static override flags = {
    dir: Flags.string({description: 'Folder holding fl/ (the default key lives in fl/keys/) [default: ./.xai]', env: 'XAI_HOME'}),
    server: Flags.string({description: 'The server or edge, ws://HOST:PORT', required: true, env: 'XAI_FL_SERVER'}),
    data: Flags.string({description: 'This client\'s CSV', required: true, env: 'XAI_FL_DATA'}),
    id: Flags.string({description: 'Client id [default: the CSV file name without extension]', env: 'XAI_FL_CLIENT_ID'}),
    key: Flags.string({description: 'Key file [default: <dir>/fl/keys/<id>.key]', env: 'XAI_FL_KEY'}),
    tpm: Flags.string({description: 'swtpm:DIR | device | none', default: 'none', env: 'XAI_FL_TPM'}),
  }

  async run(): Promise<JoinResult> {
    const {flags} = await this.parse(FlJoin)
    const id = flags.id ?? basename(flags.data).replace(/\.gz$/i, '').replace(/\.csv$/i, '')
    const data = await loadDataset(flags.data)
    const key = await loadOrCreateKey(flags.key ?? join(devnetsRoot(flags.dir), 'fl', 'keys', `${id}.key`))
    const attestor = await createClientAttestor(parseTpmSpec(flags.tpm))
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      const result = await joinFederation({
        server: flags.server,
        id,
        data,
        privateKey: key.privateKey,
        attestor,
        signal: this.signal,
        onEvent: (event) => {
          if (event.type === 'accepted') this.note(`Joined as ${event.id}: ${event.settings.model.kind}, ${data.n} examples${event.attested ? ', attested' : ''}`)
          if (event.type === 'verdict') this.note(`Round ${event.round}: ${event.accepted ? 'accepted' : `refused (${event.reason})`}${event.accuracy === undefined ? '' : `, test accuracy ${(event.accuracy * 100).toFixed(2)} %`}`)
        },
      })
      this.note(result.finished ? `The federation ended${result.accuracy === null ? '' : ` at ${(result.accuracy * 100).toFixed(2)} %`}` : 'Left the federation')
      return result
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      await attestor?.close()
    }
  }
}
