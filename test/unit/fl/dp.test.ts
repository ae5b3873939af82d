import {describe, expect, it} from 'vitest'

import {addGaussianNoise, clipUpdate, l2Norm} from '../../../src/fl/dp.js'
import {Random} from '../../../src/fl/random.js'
import {thrown} from '../../helpers/errors.js'

function gaussian(d: number, seed: number, std = 1): Float32Array {
  const rng = new Random(seed)
  const out = new Float32Array(d)
  for (let i = 0; i < d; i++) out[i] = std * rng.normal()
  return out
}


describe('clipUpdate', () => {
  it('scales an update above the clip to norm clip, in place, and returns the scale', () => {
    const update = Float32Array.from([3, 4])
    const scale = clipUpdate(update, 1)
    expect(scale).toBeCloseTo(0.2, 6)
    expect(update[0]).toBeCloseTo(0.6, 6)
    expect(update[1]).toBeCloseTo(0.8, 6)
    expect(l2Norm(update)).toBeCloseTo(1, 6)
  })

  it('leaves an update at or below the clip alone and returns 1', () => {
    const atClip = Float32Array.from([0.375, -0.5])
    expect(clipUpdate(atClip, 0.625)).toBe(1)
    expect([...atClip]).toEqual([0.375, -0.5])
    const below = Float32Array.from([0.25, 0.5])
    expect(clipUpdate(below, 1)).toBe(1)
    expect([...below]).toEqual([0.25, 0.5])
    const zeros = new Float32Array(10)
    expect(clipUpdate(zeros, 1)).toBe(1)
    expect(zeros).toEqual(new Float32Array(10))
  })

  it('never leaves a norm above the clip, whatever the size or the magnitude', () => {
    for (const [d, std, clip] of [
      [1, 10, 1],
      [100, 1, 0.1],
      [10_000, 1, 3],
      [100_000, 1e-3, 1e-4],
      [1000, 1e30, 1e-30],
    ] as const) {
      const update = gaussian(d, d + clip, std)
      const before = l2Norm(update)
      const direction = Float32Array.from(update)
      const scale = clipUpdate(update, clip)
      expect(scale).toBeLessThan(1)
      expect(scale / (clip / before)).toBeCloseTo(1, 6)
      const after = l2Norm(update)
      expect(after).toBeLessThanOrEqual(clip)
      expect(after).toBeGreaterThan(clip * (1 - 1e-6))
      // The direction is unchanged.
      for (let i = 0; i < d; i += Math.ceil(d / 50)) expect(Math.abs(update[i]! - direction[i]! * scale)).toBeLessThanOrEqual(Math.abs(direction[i]! * scale) * 1e-7)
    }
  })

  it('computes the norm in float64 (no float32 overflow for large values)', () => {
    const update = new Float32Array(4).fill(3e38)
    const scale = clipUpdate(update, 1)
    expect(scale * 6e38).toBeCloseTo(1, 5)
    expect(l2Norm(update)).toBeCloseTo(1, 6)
  })

  it('refuses a clip that is not a positive number, and an update with a non-finite value', () => {
    for (const clip of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const err = thrown(() => clipUpdate(new Float32Array(2), clip), 'FL_INVALID_CLIP')
      expect(err.exitCode).toBe(2)
      expect(err.hint).toMatch(/--clip/)
    }
    thrown(() => clipUpdate(Float32Array.from([1, Number.NaN]), 1), 'FL_NON_FINITE_UPDATE')
    thrown(() => clipUpdate(Float32Array.from([Number.NEGATIVE_INFINITY]), 1), 'FL_NON_FINITE_UPDATE')
  })
})

describe('addGaussianNoise', () => {
  it('adds zero-mean noise of the given standard deviation to every coordinate', () => {
    const d = 200_000
    const std = 0.7
    const base = gaussian(d, 1, 0.1)
    const sum = Float32Array.from(base)
    addGaussianNoise(sum, std, new Random(2))
    let mean = 0
    let m2 = 0
    let m4 = 0
    let unchanged = 0
    for (let i = 0; i < d; i++) {
      const noise = sum[i]! - base[i]!
      if (noise === 0) unchanged++
      mean += noise
      m2 += noise * noise
      m4 += noise ** 4
    }
    mean /= d
    const variance = m2 / d - mean * mean
    // Standard errors: std/√d for the mean, std²·√(2/d) for the variance.
    expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(d))
    expect(Math.abs(variance - std * std)).toBeLessThan(5 * std * std * Math.sqrt(2 / d))
    // Gaussian tails: kurtosis 3 (a uniform would give 1.8).
    expect(m4 / d / (variance * variance)).toBeCloseTo(3, 1)
    expect(unchanged).toBeLessThan(5)
  })

  it('draws each coordinate independently: neighbours are uncorrelated', () => {
    const d = 100_000
    const sum = new Float32Array(d)
    addGaussianNoise(sum, 1, new Random(3))
    let product = 0
    for (let i = 1; i < d; i++) product += sum[i]! * sum[i - 1]!
    expect(Math.abs(product / (d - 1))).toBeLessThan(5 / Math.sqrt(d))
  })

  it('is reproducible for a seed; std 0 changes nothing', () => {
    const a = new Float32Array(100)
    const b = new Float32Array(100)
    addGaussianNoise(a, 2, new Random(4))
    addGaussianNoise(b, 2, new Random(4))
    expect(a).toEqual(b)
    const rng = new Random(5)
    const zero = Float32Array.from([1, 2, 3])
    addGaussianNoise(zero, 0, rng)
    expect([...zero]).toEqual([1, 2, 3])
    expect(rng.nextUint32()).toBe(new Random(5).nextUint32())
  })

  it('refuses a negative or non-finite standard deviation', () => {
    for (const std of [-1, Number.NaN, Number.POSITIVE_INFINITY]) thrown(() => addGaussianNoise(new Float32Array(1), std, new Random(0)), 'FL_INVALID_NOISE')
  })
})
