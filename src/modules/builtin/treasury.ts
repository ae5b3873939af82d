import {type Address, parseAbi} from 'viem'
import {z} from 'zod'

import {type ModuleContext, type NativeModule, moduleAddress, revert} from '../module.js'
import {mappingSlot, namespaceSlot} from '../storage-codec.js'
import type {ModuleWorkload} from '../test-kit.js'

/**
 * treasury: receives a governance-set share of the base fees burnt in each block and pays out
 * only by proposal.
 *
 * Each transaction's base fee (baseFeePerGas × gasUsed, burnt by EIP-1559, failed transactions
 * included) is added up in `afterTx`; `endBlock` mints `floor(pending × baseFeeShareBps / 10000)`
 * wei to the treasury's own address through `ctx.system.mint` and clears the pending sum. The
 * rest stays burnt. Without `ctx.system` (a chain that does not grant it) nothing is minted.
 * `spend` is the only way out, and only the governance module's system address may call it
 * (a passed treasury-spend proposal); each proposal id is paid at most once.
 *
 * Storage layout (slots of the treasury's system address):
 * - namespaceSlot("xai.treasury.pending"):        base fees of the current block, cleared by endBlock
 * - namespaceSlot("xai.treasury.totalReceived"):  wei minted to the treasury, ever
 * - namespaceSlot("xai.treasury.totalSpent"):     wei paid out by spend, ever
 * - mappingSlot(namespaceSlot("xai.treasury.paid"), proposalId): 1 once that proposal was paid
 */

export const TREASURY_ID = 'treasury'
const BASIS_POINTS = 10_000n

const PENDING_SLOT = namespaceSlot('xai.treasury.pending')
const TOTAL_RECEIVED_SLOT = namespaceSlot('xai.treasury.totalReceived')
const TOTAL_SPENT_SLOT = namespaceSlot('xai.treasury.totalSpent')
const PAID_BASE = namespaceSlot('xai.treasury.paid')
const GOVERNANCE = moduleAddress('governance').toLowerCase()

const params = z.object({
  /** Share of each block's burnt base fees minted to the treasury, in basis points (0 … 10000). */
  baseFeeShareBps: z.coerce.bigint().min(0n).max(BASIS_POINTS).default(1000n),
})
export type TreasuryParams = z.output<typeof params>

export const treasuryAbi = parseAbi([
  'function balance() view returns (uint256)',
  'function spend(address to, uint256 amount, uint256 proposalId)',
  'function totalReceived() view returns (uint256)',
  'function totalSpent() view returns (uint256)',
  'event FeesReceived(uint256 height, uint256 amount)',
  'event Spent(address indexed to, uint256 amount, uint256 proposalId)',
])

function isGovernance(sender: Address): boolean {
  return sender.toLowerCase() === GOVERNANCE
}

/** The treasury's cut of `baseFees` wei: rounded down, the remainder stays burnt. */
export function treasuryShare(baseFees: bigint, baseFeeShareBps: bigint): bigint {
  return (baseFees * baseFeeShareBps) / BASIS_POINTS
}

export const treasury: NativeModule = {
  manifest: {id: TREASURY_ID, version: '1.0.0', description: 'Receives a share of the burnt base fees and pays out by proposal'},
  params,
  abi: treasuryAbi,
  gas: {balance: 2_100n, totalReceived: 2_100n, totalSpent: 2_100n, spend: 40_000n},
  validateTx(tx) {
    if (tx.value !== 0n) return {ok: false, reason: `treasury: ${tx.name}() takes no value`}
    return {ok: true}
  },
  afterTx(_tx, outcome, ctx) {
    if (outcome.baseFee === 0n) return
    ctx.storage.set(PENDING_SLOT, ctx.storage.get(PENDING_SLOT) + outcome.baseFee)
  },
  endBlock(ctx) {
    const pending = ctx.storage.get(PENDING_SLOT)
    if (pending === 0n) return
    ctx.storage.set(PENDING_SLOT, 0n)
    const {baseFeeShareBps} = ctx.params as TreasuryParams
    const amount = treasuryShare(pending, baseFeeShareBps)
    if (amount === 0n || !ctx.system) return
    ctx.system.mint(ctx.self, amount)
    ctx.storage.set(TOTAL_RECEIVED_SLOT, ctx.storage.get(TOTAL_RECEIVED_SLOT) + amount)
    ctx.emit('FeesReceived', {height: ctx.height, amount})
  },
  calls: {
    balance(ctx) {
      return ctx.balanceOf(ctx.self)
    },
    spend(ctx: ModuleContext, [to, amount, proposalId]) {
      if (!isGovernance(ctx.sender)) revert(`treasury: spend is governance only (a passed treasury-spend proposal); ${ctx.sender} is not the governance module`)
      const paidSlot = mappingSlot(PAID_BASE, proposalId as bigint)
      if (ctx.storage.get(paidSlot) !== 0n) revert(`treasury: proposal ${proposalId as bigint} has already been paid`)
      const held = ctx.balanceOf(ctx.self)
      if (held < (amount as bigint)) revert(`treasury: holds ${held} wei, ${amount as bigint} asked by proposal ${proposalId as bigint}`)
      ctx.transfer(to as Address, amount as bigint)
      ctx.storage.set(paidSlot, 1n)
      ctx.storage.set(TOTAL_SPENT_SLOT, ctx.storage.get(TOTAL_SPENT_SLOT) + (amount as bigint))
      ctx.emit('Spent', {to, amount, proposalId})
    },
    totalReceived(ctx) {
      return ctx.storage.get(TOTAL_RECEIVED_SLOT)
    },
    totalSpent(ctx) {
      return ctx.storage.get(TOTAL_SPENT_SLOT)
    },
  },
}

const SPENDERS: readonly Address[] = [moduleAddress('governance'), '0x00000000000000000000000000000000000000a1']
const RECIPIENTS: readonly Address[] = ['0x00000000000000000000000000000000000000b1', '0x00000000000000000000000000000000000000b2']

/** A random workload for the determinism replay: views, spends by governance and by others, blocks. */
export const treasuryWorkload: ModuleWorkload = {
  steps: 64,
  seed: 7n,
  balances: {[moduleAddress(TREASURY_ID)]: 10n ** 18n},
  step(rng, index) {
    const roll = rng.below(6n)
    if (roll === 0n) return {kind: 'advance'}
    if (roll === 1n) return {kind: 'endBlock'}
    if (roll === 2n) return {kind: 'call', name: rng.pick(['balance', 'totalReceived', 'totalSpent'])}
    return {kind: 'call', name: 'spend', args: [rng.pick(RECIPIENTS), rng.below(10n ** 17n), BigInt(index)], sender: rng.pick(SPENDERS)}
  },
}
