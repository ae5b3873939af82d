import {describe, expect, it} from 'vitest'

import {closestToMedianMean, median, trimmedMean} from '../../../src/fl/aggregate/coordinate-wise.js'
import {nearestNeighborMix} from '../../../src/fl/aggregate/nearest-neighbor-mixing.js'
import {pairwiseSquaredDistances} from '../../../src/fl/aggregate/pairwise-distances.js'
import {select} from '../../../src/fl/aggregate/select.js'
import {
  type AggregatorSpec,
  aggregate,
  checkGuarantee,
  formatAggregator,
  parseAggregator,
  trimCount,
} from '../../../src/fl/aggregators.js'
import {Random} from '../../../src/fl/random.js'
import {thrown} from '../../helpers/errors.js'


/** An update of `length` parameters all equal to x. */
const filled = (x: number, length = 4) => new Float32Array(length).fill(x)
const rows = (...values: number[][]) => values.map((v) => Float32Array.from(v))
const ones = (n: number) => Array.from({length: n}, () => 1)
const f32 = Math.fround

describe('FedAvg', () => {
  it('weights each update by its examples', () => {
    const {model, selected} = aggregate({kind: 'fedavg'}, rows([1, 2], [3, 4], [5, 6]), [1, 1, 2], 0)
    // (1·1 + 1·3 + 2·5) / 4 = 3.5 and (2 + 4 + 12) / 4 = 4.5
    expect(Array.from(model)).toEqual([3.5, 4.5])
    expect(selected).toEqual([0, 1, 2])
  })

  it('accumulates in double precision: small contributions are not lost next to a large one', () => {
    // In float32, 1e8 + 2 is 1e8 (its spacing there is 8), so a float32 sum would give 0.99999.
    const updates = [filled(1, 3), ...Array.from({length: 1000}, () => filled(2, 3))]
    const weights = [1e8, ...ones(1000)]
    expect(aggregate({kind: 'fedavg'}, updates, weights, 0).model[0]).toBe(f32((1e8 + 2000) / (1e8 + 1000)))
  })

  it('writes into the given output, which may be one of the updates', () => {
    const updates = rows([2, 4], [4, 8])
    const out = updates[0]!
    const result = aggregate({kind: 'fedavg'}, updates, [1, 1], 0, out)
    expect(result.model).toBe(out)
    expect(Array.from(out)).toEqual([3, 6])
  })

  it('has no Byzantine guarantee to refuse: it aggregates whatever f is', () => {
    expect(() => checkGuarantee({kind: 'fedavg'}, 3, 3)).not.toThrow()
    expect(Array.from(aggregate({kind: 'fedavg'}, rows([0], [0], [30]), ones(3), 1).model)).toEqual([10])
  })
})

describe('coordinate-wise median', () => {
  it('takes the middle value for odd n', () => {
    const {model} = aggregate({kind: 'median'}, rows([1, 10, -3], [2, 0, 5], [3, 7, 4]), ones(3), 1)
    expect(Array.from(model)).toEqual([2, 7, 4])
  })

  it('averages the two middle values for even n', () => {
    const updates = rows([1, 10, -3], [2, 0, 5], [3, 7, 4], [100, -100, 4.5])
    // sorted per coordinate: 1 2 | 3 100 → 2.5; −100 0 | 7 10 → 3.5; −3 4 | 4.5 5 → 4.25
    expect(Array.from(aggregate({kind: 'median'}, updates, ones(4), 1).model)).toEqual([2.5, 3.5, 4.25])
  })

  it('treats NaN and infinities as outliers', () => {
    const updates = rows([1, 5], [2, 6], [3, 7], [Number.NaN, Number.NEGATIVE_INFINITY], [Number.POSITIVE_INFINITY, Number.NaN])
    // per coordinate: 1 2 3 +∞ +∞ → 3; −∞ 5 6 7 +∞ → 6
    expect(Array.from(aggregate({kind: 'median'}, updates, ones(5), 2).model)).toEqual([3, 6])
  })

  it('works across many coordinates and more updates than a small sort handles', () => {
    const rng = new Random(7)
    const n = 41
    const d = 700
    const updates = Array.from({length: n}, () => Float32Array.from({length: d}, () => rng.normal()))
    const {model} = aggregate({kind: 'median'}, updates, ones(n), 0)
    for (const j of [0, 255, 256, 699]) {
      const column = updates.map((u) => u[j]!).sort((a, b) => a - b)
      expect(model[j]).toBe(column[20])
    }
  })
})

