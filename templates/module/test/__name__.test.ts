import {ModuleCallError, createTestHarness, replayDeterminism} from 'xai/modules'
import {describe, expect, it} from 'vitest'

import counter, {workload} from '../src/__name__.js'

describe('__name__ module', () => {
  it('increment adds the step, stores the value and emits Incremented', () => {
    const harness = createTestHarness(counter, {params: {step: 5n}})
    const first = harness.call('increment')
    expect(first.result).toBe(5n)
    expect(first.events.map((event) => event.args)).toEqual([{by: 5n, value: 5n}])
    // The gas table's 25,000, one storage write (5,000) and one log (375 + 375 per topic + 8 per data byte), as on chain.
    expect(first.gasUsed).toBe(25_000n + 5_000n + 1_262n)
    expect(harness.call('increment').result).toBe(10n)
    expect(harness.call('value').result).toBe(10n)
    expect(harness.storage.get(0n)).toBe(10n)
  })

  it('uses step 1 by default', () => {
    const harness = createTestHarness(counter)
    expect(harness.call('increment').result).toBe(1n)
  })

  it('validateTx rejects calls with value', () => {
    const harness = createTestHarness(counter)
    expect(harness.validate({name: 'increment', value: 1n})).toEqual({ok: false, reason: '__name__ does not accept value'})
    expect(() => harness.call('increment', [], {value: 1n})).toThrow(ModuleCallError)
    expect(harness.storage.get(0n)).toBe(0n)
  })

  it('is deterministic: the workload replays identically', () => {
    const report = replayDeterminism(counter, workload, 3)
    expect(report.steps).toBe(workload.steps)
  })
})
