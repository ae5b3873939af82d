import {parseAbi} from 'viem'
import {z} from 'zod'
import {describe, expect, it} from 'vitest'

import type {NativeModule} from '../../../src/modules/module.js'
import {type ModuleWorkload, ModuleDeterminismError, ModuleReplayDivergenceError, replayDeterminism, seededRandom} from '../../../src/modules/test-kit.js'

import {counterModule} from './fixtures.js'

const workload: ModuleWorkload = {
  steps: 40,
  seed: 9n,
  step(rng) {
    const roll = rng.below(5n)
    if (roll === 0n) return {kind: 'advance'}
    if (roll === 1n) return {kind: 'beginBlock'}
    if (roll === 2n) return {kind: 'endBlock'}
    if (roll === 3n) return {kind: 'call', name: 'add', args: [rng.below(1000n), '0x00000000000000000000000000000000000000b0']}
    return {kind: 'call', name: 'increment'}
  },
}

/** Keeps a counter in a module-level variable instead of its storage: state leaks between harnesses. */
function leakyModule(): NativeModule {
  let hidden = 0n
  return {
    manifest: {id: 'leaky', version: '1.0.0', description: 'keeps hidden state'},
    params: z.object({}),
    abi: parseAbi(['function increment() returns (uint256)', 'function add(uint256 amount, address to) returns (uint256)']),
    gas: {},
    calls: {
      increment(ctx) {
        hidden += 1n
        ctx.storage.set(0n, hidden)
        return hidden
      },
      add: () => 0n,
    },
  }
}

describe('replayDeterminism', () => {
  it('passes a deterministic module and reports the run', () => {
    const report = replayDeterminism(counterModule(), workload, 3)
    expect(report.runs).toBe(3)
    expect(report.steps).toBe(40)
    expect(report.events).toBeGreaterThan(0)
    expect(report.finalStorage.length).toBeGreaterThan(0)
  })

  it('catches hidden module-level state, naming the first differing step', () => {
    let error: unknown
    try {
      replayDeterminism(leakyModule(), workload)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ModuleReplayDivergenceError)
    const divergence = error as ModuleReplayDivergenceError
    // The first increment of run 2 already sees run 1's count.
    const rng = seededRandom(workload.seed!)
    const steps = Array.from({length: workload.steps}, (_, index) => workload.step(rng, index))
    expect(divergence.step).toBe(steps.findIndex((step) => step.kind === 'call' && step.name === 'increment'))
    expect(divergence.description).toBe('call increment()')
    expect(divergence.run).toBe(2)
    expect(divergence.message).toMatch(/^Run 2 diverged from run 1 at step \d+ \(call increment\(\)\)/)
  })

  it('surfaces a clock read as ModuleDeterminismError', () => {
    expect(() => replayDeterminism(counterModule({onCall: () => void Date.now()}), workload)).toThrow(ModuleDeterminismError)
  })

  it('needs at least two runs', () => {
    expect(() => replayDeterminism(counterModule(), workload, 1)).toThrow(RangeError)
  })
})
