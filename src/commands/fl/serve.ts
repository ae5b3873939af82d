import {Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {devnetsRoot} from '../../cli/devnet-flags.js'
import {formatRound} from '../../cli/fl-view-model.js'
import {attestFlags, parseListen} from '../../cli/fl-wire-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createVerifier} from '../../fl/attest-factory.js'
import type {FederationConfig} from '../../fl/federation.js'
import {type ServeResult, serveFederation} from '../../fl/wire/serve.js'
import {federationFlags} from './round.js'

export default class FlServe extends XaiCommand<ServeResult> {
  static override summary = 'Coordinate a federation over the network: clients (xai fl join) and edges (xai fl edge) connect to it.'
  static override description = `Listens on --listen (WebSocket, protocol in docs/fl-protocol.md), waits for --min-clients clients, then runs the federation to --rounds rounds in total: broadcast the model and the training settings → the sampled clients train on their own data → signed, compressed (and attested) updates → the same verification and aggregation as xai fl round → evaluation. A round waits --round-timeout seconds; a client that disconnects or misses it is recorded as dropped and the round goes on with the rest (with fewer than --min-updates, it is run again). The federation folder, history, checkpoints and accountant are those of xai fl round; restarting the command resumes after the last finished round.`

  static override examples = [
    {description: 'Three clients, five rounds, evaluated on the test CSV of xai fl split', command: '<%= config.bin %> <%= command.id %> --name demo --model logreg --rounds 5 --min-clients 3 --eval-data ./fed-data/test.csv --listen 127.0.0.1:7700'},
    {description: 'For clients on other hosts, robust aggregation and int8 updates', command: '<%= config.bin %> <%= command.id %> --name wide --dataset digits --rounds 30 --min-clients 10 --aggregator median --compress int8 --listen 0.0.0.0:7700 --json'},
  ]

  static override flags = {
    ...federationFlags,
    ...attestFlags,
    model: Flags.option({options: ['logreg', 'mlp'] as const, description: 'Model [default: mlp]', env: 'XAI_FL_MODEL'})(),
    hidden: Flags.integer({description: 'Hidden units of the mlp [default: 64]', min: 1, max: 4096, env: 'XAI_FL_HIDDEN'}),
    rounds: Flags.integer({char: 'r', description: 'Rounds of the federation in total', required: true, min: 1, max: 100_000, env: 'XAI_FL_ROUNDS'}),
    'min-clients': Flags.integer({description: 'Clients to wait for before the first round', required: true, min: 1, max: 100_000, env: 'XAI_FL_MIN_CLIENTS'}),
    'min-updates': Flags.integer({description: 'Updates a round needs to count', default: 1, min: 1, env: 'XAI_FL_MIN_UPDATES'}),
    'clients-per-round': Flags.integer({description: 'Clients sampled each round [default: all connected]', min: 1, env: 'XAI_FL_CLIENTS_PER_ROUND'}),
    aggregator: Flags.string({description: 'Global aggregator (see xai fl round) [default: fedavg]', env: 'XAI_FL_AGGREGATOR'}),
    'edge-aggregator': Flags.string({description: 'Aggregator at the edges [default: --aggregator]', env: 'XAI_FL_EDGE_AGGREGATOR'}),
    dp: Flags.boolean({description: 'Client-level differential privacy (DP-FedAvg)', allowNo: true, env: 'XAI_FL_DP'}),
    clip: Flags.string({description: 'L2 bound of each update with --dp [default: 1]', env: 'XAI_FL_CLIP'}),
    'noise-multiplier': Flags.string({description: 'Noise std / clip with --dp [default: 1]', env: 'XAI_FL_NOISE_MULTIPLIER'}),
    compress: Flags.string({description: 'none | int8 | topk:<fraction> [default: none]', env: 'XAI_FL_COMPRESS'}),
    'local-epochs': Flags.integer({description: 'Local epochs per round [default: 5]', min: 1, max: 1_000, env: 'XAI_FL_LOCAL_EPOCHS'}),
    'batch-size': Flags.integer({description: 'Mini-batch size [default: 16]', min: 1, env: 'XAI_FL_BATCH_SIZE'}),
    lr: Flags.string({description: 'Learning rate [default: 0.2]', env: 'XAI_FL_LR'}),
    seed: Flags.integer({description: 'Seed of the initial model and the sampling [default: 42]', min: 0, max: 0xffff_ffff, env: 'XAI_FL_SEED'}),
    'eval-data': Flags.string({description: 'CSV the server evaluates on (test.csv of xai fl split)', exclusive: ['dataset'], env: 'XAI_FL_EVAL_DATA'}),
    dataset: Flags.string({description: 'digits | breast-cancer: evaluate on its held-back test part [default: digits]', env: 'XAI_FL_DATASET'}),
    listen: Flags.string({description: 'HOST:PORT to listen on (port 0: any free port)', default: '127.0.0.1:7700', env: 'XAI_FL_LISTEN'}),
    'round-timeout': Flags.integer({description: 'Seconds a round waits for its clients', default: 60, min: 1, max: 86_400, env: 'XAI_FL_ROUND_TIMEOUT'}),
  }

  async run(): Promise<ServeResult> {
    const {flags} = await this.parse(FlServe)
    const {host, port} = parseListen(flags.listen)
    const verifier = flags.attest === 'off' ? undefined : await createVerifier({tpmCa: flags['tpm-ca'], pcrPolicy: flags['pcr-policy']})
    const perRound = flags['clients-per-round']
    const given: Partial<FederationConfig> = {
      model: flags.model,
      hidden: flags.hidden,
      clients: flags['min-clients'],
      fraction: perRound === undefined ? undefined : Math.min(1, perRound / flags['min-clients']),
      localEpochs: flags['local-epochs'],
      batchSize: flags['batch-size'],
      lr: num(flags.lr),
      partition: 'own-data',
      aggregator: flags.aggregator,
      edgeAggregator: flags['edge-aggregator'] ?? flags.aggregator,
      dp: flags.dp,
      clip: num(flags.clip),
      noiseMultiplier: num(flags['noise-multiplier']),
      compress: flags.compress,
      seed: flags.seed,
      dataset: flags['eval-data'] === undefined ? flags.dataset : 'own-data',
      evalData: flags['eval-data'] === undefined ? undefined : resolve(flags['eval-data']),
    }
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    const json = this.jsonEnabled()
    try {
      return await serveFederation({
        home: devnetsRoot(flags.dir),
        name: flags.name,
        config: given,
        rounds: flags.rounds,
        minClients: flags['min-clients'],
        minUpdates: flags['min-updates'],
        host,
        port,
        roundTimeoutMs: flags['round-timeout'] * 1000,
        attest: flags.attest,
        verifier,
        signal: this.signal,
        onEvent: (event) => {
          // The URL goes to stderr in every mode: scripts and tests read the port from it.
          if (event.type === 'listening') process.stderr.write(`Listening on ${event.url} (federation "${event.name}", ${event.resumedAt === 0 ? 'new' : `after round ${event.resumedAt}`})\n`)
          if (json) return
          if (event.type === 'waiting') this.note(`Waiting for ${event.needed} clients (${event.connected} connected)`)
          if (event.type === 'round-retry') this.note(`Round ${event.round}: ${event.arrived} of ${event.needed} updates needed arrived; running it again`)
          if (event.type === 'refused') this.note(`Refused ${event.clientId ?? 'a connection'}: ${event.reason}`)
          if (event.type === 'round-end') process.stdout.write(`${formatRound(event.record)}\n`)
        },
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

function num(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text)
}
