import {devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {type FederationConfig, federationPaths, requireFederation} from '../../fl/federation.js'
import {federationFlags} from './round.js'

export interface FlStatusResult {
  name: string
  folder: string
  createdAt: string
  config: FederationConfig
  rounds: number
  accuracy: number | null
  bestAccuracy: number | null
  epsilon: number | null
  bytesUp: number
  bytesDown: number
}

export default class FlStatus extends XaiCommand<FlStatusResult> {
  static override summary = "A federation's settings, rounds so far, current accuracy and privacy spent."
  static override examples = [
    {description: 'The default federation', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Another one, as JSON', command: '<%= config.bin %> <%= command.id %> --name robust --json'},
  ]

  static override flags = {...federationFlags}

  async run(): Promise<FlStatusResult> {
    const {flags} = await this.parse(FlStatus)
    const paths = federationPaths(devnetsRoot(flags.dir), flags.name)
    const state = await requireFederation(paths, flags.name)
    const last = state.rounds.at(-1)
    const result: FlStatusResult = {
      name: state.name,
      folder: paths.folder,
      createdAt: state.createdAt,
      config: state.config,
      rounds: state.rounds.length,
      accuracy: last?.accuracy ?? null,
      bestAccuracy: state.rounds.length === 0 ? null : Math.max(...state.rounds.map((r) => r.accuracy)),
      epsilon: last?.epsilon ?? null,
      bytesUp: state.rounds.reduce((s, r) => s + r.bytesUp, 0),
      bytesDown: state.rounds.reduce((s, r) => s + r.bytesDown, 0),
    }
    if (!this.jsonEnabled()) {
      const c = state.config
      process.stdout.write(
        [
          `Federation "${state.name}" (${paths.folder}), created ${state.createdAt}`,
          `  ${c.dataset} · ${c.model === 'mlp' ? `mlp(${c.hidden})` : 'logreg'} · ${c.clients} clients · ${c.edges === 0 ? 'flat' : `${c.edges} edges`} · ${c.partition} · aggregator ${c.aggregator}${c.edges > 0 ? ` / edges ${c.edgeAggregator}` : ''}`,
          `  rounds ${result.rounds}${result.accuracy === null ? '' : ` · accuracy ${(result.accuracy * 100).toFixed(2)} % (best ${(result.bestAccuracy! * 100).toFixed(2)} %)`}${result.epsilon === null ? '' : ` · ε ${result.epsilon.toFixed(4)} (δ ${c.delta})`}`,
          `  bytes up ${result.bytesUp.toLocaleString('en-US')} · down ${result.bytesDown.toLocaleString('en-US')}`,
          '',
        ].join('\n'),
      )
    }
    return result
  }
}
