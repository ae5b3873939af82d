import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {ExitCode, XaiError} from '../../util/errors.js'
import {DEFAULT_RDP_ORDERS, FL_INVALID_PRIVACY_PARAMS, epsilon} from '../../fl/privacy.js'

/** What `xai fl privacy` computes; `--json` prints it. */
export interface FlPrivacyResult {
  epsilon: number
  delta: number
  /** The RDP order α at which the bound is tightest. */
  order: number
  noiseMultiplier: number
  sampleRate: number
  steps: number
}

export default class FlPrivacy extends XaiCommand<FlPrivacyResult> {
  static override summary = 'Compute the privacy budget ε spent by the subsampled Gaussian mechanism (RDP accountant).'
  static override description = `A Rényi-DP accountant for the Poisson-subsampled Gaussian mechanism, computed as Opacus and TensorFlow Privacy compute it: the RDP of one step at each order α (1.1, 1.2, …, 10.9, 12, …, 63), times the number of steps, converted to (ε, δ) with the bound of Balle et al. (2020) and minimized over α.

In DP-FedAvg a step is a round: --sample-rate is the fraction of clients sampled per round (clients sampled / clients), --noise-multiplier the noise standard deviation over the clipping norm, --steps the number of rounds. The same accountant reports ε in \`xai fl round --dp\`.`

  static override examples = [
    {description: "Opacus's reference case", command: '<%= config.bin %> <%= command.id %> --noise-multiplier 1.5 --sample-rate 0.04 --steps 2250 --delta 1e-5'},
    {description: '30 rounds sampling 5 of 20 clients', command: '<%= config.bin %> <%= command.id %> --noise-multiplier 1.1 --sample-rate 0.25 --steps 30'},
    {description: 'Just ε, for scripts', command: '<%= config.bin %> <%= command.id %> --noise-multiplier 1.3 --sample-rate 0.0025 --steps 6000 --json | jq .epsilon'},
  ]

  static override flags = {
    'noise-multiplier': Flags.string({description: 'σ: noise standard deviation over the clipping norm (> 0)', required: true, env: 'XAI_FL_NOISE_MULTIPLIER'}),
    'sample-rate': Flags.string({description: 'q: probability that a client is sampled in a step, in [0, 1]', required: true, env: 'XAI_FL_SAMPLE_RATE'}),
    steps: Flags.string({description: 'Number of steps (rounds), a whole number ≥ 0', required: true, env: 'XAI_FL_STEPS'}),
    delta: Flags.string({description: 'Target δ, in (0, 1)', default: '1e-5', env: 'XAI_FL_DELTA'}),
  }

  async run(): Promise<FlPrivacyResult> {
    const {flags} = await this.parse(FlPrivacy)
    const noiseMultiplier = parseNumberFlag('noise-multiplier', flags['noise-multiplier'])
    const sampleRate = parseNumberFlag('sample-rate', flags['sample-rate'])
    const steps = parseNumberFlag('steps', flags.steps)
    const delta = parseNumberFlag('delta', flags.delta)
    const spent = epsilon({noiseMultiplier, sampleRate, steps, delta})
    const result: FlPrivacyResult = {epsilon: spent.epsilon, delta, order: spent.order, noiseMultiplier, sampleRate, steps}
    if (spent.order === DEFAULT_RDP_ORDERS[0] || spent.order === DEFAULT_RDP_ORDERS.at(-1)) {
      this.note(`The tightest order is the ${spent.order === DEFAULT_RDP_ORDERS[0] ? 'smallest' : 'largest'} of the orders searched (α = ${spent.order}); a wider range of orders may give a smaller ε.`)
    }
    if (!this.jsonEnabled()) process.stdout.write(`${formatPrivacy(result)}\n`)
    return result
  }
}

/** `ε = 7.3291 (δ = 1e-05, best order α = 3.9)`, δ written as Python writes floats. */
export function formatPrivacy(result: Pick<FlPrivacyResult, 'epsilon' | 'delta' | 'order'>): string {
  const eps = Number.isFinite(result.epsilon) ? result.epsilon.toFixed(4) : '∞'
  return `ε = ${eps} (δ = ${formatFloat(result.delta)}, best order α = ${Number.isNaN(result.order) ? 'none' : formatFloat(result.order)})`
}

/** Shortest round-trip digits, in exponent form with two exponent digits below 1e-4 or from 1e16 on (1e-05). */
function formatFloat(value: number): string {
  const magnitude = Math.abs(value)
  if (value === 0 || (magnitude >= 1e-4 && magnitude < 1e16)) return String(value)
  return value.toExponential().replace(/e([+-])(\d)$/, 'e$10$2')
}

const FLAG_EXAMPLES: Record<string, string> = {'noise-multiplier': '1.1', 'sample-rate': '0.04', steps: '2250', delta: '1e-5'}

/** A flag's text as a number; its range is checked by the accountant (FL_INVALID_PRIVACY_PARAMS). */
function parseNumberFlag(name: string, value: string): number {
  const text = value.trim()
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
    throw new XaiError(FL_INVALID_PRIVACY_PARAMS, `--${name} must be a number, not "${value}"`, {
      exitCode: ExitCode.usage,
      hint: `Write it as a decimal number, e.g. --${name} ${FLAG_EXAMPLES[name] ?? '1'}.`,
      details: {flag: name, value},
    })
  }
  return Number(text)
}
