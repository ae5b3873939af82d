/**
 * Properties of the RDP accountant over random parameters: ε grows with the steps and the sampling
 * rate and falls with the noise multiplier; composition is the sum of RDP; erfc is a decreasing
 * function with erfc(-x) = 2 - erfc(x).
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the cases; fast-check prints the seed and
 * the shrunk counterexample on failure, so `FC_SEED=<seed> npx vitest run <this file>` replays it.
 * FC_RUNS sets the number of runs.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {RdpAccountant, computeRdp, epsilon, erfc, logErfc, rdpToEpsilon} from '../../src/fl/privacy.js'

const seed = Number(process.env.FC_SEED ?? 0xd9)
const runs = Number(process.env.FC_RUNS ?? 100)

const sigma = fc.double({min: 0.5, max: 20, noNaN: true})
const rate = fc.double({min: 1e-4, max: 0.9, noNaN: true})
const steps = fc.integer({min: 1, max: 5_000})
const delta = fc.constantFrom(1e-3, 1e-5, 1e-7, 1e-9)
/** How much larger the second of a pair is. */
const factor = fc.double({min: 1.01, max: 3, noNaN: true})

describe('epsilon (property)', () => {
  it('grows with the number of steps', () => {
    fc.assert(
      fc.property(sigma, rate, steps, fc.integer({min: 1, max: 5_000}), delta, (noiseMultiplier, sampleRate, n, more, d) => {
        const fewer = epsilon({noiseMultiplier, sampleRate, steps: n, delta: d}).epsilon
        expect(epsilon({noiseMultiplier, sampleRate, steps: n + more, delta: d}).epsilon).toBeGreaterThan(fewer)
      }),
      {seed, numRuns: runs},
    )
  })

  it('grows with the sampling rate', () => {
    fc.assert(
      fc.property(sigma, rate, factor, steps, delta, (noiseMultiplier, q, k, n, d) => {
        const lower = epsilon({noiseMultiplier, sampleRate: q, steps: n, delta: d}).epsilon
        expect(epsilon({noiseMultiplier, sampleRate: Math.min(1, q * k), steps: n, delta: d}).epsilon).toBeGreaterThan(lower)
      }),
      {seed, numRuns: runs},
    )
  })

  it('falls as the noise multiplier grows', () => {
    fc.assert(
      fc.property(sigma, factor, rate, steps, delta, (s, k, sampleRate, n, d) => {
        const noisier = epsilon({noiseMultiplier: s * k, sampleRate, steps: n, delta: d}).epsilon
        expect(noisier).toBeLessThan(epsilon({noiseMultiplier: s, sampleRate, steps: n, delta: d}).epsilon)
      }),
      {seed, numRuns: runs},
    )
  })
})

describe('RdpAccountant (property)', () => {
  /** Integer and fractional orders, few enough to keep the runs fast. */
  const orders = [1.5, 2, 3.7, 8, 21.5, 32]
  const stretch = fc.tuple(fc.constantFrom(0.7, 1.1, 2.5), fc.constantFrom(0.01, 0.1, 0.5), fc.integer({min: 0, max: 300}))

  it('composes as the sum of the RDP of its stretches, whatever their order and split', () => {
    fc.assert(
      fc.property(fc.array(stretch, {minLength: 1, maxLength: 8}), (stretches) => {
        const accountant = new RdpAccountant()
        for (const [s, q, n] of stretches) accountant.step(s, q, n)
        const expected = orders.map(() => 0)
        for (const [s, q, n] of stretches) {
          const rdp = computeRdp(q, s, n, orders)
          for (let i = 0; i < expected.length; i++) expected[i]! += rdp[i]!
        }
        const rdp = accountant.rdp(orders)
        for (const [i, value] of rdp.entries()) expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, expected[i]!))
        const total = stretches.reduce((sum, [, , n]) => sum + n, 0)
        if (total > 0) {
          const spent = accountant.epsilon(1e-5, orders)
          const direct = rdpToEpsilon(orders, expected, 1e-5)
          expect(Math.abs(spent.epsilon - direct.epsilon)).toBeLessThanOrEqual(1e-10 * Math.max(1, direct.epsilon))
        }
        expect(RdpAccountant.fromJSON(JSON.parse(JSON.stringify(accountant))).toJSON()).toEqual(accountant.toJSON())
      }),
      {seed, numRuns: runs},
    )
  })
})

describe('erfc (property)', () => {
  const x = fc.double({min: -30, max: 30, noNaN: true})

  it('lies in [0, 2] and satisfies erfc(-x) = 2 - erfc(x)', () => {
    fc.assert(
      fc.property(x, (v) => {
        const value = erfc(v)
        expect(value).toBeGreaterThanOrEqual(0)
        expect(value).toBeLessThanOrEqual(2)
        expect(Math.abs(erfc(-v) + value - 2)).toBeLessThanOrEqual(1e-15)
      }),
      {seed, numRuns: runs * 10},
    )
  })

  it('decreases, and so does log(erfc) into the far tail', () => {
    fc.assert(
      fc.property(fc.double({min: -30, max: 1e4, noNaN: true}), fc.double({min: 1e-6, max: 5, noNaN: true}), (v, step) => {
        expect(erfc(v + step)).toBeLessThanOrEqual(erfc(v))
        expect(logErfc(v + step)).toBeLessThan(logErfc(v) + 1e-15)
      }),
      {seed, numRuns: runs * 10},
    )
  })
})
