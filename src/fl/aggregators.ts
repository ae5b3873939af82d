import {XaiError} from '../util/errors.js'
import {coordinateWise} from './aggregate/coordinate-wise.js'
import {KrumScorer} from './aggregate/krum-scorer.js'
import {nearestNeighborMix} from './aggregate/nearest-neighbor-mixing.js'
import {pairwiseSquaredDistances} from './aggregate/pairwise-distances.js'
import {weightedMean} from './aggregate/weighted-mean.js'

/**
 * The aggregation rules of a federated round, over flat Float32Array updates:
 * - FedAvg: Σ wᵢuᵢ / Σ wᵢ, weighted by examples (McMahan et al. 2017);
 * - median: coordinate-wise median;
 * - trimmed-mean:β: per coordinate, drop the ⌊βn⌋ largest and smallest values, average the rest
 *   (Yin et al. 2018);
 * - krum: the update whose n − f − 2 nearest neighbours are closest (Blanchard et al. 2017);
 * - multi-krum:m: the example-weighted mean of the m best-scored updates;
 * - bulyan: n − 2f updates chosen by iterated Krum, then per coordinate the mean of the n − 4f
 *   values closest to their median (El Mhamdi et al. 2018).
 * Each robust rule refuses, with FL_AGGREGATOR_GUARANTEE, a number of updates n and of Byzantine
 * updates f outside its guarantee.
 */
export type AggregatorSpec = BaseAggregatorSpec | {kind: 'nnm'; inner: BaseAggregatorSpec}

/** The rules an update set can be aggregated with directly (NNM wraps one of them). */
export type BaseAggregatorSpec =
  | {kind: 'fedavg'}
  | {kind: 'median'}
  | {kind: 'trimmed-mean'; beta: number}
  | {kind: 'krum'}
  | {kind: 'multi-krum'; m: number}
  | {kind: 'bulyan'}

export interface AggregateResult {
  model: Float32Array
  /**
   * indices of the updates that were used (all for fedavg/median/trimmed; the chosen ones for
   * krum/multi-krum/bulyan), ascending; after nearest-neighbour mixing, of the mixed updates
   */
  selected: number[]
}

export const AggregatorErrorCode = {
  invalidAggregator: 'FL_INVALID_AGGREGATOR',
  guarantee: 'FL_AGGREGATOR_GUARANTEE',
  invalidInput: 'FL_AGGREGATE_INPUT',
} as const
export type AggregatorErrorCode = (typeof AggregatorErrorCode)[keyof typeof AggregatorErrorCode]

export const AGGREGATOR_FORMS = 'fedavg, median, trimmed-mean:<beta> (0 ≤ beta < 0.5), krum, multi-krum:<m> (m ≥ 1), bulyan, each optionally after nearest-neighbour mixing: nnm+<rule>'

/**
 * Parses an aggregator as written on the command line.
 *
 * @example
 * parseAggregator('trimmed-mean:0.2') // {kind: 'trimmed-mean', beta: 0.2}
 * parseAggregator('multi-krum:5')     // {kind: 'multi-krum', m: 5}
 * parseAggregator('nnm+median')       // {kind: 'nnm', inner: {kind: 'median'}}
 */
export function parseAggregator(text: string): AggregatorSpec {
  const value = text.trim().toLowerCase()
  if (value.startsWith('nnm+')) {
    const inner = value.slice('nnm+'.length)
    if (inner.startsWith('nnm+') || inner === '') throw invalidAggregator(text, 'nnm+ is followed by one aggregation rule, as in nnm+median')
    return {kind: 'nnm', inner: parseBaseAggregator(text, inner)}
  }
  return parseBaseAggregator(text, value)
}

function parseBaseAggregator(text: string, value: string): BaseAggregatorSpec {
  if (value === 'fedavg' || value === 'median' || value === 'krum' || value === 'bulyan') return {kind: value}
  const [kind, parameter, ...rest] = value.split(':')
  if (kind === 'trimmed-mean' && parameter !== undefined && rest.length === 0) {
    const beta = /^(\d+(\.\d*)?|\.\d+)(e-?\d+)?$/.test(parameter) ? Number(parameter) : Number.NaN
    if (!(beta >= 0 && beta < 0.5)) throw invalidAggregator(text, `trimmed-mean's beta must be a number with 0 ≤ beta < 0.5, not "${parameter}"`)
    return {kind, beta}
  }
  if (kind === 'multi-krum' && parameter !== undefined && rest.length === 0) {
    const m = /^\d+$/.test(parameter) ? Number(parameter) : Number.NaN
    if (!(Number.isSafeInteger(m) && m >= 1)) throw invalidAggregator(text, `multi-krum's m must be a whole number ≥ 1, not "${parameter}"`)
    return {kind, m}
  }
  if (kind === 'trimmed-mean' || kind === 'multi-krum') throw invalidAggregator(text, `${kind} takes one parameter, as in ${kind === 'trimmed-mean' ? 'trimmed-mean:0.2' : 'multi-krum:5'}`)
  throw invalidAggregator(text, `Unknown aggregator "${text}"`)
}

