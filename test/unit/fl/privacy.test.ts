import {describe, expect, it} from 'vitest'

import {XaiError} from '../../../src/util/errors.js'
import {
  DEFAULT_RDP_ORDERS,
  FL_INVALID_PRIVACY_PARAMS,
  RdpAccountant,
  computeRdp,
  epsilon,
  erfc,
  logErfc,
  rdpToEpsilon,
} from '../../../src/fl/privacy.js'

/** The orders TensorFlow Privacy's compute_dp_sgd_privacy searches (compute_dp_sgd_privacy_lib.py). */
const TF_DP_SGD_ORDERS = [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...range(5, 64), 128, 256, 512]

function range(from: number, to: number): number[] {
  return Array.from({length: to - from}, (_, i) => from + i)
}

function expectClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance)
}

function expectInvalid(run: () => unknown, message: RegExp): void {
  let caught: unknown
  try {
    run()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(XaiError)
  expect((caught as XaiError).code).toBe(FL_INVALID_PRIVACY_PARAMS)
  expect((caught as XaiError).exitCode).toBe(2)
  expect((caught as XaiError).hint).toBeTruthy()
  expect((caught as XaiError).message).toMatch(message)
}

describe('DEFAULT_RDP_ORDERS', () => {
  it("are Opacus's alphas: 1.1 … 10.9 by tenths, then 12 … 63", () => {
    expect(DEFAULT_RDP_ORDERS).toHaveLength(99 + 52)
    expect(DEFAULT_RDP_ORDERS.slice(0, 3)).toEqual([1.1, 1.2, 1.3])
    expect(DEFAULT_RDP_ORDERS[98]).toBe(10.9)
    expect(DEFAULT_RDP_ORDERS.slice(99, 101)).toEqual([12, 13])
    expect(DEFAULT_RDP_ORDERS.at(-1)).toBe(63)
    expect(Object.isFrozen(DEFAULT_RDP_ORDERS)).toBe(true)
  })
})

describe('published vectors', () => {
  // pytorch/opacus, opacus/tests/accountants_test.py (test_rdp_accountant):
  // σ = 1.5, q = 0.04, steps = int(90 / 0.04), δ = 1e-5 → ε = 7.32911117143.
  it('Opacus: σ = 1.5, q = 0.04, 2250 steps, δ = 1e-5 → ε = 7.32911117143', () => {
    const spent = epsilon({noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250, delta: 1e-5})
    expectClose(spent.epsilon, 7.32911117143, 1e-7)
    expect(DEFAULT_RDP_ORDERS).toContain(spent.order)
  })

  it('Opacus: the same through RdpAccountant, one step at a time', () => {
    const accountant = new RdpAccountant()
    for (let i = 0; i < 2250; i++) accountant.step(1.5, 0.04)
    expect(accountant.toJSON()).toEqual({history: [[1.5, 0.04, 2250]]})
    expectClose(accountant.epsilon(1e-5).epsilon, 7.32911117143, 1e-7)
  })

  // pytorch/opacus, opacus/accountants/analysis/rdp.py (module docstring example, doctest to 3 places):
  // parameters [(q 1e-5, σ 1.0, 10 steps), (q 1e-4, σ 3.0, 4 steps)], orders 2..32, δ = 1e-5 → (0.336, 23).
  it('Opacus: a heterogeneous composition over orders 2..32 → (0.336, 23)', () => {
    const accountant = new RdpAccountant()
    accountant.step(1.0, 1e-5, 10)
    accountant.step(3.0, 1e-4, 4)
    const spent = accountant.epsilon(1e-5, range(2, 33))
    expectClose(spent.epsilon, 0.336, 5e-4)
    expect(spent.order).toBe(23)
  })

  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (test_compute_rdp_no_sampling):
  // q = 1 is the Gaussian mechanism, RDP = α / (2σ²): compute_rdp(1, 10, 1, 20) == 0.1.
  it('TF Privacy: q = 1 (no subsampling) is the closed form α / (2σ²)', () => {
    expect(computeRdp(1, 10, 1, [20])).toEqual([0.1])
    // google/differential-privacy, dp_accounting/rdp/rdp_privacy_accountant_test.py (test_compute_rdp_gaussian):
    // a fractional order, α = 3.14159, σ = 2.71828 → α / (2σ²).
    expectClose(computeRdp(1, 2.71828, 1, [3.14159])[0]!, 3.14159 / (2 * 2.71828 ** 2), 1e-15)
    const orders = [1.5, 2, 7.25, 32]
    expect(computeRdp(1, 1.3, 40, orders)).toEqual(orders.map((alpha) => (40 * alpha) / (2 * 1.3 ** 2)))
  })

  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (test_compute_rdp_scalar):
  // compute_rdp(0.1, 2, 10, 5) ≈ 0.07737 (5 places).
  it('TF Privacy: q = 0.1, σ = 2, 10 steps at order 5 → 0.07737', () => {
    expectClose(computeRdp(0.1, 2, 10, [5])[0]!, 0.07737, 5e-6)
  })

  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (test_compute_rdp_sequence):
  // compute_rdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100, inf]) within 1e-5 — fractional orders 1.5 and 2.5.
  it('TF Privacy: q = 0.01, σ = 2.5, 50 steps at fractional and integer orders', () => {
    const rdp = computeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100, Number.POSITIVE_INFINITY])
    const expected = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307]
    for (const [i, value] of expected.entries()) expectClose(rdp[i]!, value, 1e-5)
    expect(rdp[5]).toBe(Number.POSITIVE_INFINITY)
  })

  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (test_get_privacy_spent_check_target_delta):
  // a constant RDP of 1.1 over orders 2..32 (pure DP) at δ = 1e-5 → ε = 1.32783806176 at the largest order, 32.
  it('TF Privacy: constant RDP 1.1 over orders 2..32 → ε = 1.32783806176 at order 32', () => {
    const orders = range(2, 33)
    const spent = rdpToEpsilon(orders, orders.map(() => 1.1), 1e-5)
    expectClose(spent.epsilon, 1.32783806176, 1e-10)
    expect(spent.order).toBe(32)
  })

  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (test_get_privacy_spent_check_target_delta):
  // the Gaussian mechanism (q = 1) with σ = 4.530877117 over orders 0.001·i, i = 1000..99999, is (1, 1e-6)-DP (7 places).
  it('TF Privacy: σ = 4.530877117 without subsampling is (1, 1e-6)-DP over a fine grid of orders', () => {
    const orders = Array.from({length: 99_000}, (_, i) => 0.001 * (i + 1000))
    const spent = rdpToEpsilon(orders, computeRdp(1, 4.530877117, 1, orders), 1e-6)
    expectClose(spent.epsilon, 1, 5e-8)
  })

  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py at commit
  // 943ef91ee932207f22e3840753e0d5b1dd07d503 (test_compute_dp_sgd_privacy): (n, batch, σ, epochs, δ) → (ε, order),
  // with q = batch / n and steps = ceil(epochs · n / batch), to 7 places.
  it.each([
    {n: 60_000, batch: 150, sigma: 1.3, epochs: 15, delta: 1e-5, eps: 0.7242234026109595, order: 19},
    {n: 100_000, batch: 100, sigma: 1.0, epochs: 30, delta: 1e-7, eps: 1.4154988495444845, order: 13},
    {n: 100_000_000, batch: 1024, sigma: 0.1, epochs: 10, delta: 1e-7, eps: 5907982.31138195, order: 1.25},
  ])('TF Privacy compute_dp_sgd_privacy: n = $n, batch $batch, σ = $sigma, $epochs epochs, δ = $delta → ε = $eps at order $order', ({n, batch, sigma, epochs, delta, eps, order}) => {
    const spent = epsilon({noiseMultiplier: sigma, sampleRate: batch / n, steps: Math.ceil((epochs * n) / batch), delta, orders: TF_DP_SGD_ORDERS})
    expectClose(spent.epsilon, eps, 5e-8)
    expect(spent.order).toBe(order)
  })
})