describe('β-trimmed mean', () => {
  it('drops ⌊βn⌋ values at each end (odd n)', () => {
    const updates = rows([1, -50], [2, 0], [3, 1], [4, 2], [100, 3])
    // β = 0.2, n = 5: drop one at each end → (2 + 3 + 4) / 3 = 3 and (0 + 1 + 2) / 3 = 1
    expect(Array.from(aggregate({kind: 'trimmed-mean', beta: 0.2}, updates, ones(5), 1).model)).toEqual([3, 1])
  })

  it('drops ⌊βn⌋ values at each end (even n)', () => {
    const updates = rows([1], [2], [3], [4], [5], [1000])
    // β = 0.34, n = 6: ⌊2.04⌋ = 2 dropped at each end → (3 + 4) / 2
    expect(Array.from(aggregate({kind: 'trimmed-mean', beta: 0.34}, updates, ones(6), 2).model)).toEqual([3.5])
  })

  it('is the plain mean for β = 0 and ignores the example weights', () => {
    expect(Array.from(aggregate({kind: 'trimmed-mean', beta: 0}, rows([1], [2], [6]), [1, 1, 100], 0).model)).toEqual([3])
  })

  it('sums only the kept values, so a huge outlier cannot swamp them', () => {
    const updates = rows([1e38], [0.1], [0.2], [0.3], [-1e38])
    expect(aggregate({kind: 'trimmed-mean', beta: 0.2}, updates, ones(5), 1).model[0]).toBe(f32((f32(0.1) + f32(0.2) + f32(0.3)) / 3))
  })

  it('counts ⌊β·n⌋ on the decimal value of β', () => {
    expect(trimCount(0.29, 100)).toBe(29)
    expect(trimCount(0.1, 30)).toBe(3)
    expect(trimCount(0.49, 3)).toBe(1)
    expect(trimCount(0, 100)).toBe(0)
  })
})

describe('Krum', () => {
  it('picks [0.7]×4 among four updates each of [0.2]×4, [0.7]×4 and [1.0]×4 (f = 1)', () => {
    // n = 12, k = n − f − 2 = 9 neighbours. A 0.7 has 3 twins, the four 1.0 at 0.3 and two 0.2 at 0.5:
    // 4·(4·0.09 + 2·0.25) = 3.44, against 4·(4·0.09 + 2·0.64) = 6.56 for a 1.0 and 4·(4·0.25 + 2·0.64) = 9.12 for a 0.2.
    const updates = [0.2, 0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.7, 1, 1, 1, 1].map((x) => filled(x))
    const {model, selected} = aggregate({kind: 'krum'}, updates, ones(12), 1)
    expect(selected).toEqual([4]) // equal scores: the lowest index
    expect(Array.from(model)).toEqual(Array.from(filled(0.7)))
    expect(model).not.toBe(updates[4]) // a copy, not the update itself
  })

  it('picks [0.7]×4 among [0.2]×4, [0.7]×4, [1.0]×4 and two honest points near 0.7 (n = 5, f = 1)', () => {
    // k = 2: 0.7 scores 4·(0.05² + 0.05²) = 0.02; 0.65 and 0.75 score 0.05; 1.0 scores 0.61; 0.2 scores 1.81.
    const updates = [0.2, 0.7, 1, 0.65, 0.75].map((x) => filled(x))
    const {model, selected} = aggregate({kind: 'krum'}, updates, ones(5), 1)
    expect(selected).toEqual([1])
    expect(Array.from(model)).toEqual(Array.from(filled(0.7)))
  })

  it('ignores the far outlier and an update holding NaN', () => {
    const updates = rows([0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5], [1e6, 1e6], [Number.NaN, 0])
    const {selected} = aggregate({kind: 'krum'}, updates, ones(7), 2)
    expect(selected).toEqual([4])
  })
})

