import {readFile} from 'node:fs/promises'

import {beforeAll, describe, expect, it} from 'vitest'

import {ModuleLoadError, loadModuleSource} from '../../../src/modules/host/load-module.js'
import type {NativeModule} from '../../../src/modules/module.js'
import {STEP_GAS} from '../../../src/modules/sandbox/sandbox.js'
import {createTestHarness} from '../../../src/modules/test-kit.js'

/** Limits and metering of the module sandbox, through the real loader. */

const LIMITS = `
import {parseAbi, keccak256, toHex} from 'viem'
import {z} from 'zod'

const abi = parseAbi([
  'function spin() returns (uint256)',
  'function spinFor(uint256 n) returns (uint256)',
  'function allocate() returns (uint256)',
  'function recurse() returns (uint256)',
  'function hash(string s) returns (bytes32)',
  'function parse(uint256 v) returns (uint256)',
  'function caught() returns (string)',
])

const deep = (n: number): number => deep(n + 1) + 1

const module = {
  manifest: {id: 'limits', version: '1.0.0', description: 'limits'},
  params: z.object({max: z.coerce.bigint().positive().default(10n)}),
  abi,
  gas: {spin: 1_000n},
  calls: {
    spin() {
      for (;;) {}
    },
    spinFor(_ctx: any, [n]: [bigint]) {
      let x = 0n
      for (let i = 0n; i < n; i++) x += i
      return x
    },
    allocate() {
      const kept: string[] = []
      for (let i = 0; i < 64; i++) kept.push('x'.repeat(1 << 20) + i)
      return BigInt(kept.length)
    },
    recurse() {
      return BigInt(deep(0))
    },
    hash(_ctx: any, [s]: [string]) {
      return keccak256(toHex(s))
    },
    parse(ctx: any, [v]: [bigint]) {
      return z.coerce.bigint().max(ctx.params.max as bigint).parse(v)
    },
    caught(ctx: any) {
      try {
        for (;;) {}
      } catch (err: any) {
        return 'caught ' + err.message
      }
    },
  },
}
export default module
`

