/**
 * Privacy accounting for client-level differential privacy (DP-FedAvg): a Rényi-DP accountant for
 * the Poisson-subsampled Gaussian mechanism, computed as Opacus (opacus/accountants/analysis/rdp.py)
 * and TensorFlow Privacy compute it, so that the ε xai reports is the ε those libraries report.
 *
 * One round of DP-FedAvg samples each client with probability q (clients sampled / clients), clips
 * every update to a norm C and adds Gaussian noise of standard deviation σ·C to the sum: a
 * subsampled Gaussian mechanism with noise multiplier σ. Its RDP at order α is
 * log(A_α) / (α - 1) (Mironov, Talwar, Zhang 2019, https://arxiv.org/abs/1908.10530, Sec. 3.3);
 * RDP composes by addition over rounds; the conversion to (ε, δ) is Balle et al. 2020
 * (https://arxiv.org/abs/1905.09982, Theorem 21), minimized over the orders.
 */
import {ExitCode, XaiError} from '../util/errors.js'

/** A parameter of the accountant is out of its domain (exit code 2). */
export const FL_INVALID_PRIVACY_PARAMS = 'FL_INVALID_PRIVACY_PARAMS'

/** Opacus's default orders: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({length: 99}, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({length: 52}, (_, x) => 12 + x),
])

/** An (ε, δ) guarantee's ε and the RDP order α that gives it. */
export interface PrivacySpent {
  epsilon: number
  /** The order at which the bound is tightest; NaN when no order gives a bound. */
  order: number
}

export interface EpsilonParameters {
  /** σ: noise standard deviation over the clipping norm. */
  noiseMultiplier: number
  /** q: probability that a participant is sampled in a step, in [0, 1]. */
  sampleRate: number
  /** Number of steps (rounds) of the mechanism. */
  steps: number
  /** Target δ, in (0, 1). */
  delta: number
  /** RDP orders to minimize over [default: DEFAULT_RDP_ORDERS]. */
  orders?: readonly number[]
}

/** One stretch of identical steps: [noiseMultiplier, sampleRate, steps], as Opacus keeps them. */
export type RdpHistoryEntry = [noiseMultiplier: number, sampleRate: number, steps: number]

export interface RdpAccountantJSON {
  history: RdpHistoryEntry[]
}

/**
 * RDP of the Poisson-subsampled Gaussian mechanism iterated `steps` times, one value per order
 * (Opacus's compute_rdp). q = 0 gives 0, q = 1 the Gaussian mechanism's α / (2σ²), an infinite
 * order Infinity.
 *
 * @example computeRdp(0.04, 1.5, 2250, [2, 8.5, 32])
 */
export function computeRdp(q: number, noiseMultiplier: number, steps: number, orders: readonly number[]): number[] {
  checkSampleRate(q)
  checkNoiseMultiplier(noiseMultiplier)
  checkSteps(steps)
  checkOrders(orders)
  return orders.map((order) => rdpOfOneStep(q, noiseMultiplier, order) * steps)
}

/**
 * The smallest ε over the orders for which the mechanism with these RDP values is (ε, δ)-DP,
 * with the conversion Opacus's get_privacy_spent uses (Balle et al. 2020, Theorem 21):
 * ε(α) = rdp(α) - (log δ + log α) / (α - 1) + log((α - 1) / α). Orders whose ε is NaN are
 * ignored; when all are, ε is Infinity and the order NaN.
 *
 * @example rdpToEpsilon(DEFAULT_RDP_ORDERS, computeRdp(0.04, 1.5, 2250, DEFAULT_RDP_ORDERS), 1e-5)
 */
export function rdpToEpsilon(orders: readonly number[], rdp: readonly number[], delta: number): PrivacySpent {
  checkOrders(orders)
  checkDelta(delta)
  if (rdp.length !== orders.length) {
    throw invalid(`The RDP values (${rdp.length}) do not match the orders (${orders.length})`, 'Give one RDP value per order, in the same sequence.', {orders: orders.length, rdp: rdp.length})
  }
  const logDelta = Math.log(delta)
  let best = -1
  let bestEpsilon = Number.NaN
  for (let i = 0; i < orders.length; i++) {
    const alpha = orders[i]!
    const epsilon = rdp[i]! - (logDelta + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha)
    if (Number.isNaN(epsilon)) continue
    if (best < 0 || epsilon < bestEpsilon) {
      best = i
      bestEpsilon = epsilon
    }
  }
  if (best < 0) return {epsilon: Number.POSITIVE_INFINITY, order: Number.NaN}
  return {epsilon: bestEpsilon, order: orders[best]!}
}

