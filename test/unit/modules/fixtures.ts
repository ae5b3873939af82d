import {parseAbi} from 'viem'
import {z} from 'zod'

import type {ModuleContext, NativeModule} from '../../../src/modules/module.js'

/** A small module for the kit's tests; `hooks` lets a test put code into its hooks and calls. */
export function counterModule(hooks: {onCall?: (ctx: ModuleContext) => void; onBegin?: (ctx: ModuleContext) => void; onEnd?: (ctx: ModuleContext) => void} = {}): NativeModule {
  return {
    manifest: {id: 'test-counter', version: '1.0.0', description: 'counter'},
    params: z.object({step: z.bigint().default(1n)}),
    abi: parseAbi([
      'function increment() returns (uint256)',
      'function add(uint256 amount, address to) returns (uint256)',
      'function fail()',
      'function burn(uint256 amount)',
      'event Incremented(uint256 by, uint256 value)',
      'event Added(address indexed to, uint256 amount)',
      'event Block(uint256 height)',
    ]),
    gas: {increment: 1000n, add: 2000n, fail: 10n, burn: 5n},
    validateTx(tx) {
      return tx.value === 0n ? {ok: true} : {ok: false, reason: 'no value'}
    },
    beginBlock(ctx) {
      hooks.onBegin?.(ctx)
      ctx.emit('Block', {height: ctx.height})
    },
    endBlock(ctx) {
      hooks.onEnd?.(ctx)
    },
    calls: {
      increment(ctx) {
        hooks.onCall?.(ctx)
        const value = ctx.storage.get(0n) + (ctx.params.step as bigint)
        ctx.storage.set(0n, value)
        ctx.emit('Incremented', {by: ctx.params.step, value})
        return value
      },
      add(ctx, [amount, to]) {
        const value = ctx.storage.get(1n) + (amount as bigint)
        ctx.storage.set(1n, value)
        ctx.emit('Added', {to, amount})
        return value
      },
      fail(ctx) {
        ctx.storage.set(0n, 999n)
        ctx.emit('Incremented', {by: 0n, value: 999n})
        throw new Error('always fails')
      },
      burn(ctx, [amount]) {
        ctx.chargeGas(amount as bigint)
      },
    },
  }
}