describe('computeRdp', () => {
  it('is zero without sampling (q = 0) and grows linearly with the steps', () => {
    expect(computeRdp(0, 1, 100, [2, 3.5, 64])).toEqual([0, 0, 0])
    const one = computeRdp(0.04, 1.5, 1, DEFAULT_RDP_ORDERS)
    const many = computeRdp(0.04, 1.5, 300, DEFAULT_RDP_ORDERS)
    for (const [i, value] of one.entries()) expectClose(many[i]!, 300 * value, 1e-12 * many[i]!)
    expect(computeRdp(0.04, 1.5, 0, [2, 3.5])).toEqual([0, 0])
  })

  it('is bounded by the Gaussian mechanism without subsampling at every order', () => {
    const orders = [1.1, 1.5, 2, 2.5, 4, 10.5, 32, 63]
    const subsampled = computeRdp(0.3, 1.2, 1, orders)
    const full = computeRdp(1, 1.2, 1, orders)
    for (const [i, value] of subsampled.entries()) {
      expect(value).toBeGreaterThan(0)
      expect(value).toBeLessThan(full[i]!)
    }
  })

  it('is continuous across integer and fractional orders', () => {
    const [below, at, above] = computeRdp(0.04, 1.5, 1, [4 - 1e-9, 4, 4 + 1e-9])
    expectClose(below!, at!, 1e-9 * at!)
    expectClose(above!, at!, 1e-9 * at!)
  })
})