/**
 * ε for `steps` steps of the subsampled Gaussian mechanism at the target δ.
 *
 * @example epsilon({noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250, delta: 1e-5}) // {epsilon: 7.3291…, order: …}
 */
export function epsilon(params: EpsilonParameters): PrivacySpent {
  const orders = params.orders ?? DEFAULT_RDP_ORDERS
  checkDelta(params.delta)
  return rdpToEpsilon(orders, computeRdp(params.sampleRate, params.noiseMultiplier, params.steps, orders), params.delta)
}

/**
 * Privacy spent so far by a training run: a history of (σ, q, steps) stretches whose RDP is summed
 * (composition), as Opacus's RDPAccountant does. A step with the σ and q of the last stretch
 * lengthens it.
 */
export class RdpAccountant {
  private readonly entries: RdpHistoryEntry[] = []

  /** The stretches of steps so far, oldest first (a copy). */
  get history(): RdpHistoryEntry[] {
    return this.toJSON().history
  }

  /** Records `steps` (default 1) steps with noise multiplier σ and sampling rate q. */
  step(noiseMultiplier: number, sampleRate: number, steps = 1): void {
    checkNoiseMultiplier(noiseMultiplier)
    checkSampleRate(sampleRate)
    checkSteps(steps)
    if (steps === 0) return
    const last = this.entries.at(-1)
    if (last !== undefined && last[0] === noiseMultiplier && last[1] === sampleRate) last[2] += steps
    else this.entries.push([noiseMultiplier, sampleRate, steps])
  }

  /** The composed RDP at each order: the sum over the history. */
  rdp(orders: readonly number[] = DEFAULT_RDP_ORDERS): number[] {
    checkOrders(orders)
    const total = orders.map(() => 0)
    for (const [noiseMultiplier, sampleRate, steps] of this.entries) {
      const rdp = computeRdp(sampleRate, noiseMultiplier, steps, orders)
      for (let i = 0; i < total.length; i++) total[i]! += rdp[i]!
    }
    return total
  }

  /** ε at the target δ for everything recorded; {epsilon: 0, order: 0} before the first step, as Opacus. */
  epsilon(delta: number, orders: readonly number[] = DEFAULT_RDP_ORDERS): PrivacySpent {
    checkDelta(delta)
    if (this.entries.length === 0) return {epsilon: 0, order: 0}
    return rdpToEpsilon(orders, this.rdp(orders), delta)
  }

  toJSON(): RdpAccountantJSON {
    return {history: this.entries.map(([noiseMultiplier, sampleRate, steps]) => [noiseMultiplier, sampleRate, steps])}
  }

  /** An accountant with the history of `toJSON()`; anything else is refused with FL_INVALID_PRIVACY_PARAMS. */
  static fromJSON(json: unknown): RdpAccountant {
    const history = (json as {history?: unknown} | null)?.history
    if (typeof json !== 'object' || json === null || !Array.isArray(history)) {
      throw invalid('The accountant state is not an object with a history array', 'Restore an accountant from what RdpAccountant.toJSON() returned.', {})
    }
    const accountant = new RdpAccountant()
    for (const [index, entry] of history.entries()) {
      if (!Array.isArray(entry) || entry.length !== 3 || !entry.every((value) => typeof value === 'number')) {
        throw invalid(`Entry ${index} of the accountant history is not [noiseMultiplier, sampleRate, steps]`, 'Restore an accountant from what RdpAccountant.toJSON() returned.', {index, entry})
      }
      const [noiseMultiplier, sampleRate, steps] = entry as [number, number, number]
      checkNoiseMultiplier(noiseMultiplier)
      checkSampleRate(sampleRate)
      checkSteps(steps)
      // Kept as stored, without merging, so that toJSON() gives back the same history.
      if (steps > 0) accountant.entries.push([noiseMultiplier, sampleRate, steps])
    }
    return accountant
  }
}

