import {getAddress} from 'viem'
import {describe, expect, it} from 'vitest'

import {mevRedistribution, mevRedistributionWorkload, redistributedShare} from '../../../../src/modules/builtin/mev-redistribution.js'
import {createTestHarness, replayDeterminism} from '../../../../src/modules/test-kit.js'

const COINBASE = getAddress('0x00000000000000000000000000000000000000c0')
const ALICE = getAddress('0x00000000000000000000000000000000000a11ce')
const BOB = getAddress('0x0000000000000000000000000000000000000b0b')
const CAROL = getAddress('0x00000000000000000000000000000000000ca201')

/** A harness whose coinbase already holds `tips` (the chain credits priority fees as transactions run). */
function block(tips: bigint, params: Record<string, unknown> = {}) {
  return createTestHarness(mevRedistribution, {system: true, coinbase: COINBASE, params, balances: {[COINBASE]: tips}})
}

describe('mev-redistribution module', () => {
  it('shares 50 % by default and coerces JSON parameters', () => {
    expect(mevRedistribution.params.parse({})).toEqual({shareBps: 5000n})
    expect(mevRedistribution.params.parse({shareBps: '2000'})).toEqual({shareBps: 2000n})
    expect(mevRedistribution.params.safeParse({shareBps: 10_001}).success).toBe(false)
  })

  it("pays each sender its share of its own priority fees out of the coinbase's, pro rata", () => {
    // Alice pays 3000 wei of tips in two transactions, Bob 1000: 3:1. With 50 %, 1500 and 500 go back.
    const harness = block(4000n)
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 1000n})
    harness.runTx({from: BOB, to: ALICE}, {priorityFee: 1000n})
    harness.runTx({from: ALICE, to: CAROL}, {priorityFee: 2000n})
    const events = harness.endBlock()
    expect(events.map((event) => [event.name, event.args])).toEqual([
      ['Redistributed', {height: 1n, to: ALICE, amount: 1500n}],
      ['Redistributed', {height: 1n, to: BOB, amount: 500n}],
    ])
    expect(events[0]!.topics[1]).toBe(`0x${'1'.padStart(64, '0')}`)
    expect(harness.balanceOf(ALICE)).toBe(1500n)
    expect(harness.balanceOf(BOB)).toBe(500n)
    expect(harness.balanceOf(COINBASE)).toBe(2000n)
    expect(harness.call('redistributedTotal').result).toBe(2000n)
  })

  it('rounds each payment down; the remainder stays with the coinbase', () => {
    const harness = block(10n, {shareBps: 3333})
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 7n})
    harness.runTx({from: BOB, to: ALICE}, {priorityFee: 3n})
    // floor(7 × 3333 / 10000) = 2, floor(3 × 3333 / 10000) = 0 (skipped).
    expect(harness.endBlock().map((event) => event.args)).toEqual([{height: 1n, to: ALICE, amount: 2n}])
    expect(harness.balanceOf(COINBASE)).toBe(8n)
    expect(redistributedShare(3n, 3333n)).toBe(0n)
  })

  it('skips the coinbase as a sender and transactions without priority fees', () => {
    const harness = block(3000n)
    harness.runTx({from: COINBASE, to: ALICE}, {priorityFee: 2000n})
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 0n})
    harness.runTx({from: BOB, to: ALICE}, {priorityFee: 1000n})
    expect(harness.endBlock().map((event) => event.args)).toEqual([{height: 1n, to: BOB, amount: 500n}])
    expect(harness.balanceOf(COINBASE)).toBe(2500n)
    expect(harness.balanceOf(ALICE)).toBe(0n)
  })

  it('starts every block afresh and clears its records', () => {
    const harness = block(10_000n)
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 1000n})
    harness.endBlock()
    expect(harness.storageSnapshot()).toHaveLength(1) // only the running total
    harness.advance()
    expect(harness.endBlock()).toEqual([])
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 200n})
    expect(harness.endBlock().map((event) => event.args)).toEqual([{height: 2n, to: ALICE, amount: 100n}])
    expect(harness.balanceOf(ALICE)).toBe(600n)
    expect(harness.call('redistributedTotal').result).toBe(600n)
  })

  it('pays no more than the coinbase holds', () => {
    const harness = block(700n)
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 1000n})
    harness.runTx({from: BOB, to: ALICE}, {priorityFee: 1000n})
    expect(harness.endBlock().map((event) => event.args)).toEqual([
      {height: 1n, to: ALICE, amount: 500n},
      {height: 1n, to: BOB, amount: 200n},
    ])
    expect(harness.balanceOf(COINBASE)).toBe(0n)
  })

  it('does nothing without system operations', () => {
    const harness = createTestHarness(mevRedistribution, {coinbase: COINBASE, balances: {[COINBASE]: 4000n}})
    harness.runTx({from: ALICE, to: BOB}, {priorityFee: 1000n})
    expect(harness.endBlock()).toEqual([])
    expect(harness.storageSnapshot()).toEqual([])
    expect(harness.balanceOf(COINBASE)).toBe(4000n)
  })

  it('rejects calls carrying value', () => {
    expect(block(0n).validate({name: 'redistributedTotal', value: 1n})).toEqual({ok: false, reason: 'mev-redistribution: redistributedTotal() takes no value'})
  })

  it('replays its random workload identically', () => {
    const report = replayDeterminism(mevRedistribution, mevRedistributionWorkload, 3)
    expect(report.steps).toBe(mevRedistributionWorkload.steps)
  })
})