/** The text form parseAggregator reads back: 'fedavg', 'trimmed-mean:0.2', 'multi-krum:5', … */
export function formatAggregator(spec: AggregatorSpec): string {
  switch (spec.kind) {
    case 'trimmed-mean':
      return `trimmed-mean:${spec.beta}`
    case 'multi-krum':
      return `multi-krum:${spec.m}`
    case 'nnm':
      return `nnm+${formatAggregator(spec.inner)}`
    default:
      return spec.kind
  }
}

/**
 * How many values the trimmed mean drops at each end of a coordinate: ⌊β·n⌋, computed so that a
 * decimal β such as 0.29 gives 29 of 100 although 0.29 · 100 is 28.999… in binary.
 */
export function trimCount(beta: number, n: number): number {
  return Math.floor(beta * n + 1e-9)
}

/**
 * Throws FL_AGGREGATOR_GUARANTEE (exit 2, hint with the numbers) when n updates with f Byzantine
 * are outside the aggregator's guarantee: krum/multi-krum need n > 2f + 2 (multi-krum also
 * 1 ≤ m ≤ n − f), bulyan n ≥ 4f + 3, trimmed-mean needs 0 ≤ beta < 0.5 and ⌊beta·n⌋ ≥ f,
 * median needs n > 2f, nnm+<rule> needs n > 2f and the rule's own condition. FedAvg has no
 * guarantee to check: it only needs one update.
 */
export function checkGuarantee(spec: AggregatorSpec, n: number, f: number): void {
  const name = formatAggregator(spec)
  if (!Number.isSafeInteger(f) || f < 0) throw guarantee(name, `The assumed number of Byzantine updates must be a whole number ≥ 0, not ${f}`, 'Pass f = 0 or more.', {n, f})
  if (!Number.isSafeInteger(n) || n < 1) throw guarantee(name, `${name} needs at least one update; got n = ${n}`, 'Aggregate only when at least one update arrived.', {n, f})
  switch (spec.kind) {
    case 'fedavg':
      return
    case 'median':
      return requireAtLeast(name, n, f, 2 * f + 1, 'n > 2f', Math.floor((n - 1) / 2))
    case 'nnm':
      requireAtLeast(name, n, f, 2 * f + 1, 'n > 2f', Math.floor((n - 1) / 2))
      return checkGuarantee(spec.inner, n, f)
    case 'trimmed-mean': {
      const {beta} = spec
      if (!(beta >= 0 && beta < 0.5)) {
        throw guarantee(name, `trimmed-mean needs 0 ≤ beta < 0.5; got beta = ${beta}`, 'Use a beta such as trimmed-mean:0.2.', {n, f, beta})
      }
      const trim = trimCount(beta, n)
      if (trim >= f) return
      // The smallest beta that trims f, rounded up to two decimals when that stays below 0.5.
      const rounded = Math.ceil((f / n) * 100 - 1e-9) / 100
      const suggested = rounded < 0.5 ? rounded : f / n
      const betaHint =
        2 * f < n
          ? `use beta ≥ ${suggested} (trimmed-mean:${suggested}) for n = ${n}`
          : `no beta < 0.5 trims ${f} of ${n} updates at each end; aggregate at least ${2 * f + 1} updates`
      throw guarantee(
        name,
        `${name} trims ⌊${beta} · ${n}⌋ = ${trim} update${trim === 1 ? '' : 's'} from each end of every coordinate, fewer than the f = ${f} Byzantine ones: it needs ⌊beta · n⌋ ≥ f`,
        `To tolerate f = ${f}, ${betaHint}, or assume f ≤ ${trim}.`,
        {n, f, beta, trim},
      )
    }
    case 'krum':
    case 'multi-krum': {
      requireAtLeast(name, n, f, 2 * f + 3, 'n > 2f + 2', Math.floor((n - 3) / 2))
      if (spec.kind === 'multi-krum' && !(Number.isSafeInteger(spec.m) && spec.m >= 1 && spec.m <= n - f)) {
        throw guarantee(
          name,
          `${name} averages m updates with 1 ≤ m ≤ n − f; got m = ${spec.m} with n = ${n}, f = ${f} (n − f = ${n - f})`,
          `Use multi-krum:${n - f} or a smaller m.`,
          {n, f, m: spec.m},
        )
      }
      return
    }
    case 'bulyan':
      return requireAtLeast(name, n, f, 4 * f + 3, 'n ≥ 4f + 3', Math.floor((n - 3) / 4))
  }
}

