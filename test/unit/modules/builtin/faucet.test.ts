import {getAddress} from 'viem'
import {describe, expect, it} from 'vitest'

import {faucet, faucetWorkload} from '../../../../src/modules/builtin/faucet.js'
import {moduleAddress} from '../../../../src/modules/module.js'
import {createTestHarness, replayDeterminism} from '../../../../src/modules/test-kit.js'

const FAUCET = moduleAddress('faucet')
const ALICE = getAddress('0x00000000000000000000000000000000000a11ce')
const BOB = getAddress('0x0000000000000000000000000000000000000b0b')
const ETHER = 10n ** 18n

function funded(params: Record<string, unknown> = {}, balance = 10_000n * ETHER) {
  return createTestHarness(faucet, {params, balances: {[FAUCET]: balance}})
}

describe('faucet module', () => {
  it('pays 100 ether with a 100-block cooldown by default', () => {
    expect(faucet.params.parse({})).toEqual({amount: 100n * ETHER, cooldownBlocks: 100n})
    expect(faucet.params.parse({amount: '5000000000000000000', cooldownBlocks: 3})).toEqual({amount: 5n * ETHER, cooldownBlocks: 3n})
    expect(faucet.params.safeParse({amount: 0}).success).toBe(false)
    expect(faucet.params.safeParse({cooldownBlocks: -1}).success).toBe(false)
  })

  it('claim pays the sender, records the claim and emits Claimed', () => {
    const harness = funded()
    expect(harness.call('nextClaimAt', [ALICE]).result).toBe(0n)
    const out = harness.call('claim', [], {sender: ALICE})
    expect(out.result).toBe(100n * ETHER)
    expect(out.events.map((event) => [event.name, event.args])).toEqual([['Claimed', {to: ALICE, amount: 100n * ETHER, nextClaimAt: 101n}]])
    expect(harness.balanceOf(ALICE)).toBe(100n * ETHER)
    expect(harness.balanceOf(FAUCET)).toBe(9_900n * ETHER)
    expect(harness.call('nextClaimAt', [ALICE]).result).toBe(101n)
    expect(harness.call('nextClaimAt', [BOB]).result).toBe(0n)
  })

  it('refuses a claim within the cooldown, naming the block of the next claim, and allows it exactly then', () => {
    const harness = funded({cooldownBlocks: 10})
    harness.call('claim', [], {sender: ALICE})
    harness.advance({blocks: 9n})
    expect(harness.height).toBe(10n)
    const early = harness.validate({name: 'claim', sender: ALICE})
    expect(early).toEqual({ok: false, reason: `faucet: ${ALICE} is in its cooldown; the next claim is possible at block 11 (now 10)`})
    expect(() => harness.call('claim', [], {sender: ALICE})).toThrow(/next claim is possible at block 11/)
    harness.advance()
    expect(harness.validate({name: 'claim', sender: ALICE})).toEqual({ok: true})
    expect(harness.call('claim', [], {sender: ALICE}).events[0]!.args).toEqual({to: ALICE, amount: 100n * ETHER, nextClaimAt: 21n})
    expect(harness.balanceOf(ALICE)).toBe(200n * ETHER)
  })

  it('applies the cooldown of the recipient, whoever sends the claim', () => {
    const harness = funded()
    harness.call('claimFor', [BOB], {sender: ALICE})
    expect(harness.balanceOf(BOB)).toBe(100n * ETHER)
    expect(harness.balanceOf(ALICE)).toBe(0n)
    expect(harness.validate({name: 'claim', sender: BOB})).toMatchObject({ok: false, reason: expect.stringContaining('block 101')})
    expect(harness.validate({name: 'claimFor', args: [BOB], sender: ALICE})).toMatchObject({ok: false})
    // Alice's own cooldown is untouched.
    expect(harness.call('claim', [], {sender: ALICE}).result).toBe(100n * ETHER)
  })

  it('with a zero cooldown, allows another claim in the same block', () => {
    const harness = funded({cooldownBlocks: 0})
    harness.call('claim', [], {sender: ALICE})
    harness.call('claim', [], {sender: ALICE})
    expect(harness.balanceOf(ALICE)).toBe(200n * ETHER)
  })

  it('refuses a claim it cannot pay', () => {
    const harness = funded({amount: 1000}, 1500n)
    harness.call('claim', [], {sender: ALICE})
    expect(harness.validate({name: 'claim', sender: BOB})).toEqual({ok: false, reason: 'faucet is empty: holds 500 wei, pays 1000'})
    expect(() => harness.call('claimFor', [BOB], {sender: ALICE})).toThrow('faucet is empty: holds 500 wei, pays 1000')
    expect(harness.balanceOf(BOB)).toBe(0n)
  })

  it('checks the cooldown and the balance again in the call, for two claims in one block', () => {
    // Both transactions pass validateTx against the state before the block; the second one runs after the first.
    const unvalidated = {...faucet, validateTx: undefined}
    const harness = createTestHarness(unvalidated, {params: {amount: 1000}, balances: {[FAUCET]: 1500n}})
    expect(harness.validate({name: 'claim', sender: ALICE})).toEqual({ok: true})
    harness.call('claim', [], {sender: ALICE})
    expect(() => harness.call('claim', [], {sender: ALICE})).toThrow(`faucet: ${ALICE} is in its cooldown; the next claim is possible at block 101 (now 1)`)
    expect(() => harness.call('claim', [], {sender: BOB})).toThrow('faucet is empty: holds 500 wei, pays 1000')
    expect(harness.balanceOf(ALICE)).toBe(1000n)
    expect(harness.call('nextClaimAt', [BOB]).result).toBe(0n)
  })

  it('rejects claims carrying value', () => {
    const harness = funded()
    expect(harness.validate({name: 'claim', sender: ALICE, value: 1n})).toEqual({ok: false, reason: 'faucet: claim() takes no value'})
    expect(harness.validate({name: 'claimFor', args: [BOB], value: 1n})).toEqual({ok: false, reason: 'faucet: claimFor() takes no value'})
    expect(() => harness.call('claim', [], {sender: ALICE, value: 1n})).toThrow(/takes no value/)
    expect(harness.balanceOf(ALICE)).toBe(0n)
  })

  it('replays its random workload identically', () => {
    const report = replayDeterminism(faucet, faucetWorkload, 3)
    expect(report.steps).toBe(faucetWorkload.steps)
    expect(report.events).toBeGreaterThan(0)
  })
})
