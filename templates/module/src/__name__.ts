import type {ModuleWorkload, NativeModule} from 'xai/modules'
import {parseAbi} from 'viem'
import {z} from 'zod'

/**
 * __name__: a counter. `increment()` adds the `step` parameter to the value kept in storage slot 0
 * and emits `Incremented(by, value)`. Calls carrying value are rejected by validateTx.
 */
const VALUE_SLOT = 0n

const params = z.object({
  /** How much increment() adds. */
  step: z.coerce.bigint().positive().default(1n),
})

const abi = parseAbi([
  'function increment() returns (uint256)',
  'function value() view returns (uint256)',
  'event Incremented(uint256 by, uint256 value)',
])

const module: NativeModule = {
  manifest: {id: '__name__', version: '0.1.0', description: 'A counter native module'},
  params,
  abi,
  gas: {increment: 25_000n, value: 2_100n},
  validateTx(tx) {
    if (tx.value !== 0n) return {ok: false, reason: '__name__ does not accept value'}
    return {ok: true}
  },
  calls: {
    increment(ctx) {
      const by = ctx.params.step as bigint
      const value = ctx.storage.get(VALUE_SLOT) + by
      ctx.storage.set(VALUE_SLOT, value)
      ctx.emit('Incremented', {by, value})
      return value
    },
    value(ctx) {
      return ctx.storage.get(VALUE_SLOT)
    },
  },
}

export default module

/** The random workload `xai module test` replays to check determinism. */
export const workload: ModuleWorkload = {
  steps: 64,
  seed: 42n,
  step(rng) {
    const roll = rng.below(4n)
    if (roll === 0n) return {kind: 'advance'}
    if (roll === 1n) return {kind: 'call', name: 'value'}
    return {kind: 'call', name: 'increment'}
  },
}