describe('Multi-Krum', () => {
  it('averages, weighted by examples, the m best-scored updates', () => {
    const values = [0.2, 0.7, 1, 0.65, 0.75]
    const weights = [1, 2, 1, 1, 2]
    const {model, selected} = aggregate({kind: 'multi-krum', m: 3}, values.map((x) => filled(x)), weights, 1)
    expect(selected).toEqual([1, 3, 4])
    expect(model[0]).toBe(f32((2 * f32(0.7) + f32(0.65) + 2 * f32(0.75)) / 5))
  })

  it('is Krum for m = 1 and includes the next best as m grows', () => {
    const updates = [0.2, 0.7, 1, 0.65, 0.75].map((x) => filled(x))
    expect(aggregate({kind: 'multi-krum', m: 1}, updates, ones(5), 1).selected).toEqual([1])
    expect(aggregate({kind: 'multi-krum', m: 4}, updates, ones(5), 1).selected).toEqual([1, 2, 3, 4])
  })
})

describe('Bulyan', () => {
  it('selects n − 2f by iterated Krum, then averages the n − 4f values closest to the median (n = 7, f = 1)', () => {
    // Iterated Krum over 0 1 2 3 4 5 100 (θ = 5): 3 (score 10, nearer the rest than 2), then 2, 4, 1
    // and last 5 (k = 0: the smaller total distance). β = 3 values closest to the median 3 of
    // {1..5}: 2, 3, 4.
    const updates = rows([0], [1], [2], [3], [4], [5], [100])
    const {model, selected} = aggregate({kind: 'bulyan'}, updates, ones(7), 1)
    expect(selected).toEqual([1, 2, 3, 4, 5])
    expect(Array.from(model)).toEqual([3])
  })

  it('keeps honest coordinates and drops the far update', () => {
    const updates = rows([1, 10], [2, 11], [3, 12], [4, 13], [5, 14], [6, 15], [-1e4, 1e4])
    const {model, selected} = aggregate({kind: 'bulyan'}, updates, ones(7), 1)
    expect(selected).not.toContain(6)
    expect(selected).toHaveLength(5)
    expect(model[0]).toBeGreaterThanOrEqual(1)
    expect(model[0]).toBeLessThanOrEqual(6)
    expect(model[1]! - model[0]!).toBe(9)
  })
})

describe('nearest-neighbour mixing (nnm+<rule>)', () => {
  it('replaces each update by the mean of its n − f nearest, itself included', () => {
    // f = 1: 0 and 1 are each other's nearest; 9's nearest other is 1.
    expect(nearestNeighborMix(rows([0], [1], [9]), 1).map((u) => Array.from(u))).toEqual([[0.5], [0.5], [5]])
    // f = 0: every update becomes the mean of all.
    expect(nearestNeighborMix(rows([0, 3], [3, 0], [6, 6]), 0).map((u) => Array.from(u))).toEqual([
      [3, 3],
      [3, 3],
      [3, 3],
    ])
  })

  it('takes the median of the mixed updates: honest ones agree, so two Byzantine ones cannot drag it', () => {
    const updates = rows([1], [2], [3], [4], [-100], [-100])
    // Plain median: the two at −100 shift it to the 2nd/3rd smallest honest values, (1 + 2) / 2.
    expect(aggregate({kind: 'median'}, updates, ones(6), 2).model[0]).toBe(1.5)
    // Mixed: each honest update becomes (1 + 2 + 3 + 4) / 4; each −100 becomes (−200 + 1 + 2) / 4.
    expect(nearestNeighborMix(updates, 2).map((u) => u[0])).toEqual([2.5, 2.5, 2.5, 2.5, -49.25, -49.25])
    const {model, selected} = aggregate(parseAggregator('nnm+median'), updates, ones(6), 2)
    expect(model[0]).toBe(2.5)
    expect(selected).toEqual([0, 1, 2, 3, 4, 5])
    expect(aggregate(parseAggregator('nnm+trimmed-mean:0.34'), updates, ones(6), 2).model[0]).toBe(2.5)
  })

  it('breaks distance ties by index, so equal distances give one result', () => {
    // 0 is at distance 1 from both −1 and 1; with n − f = 2 it mixes with −1 (the lower index).
    expect(Array.from(nearestNeighborMix(rows([-1], [0], [1]), 1)[1]!)).toEqual([-0.5])
  })

  it('never mixes in an update holding NaN while n − f finite ones remain', () => {
    const mixed = nearestNeighborMix(rows([1, 1], [Number.NaN, 0], [3, 3]), 1)
    expect(Array.from(mixed[0]!)).toEqual([2, 2])
    expect(Array.from(mixed[2]!)).toEqual([2, 2])
    expect(aggregate(parseAggregator('nnm+median'), rows([1, 1], [Number.NaN, 0], [3, 3]), ones(3), 1).model).toEqual(Float32Array.of(2, 2))
  })

  it('feeds Krum, Multi-Krum and Bulyan the mixed updates', () => {
    const updates = [filled(0.2), filled(0.2), filled(0.7), filled(0.7), filled(1), filled(1), filled(50)]
    for (const text of ['nnm+krum', 'nnm+multi-krum:3', 'nnm+bulyan']) {
      const {model} = aggregate(parseAggregator(text), updates, ones(7), 1)
      // Every mixed honest update is a mean of six of the seven: within the honest range once 50 is out.
      expect(model[0], text).toBeGreaterThan(0.2)
      expect(model[0], text).toBeLessThan(1)
    }
  })
})

