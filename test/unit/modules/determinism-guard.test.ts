import nodeCrypto, {randomBytes} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import type {ModuleContext} from '../../../src/modules/module.js'
import {ModuleDeterminismError, createTestHarness} from '../../../src/modules/test-kit.js'

import {counterModule} from './fixtures.js'

const originals = {
  Date: globalThis.Date,
  now: Date.now,
  random: Math.random,
  perfNow: performance.now,
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  hrtime: process.hrtime,
  getRandomValues: globalThis.crypto.getRandomValues,
  randomBytes: nodeCrypto.randomBytes,
}

function expectRestored(): void {
  expect(globalThis.Date).toBe(originals.Date)
  expect(Date.now).toBe(originals.now)
  expect(Math.random).toBe(originals.random)
  expect(performance.now).toBe(originals.perfNow)
  expect(globalThis.setTimeout).toBe(originals.setTimeout)
  expect(globalThis.setInterval).toBe(originals.setInterval)
  expect(process.hrtime).toBe(originals.hrtime)
  expect(globalThis.crypto.getRandomValues).toBe(originals.getRandomValues)
  expect(nodeCrypto.randomBytes).toBe(originals.randomBytes)
  expect(typeof Date.now()).toBe('number')
  expect(randomBytes(4)).toHaveLength(4)
}

const TOUCHES: [string, (ctx: ModuleContext) => unknown][] = [
  ['Date.now', () => Date.now()],
  ['new Date()', () => new Date()],
  ['Math.random', () => Math.random()],
  ['performance.now', () => performance.now()],
  ['setTimeout', () => setTimeout(() => {}, 1)],
  ['setInterval', () => setInterval(() => {}, 1)],
  ['process.hrtime', () => process.hrtime()],
  ['process.hrtime.bigint', () => process.hrtime.bigint()],
  ['crypto.getRandomValues', () => crypto.getRandomValues(new Uint8Array(4))],
  ['crypto.randomBytes', () => randomBytes(4)],
]

describe('determinism guards', () => {
  for (const [touched, touch] of TOUCHES) {
    it(`a call touching ${touched} throws ModuleDeterminismError and the globals are restored`, () => {
      const harness = createTestHarness(counterModule({onCall: (ctx) => void touch(ctx)}))
      let error: unknown
      try {
        harness.call('increment')
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(ModuleDeterminismError)
      expect((error as ModuleDeterminismError).touched).toBe(touched)
      expect(harness.storage.get(0n)).toBe(0n)
      expectRestored()
    })
  }

  it('guards beginBlock, endBlock and validateTx too', () => {
    const begin = createTestHarness(counterModule({onBegin: () => void Date.now()}))
    expect(() => begin.beginBlock()).toThrow(ModuleDeterminismError)
    expectRestored()
    const end = createTestHarness(counterModule({onEnd: () => void Math.random()}))
    expect(() => end.endBlock()).toThrow(/Math\.random/)
    expectRestored()
    const module = counterModule()
    module.validateTx = () => ({ok: Date.now() > 0} as {ok: true})
    expect(() => createTestHarness(module).validate({name: 'increment'})).toThrow(ModuleDeterminismError)
    expectRestored()
  })

  it('restores the globals when a hook throws its own error', () => {
    const harness = createTestHarness(counterModule({onBegin: () => {
      throw new Error('boom')
    }}))
    expect(() => harness.beginBlock()).toThrow(/beginBlock: boom/)
    expectRestored()
  })

  it('lets deterministic code run', () => {
    const harness = createTestHarness(counterModule({onCall: (ctx) => void ctx.chargeGas(BigInt(JSON.stringify([1]).length))}))
    expect(harness.call('increment').gasUsed).toBe(1003n + 5000n + 1262n)
    expectRestored()
  })
})
