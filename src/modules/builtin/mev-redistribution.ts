import {type Address, parseAbi} from 'viem'
import {z} from 'zod'

import type {NativeModule} from '../module.js'
import {addressToWord, mappingSlot, namespaceSlot, slotAdd, wordToAddress} from '../storage-codec.js'
import type {ModuleWorkload} from '../test-kit.js'

/**
 * mev-redistribution: gives a governance-set share of each block's priority fees back to the
 * block's transaction senders, in proportion to what each paid.
 *
 * afterTx records, for the block, every sender's priority fees (the effective tip × gas used that
 * went to the coinbase), in the order senders first appear. endBlock pays each recorded sender,
 * in that order, floor(fee × shareBps / 10000) wei out of the coinbase's balance
 * (`ctx.system.move`), skipping zero amounts and the coinbase itself, emits Redistributed for each
 * payment and clears the block's records. What the rounding leaves stays with the coinbase. If
 * the coinbase holds less than a payment at that point (it spent its tips in the same block), the
 * payment is cut to what it holds. Without `ctx.system` the module does nothing.
 *
 * Storage layout (slots of the module's system address):
 * - namespaceSlot("xai.mev-redistribution.senderCount"): senders recorded in the current block
 * - mappingSlot(namespaceSlot("xai.mev-redistribution.senders"), i): the i-th of them (0-based)
 * - f = mappingSlot(namespaceSlot("xai.mev-redistribution.fees"), sender):
 *   f + 0 block height + 1 the fees were recorded in (0: none), f + 1 the sender's fees there
 * - namespaceSlot("xai.mev-redistribution.total"): wei redistributed, ever
 */

export const MEV_REDISTRIBUTION_ID = 'mev-redistribution'
const BASIS_POINTS = 10_000n

const SENDER_COUNT_SLOT = namespaceSlot('xai.mev-redistribution.senderCount')
const SENDERS_BASE = namespaceSlot('xai.mev-redistribution.senders')
const FEES_BASE = namespaceSlot('xai.mev-redistribution.fees')
const TOTAL_SLOT = namespaceSlot('xai.mev-redistribution.total')

const params = z.object({
  /** Share of each sender's priority fees paid back to it, in basis points (0 … 10000). */
  shareBps: z.coerce.bigint().min(0n).max(BASIS_POINTS).default(5000n),
})
export type MevRedistributionParams = z.output<typeof params>

export const mevRedistributionAbi = parseAbi([
  'function redistributedTotal() view returns (uint256)',
  'event Redistributed(uint256 indexed height, address indexed to, uint256 amount)',
])

/** What a sender that paid `fee` wei of priority fees gets back: rounded down. */
export function redistributedShare(fee: bigint, shareBps: bigint): bigint {
  return (fee * shareBps) / BASIS_POINTS
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

export const mevRedistribution: NativeModule = {
  manifest: {id: MEV_REDISTRIBUTION_ID, version: '1.0.0', description: "Pays a share of each block's priority fees back to its senders pro rata"},
  params,
  abi: mevRedistributionAbi,
  gas: {redistributedTotal: 2_100n},
  validateTx(tx) {
    if (tx.value !== 0n) return {ok: false, reason: `mev-redistribution: ${tx.name}() takes no value`}
    return {ok: true}
  },
  afterTx(tx, outcome, ctx) {
    // With a share of 0 nothing is paid back, so nothing is recorded (the params of a block are
    // fixed for the whole block, endBlock included).
    if (!ctx.system || outcome.priorityFee === 0n || (ctx.params as MevRedistributionParams).shareBps === 0n) return
    const record = mappingSlot(FEES_BASE, tx.from)
    const feeSlot = slotAdd(record, 1n)
    const marker = ctx.height + 1n
    if (ctx.storage.get(record) === marker) {
      ctx.storage.set(feeSlot, ctx.storage.get(feeSlot) + outcome.priorityFee)
      return
    }
    const count = ctx.storage.get(SENDER_COUNT_SLOT)
    ctx.storage.set(mappingSlot(SENDERS_BASE, count), addressToWord(tx.from))
    ctx.storage.set(SENDER_COUNT_SLOT, count + 1n)
    ctx.storage.set(record, marker)
    ctx.storage.set(feeSlot, outcome.priorityFee)
  },
  endBlock(ctx) {
    const count = ctx.storage.get(SENDER_COUNT_SLOT)
    if (!ctx.system || count === 0n) return
    const {shareBps} = ctx.params as MevRedistributionParams
    const marker = ctx.height + 1n
    let paid = 0n
    for (let i = 0n; i < count; i++) {
      const senderSlot = mappingSlot(SENDERS_BASE, i)
      const sender: Address = wordToAddress(ctx.storage.get(senderSlot))
      const record = mappingSlot(FEES_BASE, sender)
      const fee = ctx.storage.get(record) === marker ? ctx.storage.get(slotAdd(record, 1n)) : 0n
      ctx.storage.set(senderSlot, 0n)
      ctx.storage.set(record, 0n)
      ctx.storage.set(slotAdd(record, 1n), 0n)
      if (sameAddress(sender, ctx.coinbase)) continue
      const held = ctx.balanceOf(ctx.coinbase)
      const share = redistributedShare(fee, shareBps)
      const amount = share < held ? share : held
      if (amount === 0n) continue
      ctx.system.move(ctx.coinbase, sender, amount)
      ctx.emit('Redistributed', {height: ctx.height, to: sender, amount})
      paid += amount
    }
    ctx.storage.set(SENDER_COUNT_SLOT, 0n)
    if (paid > 0n) ctx.storage.set(TOTAL_SLOT, ctx.storage.get(TOTAL_SLOT) + paid)
  },
  calls: {
    redistributedTotal(ctx) {
      return ctx.storage.get(TOTAL_SLOT)
    },
  },
}

/**
 * A random workload for the determinism replay. The kit's workloads hold calls and block hooks
 * only (no transactions, no ctx.system), so this covers views and empty blocks; the hook path is
 * replayed by the module's tests.
 */
export const mevRedistributionWorkload: ModuleWorkload = {
  steps: 32,
  seed: 17n,
  step(rng) {
    const roll = rng.below(3n)
    if (roll === 0n) return {kind: 'advance'}
    if (roll === 1n) return {kind: 'endBlock'}
    return {kind: 'call', name: 'redistributedTotal'}
  },
}