function requireAtLeast(name: string, n: number, f: number, minN: number, rule: string, maxF: number): void {
  if (n >= minN) return
  const alternative = maxF >= 0 ? `, or assume f ≤ ${maxF} Byzantine updates for n = ${n}` : ''
  throw guarantee(name, `${name} needs ${rule} updates; got n = ${n} with f = ${f} (needs n ≥ ${minN})`, `Aggregate at least ${minN} updates at this level${alternative}.`, {n, f, minN})
}

/**
 * Aggregates n updates of equal length d. `weights` are examples per update (FedAvg and
 * Multi-Krum average by them; every weight must be a positive number); f is the assumed number
 * of Byzantine updates, checked with checkGuarantee first. `out` (length d) receives the model
 * when given and may be one of the updates. The updates are not modified.
 *
 * Robust rules treat NaN as +∞: a non-finite update is an outlier like any other (and is at
 * distance +∞ from every update for Krum); FedAvg propagates it.
 *
 * @example
 * const {model, selected} = aggregate({kind: 'krum'}, updates, examples, 1)
 */
export function aggregate(spec: AggregatorSpec, updates: readonly Float32Array[], weights: readonly number[], f: number, out?: Float32Array): AggregateResult {
  const n = updates.length
  checkGuarantee(spec, n, f)
  const d = checkInputs(updates, weights, out)
  const model = out ?? new Float32Array(d)
  if (spec.kind === 'nnm') return aggregate(spec.inner, nearestNeighborMix(updates, f), weights, f, model)
  const all = Array.from({length: n}, (_, i) => i)
  switch (spec.kind) {
    case 'fedavg':
      weightedMean(updates, all, weights, model)
      return {model, selected: all}
    case 'median':
      coordinateWise(updates, all, {kind: 'median'}, model)
      return {model, selected: all}
    case 'trimmed-mean':
      coordinateWise(updates, all, {kind: 'trimmed', trim: trimCount(spec.beta, n)}, model)
      return {model, selected: all}
    case 'krum': {
      const best = new KrumScorer(pairwiseSquaredDistances(updates), n, f).ranking()[0]!
      model.set(updates[best]!)
      return {model, selected: [best]}
    }
    case 'multi-krum': {
      const selected = new KrumScorer(pairwiseSquaredDistances(updates), n, f)
        .ranking()
        .slice(0, spec.m)
        .sort((a, b) => a - b)
      weightedMean(updates, selected, weights, model)
      return {model, selected}
    }
    case 'bulyan': {
      const theta = n - 2 * f
      const selected = new KrumScorer(pairwiseSquaredDistances(updates), n, f).iterated(theta).sort((a, b) => a - b)
      coordinateWise(updates, selected, {kind: 'closest-to-median', keep: theta - 2 * f}, model)
      return {model, selected}
    }
  }
}

function checkInputs(updates: readonly Float32Array[], weights: readonly number[], out: Float32Array | undefined): number {
  const d = updates[0]!.length
  updates.forEach((u, i) => {
    if (!(u instanceof Float32Array) || u.length !== d) {
      throw invalidInput(`Update ${i} has ${u instanceof Float32Array ? `${u.length} parameters` : 'no Float32Array'} where update 0 has ${d}`, {index: i})
    }
  })
  if (weights.length !== updates.length) throw invalidInput(`${weights.length} weights for ${updates.length} updates`, {weights: weights.length, updates: updates.length})
  weights.forEach((w, i) => {
    if (!(Number.isFinite(w) && w > 0)) throw invalidInput(`The weight of update ${i} is ${w}; weights count examples and must be positive`, {index: i, weight: w})
  })
  if (out !== undefined && out.length !== d) throw invalidInput(`The output has ${out.length} parameters where the updates have ${d}`, {out: out.length, d})
  return d
}

function invalidAggregator(text: string, message: string): XaiError {
  return new XaiError(AggregatorErrorCode.invalidAggregator, message, {
    hint: `Use one of: ${AGGREGATOR_FORMS}.`,
    details: {aggregator: text},
  })
}

function guarantee(aggregator: string, message: string, hint: string, details: Record<string, unknown>): XaiError {
  return new XaiError(AggregatorErrorCode.guarantee, message, {hint, details: {aggregator, ...details}})
}

function invalidInput(message: string, details: Record<string, unknown>): XaiError {
  return new XaiError(AggregatorErrorCode.invalidInput, message, {
    hint: 'Updates must be validated (one length, positive example counts) before they are aggregated.',
    details,
  })
}
