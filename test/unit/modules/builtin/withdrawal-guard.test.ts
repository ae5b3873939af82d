import {type Address, getAddress, zeroAddress} from 'viem'
import {describe, expect, it} from 'vitest'

import {QueueStatus, withdrawalGuard, withdrawalGuardWorkload} from '../../../../src/modules/builtin/withdrawal-guard.js'
import {encodeModuleCall, moduleAddress} from '../../../../src/modules/module.js'
import {type TestHarness, createTestHarness, replayDeterminism} from '../../../../src/modules/test-kit.js'

const GUARD = getAddress(moduleAddress('withdrawal-guard'))
const GOVERNANCE = moduleAddress('governance')
const ALICE = getAddress('0x00000000000000000000000000000000000a11ce')
const BOB = getAddress('0x0000000000000000000000000000000000000b0b')
const CAROL = getAddress('0x00000000000000000000000000000000000ca201')
const ETHER = 10n ** 18n

function guard(params: Record<string, unknown> = {}, balances: Record<Address, bigint> = {[ALICE]: 10_000n, [BOB]: 10_000n}): TestHarness {
  return createTestHarness(withdrawalGuard, {params, balances})
}

/** queue(to) as the chain runs it: checkTx, the value moved to the guard, afterTx, then the call. */
function queueTx(harness: TestHarness, from: Address, to: Address, value: bigint): bigint {
  const {verdict} = harness.runTx({from, to: GUARD, value, data: encodeModuleCall(withdrawalGuard, 'queue', [to])})
  if (!verdict.ok) throw new Error(verdict.reason)
  return harness.call('queue', [to], {sender: from, value}).result as bigint
}

describe('withdrawal-guard module: parameters', () => {
  it('has defaults and coerces JSON values', () => {
    expect(withdrawalGuard.params.parse({})).toEqual({windowBlocks: 100n, limit: 1000n * ETHER, largeTransfer: 0n, largeTransferAction: 'delay', delayBlocks: 10n, exempt: []})
    const parsed = withdrawalGuard.params.parse({windowBlocks: '10', limit: 500, largeTransferAction: 'reject', exempt: [ALICE]}) as {exempt: string[]; windowBlocks: bigint}
    expect(parsed.windowBlocks).toBe(10n)
    expect(parsed.exempt).toEqual([ALICE.toLowerCase()])
    expect(withdrawalGuard.params.safeParse({windowBlocks: 0}).success).toBe(false)
    expect(withdrawalGuard.params.safeParse({largeTransferAction: 'hold'}).success).toBe(false)
    expect(withdrawalGuard.params.safeParse({exempt: ['0x1234']}).success).toBe(false)
  })
})