// ---------------------------------------------------------------------------------------------
// RDP of one step

function rdpOfOneStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0
  if (q === 1) return alpha / (2 * sigma ** 2)
  if (alpha === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY
  // Order 1 is the limit α → 1 (a KL divergence), which this series does not give: no bound.
  if (alpha === 1) return Number.NaN
  return logA(q, sigma, alpha) / (alpha - 1)
}

/** log(A_α) for 0 < q < 1 and any finite α ≥ 1. */
function logA(q: number, sigma: number, alpha: number): number {
  return Number.isInteger(alpha) ? logAIntegerOrder(q, sigma, alpha) : logAFractionalOrder(q, sigma, alpha)
}

/** A_α = Σ_{i=0..α} C(α, i) q^i (1 - q)^(α - i) exp((i² - i) / (2σ²)), in log space. */
function logAIntegerOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  const twoSigma2 = 2 * sigma ** 2
  let result = Number.NEGATIVE_INFINITY
  let logBinomial = 0 // log C(α, 0)
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinomial += Math.log((alpha - i + 1) / i)
    result = logAdd(result, logBinomial + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoSigma2)
  }
  return result
}

/** Beyond this many terms a fractional order's series is taken not to converge (no bound). */
const MAX_FRACTIONAL_TERMS = 100_000

/**
 * A_α for fractional α: the integral split at z0 = σ² log(1/q - 1) + 1/2 into two series over
 * i = 0, 1, … whose terms carry erfc factors; summed until both terms fall below e^-30, as Opacus
 * does (terms with a negative binomial coefficient are subtracted).
 */
function logAFractionalOrder(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q)
  const log1mQ = Math.log1p(-q)
  const twoSigma2 = 2 * sigma ** 2
  const sqrt2Sigma = Math.SQRT2 * sigma
  const z0 = sigma ** 2 * Math.log(1 / q - 1) + 0.5
  let logA0 = Number.NEGATIVE_INFINITY
  let logA1 = Number.NEGATIVE_INFINITY
  let logAbsBinomial = 0 // log |C(α, 0)|
  let positive = true
  for (let i = 0; i < MAX_FRACTIONAL_TERMS; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i
      logAbsBinomial += Math.log(Math.abs(factor))
      if (factor < 0) positive = !positive
    }
    const j = alpha - i
    const logT0 = logAbsBinomial + i * logQ + j * log1mQ
    const logT1 = logAbsBinomial + j * logQ + i * log1mQ
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma)
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma)
    const logS0 = logT0 + (i * i - i) / twoSigma2 + logE0
    const logS1 = logT1 + (j * j - j) / twoSigma2 + logE1
    if (positive) {
      logA0 = logAdd(logA0, logS0)
      logA1 = logAdd(logA1, logS1)
    } else {
      logA0 = logSub(logA0, logS0)
      logA1 = logSub(logA1, logS1)
    }
    if (Math.max(logS0, logS1) < -30) return logAdd(logA0, logA1)
  }
  return Number.POSITIVE_INFINITY
}

// ---------------------------------------------------------------------------------------------
// Log-space arithmetic

/** log(e^x + e^y). */
function logAdd(logX: number, logY: number): number {
  const a = Math.min(logX, logY)
  const b = Math.max(logX, logY)
  if (a === Number.NEGATIVE_INFINITY) return b
  return Math.log1p(Math.exp(a - b)) + b
}

/** log(e^x - e^y) for x ≥ y. */
function logSub(logX: number, logY: number): number {
  if (logX < logY) throw new Error(`Log-space subtraction with a negative result (${logX} < ${logY})`)
  if (logY === Number.NEGATIVE_INFINITY) return logX
  if (logX === logY) return Number.NEGATIVE_INFINITY
  const difference = Math.expm1(logX - logY)
  // e^(x-y) overflows: e^y is negligible next to e^x.
  if (difference === Number.POSITIVE_INFINITY) return logX
  return Math.log(difference) + logY
}

