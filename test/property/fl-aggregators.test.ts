/**
 * Properties of the aggregators: FedAvg of identical updates is that update; the median and the
 * trimmed mean stay within the honest values whatever f outliers are added, and after
 * nearest-neighbour mixing equal the honest mean when the outliers are far; no aggregator depends
 * on the order of the updates; Krum, Multi-Krum and Bulyan choose only honest updates when the
 * Byzantine ones are far away.
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the cases and FC_RUNS their number; a
 * failure names the seed, so `FC_SEED=<seed> npx vitest run test/property/fl-aggregators.test.ts`
 * replays it.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {type AggregatorSpec, aggregate, trimCount} from '../../src/fl/aggregators.js'
import {Random} from '../../src/fl/random.js'

const seed = Number(process.env.FC_SEED ?? 0xa66)
const runs = Number(process.env.FC_RUNS ?? 200)

function check<T>(property: fc.IProperty<T>): void {
  try {
    fc.assert(property, {seed, numRuns: runs})
  } catch (err) {
    throw new Error(`aggregator property failed; replay with FC_SEED=${seed}\n${(err as Error).message}`, {cause: err})
  }
}

/** n vectors of d standard normal values from a seeded generator: distinct values, no ties. */
function normalUpdates(rng: Random, n: number, d: number, scale = 1): Float32Array[] {
  return Array.from({length: n}, () => Float32Array.from({length: d}, () => rng.normal() * scale))
}

/** Updates that are far from every honest one and from each other. */
function farUpdates(rng: Random, f: number, d: number): Float32Array[] {
  return Array.from({length: f}, () => Float32Array.from({length: d}, () => (rng.next() < 0.5 ? -1 : 1) * (1e3 + rng.next() * 1e5)))
}

/** Places the outliers among the honest updates at seeded positions; returns where each came from. */
function mix(rng: Random, honest: Float32Array[], outliers: Float32Array[]): {updates: Float32Array[]; isHonest: boolean[]} {
  const tagged = [...honest.map((u) => ({u, honest: true})), ...outliers.map((u) => ({u, honest: false}))]
  rng.shuffle(tagged)
  return {updates: tagged.map((t) => t.u), isHonest: tagged.map((t) => t.honest)}
}