describe('rdpToEpsilon', () => {
  it('ignores orders whose ε is NaN', () => {
    expect(rdpToEpsilon([2, 3], [Number.NaN, 1], 1e-5).order).toBe(3)
  })

  it('gives ε = Infinity and no order when no order bounds the loss (all NaN), as Opacus', () => {
    const spent = rdpToEpsilon([1, Number.POSITIVE_INFINITY], [0.5, Number.POSITIVE_INFINITY], 1e-5)
    expect(spent.epsilon).toBe(Number.POSITIVE_INFINITY)
    expect(spent.order).toBeNaN()
  })

  it('takes the first of equal minima', () => {
    expect(rdpToEpsilon([2, 2], [0.5, 0.5], 1e-5).order).toBe(2)
  })
})

describe('epsilon', () => {
  const base = {noiseMultiplier: 1.1, sampleRate: 0.05, steps: 500, delta: 1e-5}

  it('grows with the steps', () => {
    const values = [1, 10, 100, 1000, 10_000].map((steps) => epsilon({...base, steps}).epsilon)
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!)
  })

  it('grows with the sampling rate', () => {
    const values = [0.001, 0.01, 0.05, 0.2, 0.6, 1].map((sampleRate) => epsilon({...base, sampleRate}).epsilon)
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!)
  })

  it('falls with the noise multiplier', () => {
    const values = [0.5, 0.8, 1.1, 2, 5, 20].map((noiseMultiplier) => epsilon({...base, noiseMultiplier}).epsilon)
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]!)
  })

  it('falls as δ grows', () => {
    expect(epsilon({...base, delta: 1e-3}).epsilon).toBeLessThan(epsilon({...base, delta: 1e-7}).epsilon)
  })
})

describe('RdpAccountant', () => {
  it('composes by summing RDP: split steps equal computeRdp with the summed steps', () => {
    const accountant = new RdpAccountant()
    accountant.step(1.1, 0.25, 40)
    for (let i = 0; i < 25; i++) accountant.step(1.1, 0.25)
    accountant.step(1.1, 0.25, 35)
    expect(accountant.history).toEqual([[1.1, 0.25, 100]])
    expect(accountant.rdp()).toEqual(computeRdp(0.25, 1.1, 100, DEFAULT_RDP_ORDERS))
    expect(accountant.epsilon(1e-5)).toEqual(epsilon({noiseMultiplier: 1.1, sampleRate: 0.25, steps: 100, delta: 1e-5}))
  })

  it('keeps a stretch per change of σ or q and adds their RDP', () => {
    const accountant = new RdpAccountant()
    accountant.step(1.1, 0.25, 30)
    accountant.step(1.5, 0.25, 10)
    accountant.step(1.5, 0.1, 5)
    accountant.step(1.1, 0.25, 2)
    expect(accountant.toJSON()).toEqual({history: [[1.1, 0.25, 30], [1.5, 0.25, 10], [1.5, 0.1, 5], [1.1, 0.25, 2]]})
    const orders = [1.5, 2, 8, 32]
    const parts = [computeRdp(0.25, 1.1, 30, orders), computeRdp(0.25, 1.5, 10, orders), computeRdp(0.1, 1.5, 5, orders), computeRdp(0.25, 1.1, 2, orders)]
    const rdp = accountant.rdp(orders)
    for (const [i, value] of rdp.entries()) expectClose(value, parts.reduce((sum, part) => sum + part[i]!, 0), 1e-15 * value)
    expect(accountant.epsilon(1e-5, orders)).toEqual(rdpToEpsilon(orders, rdp, 1e-5))
  })

  it('has spent nothing before the first step, as Opacus ({epsilon: 0, order: 0})', () => {
    const accountant = new RdpAccountant()
    accountant.step(1.1, 0.25, 0)
    expect(accountant.history).toEqual([])
    expect(accountant.epsilon(1e-5)).toEqual({epsilon: 0, order: 0})
  })

  it('survives a JSON round trip', () => {
    const accountant = new RdpAccountant()
    accountant.step(1.1, 0.25, 30)
    accountant.step(0.9, 0.05, 7)
    const restored = RdpAccountant.fromJSON(JSON.parse(JSON.stringify(accountant)))
    expect(restored.toJSON()).toEqual(accountant.toJSON())
    expect(restored.epsilon(1e-5)).toEqual(accountant.epsilon(1e-5))
    restored.step(0.9, 0.05)
    expect(restored.toJSON().history.at(-1)).toEqual([0.9, 0.05, 8])
    expect(accountant.toJSON().history.at(-1)).toEqual([0.9, 0.05, 7])
  })

  it('refuses a malformed state', () => {
    for (const state of [null, 42, {}, {history: 'x'}, {history: [[1, 0.5]]}, {history: [[1, 0.5, '3']]}]) {
      expectInvalid(() => RdpAccountant.fromJSON(state), /accountant/)
    }
    expectInvalid(() => RdpAccountant.fromJSON({history: [[1, 1.5, 3]]}), /sampling rate/)
    expectInvalid(() => RdpAccountant.fromJSON({history: [[0, 0.5, 3]]}), /noise multiplier/)
    expectInvalid(() => RdpAccountant.fromJSON({history: [[1, 0.5, 2.5]]}), /steps/)
  })
})