describe('the module sandbox', () => {
  let limits: NativeModule

  beforeAll(async () => {
    limits = await loadModuleSource(LIMITS)
  }, 120_000)

  it('runs the scaffolded counter unchanged (viem parseAbi, zod params with defaults, storage, events, validateTx)', async () => {
    const template = await readFile(new URL('../../../templates/module/src/__name__.ts', import.meta.url), 'utf8')
    const counter = await loadModuleSource(template.replaceAll('__name__', 'counter'))
    expect(counter.manifest).toEqual({id: 'counter', version: '0.1.0', description: 'A counter native module'})
    expect(counter.params.parse({})).toEqual({step: 1n})
    const harness = createTestHarness(counter, {params: {step: '3'}})
    expect(harness.call('increment').result).toBe(3n)
    const second = harness.call('increment')
    expect(second.result).toBe(6n)
    expect(second.events.map((event) => [event.name, event.args])).toEqual([['Incremented', {by: 3n, value: 6n}]])
    expect(harness.call('value').result).toBe(6n)
    expect(harness.validate({name: 'increment', value: 1n})).toEqual({ok: false, reason: 'counter does not accept value'})
  }, 120_000)

  it('stops an endless loop when the call reaches its gas limit: out of gas, the state unchanged', () => {
    const harness = createTestHarness(limits)
    expect(() => harness.call('spin', [], {gasLimit: 1_000_000n})).toThrow(/out of gas/)
    expect(harness.gasUsed).toBe(0n)
  })

  it('an endless loop cannot catch its out-of-gas', () => {
    const harness = createTestHarness(limits)
    expect(() => harness.call('caught', [], {gasLimit: 500_000n})).toThrow(/out of gas/)
  })

  it('charges the same gas for the same call every time, and more steps cost more gas', () => {
    const harness = createTestHarness(limits)
    const small = [0, 1, 2].map(() => harness.call('spinFor', [20_000n]).gasUsed)
    expect(new Set(small).size).toBe(1)
    const large = harness.call('spinFor', [200_000n]).gasUsed
    expect(large).toBeGreaterThan(small[0]! + 5n * STEP_GAS)
  })

  it('refuses an allocation past the 32 MiB cap with a clear reason; the node goes on', () => {
    const harness = createTestHarness(limits)
    expect(() => harness.call('allocate', [], {gasLimit: 30_000_000n})).toThrow(/out of memory: a module call may use at most 32 MiB/)
    expect(harness.call('spinFor', [3n]).result).toBe(3n)
  })

  it('refuses unbounded recursion with a clear reason', () => {
    const harness = createTestHarness(limits)
    expect(() => harness.call('recurse')).toThrow(/stack overflow: a module call may use at most 256 KiB of stack/)
  })

  it('gives modules viem helpers and zod parsing computed by the host', () => {
    const harness = createTestHarness(limits)
    expect(harness.call('hash', ['abc']).result).toBe('0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
    expect(harness.call('parse', [7n]).result).toBe(7n)
    expect(() => harness.call('parse', [11n])).toThrow(/parse: /)
  })

  it('refuses a module whose params schema carries a function (it could not run on the host)', async () => {
    const source = LIMITS.replace("z.object({max: z.coerce.bigint().positive().default(10n)})", "z.object({max: z.coerce.bigint().refine((v: bigint) => v > 0n)})")
    await expect(loadModuleSource(source)).rejects.toThrow(ModuleLoadError)
    await expect(loadModuleSource(source)).rejects.toThrow(/a zod schema with a function \(refine, transform/)
  })

  it('keeps nothing between invocations on a reused instance: globals, prototypes and module state written by one call are gone in the next, in any module', async () => {
    const leaky = (id: string) => `
import {parseAbi} from 'viem'
import {z} from 'zod'

let count = 0
const module = {
  manifest: {id: '${id}', version: '1.0.0', description: 'leaks'},
  params: z.object({}),
  abi: parseAbi(['function write() returns (string)', 'function read() returns (string)']),
  gas: {},
  calls: {
    write() {
      count++
      const g = ((() => 0) as any).constructor('return this')()
      g.leak = '${id}'
      ;(Object.prototype as any).leaked = '${id}'
      ;(Array.prototype as any).push = () => 0
      ;(JSON as any).stringify = () => '"tampered"'
      return 'wrote'
    },
    read() {
      const g = ((() => 0) as any).constructor('return this')()
      const list: number[] = []
      list.push(1)
      return [String(count), typeof g.leak, typeof ({} as any).leaked, String(list.length), JSON.stringify('x')].join(',')
    },
  },
}
export default module
`
    const first = createTestHarness(await loadModuleSource(leaky('first')))
    const second = createTestHarness(await loadModuleSource(leaky('second')))
    const clean = '0,undefined,undefined,1,"x"'
    expect(first.call('read').result).toBe(clean)
    for (let i = 0; i < 3; i++) {
      expect(first.call('write').result).toBe('wrote')
      expect(first.call('read').result).toBe(clean)
      expect(second.call('read').result).toBe(clean)
      expect(second.call('write').result).toBe('wrote')
      expect(first.call('read').result).toBe(clean)
    }
    // The same invocation costs the same gas before and after others ran on the instance.
    const gas = first.call('read').gasUsed
    first.call('write')
    second.call('write')
    expect(first.call('read').gasUsed).toBe(gas)
  }, 120_000)

  it('a call that grew the instance\'s memory (out of memory) leaves the next calls as they were: same result, same gas', () => {
    const harness = createTestHarness(limits)
    const before = harness.call('spinFor', [30_000n])
    expect(() => harness.call('allocate', [], {gasLimit: 30_000_000n})).toThrow(/out of memory/)
    const after = harness.call('spinFor', [30_000n])
    expect(after.result).toBe(before.result)
    expect(after.gasUsed).toBe(before.gasUsed)
  })
})
