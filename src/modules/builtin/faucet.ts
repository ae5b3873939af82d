import {type Address, parseAbi} from 'viem'
import {z} from 'zod'

import {type ModuleContext, type NativeModule, type ReadonlyModuleContext, moduleAddress, revert} from '../module.js'
import {mappingSlot, namespaceSlot} from '../storage-codec.js'
import type {ModuleWorkload} from '../test-kit.js'

/**
 * faucet: pays development funds, `amount` wei per claim, at most once per `cooldownBlocks`
 * blocks per recipient. It pays out of its own balance (fund its address at genesis or by a
 * plain transfer).
 *
 * A recipient that claimed in block h may claim again from block h + cooldownBlocks (exactly
 * then included). validateTx refuses, for mempool admission and block validity, a claim
 * carrying value, a claim within the recipient's cooldown and a claim the faucet cannot pay; the
 * call checks the last two again, since one block may hold two claims for the same recipient.
 *
 * Storage layout (slots of the faucet's system address):
 * - mappingSlot(namespaceSlot("xai.faucet.lastClaim"), recipient): height of the recipient's
 *   last claim + 1 (0: never claimed)
 */

export const FAUCET_ID = 'faucet'
const ETHER = 10n ** 18n

const LAST_CLAIM_BASE = namespaceSlot('xai.faucet.lastClaim')

const params = z.object({
  /** Wei paid per claim. */
  amount: z.coerce.bigint().positive().default(100n * ETHER),
  /** Blocks a recipient waits between two claims. */
  cooldownBlocks: z.coerce.bigint().min(0n).default(100n),
})
export type FaucetParams = z.output<typeof params>

export const faucetAbi = parseAbi([
  'function claim() returns (uint256)',
  'function claimFor(address to) returns (uint256)',
  'function nextClaimAt(address who) view returns (uint256)',
  'event Claimed(address indexed to, uint256 amount, uint256 nextClaimAt)',
])

/** The first block at which `who` may claim again; 0 when it never claimed. */
function nextClaimHeight(ctx: Pick<ReadonlyModuleContext, 'storage' | 'params'>, who: Address): bigint {
  const stored = ctx.storage.get(mappingSlot(LAST_CLAIM_BASE, who))
  if (stored === 0n) return 0n
  return stored - 1n + (ctx.params as FaucetParams).cooldownBlocks
}

/** Why a claim for `to` cannot be paid in this block, or undefined when it can. */
function claimProblem(ctx: ReadonlyModuleContext, to: Address): string | undefined {
  const {amount} = ctx.params as FaucetParams
  const next = nextClaimHeight(ctx, to)
  if (next !== 0n && ctx.height < next) return `faucet: ${to} is in its cooldown; the next claim is possible at block ${next} (now ${ctx.height})`
  const held = ctx.balanceOf(ctx.self)
  if (held < amount) return `faucet is empty: holds ${held} wei, pays ${amount}`
  return undefined
}

function recipientOf(name: string, sender: Address, args: readonly unknown[]): Address {
  return name === 'claimFor' ? (args[0] as Address) : sender
}

export const faucet: NativeModule = {
  manifest: {id: FAUCET_ID, version: '1.0.0', description: 'Pays development funds with a per-address cooldown'},
  params,
  abi: faucetAbi,
  gas: {claim: 30_000n, claimFor: 30_000n, nextClaimAt: 2_100n},
  validateTx(tx, ctx) {
    if (tx.value !== 0n) return {ok: false, reason: `faucet: ${tx.name}() takes no value`}
    if (tx.name !== 'claim' && tx.name !== 'claimFor') return {ok: true}
    const problem = claimProblem(ctx, recipientOf(tx.name, tx.from, tx.args))
    return problem === undefined ? {ok: true} : {ok: false, reason: problem}
  },
  calls: {
    claim(ctx) {
      return pay(ctx, ctx.sender)
    },
    claimFor(ctx, [to]) {
      return pay(ctx, to as Address)
    },
    nextClaimAt(ctx, [who]) {
      return nextClaimHeight(ctx, who as Address)
    },
  },
}

function pay(ctx: ModuleContext, to: Address): bigint {
  const problem = claimProblem(ctx, to)
  if (problem !== undefined) revert(problem)
  const {amount, cooldownBlocks} = ctx.params as FaucetParams
  ctx.transfer(to, amount)
  ctx.storage.set(mappingSlot(LAST_CLAIM_BASE, to), ctx.height + 1n)
  ctx.emit('Claimed', {to, amount, nextClaimAt: ctx.height + cooldownBlocks})
  return amount
}

const CLAIMANTS: readonly Address[] = [
  '0x00000000000000000000000000000000000000a1',
  '0x00000000000000000000000000000000000000a2',
  '0x00000000000000000000000000000000000000a3',
]

/** A random workload for the determinism replay: claims, claims for others, views and blocks. */
export const faucetWorkload: ModuleWorkload = {
  steps: 64,
  seed: 11n,
  params: {amount: '1000', cooldownBlocks: '3'},
  balances: {[moduleAddress(FAUCET_ID)]: 20_000n},
  step(rng) {
    const roll = rng.below(5n)
    if (roll === 0n) return {kind: 'advance', blocks: rng.below(3n)}
    if (roll === 1n) return {kind: 'call', name: 'nextClaimAt', args: [rng.pick(CLAIMANTS)]}
    if (roll === 2n) return {kind: 'call', name: 'claimFor', args: [rng.pick(CLAIMANTS)], sender: rng.pick(CLAIMANTS)}
    return {kind: 'call', name: 'claim', sender: rng.pick(CLAIMANTS)}
  },
}