describe('the coordinate reductions', () => {
  it('median and trimmed mean of a range', () => {
    expect(median(Float64Array.of(9, 5, 1, 4, 2, 3), 1, 5)).toBe(3)
    expect(median(Float64Array.of(4, 1, 3, 2), 0, 4)).toBe(2.5)
    expect(trimmedMean(Float64Array.of(7, 1, 100, 2, 3), 0, 5, 1)).toBe(4)
  })

  it('the mean of the values closest to the median, lower first on a tie', () => {
    const scratch = new Float64Array(8)
    expect(closestToMedianMean(Float64Array.of(1, 2, 3, 4, 5), 0, 5, 3, scratch)).toBe(3)
    expect(closestToMedianMean(Float64Array.of(0, 10, 11, 12, 30), 0, 5, 3, scratch)).toBe(11)
    // median 10; 9, 10, 11 then 0 (10 away) before 30 (20 away)
    expect(closestToMedianMean(Float64Array.of(30, 9, 0, 11, 10), 0, 5, 4, scratch)).toBe(7.5)
    expect(closestToMedianMean(Float64Array.of(12, 10, 8), 0, 3, 2, scratch)).toBe(9)
    // even count: median 3; 2 and 4 are 1 away
    expect(closestToMedianMean(Float64Array.of(8, 4, 1, 2), 0, 4, 2, scratch)).toBe(3)
  })

  it('quickselect puts the k-th smallest in place with smaller values before it', () => {
    const rng = new Random(3)
    for (let trial = 0; trial < 200; trial++) {
      const size = 1 + rng.int(trial < 100 ? 40 : 400)
      const distinct = trial % 3 === 0 ? 1 + rng.int(3) : 1 + rng.int(1000)
      const a = Float64Array.from({length: size}, () => rng.int(distinct) - 10)
      const sorted = Array.from(a).sort((x, y) => x - y)
      const k = rng.int(size)
      expect(select(a, 0, size - 1, k)).toBe(sorted[k])
      for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(a[k]!)
      for (let i = k + 1; i < size; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k]!)
    }
  })
})

describe('pairwise squared distances', () => {
  it('match a direct sum, with the SIMD kernel and without, across blocks and odd lengths', () => {
    const rng = new Random(11)
    for (const [n, d] of [[2, 1], [5, 7], [9, 100_003], [13, 33]] as const) {
      const updates = Array.from({length: n}, () => Float32Array.from({length: d}, () => rng.normal()))
      const simd = pairwiseSquaredDistances(updates)
      const plain = pairwiseSquaredDistances(updates, {simd: false})
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let direct = 0
          for (let k = 0; k < d; k++) direct += (updates[i]![k]! - updates[j]![k]!) ** 2
          expect(simd[i * n + j]).toBeCloseTo(direct, 6)
          expect(plain[i * n + j]).toBeCloseTo(direct, 6)
        }
      }
    }
  })

  it('is +∞ to and from an update holding NaN or ∞', () => {
    const dist = pairwiseSquaredDistances(rows([0, 0], [3, 4], [Number.NaN, 0], [Number.POSITIVE_INFINITY, 0], [Number.POSITIVE_INFINITY, 0]))
    expect(dist[0 * 5 + 1]).toBe(25)
    expect(dist[0 * 5 + 2]).toBe(Number.POSITIVE_INFINITY)
    expect(dist[2 * 5 + 1]).toBe(Number.POSITIVE_INFINITY)
    expect(dist[3 * 5 + 4]).toBe(Number.POSITIVE_INFINITY)
    expect(dist[0]).toBe(0)
  })
})