// ---------------------------------------------------------------------------------------------
// The complementary error function

const SQRT_PI = Math.sqrt(Math.PI)
/** Below it, erfc = 1 - erf by a series; from it on, a continued fraction. */
const CONTINUED_FRACTION_FROM = 1.5
const MAX_FRACTION_TERMS = 10_000

/**
 * erfc(x) = 1 - erf(x), to a relative error of a few 1e-15 over the whole real line.
 *
 * @example erfc(1) // 0.157299207050285…
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN
  if (x < 0) return 2 - erfc(-x)
  if (x < CONTINUED_FRACTION_FROM) return 1 - erfSeries(x)
  return Math.exp(-x * x) * erfcx(x)
}

/** log(erfc(x)), finite far into the tail where erfc(x) itself underflows (x ≳ 27). */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN
  if (x < CONTINUED_FRACTION_FROM) return Math.log(erfc(x))
  return -x * x + Math.log(erfcx(x))
}

/**
 * erf(x) for 0 ≤ x < 1.5 by the series of positive terms
 * erf(x) = 2/√π · e^(-x²) · Σ_n 2^n x^(2n+1) / (1·3·…·(2n+1)), which has no cancellation.
 */
function erfSeries(x: number): number {
  const x2 = x * x
  let term = x
  let sum = x
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1)
    sum += term
  }
  return ((2 / SQRT_PI) * Math.exp(-x2)) * sum
}

/**
 * The scaled erfcx(x) = e^(x²) erfc(x) for x ≥ 1.5 (under 100 terms there), from Laplace's continued fraction
 * √π e^(x²) erfc(x) = 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + …))))),
 * evaluated by the modified Lentz method.
 */
function erfcx(x: number): number {
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let n = 1; n < MAX_FRACTION_TERMS; n++) {
    const a = n / 2
    d = x + a * d
    if (d === 0) d = tiny
    c = x + a / c
    if (c === 0) c = tiny
    d = 1 / d
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return 1 / (SQRT_PI * f)
}

// ---------------------------------------------------------------------------------------------
// Validation

function invalid(message: string, hint: string, details: Record<string, unknown>): XaiError {
  return new XaiError(FL_INVALID_PRIVACY_PARAMS, message, {exitCode: ExitCode.usage, hint, details})
}

function checkSampleRate(q: number): void {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw invalid(`The sampling rate must be in [0, 1], not ${q}`, 'The sampling rate q is the fraction of participants sampled in each step (clients sampled / clients), e.g. 0.04.', {sampleRate: q})
  }
}

function checkNoiseMultiplier(sigma: number): void {
  if (typeof sigma !== 'number' || !(sigma > 0 && sigma < Number.POSITIVE_INFINITY)) {
    throw invalid(`The noise multiplier must be a positive number, not ${sigma}`, 'The noise multiplier σ is the noise standard deviation over the clipping norm, e.g. 1.1; with σ = 0 there is no privacy to account for.', {noiseMultiplier: sigma})
  }
}

function checkSteps(steps: number): void {
  if (!Number.isSafeInteger(steps) || steps < 0) {
    throw invalid(`The number of steps must be a whole number ≥ 0, not ${steps}`, 'Count the steps (rounds) of the mechanism, e.g. 2250.', {steps})
  }
}

function checkDelta(delta: number): void {
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) {
    throw invalid(`δ must be in (0, 1), not ${delta}`, 'Pick δ well below 1 / (number of participants), e.g. 1e-5.', {delta})
  }
}

function checkOrders(orders: readonly number[]): void {
  if (!Array.isArray(orders) || orders.length === 0) {
    throw invalid('There are no RDP orders to compute', 'Pass at least one order α > 1, or leave the orders out to use DEFAULT_RDP_ORDERS.', {})
  }
  for (const order of orders) {
    if (typeof order !== 'number' || !(order >= 1)) {
      throw invalid(`RDP orders must be ≥ 1, not ${order}`, 'Use orders α > 1, such as DEFAULT_RDP_ORDERS.', {order})
    }
  }
}