describe('withdrawal-guard module: outflow limit', () => {
  it('refuses a transaction that would take the window over the limit, naming the next window', () => {
    const harness = guard({limit: 100, windowBlocks: 10})
    expect(harness.runTx({from: ALICE, to: BOB, value: 60n}).verdict).toEqual({ok: true})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 50n})).toEqual({
      ok: false,
      reason: 'withdrawal guard: outflow limit 100 wei per 10 blocks; 60 used in this window, 50 asked; next window starts at block 10',
    })
    // Exactly up to the limit is fine.
    expect(harness.runTx({from: ALICE, to: BOB, value: 40n}).verdict).toEqual({ok: true})
    expect(harness.call('outflow', [ALICE]).result).toEqual([100n, 10n])
    expect(harness.checkTx({from: ALICE, to: BOB, value: 1n})).toMatchObject({ok: false})
    // Other accounts have their own outflow; value-less transactions are never limited.
    expect(harness.checkTx({from: BOB, to: ALICE, value: 100n})).toEqual({ok: true})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 0n})).toEqual({ok: true})
    expect(harness.balanceOf(BOB)).toBe(10_100n)
  })

  it('starts every fixed window from zero', () => {
    const harness = guard({limit: 100, windowBlocks: 10})
    harness.advance({blocks: 8n})
    harness.runTx({from: ALICE, to: BOB, value: 100n})
    harness.advance()
    expect(harness.height).toBe(10n)
    expect(harness.call('outflow', [ALICE]).result).toEqual([0n, 20n])
    expect(harness.runTx({from: ALICE, to: BOB, value: 100n}).verdict).toEqual({ok: true})
    harness.advance({blocks: 9n})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 1n})).toMatchObject({ok: false, reason: expect.stringContaining('next window starts at block 20')})
    harness.advance()
    expect(harness.checkTx({from: ALICE, to: BOB, value: 100n})).toEqual({ok: true})
  })

  it('counts successful transactions only, and not exempt or module senders', () => {
    const harness = guard({limit: 100, exempt: [BOB.toLowerCase()]}, {[ALICE]: 1000n, [BOB]: 1000n, [GOVERNANCE]: 1000n})
    harness.runTx({from: ALICE, to: BOB, value: 90n}, {success: false})
    expect(harness.call('outflow', [ALICE]).result).toEqual([0n, 100n])
    expect(harness.runTx({from: BOB, to: ALICE, value: 500n}).verdict).toEqual({ok: true})
    expect(harness.call('outflow', [BOB]).result).toEqual([0n, 100n])
    expect(harness.runTx({from: GOVERNANCE, to: ALICE, value: 500n}).verdict).toEqual({ok: true})
    expect(harness.storageSnapshot()).toEqual([])
  })

  it('does nothing with limit 0', () => {
    const harness = guard({limit: 0})
    expect(harness.runTx({from: ALICE, to: BOB, value: 10_000n}).verdict).toEqual({ok: true})
    expect(harness.events).toEqual([])
  })

  it('emits OutflowNearLimit once per window, when the outflow first reaches 80 %', () => {
    const harness = guard({limit: 100, windowBlocks: 10})
    expect(harness.runTx({from: ALICE, to: BOB, value: 79n}).events).toEqual([])
    const near = harness.runTx({from: ALICE, to: BOB, value: 1n}).events
    expect(near.map((event) => [event.name, event.args])).toEqual([['OutflowNearLimit', {account: ALICE, used: 80n, limit: 100n}]])
    expect(near[0]!.topics[1]).toBe(`0x${ALICE.slice(2).toLowerCase().padStart(64, '0')}`)
    expect(harness.runTx({from: ALICE, to: BOB, value: 10n}).events).toEqual([])
    harness.advance({blocks: 10n})
    expect(harness.runTx({from: ALICE, to: BOB, value: 95n}).events.map((event) => event.args)).toEqual([{account: ALICE, used: 95n, limit: 100n}])
  })
})

describe('withdrawal-guard module: large transfers', () => {
  it("rejects a large transfer by policy with action 'reject', queue calls included", () => {
    const harness = guard({largeTransfer: 1000, largeTransferAction: 'reject'})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 999n})).toEqual({ok: true})
    const reason = 'withdrawal guard: 1000 wei is at or above the large-transfer limit 1000; rejected by policy'
    expect(harness.checkTx({from: ALICE, to: BOB, value: 1000n})).toEqual({ok: false, reason})
    expect(harness.checkTx({from: ALICE, to: GUARD, value: 1000n})).toEqual({ok: false, reason})
  })

  it("points a large transfer to queue(address) with action 'delay', and lets the queue call through", () => {
    const harness = guard({largeTransfer: 1000, delayBlocks: 5})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 5000n})).toEqual({
      ok: false,
      reason: `withdrawal guard: 5000 wei is at or above the large-transfer limit 1000; send it through queue(address) of the withdrawal guard at ${moduleAddress('withdrawal-guard')}, which releases it after 5 blocks`,
    })
    expect(harness.checkTx({from: ALICE, to: GUARD, value: 5000n})).toEqual({ok: true})
  })

  it('keeps queue calls under the window limit', () => {
    const harness = guard({largeTransfer: 1000, limit: 4000})
    expect(harness.checkTx({from: ALICE, to: GUARD, value: 5000n})).toMatchObject({ok: false, reason: expect.stringContaining('outflow limit 4000 wei')})
  })
})

