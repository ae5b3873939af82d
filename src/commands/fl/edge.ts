import {Flags} from '@oclif/core'
import {join} from 'node:path'

import {devnetsRoot} from '../../cli/devnet-flags.js'
import {attestFlags, parseListen} from '../../cli/fl-wire-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createVerifier} from '../../fl/attest-factory.js'
import {type EdgeResult, runEdge} from '../../fl/wire/edge.js'
import {loadOrCreateKey} from '../../fl/wire/keys.js'

export default class FlEdge extends XaiCommand<EdgeResult> {
  static override summary = 'Run an edge aggregator: clients join it, it verifies and aggregates them and sends one update up.'
  static override description = `Connects to --server (xai fl serve or another edge: any depth) and listens on --listen for clients (xai fl join) and edges. Each round it passes its clients' tasks down, verifies their signed updates and aggregates them with the federation's edge aggregator, and sends one signed aggregate up with the rejections it made. It ends when the federation does.`

  static override examples = [
    {description: 'An edge on this machine', command: '<%= config.bin %> <%= command.id %> --server ws://127.0.0.1:7700 --listen 127.0.0.1:7701'},
    {description: 'An edge under another edge', command: '<%= config.bin %> <%= command.id %> --server ws://10.0.0.7:7701 --listen 0.0.0.0:7702 --id edge-b --json'},
  ]

  static override flags = {
    ...attestFlags,
    dir: Flags.string({description: 'Folder holding fl/ (the default key lives in fl/keys/) [default: ./.xai]', env: 'XAI_HOME'}),
    server: Flags.string({description: 'The parent: server or edge, ws://HOST:PORT', required: true, env: 'XAI_FL_SERVER'}),
    listen: Flags.string({description: 'HOST:PORT to listen on (port 0: any free port)', default: '127.0.0.1:7701', env: 'XAI_FL_LISTEN'}),
    id: Flags.string({description: 'Edge id', default: 'edge', env: 'XAI_FL_EDGE_ID'}),
    key: Flags.string({description: 'Key file [default: <dir>/fl/keys/<id>.key]', env: 'XAI_FL_KEY'}),
  }

  async run(): Promise<EdgeResult> {
    const {flags} = await this.parse(FlEdge)
    const {host, port} = parseListen(flags.listen)
    const verifier = flags.attest === 'off' ? undefined : await createVerifier({tpmCa: flags['tpm-ca'], pcrPolicy: flags['pcr-policy']})
    const key = await loadOrCreateKey(flags.key ?? join(devnetsRoot(flags.dir), 'fl', 'keys', `${flags.id}.key`))
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      return await runEdge({
        server: flags.server,
        id: flags.id,
        privateKey: key.privateKey,
        host,
        port,
        attest: flags.attest,
        verifier,
        signal: this.signal,
        onEvent: (event) => {
          if (event.type === 'listening') process.stderr.write(`Listening on ${event.url} (edge under ${flags.server})\n`)
          if (event.type === 'round') this.note(`Round ${event.round}: ${event.accepted} of ${event.clients} clients aggregated, ${event.rejected} rejected`)
          if (event.type === 'refused') this.note(`Refused ${event.clientId ?? 'a connection'}: ${event.reason}`)
        },
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}