describe('checkGuarantee', () => {
  const refusal = (spec: AggregatorSpec, n: number, f: number) => {
    const err = thrown(() => checkGuarantee(spec, n, f))
    expect(err.code).toBe('FL_AGGREGATOR_GUARANTEE')
    expect(err.exitCode).toBe(2)
    return {message: err.message, hint: err.hint}
  }

  it('Krum and Multi-Krum need n > 2f + 2', () => {
    expect(refusal({kind: 'krum'}, 3, 1)).toEqual({
      message: 'krum needs n > 2f + 2 updates; got n = 3 with f = 1 (needs n ≥ 5)',
      hint: 'Aggregate at least 5 updates at this level, or assume f ≤ 0 Byzantine updates for n = 3.',
    })
    expect(refusal({kind: 'multi-krum', m: 2}, 8, 3)).toEqual({
      message: 'multi-krum:2 needs n > 2f + 2 updates; got n = 8 with f = 3 (needs n ≥ 9)',
      hint: 'Aggregate at least 9 updates at this level, or assume f ≤ 2 Byzantine updates for n = 8.',
    })
    expect(refusal({kind: 'krum'}, 2, 0).hint).toBe('Aggregate at least 3 updates at this level.')
    expect(() => checkGuarantee({kind: 'krum'}, 5, 1)).not.toThrow()
  })

  it('Multi-Krum needs 1 ≤ m ≤ n − f', () => {
    expect(refusal({kind: 'multi-krum', m: 9}, 10, 2)).toEqual({
      message: 'multi-krum:9 averages m updates with 1 ≤ m ≤ n − f; got m = 9 with n = 10, f = 2 (n − f = 8)',
      hint: 'Use multi-krum:8 or a smaller m.',
    })
    expect(refusal({kind: 'multi-krum', m: 0}, 10, 2).message).toContain('got m = 0')
    expect(() => checkGuarantee({kind: 'multi-krum', m: 8}, 10, 2)).not.toThrow()
  })

  it('Bulyan needs n ≥ 4f + 3', () => {
    expect(refusal({kind: 'bulyan'}, 6, 1)).toEqual({
      message: 'bulyan needs n ≥ 4f + 3 updates; got n = 6 with f = 1 (needs n ≥ 7)',
      hint: 'Aggregate at least 7 updates at this level, or assume f ≤ 0 Byzantine updates for n = 6.',
    })
    expect(refusal({kind: 'bulyan'}, 42, 10).message).toBe('bulyan needs n ≥ 4f + 3 updates; got n = 42 with f = 10 (needs n ≥ 43)')
    expect(() => checkGuarantee({kind: 'bulyan'}, 7, 1)).not.toThrow()
  })

  it('the median needs n > 2f', () => {
    expect(refusal({kind: 'median'}, 4, 2)).toEqual({
      message: 'median needs n > 2f updates; got n = 4 with f = 2 (needs n ≥ 5)',
      hint: 'Aggregate at least 5 updates at this level, or assume f ≤ 1 Byzantine updates for n = 4.',
    })
    expect(() => checkGuarantee({kind: 'median'}, 5, 2)).not.toThrow()
  })

  it('the trimmed mean must trim at least f at each end', () => {
    expect(refusal({kind: 'trimmed-mean', beta: 0.1}, 10, 2)).toEqual({
      message:
        'trimmed-mean:0.1 trims ⌊0.1 · 10⌋ = 1 update from each end of every coordinate, fewer than the f = 2 Byzantine ones: it needs ⌊beta · n⌋ ≥ f',
      hint: 'To tolerate f = 2, use beta ≥ 0.2 (trimmed-mean:0.2) for n = 10, or assume f ≤ 1.',
    })
    expect(refusal({kind: 'trimmed-mean', beta: 0.4}, 6, 3)).toEqual({
      message:
        'trimmed-mean:0.4 trims ⌊0.4 · 6⌋ = 2 updates from each end of every coordinate, fewer than the f = 3 Byzantine ones: it needs ⌊beta · n⌋ ≥ f',
      hint: 'To tolerate f = 3, no beta < 0.5 trims 3 of 6 updates at each end; aggregate at least 7 updates, or assume f ≤ 2.',
    })
    expect(refusal({kind: 'trimmed-mean', beta: 0.5}, 10, 0)).toEqual({
      message: 'trimmed-mean needs 0 ≤ beta < 0.5; got beta = 0.5',
      hint: 'Use a beta such as trimmed-mean:0.2.',
    })
    expect(() => checkGuarantee({kind: 'trimmed-mean', beta: 0.2}, 10, 2)).not.toThrow()
    expect(() => checkGuarantee({kind: 'trimmed-mean', beta: 0.29}, 100, 29)).not.toThrow()
  })

  it('the trimmed mean the hint suggests is accepted', () => {
    for (let n = 3; n <= 60; n++) {
      for (let f = 1; 2 * f < n; f++) {
        const {hint} = refusal({kind: 'trimmed-mean', beta: 0}, n, f)
        const suggested = /\(trimmed-mean:([\d.e-]+)\)/.exec(hint ?? '')?.[1]
        expect(suggested, hint).toBeDefined()
        expect(() => checkGuarantee(parseAggregator(`trimmed-mean:${suggested}`), n, f)).not.toThrow()
      }
    }
    expect(refusal({kind: 'trimmed-mean', beta: 0.1}, 7, 2).hint).toBe('To tolerate f = 2, use beta ≥ 0.29 (trimmed-mean:0.29) for n = 7, or assume f ≤ 0.')
  })

  it('needs at least one update and a whole, non-negative f', () => {
    expect(refusal({kind: 'fedavg'}, 0, 0).message).toBe('fedavg needs at least one update; got n = 0')
    expect(refusal({kind: 'median'}, 5, -1).message).toBe('The assumed number of Byzantine updates must be a whole number ≥ 0, not -1')
    expect(refusal({kind: 'median'}, 5, 1.5).message).toContain('not 1.5')
  })

  it('nearest-neighbour mixing needs n > 2f, then whatever the rule after it needs', () => {
    expect(refusal(parseAggregator('nnm+fedavg'), 4, 2)).toEqual({
      message: 'nnm+fedavg needs n > 2f updates; got n = 4 with f = 2 (needs n ≥ 5)',
      hint: 'Aggregate at least 5 updates at this level, or assume f ≤ 1 Byzantine updates for n = 4.',
    })
    expect(refusal(parseAggregator('nnm+bulyan'), 6, 1).message).toBe('bulyan needs n ≥ 4f + 3 updates; got n = 6 with f = 1 (needs n ≥ 7)')
    expect(() => checkGuarantee(parseAggregator('nnm+median'), 5, 2)).not.toThrow()
    expect(() => checkGuarantee(parseAggregator('nnm+trimmed-mean:0.3'), 20, 6)).not.toThrow()
  })

  it('is applied by aggregate before any work', () => {
    const err = thrown(() => aggregate({kind: 'krum'}, [filled(0.2), filled(0.7), filled(1)], ones(3), 1))
    expect(err.code).toBe('FL_AGGREGATOR_GUARANTEE')
  })
})