describe('withdrawal-guard module: delay queue', () => {
  it('holds queued wei until releaseAt, then anyone may release it to the recipient', () => {
    const harness = guard({largeTransfer: 1000, delayBlocks: 5})
    const id = queueTx(harness, ALICE, CAROL, 3000n)
    expect(id).toBe(1n)
    expect(harness.balanceOf(ALICE)).toBe(7000n)
    expect(harness.balanceOf(GUARD)).toBe(3000n)
    expect(harness.call('outflow', [ALICE]).result).toEqual([3000n, 100n])
    expect(harness.events.at(-1)).toMatchObject({name: 'TransferQueued', args: {id: 1n, from: ALICE, to: CAROL, amount: 3000n, releaseAt: 6n}})
    expect(harness.events.at(-1)!.topics).toHaveLength(4)
    expect(harness.call('queued', [1n]).result).toEqual([ALICE, CAROL, 3000n, 6n, QueueStatus.queued])

    harness.advance({blocks: 4n})
    expect(harness.validate({name: 'release', args: [1n], sender: BOB})).toEqual({ok: false, reason: 'withdrawal guard: transfer 1 is released from block 6; this is block 5'})
    expect(() => harness.call('release', [1n], {sender: BOB})).toThrow(/released from block 6/)
    harness.advance()
    const out = harness.call('release', [1n], {sender: BOB})
    expect(out.events.map((event) => [event.name, event.args])).toEqual([['TransferReleased', {id: 1n}]])
    expect(harness.balanceOf(CAROL)).toBe(3000n)
    expect(harness.balanceOf(GUARD)).toBe(0n)
    expect(harness.call('queued', [1n]).result).toEqual([ALICE, CAROL, 3000n, 6n, QueueStatus.released])
    expect(() => harness.call('release', [1n], {sender: BOB})).toThrow('withdrawal guard: transfer 1 was released')
    expect(() => harness.call('cancel', [1n], {sender: ALICE})).toThrow('withdrawal guard: transfer 1 was released')
  })

  it('lets only the account that queued a transfer cancel it, before release, with a refund', () => {
    const harness = guard({delayBlocks: 5})
    queueTx(harness, ALICE, CAROL, 400n)
    const second = queueTx(harness, BOB, CAROL, 250n)
    expect(second).toBe(2n)
    expect(harness.balanceOf(GUARD)).toBe(650n)
    expect(harness.validate({name: 'cancel', args: [1n], sender: BOB})).toEqual({ok: false, reason: `withdrawal guard: only ${ALICE}, who queued transfer 1, may cancel it`})
    expect(() => harness.call('cancel', [1n], {sender: BOB})).toThrow(/only .* may cancel it/)

    harness.advance({blocks: 7n})
    const out = harness.call('cancel', [1n], {sender: ALICE})
    expect(out.events.map((event) => [event.name, event.args])).toEqual([['TransferCanceled', {id: 1n}]])
    expect(harness.balanceOf(ALICE)).toBe(10_000n)
    expect(harness.balanceOf(GUARD)).toBe(250n)
    expect(harness.call('queued', [1n]).result).toEqual([ALICE, CAROL, 400n, 6n, QueueStatus.canceled])
    expect(() => harness.call('release', [1n], {sender: CAROL})).toThrow('withdrawal guard: transfer 1 was canceled')
    expect(() => harness.call('cancel', [1n], {sender: ALICE})).toThrow('withdrawal guard: transfer 1 was canceled')

    harness.call('release', [2n], {sender: CAROL})
    expect(harness.balanceOf(CAROL)).toBe(250n)
    expect(harness.balanceOf(GUARD)).toBe(0n)
  })

  it('refuses empty queue calls, value on other calls and unknown ids', () => {
    const harness = guard()
    expect(harness.validate({name: 'queue', args: [BOB], sender: ALICE})).toEqual({ok: false, reason: 'withdrawal guard: queue(address) holds the wei sent with it; send more than 0'})
    expect(harness.validate({name: 'queue', args: [zeroAddress], sender: ALICE, value: 1n})).toMatchObject({ok: false})
    expect(harness.validate({name: 'release', args: [1n], value: 1n})).toEqual({ok: false, reason: 'withdrawal guard: release() takes no value'})
    expect(harness.validate({name: 'release', args: [9n]})).toEqual({ok: false, reason: 'withdrawal guard: transfer 9 does not exist'})
    expect(harness.call('queued', [9n]).result).toEqual([zeroAddress, zeroAddress, 0n, 0n, QueueStatus.none])
  })

  it('replays its random workload identically', () => {
    const report = replayDeterminism(withdrawalGuard, withdrawalGuardWorkload, 3)
    expect(report.steps).toBe(withdrawalGuardWorkload.steps)
    expect(report.events).toBeGreaterThan(0)
  })
})