describe('invalid parameters', () => {
  const ok = {noiseMultiplier: 1.1, sampleRate: 0.05, steps: 10, delta: 1e-5}

  it('refuses a sampling rate outside [0, 1]', () => {
    for (const sampleRate of [-0.1, 1.01, Number.NaN]) expectInvalid(() => epsilon({...ok, sampleRate}), /sampling rate/)
    expectInvalid(() => new RdpAccountant().step(1, 2), /sampling rate/)
  })

  it('refuses a noise multiplier that is not positive and finite', () => {
    for (const noiseMultiplier of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expectInvalid(() => epsilon({...ok, noiseMultiplier}), /noise multiplier/)
  })

  it('refuses steps that are negative or fractional', () => {
    for (const steps of [-1, 2.5, Number.NaN]) expectInvalid(() => epsilon({...ok, steps}), /steps/)
    expectInvalid(() => new RdpAccountant().step(1, 0.5, -2), /steps/)
  })

  it('refuses δ outside (0, 1)', () => {
    for (const delta of [0, 1, -1e-5, 2, Number.NaN]) expectInvalid(() => epsilon({...ok, delta}), /δ/)
    expectInvalid(() => new RdpAccountant().epsilon(0), /δ/)
  })

  it('refuses empty orders, orders below 1 and RDP values that do not match the orders', () => {
    expectInvalid(() => computeRdp(0.1, 1, 1, []), /no RDP orders/)
    expectInvalid(() => computeRdp(0.1, 1, 1, [0.5, 2]), /orders must be ≥ 1/)
    expectInvalid(() => rdpToEpsilon([2, 3], [0.1], 1e-5), /RDP values \(1\) do not match the orders \(2\)/)
  })
})

describe('erfc', () => {
  it('is 1 at 0, 2 far left and 0 far right', () => {
    expect(erfc(0)).toBe(1)
    expect(erfc(-40)).toBe(2)
    expect(erfc(40)).toBe(0)
    expect(erfc(Number.NaN)).toBeNaN()
  })

  it('is symmetric: erfc(-x) = 2 - erfc(x)', () => {
    for (const x of [0.1, 0.7, 1.3, 1.5, 2.2, 3.1, 4.5]) expectClose(erfc(-x) + erfc(x), 2, 4e-16)
  })

  it('is continuous where the series hands over to the continued fraction', () => {
    const x = 1.5 - 1e-9
    const h = 1.5 - x
    const at = erfc(1.5)
    // erfc'(x) = -2/√π e^(-x²): over a step h the values differ by the slope times h, up to O(h²).
    expectClose(erfc(x) - at, ((h * 2) / Math.sqrt(Math.PI)) * Math.exp(-2.25), 1e-14 * at)
  })

  it('has log(erfc) equal to the asymptotic series far in the tail, where erfc underflows', () => {
    // erfc(x) = e^(-x²) / (x√π) · (1 - 1/(2x²) + 3/(4x⁴) - 15/(8x⁶) + …), the error below the first omitted term.
    for (const x of [30, 100, 1000]) {
      const series = 1 - 1 / (2 * x ** 2) + 3 / (4 * x ** 4) - 15 / (8 * x ** 6)
      const expected = -x * x - Math.log(x * Math.sqrt(Math.PI)) + Math.log(series)
      expectClose(logErfc(x), expected, 1e-12 * Math.abs(expected))
    }
    expect(erfc(30)).toBe(0)
  })

  it('has log(erfc(x)) = log of erfc(x) where erfc is representable', () => {
    for (const x of [-3, -0.5, 0, 0.5, 1.5, 2, 5, 20]) expectClose(logErfc(x), Math.log(erfc(x)), 1e-13 * Math.max(1, Math.abs(Math.log(erfc(x)))))
  })
})