describe('parseAggregator and formatAggregator', () => {
  it('round-trip every form', () => {
    const specs: AggregatorSpec[] = [
      {kind: 'fedavg'},
      {kind: 'median'},
      {kind: 'trimmed-mean', beta: 0.2},
      {kind: 'trimmed-mean', beta: 0},
      {kind: 'trimmed-mean', beta: 0.3333},
      {kind: 'krum'},
      {kind: 'multi-krum', m: 5},
      {kind: 'bulyan'},
      {kind: 'nnm', inner: {kind: 'median'}},
      {kind: 'nnm', inner: {kind: 'trimmed-mean', beta: 0.3}},
      {kind: 'nnm', inner: {kind: 'multi-krum', m: 4}},
    ]
    for (const spec of specs) expect(parseAggregator(formatAggregator(spec))).toEqual(spec)
    expect(formatAggregator(parseAggregator(' NNM+Trimmed-Mean:.3 '))).toBe('nnm+trimmed-mean:0.3')
    expect(['fedavg', 'median', 'trimmed-mean:0.2', 'krum', 'multi-krum:5', 'bulyan'].map((t) => formatAggregator(parseAggregator(t)))).toEqual([
      'fedavg',
      'median',
      'trimmed-mean:0.2',
      'krum',
      'multi-krum:5',
      'bulyan',
    ])
  })

  it('accepts surrounding spaces, any case and .2 for 0.2', () => {
    expect(parseAggregator(' Trimmed-Mean:.2 ')).toEqual({kind: 'trimmed-mean', beta: 0.2})
    expect(parseAggregator('KRUM')).toEqual({kind: 'krum'})
  })

  it('refuses bad text with the list of forms', () => {
    const cases: Array<[string, string]> = [
      ['foo', 'Unknown aggregator "foo"'],
      ['', 'Unknown aggregator ""'],
      ['krum:3', 'Unknown aggregator "krum:3"'],
      ['trimmed-mean', 'trimmed-mean takes one parameter, as in trimmed-mean:0.2'],
      ['multi-krum', 'multi-krum takes one parameter, as in multi-krum:5'],
      ['trimmed-mean:0.5', `trimmed-mean's beta must be a number with 0 ≤ beta < 0.5, not "0.5"`],
      ['trimmed-mean:-0.1', `trimmed-mean's beta must be a number with 0 ≤ beta < 0.5, not "-0.1"`],
      ['trimmed-mean:abc', `trimmed-mean's beta must be a number with 0 ≤ beta < 0.5, not "abc"`],
      ['trimmed-mean:0.2:1', 'trimmed-mean takes one parameter, as in trimmed-mean:0.2'],
      ['multi-krum:0', `multi-krum's m must be a whole number ≥ 1, not "0"`],
      ['multi-krum:2.5', `multi-krum's m must be a whole number ≥ 1, not "2.5"`],
      ['nnm+', 'nnm+ is followed by one aggregation rule, as in nnm+median'],
      ['nnm+nnm+median', 'nnm+ is followed by one aggregation rule, as in nnm+median'],
      ['nnm+foo', 'Unknown aggregator "nnm+foo"'],
      ['nnm', 'Unknown aggregator "nnm"'],
    ]
    for (const [text, message] of cases) {
      const err = thrown(() => parseAggregator(text))
      expect(err.code).toBe('FL_INVALID_AGGREGATOR')
      expect(err.exitCode).toBe(2)
      expect(err.message).toBe(message)
      expect(err.hint).toBe(
        'Use one of: fedavg, median, trimmed-mean:<beta> (0 ≤ beta < 0.5), krum, multi-krum:<m> (m ≥ 1), bulyan, each optionally after nearest-neighbour mixing: nnm+<rule>.',
      )
    }
  })
})