/** Every coordinate of `model` lies between the smallest and largest honest value there. */
function expectWithinHonest(model: Float32Array, honest: readonly Float32Array[]): void {
  for (let j = 0; j < model.length; j++) {
    let lo = Infinity
    let hi = -Infinity
    for (const u of honest) {
      lo = Math.min(lo, u[j]!)
      hi = Math.max(hi, u[j]!)
    }
    expect(model[j], `coordinate ${j} outside the honest range [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo)
    expect(model[j], `coordinate ${j} outside the honest range [${lo}, ${hi}]`).toBeLessThanOrEqual(hi)
  }
}

const weightsFor = (rng: Random, n: number) => Array.from({length: n}, () => 1 + rng.int(500))

describe('FedAvg', () => {
  it('of identical updates is that update, whatever the example counts', () => {
    check(
      fc.property(
        fc.array(fc.float({noNaN: true, noDefaultInfinity: true}), {minLength: 1, maxLength: 40}),
        fc.array(fc.integer({min: 1, max: 100_000}), {minLength: 1, maxLength: 20}),
        (values, weights) => {
          const update = Float32Array.from(values)
          const {model} = aggregate({kind: 'fedavg'}, weights.map(() => Float32Array.from(update)), weights, 0)
          for (let j = 0; j < update.length; j++) expect(model[j] === update[j], `coordinate ${j}: ${model[j]} ≠ ${update[j]}`).toBe(true)
        },
      ),
    )
  })
})

describe('median and trimmed mean', () => {
  const anyFloat = fc.float() // includes NaN, ±∞, ±3.4e38 and subnormals
  const finiteFloat = fc.float({noNaN: true, noDefaultInfinity: true})
  const scenario = fc
    .record({f: fc.integer({min: 0, max: 6}), extraHonest: fc.integer({min: 1, max: 8}), d: fc.integer({min: 1, max: 12}), order: fc.integer()})
    .chain(({f, extraHonest, d, order}) =>
      fc.record({
        f: fc.constant(f),
        d: fc.constant(d),
        order: fc.constant(order),
        honest: fc.array(fc.array(finiteFloat, {minLength: d, maxLength: d}), {minLength: f + extraHonest, maxLength: f + extraHonest}),
        outliers: fc.array(fc.array(anyFloat, {minLength: d, maxLength: d}), {minLength: f, maxLength: f}),
        betaSlack: fc.double({min: 0, max: 1, noNaN: true}),
      }),
    )

  it('stay within the range of the honest values, whatever f outliers of any size are added', () => {
    check(
      fc.property(scenario, ({f, order, honest, outliers, betaSlack}) => {
        const honestUpdates = honest.map((v) => Float32Array.from(v))
        const {updates} = mix(new Random(order), honestUpdates, outliers.map((v) => Float32Array.from(v)))
        const n = updates.length
        const weights = updates.map(() => 1)
        expectWithinHonest(aggregate({kind: 'median'}, updates, weights, f).model, honestUpdates)
        // The smallest β with ⌊βn⌋ ≥ f, up to just below 1/2.
        const beta = f / n + betaSlack * (0.5 - f / n) * 0.999
        if (beta < 0.5 && trimCount(beta, n) >= f) {
          expectWithinHonest(aggregate({kind: 'trimmed-mean', beta}, updates, weights, f).model, honestUpdates)
        }
      }),
    )
  })
})

describe('every aggregator', () => {
  const specs: Array<{spec: AggregatorSpec; minN: (f: number) => number}> = [
    {spec: {kind: 'fedavg'}, minN: () => 1},
    {spec: {kind: 'median'}, minN: (f) => 2 * f + 1},
    {spec: {kind: 'trimmed-mean', beta: 0.3}, minN: (f) => Math.max(1, Math.ceil(f / 0.3))},
    {spec: {kind: 'krum'}, minN: (f) => 2 * f + 3},
    {spec: {kind: 'multi-krum', m: 2}, minN: (f) => 2 * f + 3},
    {spec: {kind: 'bulyan'}, minN: (f) => 4 * f + 3},
    {spec: {kind: 'nnm', inner: {kind: 'median'}}, minN: (f) => 2 * f + 1},
    {spec: {kind: 'nnm', inner: {kind: 'krum'}}, minN: (f) => 2 * f + 3},
  ]

  it('is independent of the order of the updates', () => {
    check(
      fc.property(
        fc.constantFrom(...specs),
        fc.integer({min: 0, max: 3}),
        fc.integer({min: 0, max: 6}),
        fc.integer({min: 1, max: 24}),
        fc.integer(),
        ({spec, minN}, f, extra, d, dataSeed) => {
          const rng = new Random(dataSeed)
          const n = minN(f) + extra
          // Up to f of the updates are Byzantine-looking (scaled and sign-flipped); the data has no ties.
          const byzantine = rng.int(Math.min(f, n - 1) + 1)
          const updates = [...normalUpdates(rng, n - byzantine, d), ...normalUpdates(rng, byzantine, d, -20)]
          const weights = weightsFor(rng, n)
          const perm = rng.shuffle(Array.from({length: n}, (_, i) => i))
          const a = aggregate(spec, updates, weights, f)
          const b = aggregate(spec, perm.map((i) => updates[i]!), perm.map((i) => weights[i]!), f)
          // After mixing, updates can become equal, and which of equal updates is chosen follows their order.
          if (spec.kind !== 'nnm') expect(b.selected.map((i) => perm[i]!).sort((x, y) => x - y)).toEqual(a.selected)
          for (let j = 0; j < d; j++) expect(Math.abs(a.model[j]! - b.model[j]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(a.model[j]!)))
        },
      ),
    )
  })
})

describe('nearest-neighbour mixing', () => {
  it('turns median and trimmed mean into the mean of the honest updates when f outliers are far away, spread or together', () => {
    check(
      fc.property(
        fc.record({f: fc.integer({min: 0, max: 5}), extra: fc.integer({min: 1, max: 8}), d: fc.integer({min: 1, max: 16}), seed: fc.integer(), clustered: fc.boolean()}),
        ({f, extra, d, seed: dataSeed, clustered}) => {
          const rng = new Random(dataSeed)
          const n = 2 * f + extra
          const honest = normalUpdates(rng, n - f, d)
          const outliers = farUpdates(rng, f, d)
          if (clustered) outliers.fill(outliers[0]!)
          const {updates} = mix(rng, honest, outliers)
          const mean = aggregate({kind: 'fedavg'}, honest, honest.map(() => 1), 0).model
          const beta = Math.min(0.49, f / n + 0.01)
          for (const spec of [{kind: 'nnm', inner: {kind: 'median'}}, {kind: 'nnm', inner: {kind: 'trimmed-mean', beta}}] as AggregatorSpec[]) {
            const {model} = aggregate(spec, updates, weightsFor(rng, n), f)
            for (let j = 0; j < d; j++) expect(Math.abs(model[j]! - mean[j]!), `${spec.kind} coordinate ${j}`).toBeLessThanOrEqual(1e-5)
          }
        },
      ),
    )
  })
})

describe('Krum, Multi-Krum and Bulyan', () => {
  const far = fc.record({
    f: fc.integer({min: 1, max: 4}),
    extra: fc.integer({min: 0, max: 6}),
    d: fc.integer({min: 1, max: 16}),
    seed: fc.integer(),
    clustered: fc.boolean(),
  })

  it('Krum and Multi-Krum choose only honest updates when f outliers are far away, spread or together', () => {
    check(
      fc.property(far, ({f, extra, d, seed: dataSeed, clustered}) => {
        const rng = new Random(dataSeed)
        const n = 2 * f + 3 + extra
        const outliers = farUpdates(rng, f, d)
        if (clustered) outliers.fill(outliers[0]!)
        const {updates, isHonest} = mix(rng, normalUpdates(rng, n - f, d), outliers)
        const weights = weightsFor(rng, n)
        const m = 1 + rng.int(n - f)
        for (const spec of [{kind: 'krum'}, {kind: 'multi-krum', m}, {kind: 'multi-krum', m: n - f}] as AggregatorSpec[]) {
          const {selected} = aggregate(spec, updates, weights, f)
          for (const i of selected) expect(isHonest[i], `${spec.kind} chose outlier ${i}`).toBe(true)
        }
      }),
    )
  })

  it('Bulyan chooses only honest updates when f outliers are far away and apart, and stays within the honest values when they are together', () => {
    check(
      fc.property(far, ({f, extra, d, seed: dataSeed, clustered}) => {
        const rng = new Random(dataSeed)
        const n = 4 * f + 3 + extra
        const honest = normalUpdates(rng, n - f, d)
        const outliers = farUpdates(rng, f, d)
        if (clustered) outliers.fill(outliers[0]!)
        const {updates, isHonest} = mix(rng, honest, outliers)
        const {model, selected} = aggregate({kind: 'bulyan'}, updates, weightsFor(rng, n), f)
        expect(selected).toHaveLength(n - 2 * f)
        if (!clustered) for (const i of selected) expect(isHonest[i], `bulyan chose outlier ${i}`).toBe(true)
        expectWithinHonest(model, honest)
      }),
    )
  })
})
