import {describe, expect, it} from 'vitest'

import type {ValidatorAddress, ValidatorInfo} from '../../../src/consensus/types.js'
import {InvalidValidatorSetError, ValidatorSet} from '../../../src/consensus/validator-set.js'

/** The address made of one repeated hex digit, e.g. addr(1) = 0x1111…1111. */
const addr = (digit: number): ValidatorAddress => `0x${digit.toString(16).repeat(40)}`

/** n validators of power 1 with addresses 0x00…01, 0x00…02, … */
const equal = (n: number): ValidatorInfo[] =>
  Array.from({length: n}, (_, i) => ({address: `0x${(i + 1).toString(16).padStart(40, '0')}` as ValidatorAddress, power: 1}))

/** How many slots of one cycle (from height 0, round 0) each validator proposes. */
function slots(set: ValidatorSet, length: number): Map<ValidatorAddress, number> {
  const counts = new Map<ValidatorAddress, number>()
  for (let h = 0; h < length; h++) {
    const p = set.proposer(h, 0)
    counts.set(p, (counts.get(p) ?? 0) + 1)
  }
  return counts
}

describe('ValidatorSet', () => {
  it('sorts validators by address and sums their power', () => {
    const set = new ValidatorSet([
      {address: addr(3), power: 5},
      {address: addr(1), power: 2},
      {address: addr(2), power: 3},
    ])
    expect(set.validators.map((v) => v.address)).toEqual([addr(1), addr(2), addr(3)])
    expect(set.totalPower).toBe(10)
    expect(set.size).toBe(3)
    expect(set.has(addr(2))).toBe(true)
    expect(set.has(addr(9))).toBe(false)
    expect(set.power(addr(3))).toBe(5)
    expect(set.power(addr(9))).toBe(0)
  })

  it.each([
    [1, 1, 1],
    [3, 3, 2],
    [4, 3, 2],
    [5, 4, 2],
    [6, 5, 3],
    [7, 5, 3],
    [10, 7, 4],
    [100, 67, 34],
  ])('with %i equal validators the quorum is %i and f+1 is %i', (n, quorum, skip) => {
    const set = new ValidatorSet(equal(n))
    expect(set.quorum).toBe(quorum)
    expect(set.skipThreshold).toBe(skip)
  })

  it('counts quorums by power, strictly above 2/3 and 1/3 of the total', () => {
    // Total 6: 2/3 is exactly 4, so a quorum needs 5; 1/3 is exactly 2, so f+1 is 3.
    const set = new ValidatorSet([
      {address: addr(1), power: 3},
      {address: addr(2), power: 2},
      {address: addr(3), power: 1},
    ])
    expect(set.quorum).toBe(5)
    expect(set.skipThreshold).toBe(3)
    // Total 100 with one heavy validator.
    const heavy = new ValidatorSet([
      {address: addr(1), power: 70},
      {address: addr(2), power: 20},
      {address: addr(3), power: 10},
    ])
    expect(heavy.quorum).toBe(67)
    expect(heavy.skipThreshold).toBe(34)
  })

  it('computes the quorum exactly near the safe integer limit', () => {
    const big = Math.floor(Number.MAX_SAFE_INTEGER / 3)
    const set = new ValidatorSet([
      {address: addr(1), power: big},
      {address: addr(2), power: big},
      {address: addr(3), power: big},
    ])
    const total = 3n * BigInt(big)
    expect(BigInt(set.quorum)).toBe((2n * total) / 3n + 1n)
    expect(BigInt(set.skipThreshold)).toBe(total / 3n + 1n)
  })

  it('rotates plainly over sorted addresses with equal powers', () => {
    const set = new ValidatorSet([4, 2, 3, 1].map((d) => ({address: addr(d), power: 1})))
    expect([0, 1, 2, 3, 4, 5].map((h) => set.proposer(h, 0))).toEqual([addr(1), addr(2), addr(3), addr(4), addr(1), addr(2)])
    // Rounds advance the rotation like heights do.
    expect(set.proposer(1, 0)).toBe(addr(2))
    expect(set.proposer(1, 1)).toBe(addr(3))
    expect(set.proposer(1, 3)).toBe(addr(1))
  })

  it('gives a validator with half the power half the slots of every cycle, spread out', () => {
    const set = new ValidatorSet([
      {address: addr(1), power: 1},
      {address: addr(2), power: 2},
      {address: addr(3), power: 1},
    ])
    for (let start = 0; start < 12; start += 4) {
      const cycle = [0, 1, 2, 3].map((i) => set.proposer(start + i, 0))
      expect(cycle.filter((a) => a === addr(2))).toHaveLength(2)
      expect(cycle.filter((a) => a === addr(1))).toHaveLength(1)
      expect(cycle.filter((a) => a === addr(3))).toHaveLength(1)
      // Smooth: the heavy validator never proposes twice in a row within the cycle.
      expect(cycle.some((a, i) => i > 0 && a === addr(2) && cycle[i - 1] === addr(2))).toBe(false)
    }
  })

  it('proposes in proportion to power over one cycle of total / gcd slots', () => {
    const set = new ValidatorSet([
      {address: addr(1), power: 30},
      {address: addr(2), power: 20},
      {address: addr(3), power: 10},
    ])
    // gcd 10: the cycle has 6 slots, 3 + 2 + 1.
    const counts = slots(set, 6)
    expect(counts.get(addr(1))).toBe(3)
    expect(counts.get(addr(2))).toBe(2)
    expect(counts.get(addr(3))).toBe(1)
    expect([0, 1, 2, 3, 4, 5].map((h) => set.proposer(h, 0))).toEqual([0, 1, 2, 3, 4, 5].map((h) => set.proposer(h + 6, 0)))
  })

  it('scales huge powers down for the schedule only, keeping every validator in it', () => {
    const set = new ValidatorSet([
      {address: addr(1), power: 1_000_000_007},
      {address: addr(2), power: 1},
      {address: addr(3), power: 2_000_000_014},
    ])
    expect(set.totalPower).toBe(3_000_000_022)
    // The scaled cycle is about 100,000 slots: 33,333 + 1 + 66,666.
    const counts = slots(set, 100_000)
    expect(counts.get(addr(2))).toBe(1)
    expect(counts.get(addr(1))).toBe(33_333)
    expect(counts.get(addr(3))).toBe(66_666)
  })

  it('is deterministic: the same list in any order gives the same schedule', () => {
    const list = [
      {address: addr(5), power: 3},
      {address: addr(1), power: 7},
      {address: addr(9), power: 2},
      {address: addr(3), power: 5},
    ]
    const a = new ValidatorSet(list)
    const b = new ValidatorSet([...list].reverse())
    for (let h = 0; h < 40; h++) {
      for (let r = 0; r < 3; r++) expect(a.proposer(h, r)).toBe(b.proposer(h, r))
    }
  })

  it('rejects empty sets, bad powers, bad addresses and duplicates', () => {
    expect(() => new ValidatorSet([])).toThrow(InvalidValidatorSetError)
    expect(() => new ValidatorSet([])).toThrow(/empty/)
    expect(() => new ValidatorSet([{address: addr(1), power: 0}])).toThrow(/positive/)
    expect(() => new ValidatorSet([{address: addr(1), power: -1}])).toThrow(/positive/)
    expect(() => new ValidatorSet([{address: addr(1), power: 1.5}])).toThrow(/positive/)
    expect(() => new ValidatorSet([{address: addr(1), power: Number.NaN}])).toThrow(/positive/)
    expect(() => new ValidatorSet([{address: `0x${'A'.repeat(40)}`, power: 1}])).toThrow(/lowercase/)
    expect(() => new ValidatorSet([{address: '0x1234', power: 1}])).toThrow(/20-byte/)
    expect(() => new ValidatorSet([{address: addr(1), power: 1}, {address: addr(1), power: 2}])).toThrow(/twice/)
    expect(() => new ValidatorSet([])).toThrow(expect.objectContaining({code: 'CONSENSUS_INVALID_VALIDATOR_SET', exitCode: 2}))
  })

  it('rejects negative or fractional heights and rounds', () => {
    const set = new ValidatorSet(equal(4))
    expect(() => set.proposer(-1, 0)).toThrow(RangeError)
    expect(() => set.proposer(0, 0.5)).toThrow(RangeError)
  })
})
