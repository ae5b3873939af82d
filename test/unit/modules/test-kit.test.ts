import {describe, expect, it} from 'vitest'

import {moduleAddress} from '../../../src/modules/module.js'
import {ModuleCallError, createTestHarness, seededRandom} from '../../../src/modules/test-kit.js'

import {counterModule} from './fixtures.js'

const ALICE = '0x00000000000000000000000000000000000a11ce'

describe('createTestHarness', () => {
  it('runs calls on in-memory storage with parameters, events and gas', () => {
    const harness = createTestHarness(counterModule(), {params: {step: 3n}})
    expect(harness.address).toBe(moduleAddress('test-counter'))
    expect(harness.params).toEqual({step: 3n})
    const out = harness.call('increment')
    expect(out.result).toBe(3n)
    expect(out.returnData).toBe(`0x${'3'.padStart(64, '0')}`)
    // Its gas table's 1,000, a storage write (5,000) and a log with one topic and 64 bytes (375 + 375 + 64 × 8), as on chain.
    expect(out.gasUsed).toBe(1000n + 5000n + 1262n)
    expect(out.events).toHaveLength(1)
    expect(out.events[0]).toMatchObject({name: 'Incremented', args: {by: 3n, value: 3n}, height: 1n})
    expect(out.events[0]!.data).toBe(`0x${'3'.padStart(64, '0')}${'3'.padStart(64, '0')}`)
    harness.call('increment')
    expect(harness.storage.get(0n)).toBe(6n)
    expect(harness.storageSnapshot()).toEqual([[`0x${'0'.repeat(64)}`, `0x${'6'.padStart(64, '0')}`]])
    expect(harness.gasUsed).toBe(2n * (1000n + 5000n + 1262n))
    expect(harness.events).toHaveLength(2)
  })

  it('decodes arguments through the ABI and encodes indexed event topics', () => {
    const harness = createTestHarness(counterModule())
    const out = harness.call('add', [7n, ALICE], {sender: ALICE})
    expect(out.result).toBe(7n)
    expect(out.events[0]!.topics).toHaveLength(2)
    expect(out.events[0]!.topics[1]).toBe(`0x${'0a11ce'.padStart(64, '0')}`)
  })

  it('applies parameter defaults', () => {
    expect(createTestHarness(counterModule()).call('increment').result).toBe(1n)
  })

  it('rolls back storage and events of a failing call', () => {
    const harness = createTestHarness(counterModule())
    harness.call('increment')
    expect(() => harness.call('fail')).toThrow(/fail: always fails/)
    expect(harness.storage.get(0n)).toBe(1n)
    expect(harness.events).toHaveLength(1)
  })

  it('charges extra gas and fails past the gas limit', () => {
    const harness = createTestHarness(counterModule())
    expect(harness.call('burn', [95n]).gasUsed).toBe(100n)
    expect(() => harness.call('burn', [1000n], {gasLimit: 500n})).toThrow(/out of gas/)
    expect(harness.gasUsed).toBe(100n)
  })

  it('validates transactions with validateTx before calling', () => {
    const harness = createTestHarness(counterModule())
    expect(harness.validate({name: 'increment'})).toEqual({ok: true})
    expect(harness.validate({name: 'increment', value: 1n})).toEqual({ok: false, reason: 'no value'})
    expect(() => harness.call('increment', [], {value: 1n})).toThrow(ModuleCallError)
    expect(harness.storage.get(0n)).toBe(0n)
  })

  it('runs block hooks on an explicit clock', () => {
    const harness = createTestHarness(counterModule(), {height: 10n, timestamp: 1000n})
    expect(harness.beginBlock()[0]!.args).toEqual({height: 10n})
    harness.advance({blocks: 2n})
    expect([harness.height, harness.timestamp]).toEqual([12n, 1024n])
    harness.advance({seconds: 1n})
    expect([harness.height, harness.timestamp]).toEqual([13n, 1025n])
    expect(harness.beginBlock()[0]!.height).toBe(13n)
    expect(harness.endBlock()).toEqual([])
  })

  it('rejects unknown calls, undeclared events and out-of-range words', () => {
    const harness = createTestHarness(counterModule({onCall: (ctx) => ctx.emit('Nope', {})}))
    expect(() => harness.call('missing')).toThrow(/no call "missing"/)
    expect(() => harness.call('increment')).toThrow(/"Nope" is not an event/)
    expect(() => harness.storage.set(0n, 1n << 256n)).toThrow(RangeError)
    expect(() => harness.storage.set(-1n, 1n)).toThrow(RangeError)
  })

  it('reads balances', () => {
    let seen = -1n
    const harness = createTestHarness(counterModule({onCall: (ctx) => (seen = ctx.balanceOf(ALICE))}), {balances: {[ALICE]: 5n}})
    harness.call('increment')
    expect(seen).toBe(5n)
    harness.setBalance(ALICE, 9n)
    harness.call('increment')
    expect(seen).toBe(9n)
  })
})

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = seededRandom(7n)
    const b = seededRandom(7n)
    const c = seededRandom(8n)
    const seqA = Array.from({length: 5}, () => a.next())
    expect(Array.from({length: 5}, () => b.next())).toEqual(seqA)
    expect(Array.from({length: 5}, () => c.next())).not.toEqual(seqA)
    for (let i = 0; i < 100; i++) expect(a.below(10n)).toBeLessThan(10n)
  })
})
