import {describe, expect, it} from 'vitest'

import {type StateSource, runWithState, storageKey} from '../../../../src/modules/host/state-view.js'
import {readValidators, versionAt, writeValidators} from '../../../../src/modules/host/registry.js'

const A = '0x00000000000000000000000000000000000000aa'
const B = '0x00000000000000000000000000000000000000bb'

function source(words: Record<string, bigint>, balances: Record<string, bigint> = {}) {
  const reads: string[] = []
  const state: StateSource = {
    getStorage: async (address, slot) => {
      reads.push(`s:${slot}`)
      return words[`${address}:${slot}`] ?? 0n
    },
    getBalance: async (address) => {
      reads.push(`b:${address}`)
      return balances[address] ?? 0n
    },
    isContract: async () => false,
    balanceAt: async () => 0n,
  }
  return {state, reads}
}

describe('runWithState', () => {
  it('repeats a run until it misses nothing, and keeps only the last run', async () => {
    const {state, reads} = source({[`${A}:1`]: 2n, [`${A}:2`]: 7n})
    let runs = 0
    const out = await runWithState(state, (view) => {
      runs++
      // The second read depends on the first: it needs a second round of loading.
      const pointer = view.getStorage(A, 1n)
      const value = view.getStorage(A, pointer)
      view.setStorage(A, 9n, value + 1n)
      return value
    })
    expect(out.ok && out.result).toBe(7n)
    expect(runs).toBe(3)
    expect(reads).toEqual(['s:1', 's:0', 's:2'])
    expect(out.view.changes().storage).toEqual([{address: A, slot: 9n, value: 8n}])
  })

  it('keeps a layer that merges and drops one that does not', async () => {
    const {state} = source({}, {[A]: 10n})
    const out = await runWithState(state, (view) => {
      const kept = view.fork()
      kept.move(A, B, 4n)
      kept.merge()
      const dropped = view.fork()
      dropped.move(A, B, 1n)
      expect(() => view.fork().move(A, B, 100n)).toThrow(/insufficient balance/)
      return [view.getBalance(A), view.getBalance(B)]
    })
    expect(out.ok && out.result).toEqual([6n, 4n])
  })

  it('shares storage with the caller cache, never a failed load', async () => {
    const {state, reads} = source({[`${A}:1`]: 5n})
    const cache = new Map<string, unknown>()
    await runWithState(state, (view) => view.getStorage(A, 1n), cache)
    expect(cache.get(storageKey(A, 1n))).toBe(5n)
    await runWithState(state, (view) => view.getStorage(A, 1n), cache)
    expect(reads).toEqual(['s:1'])
    const failing = await runWithState(state, (view) => view.load('code', () => Promise.reject(new Error('no code'))), cache)
    expect(failing.ok).toBe(false)
    expect([...cache.keys()]).toEqual([storageKey(A, 1n)])
  })

  it('reports an error thrown by the final run', async () => {
    const {state} = source({[`${A}:1`]: 1n})
    const out = await runWithState(state, (view) => {
      if (view.getStorage(A, 1n) === 1n) throw new Error('refused')
      return 0
    })
    expect(out.ok).toBe(false)
    expect(!out.ok && (out.error as Error).message).toBe('refused')
  })
})

describe('the registry layout', () => {
  function memory() {
    const words = new Map<bigint, bigint>()
    return {words, get: (slot: bigint) => words.get(slot) ?? 0n, set: (slot: bigint, value: bigint) => (value === 0n ? words.delete(slot) : words.set(slot, value))}
  }

  it('keeps the validator set sorted and clears what a smaller set leaves', () => {
    const storage = memory()
    writeValidators(storage, [{address: B, power: 2}, {address: A, power: 1}])
    expect(readValidators(storage)).toEqual([{address: A, power: 1}, {address: B, power: 2}])
    const words = storage.words.size
    writeValidators(storage, [{address: B, power: 3}])
    expect(readValidators(storage)).toEqual([{address: B, power: 3}])
    expect(storage.words.size).toBe(words - 2)
  })

  it('picks the version that runs at a height', () => {
    const entry = {id: 'x', address: A, builtin: false, params: {}, current: {codeHash: '0x01', version: '1.0.0', from: 10n}, next: {codeHash: '0x02', version: '2.0.0', from: 20n}, deactivateAt: 30n} as const
    expect(versionAt(entry as never, 9n)).toBeUndefined()
    expect(versionAt(entry as never, 10n)?.version).toBe('1.0.0')
    expect(versionAt(entry as never, 20n)?.version).toBe('2.0.0')
    expect(versionAt(entry as never, 30n)).toBeUndefined()
  })
})
