import {getAddress} from 'viem'
import {describe, expect, it} from 'vitest'

import {treasury, treasuryShare, treasuryWorkload} from '../../../../src/modules/builtin/treasury.js'
import {moduleAddress} from '../../../../src/modules/module.js'
import {ModuleCallError, createTestHarness, replayDeterminism} from '../../../../src/modules/test-kit.js'

const GOVERNANCE = moduleAddress('governance')
const TREASURY = moduleAddress('treasury')
const ALICE = getAddress('0x00000000000000000000000000000000000a11ce')
const BOB = getAddress('0x0000000000000000000000000000000000000b0b')

describe('treasury module', () => {
  it('takes 10 % by default and coerces JSON parameters', () => {
    expect(treasury.params.parse({})).toEqual({baseFeeShareBps: 1000n})
    expect(treasury.params.parse({baseFeeShareBps: '2500'})).toEqual({baseFeeShareBps: 2500n})
    expect(treasury.params.parse({baseFeeShareBps: 10_000})).toEqual({baseFeeShareBps: 10_000n})
    expect(treasury.params.safeParse({baseFeeShareBps: 10_001}).success).toBe(false)
    expect(treasury.params.safeParse({baseFeeShareBps: -1}).success).toBe(false)
  })

  it("mints its share of the block's base fees at the end of the block, rounded down", () => {
    const harness = createTestHarness(treasury, {system: true})
    harness.runTx({from: ALICE, to: BOB}, {baseFee: 12_345n})
    harness.runTx({from: BOB, to: ALICE}, {baseFee: 10_000n, success: false})
    const events = harness.endBlock()
    // floor((12 345 + 10 000) × 1000 / 10 000) = 2234; the failed transaction burnt its base fee too.
    expect(events.map((event) => [event.name, event.args])).toEqual([['FeesReceived', {height: 1n, amount: 2234n}]])
    expect(harness.balanceOf(TREASURY)).toBe(2234n)
    expect(harness.call('balance').result).toBe(2234n)
    expect(harness.call('totalReceived').result).toBe(2234n)

    // The pending sum was cleared: an empty block mints nothing.
    harness.advance()
    expect(harness.endBlock()).toEqual([])
    expect(harness.balanceOf(TREASURY)).toBe(2234n)

    harness.runTx({from: ALICE, to: BOB}, {baseFee: 10n})
    expect(harness.endBlock().map((event) => event.args)).toEqual([{height: 2n, amount: 1n}])
    expect(harness.call('totalReceived').result).toBe(2235n)
    expect(treasuryShare(9n, 1000n)).toBe(0n)
  })

  it('mints nothing when the share is 0, the amount rounds to 0 or the chain grants no system operations', () => {
    const none = createTestHarness(treasury, {system: true, params: {baseFeeShareBps: 0}})
    none.runTx({from: ALICE, to: BOB}, {baseFee: 1_000_000n})
    expect(none.endBlock()).toEqual([])
    expect(none.balanceOf(TREASURY)).toBe(0n)

    const dust = createTestHarness(treasury, {system: true})
    dust.runTx({from: ALICE, to: BOB}, {baseFee: 9n})
    expect(dust.endBlock()).toEqual([])
    expect(dust.storageSnapshot()).toEqual([])

    const userLevel = createTestHarness(treasury)
    userLevel.runTx({from: ALICE, to: BOB}, {baseFee: 1_000_000n})
    expect(userLevel.endBlock()).toEqual([])
    expect(userLevel.balanceOf(TREASURY)).toBe(0n)
    expect(userLevel.storageSnapshot()).toEqual([])
  })

  it('spends only for governance, once per proposal, within its balance', () => {
    const harness = createTestHarness(treasury, {balances: {[TREASURY]: 1000n}})
    expect(() => harness.call('spend', [BOB, 100n, 1n], {sender: ALICE})).toThrow(/treasury: spend is governance only/)
    expect(harness.balanceOf(BOB)).toBe(0n)

    const out = harness.call('spend', [BOB, 300n, 1n], {sender: GOVERNANCE})
    expect(out.events.map((event) => [event.name, event.args])).toEqual([['Spent', {to: BOB, amount: 300n, proposalId: 1n}]])
    expect(out.events[0]!.topics[1]).toBe(`0x${'b0b'.padStart(64, '0')}`)
    expect(harness.balanceOf(BOB)).toBe(300n)
    expect(harness.balanceOf(TREASURY)).toBe(700n)
    expect(harness.call('totalSpent').result).toBe(300n)

    expect(() => harness.call('spend', [BOB, 300n, 1n], {sender: GOVERNANCE})).toThrow('treasury: proposal 1 has already been paid')
    expect(() => harness.call('spend', [BOB, 701n, 2n], {sender: GOVERNANCE})).toThrow('treasury: holds 700 wei, 701 asked by proposal 2')
    expect(harness.balanceOf(TREASURY)).toBe(700n)
    expect(harness.call('spend', [ALICE, 700n, 2n], {sender: GOVERNANCE}).events).toHaveLength(1)
    expect(harness.balanceOf(TREASURY)).toBe(0n)
    expect(harness.call('totalSpent').result).toBe(1000n)
  })

  it('spends what it received from fees', () => {
    const harness = createTestHarness(treasury, {system: true, params: {baseFeeShareBps: 5000}})
    harness.runTx({from: ALICE, to: BOB}, {baseFee: 2000n})
    harness.endBlock()
    harness.advance()
    harness.call('spend', [BOB, 1000n, 7n], {sender: GOVERNANCE})
    expect(harness.balanceOf(BOB)).toBe(1000n)
    expect(harness.call('balance').result).toBe(0n)
  })

  it('rejects calls carrying value', () => {
    const harness = createTestHarness(treasury)
    expect(harness.validate({name: 'balance', value: 1n})).toEqual({ok: false, reason: 'treasury: balance() takes no value'})
    expect(() => harness.call('spend', [BOB, 0n, 1n], {sender: GOVERNANCE, value: 1n})).toThrow(ModuleCallError)
  })

  it('replays its random workload identically', () => {
    const report = replayDeterminism(treasury, treasuryWorkload, 3)
    expect(report.steps).toBe(treasuryWorkload.steps)
    expect(report.events).toBeGreaterThan(0)
  })
})
