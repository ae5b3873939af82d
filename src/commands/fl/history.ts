import {devnetsRoot} from '../../cli/devnet-flags.js'
import {formatRound} from '../../cli/fl-view-model.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {type RoundRecord, federationPaths, requireFederation} from '../../fl/federation.js'
import {federationFlags} from './round.js'

export interface FlHistoryResult {
  name: string
  /** Per round, as Flower's History holds it: accuracy, loss, participants, rejections, bytes, ε, duration. */
  rounds: RoundRecord[]
}

export default class FlHistory extends XaiCommand<FlHistoryResult> {
  static override summary = "A federation's per-round history: accuracy, loss, participants, rejected updates, bytes, ε."
  static override examples = [
    {description: 'The default federation', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Accuracy per round, for plotting', command: "<%= config.bin %> <%= command.id %> --json | jq '[.rounds[].accuracy]'"},
  ]

  static override flags = {...federationFlags}

  async run(): Promise<FlHistoryResult> {
    const {flags} = await this.parse(FlHistory)
    const state = await requireFederation(federationPaths(devnetsRoot(flags.dir), flags.name), flags.name)
    if (!this.jsonEnabled()) {
      if (state.rounds.length === 0) process.stdout.write('No rounds yet.\n')
      for (const round of state.rounds) process.stdout.write(`${formatRound(round)}\n`)
    }
    return {name: state.name, rounds: state.rounds}
  }
}
