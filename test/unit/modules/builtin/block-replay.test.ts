import {type Address, getAddress} from 'viem'
import {describe, expect, it} from 'vitest'

import {mevRedistribution} from '../../../../src/modules/builtin/mev-redistribution.js'
import {ruleEngine} from '../../../../src/modules/builtin/rule-engine.js'
import {treasury} from '../../../../src/modules/builtin/treasury.js'
import {withdrawalGuard} from '../../../../src/modules/builtin/withdrawal-guard.js'
import {type ChainTx, type NativeModule, type TxOutcome, encodeModuleCall, moduleAddress} from '../../../../src/modules/module.js'
import {type SeededRandom, type TestHarness, createTestHarness, seededRandom} from '../../../../src/modules/test-kit.js'

/**
 * The kit's replayDeterminism drives calls and block hooks only; these modules act in checkTx and
 * afterTx, with ctx.system. This replays seeded blocks of transactions through the same harness
 * twice and compares verdicts, storage, events and balances after every step.
 */

const COINBASE = getAddress('0x00000000000000000000000000000000000000c0')
const ACCOUNTS: readonly Address[] = [
  getAddress('0x00000000000000000000000000000000000000a1'),
  getAddress('0x00000000000000000000000000000000000000a2'),
  getAddress('0x00000000000000000000000000000000000000a3'),
  COINBASE,
]

type BlockStep =
  /** A transaction; with `call`, one addressed to the module, whose call runs once it is admitted. */
  | {kind: 'tx'; tx: Partial<ChainTx> & {from: Address}; outcome?: Partial<TxOutcome>; call?: {name: string; args: readonly unknown[]}}
  | {kind: 'call'; name: string; args?: readonly unknown[]; sender?: Address; value?: bigint}
  | {kind: 'endBlock'}

interface BlockWorkload {
  module: NativeModule
  params?: Record<string, unknown>
  steps: number
  seed: bigint
  step(rng: SeededRandom): BlockStep
}

function show(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? `${item}n` : item))
}

function runBlocks(workload: BlockWorkload): string[] {
  const watched = [...ACCOUNTS, moduleAddress(workload.module.manifest.id)]
  const harness: TestHarness = createTestHarness(workload.module, {
    system: true,
    coinbase: COINBASE,
    params: workload.params,
    balances: Object.fromEntries(watched.map((address) => [address, 10n ** 21n])),
  })
  const rng = seededRandom(workload.seed)
  const records: string[] = []
  for (let index = 0; index < workload.steps; index++) {
    const step = workload.step(rng)
    let outcome: unknown
    try {
      if (step.kind === 'tx') {
        const {verdict} = harness.runTx(step.tx, step.outcome)
        outcome = verdict.ok && step.call ? harness.call(step.call.name, step.call.args, {sender: step.tx.from, value: step.tx.value}).returnData : verdict
      }      else if (step.kind === 'call') outcome = harness.call(step.name, step.args, {sender: step.sender, value: step.value}).returnData
      else {
        outcome = harness.endBlock().length
        harness.advance()
      }
    } catch (err) {
      outcome = `error ${err instanceof Error ? err.message : String(err)}`
    }
    records.push(show({step, outcome, storage: harness.storageSnapshot(), events: harness.events.map((event) => [event.topics, event.data]), balances: watched.map((address) => harness.balanceOf(address))}))
  }
  return records
}

function expectReplays(workload: BlockWorkload): string[] {
  const first = runBlocks(workload)
  expect(runBlocks(workload)).toEqual(first)
  return first
}

function transfer(rng: SeededRandom, max: bigint): BlockStep {
  return {
    kind: 'tx',
    tx: {from: rng.pick(ACCOUNTS), to: rng.pick(ACCOUNTS), value: rng.below(max)},
    outcome: {success: rng.below(8n) !== 0n, baseFee: rng.below(10n ** 15n), priorityFee: rng.below(10n ** 14n)},
  }
}

describe('built-in modules replay blocks of transactions identically', () => {
  it('treasury', () => {
    const records = expectReplays({
      module: treasury,
      steps: 120,
      seed: 101n,
      step(rng) {
        const roll = rng.below(8n)
        if (roll === 0n) return {kind: 'endBlock'}
        if (roll === 1n) return {kind: 'call', name: 'spend', args: [rng.pick(ACCOUNTS), rng.below(10n ** 14n), rng.below(20n)], sender: moduleAddress('governance')}
        return transfer(rng, 10n ** 18n)
      },
    })
    expect(records.some((record) => record.includes('treasury: proposal'))).toBe(true)
  })

  it('withdrawal-guard', () => {
    const guard = moduleAddress('withdrawal-guard')
    const records = expectReplays({
      module: withdrawalGuard,
      params: {windowBlocks: 5, limit: '3000000000000000000', largeTransfer: '1000000000000000000', delayBlocks: 2},
      steps: 160,
      seed: 103n,
      step(rng) {
        const roll = rng.below(8n)
        if (roll === 0n) return {kind: 'endBlock'}
        if (roll === 1n) {
          const from = rng.pick(ACCOUNTS)
          const to = rng.pick(ACCOUNTS)
          const args = [to] as const
          return {kind: 'tx', tx: {from, to: guard, value: 1n + rng.below(2n * 10n ** 18n), data: encodeModuleCall(withdrawalGuard, 'queue', args)}, call: {name: 'queue', args}}
        }
        if (roll === 2n) return {kind: 'call', name: 'release', args: [1n + rng.below(6n)], sender: rng.pick(ACCOUNTS)}
        if (roll === 3n) return {kind: 'call', name: 'cancel', args: [1n + rng.below(6n)], sender: rng.pick(ACCOUNTS)}
        return transfer(rng, 2n * 10n ** 18n)
      },
    })
    const releasedOrCanceled = '"outcome":"0x"'
    for (const seen of ['outflow limit', 'large-transfer limit', '"outcome":"0x0000000000000000000000000000000000000000000000000000000000000001"', releasedOrCanceled, 'error release: ', 'error cancel: ']) {
      expect(records.some((record) => record.includes(seen)), seen).toBe(true)
    }
  })

  it('mev-redistribution', () => {
    const records = expectReplays({
      module: mevRedistribution,
      params: {shareBps: 3333},
      steps: 120,
      seed: 107n,
      step(rng) {
        return rng.below(6n) === 0n ? {kind: 'endBlock'} : transfer(rng, 10n ** 18n)
      },
    })
    // Blocks paid their senders: Redistributed events were logged.
    expect(JSON.parse(records.at(-1)!).events.length).toBeGreaterThan(10)
  })

  it('rule-engine', () => {
    const records = expectReplays({
      module: ruleEngine,
      params: {
        ruleSet: {
          version: 1,
          name: 'replay',
          rules: [
            {id: 'large', when: {field: 'tx.value', gt: '900000000000000000'}, action: 'reject', reason: 'too large'},
            {id: 'mid', when: {field: 'tx.value', gt: '500000000000000000'}, action: 'flag', reason: 'mid-sized'},
            {id: 'rich', when: {field: 'from.balance', gt: '1000000000000000000000'}, action: 'flag', reason: 'rich sender'},
          ],
          default: 'allow',
        },
      },
      steps: 100,
      seed: 109n,
      step(rng) {
        return rng.below(10n) === 0n ? {kind: 'endBlock'} : transfer(rng, 10n ** 18n)
      },
    })
    expect(records.some((record) => record.includes('rule large: too large'))).toBe(true)
    expect(records.some((record) => record.includes('mid: mid-sized'))).toBe(true)
  })
})