describe('aggregate input checks', () => {
  it('refuses updates of different lengths, wrong weights and a wrong output length', () => {
    const codes = [
      () => aggregate({kind: 'fedavg'}, [filled(1, 3), filled(1, 4)], [1, 1], 0),
      () => aggregate({kind: 'fedavg'}, [filled(1), filled(1)], [1], 0),
      () => aggregate({kind: 'fedavg'}, [filled(1), filled(1)], [1, 0], 0),
      () => aggregate({kind: 'median'}, [filled(1), filled(1)], [1, Number.NaN], 0),
      () => aggregate({kind: 'fedavg'}, [filled(1), filled(1)], [1, 1], 0, new Float32Array(3)),
    ].map((fn) => thrown(fn).code)
    expect(codes).toEqual(Array.from({length: 5}, () => 'FL_AGGREGATE_INPUT'))
    expect(thrown(() => aggregate({kind: 'fedavg'}, [filled(1, 3), filled(1, 4)], [1, 1], 0)).message).toBe(
      'Update 1 has 4 parameters where update 0 has 3',
    )
  })

  it('leaves the updates untouched', () => {
    const updates = rows([3, 1], [1, 2], [2, 3], [9, 9], [0, 0])
    const copy = updates.map((u) => Float32Array.from(u))
    for (const spec of ['median', 'trimmed-mean:0.2', 'krum', 'multi-krum:2', 'fedavg', 'nnm+median'].map(parseAggregator)) aggregate(spec, updates, ones(5), 1)
    expect(updates).toEqual(copy)
  })
})
