import {type Address, isAddress, parseAbi, zeroAddress} from 'viem'
import {z} from 'zod'

import {type ModuleContext, type ModuleValidation, type NativeModule, type ReadonlyModuleContext, isModuleAddress, moduleAddress, revert} from '../module.js'
import {addressToWord, mappingSlot, namespaceSlot, slotAdd, wordToAddress} from '../storage-codec.js'
import type {ModuleWorkload} from '../test-kit.js'

/**
 * withdrawal-guard: limits how much value each account sends per window of blocks, holds back or
 * refuses large transfers, and raises security events.
 *
 * Outflow: an account's outflow is the `value` of the transactions it sends and that succeed.
 * Value moved by contract internals (a contract forwarding wei, a self-destruct) is not seen and
 * not counted. Windows are fixed: block h is in window floor(h / windowBlocks), and each window
 * starts from 0. Module addresses (system senders) and the `exempt` addresses are not limited.
 *
 * checkTx, on every transaction with value > 0 from a limited sender, in this order:
 * 1. largeTransfer > 0 and value >= largeTransfer: with action 'reject' the transaction is refused
 *    (also when it is a queue call, which would otherwise release it later); with action 'delay'
 *    it is refused with a pointer to queue(address), unless it is itself sent to the guard.
 * 2. limit > 0 and used + value > limit: refused until the next window.
 * afterTx adds the value of each successful transaction to its sender's outflow and emits
 * OutflowNearLimit once per window, when the outflow first reaches 80 % of the limit.
 *
 * Delay queue: queue(to) holds the wei sent with it (the chain credits it to the guard before
 * the call, as for a payable contract) until releaseAt = height + delayBlocks; from then anyone
 * may release(id) it to `to`. Until it is released, the account that queued it may cancel(id)
 * and get the wei back.
 *
 * Storage layout (slots of the guard's system address):
 * - r = mappingSlot(namespaceSlot("xai.withdrawal-guard.outflow"), account):
 *   r + 0 window index + 1 of the last recorded outflow (0: none), r + 1 wei sent in that window
 * - namespaceSlot("xai.withdrawal-guard.queueCount"): the last queued transfer's id (ids start at 1)
 * - q = mappingSlot(namespaceSlot("xai.withdrawal-guard.queue"), id):
 *   q + 0 from, q + 1 to, q + 2 amount, q + 3 releaseAt, q + 4 status (see QueueStatus)
 */

export const WITHDRAWAL_GUARD_ID = 'withdrawal-guard'
const ETHER = 10n ** 18n

const OUTFLOW_BASE = namespaceSlot('xai.withdrawal-guard.outflow')
const QUEUE_COUNT_SLOT = namespaceSlot('xai.withdrawal-guard.queueCount')
const QUEUE_BASE = namespaceSlot('xai.withdrawal-guard.queue')

/** The status of a queued transfer, as queued(id) returns it. */
export const QueueStatus = {none: 0, queued: 1, released: 2, canceled: 3} as const
export type QueueStatus = (typeof QueueStatus)[keyof typeof QueueStatus]

const params = z.object({
  /** Length of an outflow window, in blocks. */
  windowBlocks: z.coerce.bigint().positive().default(100n),
  /** Wei an account may send per window; 0: no limit. */
  limit: z.coerce.bigint().min(0n).default(1000n * ETHER),
  /** Transfers of at least this many wei are large; 0: no large-transfer policy. */
  largeTransfer: z.coerce.bigint().min(0n).default(0n),
  /** What happens to a large transfer: refused, or refused unless it goes through queue(address). */
  largeTransferAction: z.enum(['reject', 'delay']).default('delay'),
  /** Blocks a queued transfer waits before it can be released. */
  delayBlocks: z.coerce.bigint().min(0n).default(10n),
  /** Senders the guard does not limit (lowercase or checksummed addresses). */
  exempt: z
    .array(z.string().refine((value) => isAddress(value, {strict: true}), {error: (issue) => `${String(issue.input)} is not an address (lowercase or correctly checksummed)`}))
    .transform((list) => list.map((address) => address.toLowerCase()))
    .default([]),
})
export type WithdrawalGuardParams = z.output<typeof params>

export const withdrawalGuardAbi = parseAbi([
  'function queue(address to) payable returns (uint256 id)',
  'function release(uint256 id)',
  'function cancel(uint256 id)',
  'function outflow(address account) view returns (uint256 used, uint256 windowEndsAt)',
  'function queued(uint256 id) view returns (address from, address to, uint256 amount, uint256 releaseAt, uint8 status)',
  'event TransferQueued(uint256 indexed id, address indexed from, address indexed to, uint256 amount, uint256 releaseAt)',
  'event TransferReleased(uint256 indexed id)',
  'event TransferCanceled(uint256 indexed id)',
  'event OutflowNearLimit(address indexed account, uint256 used, uint256 limit)',
])

type Reader = Pick<ReadonlyModuleContext, 'storage' | 'params' | 'height'>

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

function guardParams(ctx: Pick<ReadonlyModuleContext, 'params'>): WithdrawalGuardParams {
  return ctx.params as WithdrawalGuardParams
}

/** True when the guard limits `sender`: not a module address, not exempt. */
function isLimited(ctx: Pick<ReadonlyModuleContext, 'params'>, sender: Address): boolean {
  return !isModuleAddress(sender) && !guardParams(ctx).exempt.includes(sender.toLowerCase())
}

/** Wei `account` has sent in the current window, and the first block of the next window. */
function outflowOf(ctx: Reader, account: Address): {used: bigint; windowIndex: bigint; windowEndsAt: bigint} {
  const {windowBlocks} = guardParams(ctx)
  const windowIndex = ctx.height / windowBlocks
  const record = mappingSlot(OUTFLOW_BASE, account)
  const used = ctx.storage.get(record) === windowIndex + 1n ? ctx.storage.get(slotAdd(record, 1n)) : 0n
  return {used, windowIndex, windowEndsAt: (windowIndex + 1n) * windowBlocks}
}

interface QueuedTransfer {
  from: Address
  to: Address
  amount: bigint
  releaseAt: bigint
  status: bigint
}

function queueSlot(id: bigint): bigint {
  return mappingSlot(QUEUE_BASE, id)
}

function readQueued(ctx: Pick<ReadonlyModuleContext, 'storage'>, id: bigint): QueuedTransfer {
  const slot = queueSlot(id)
  return {
    from: wordToAddress(ctx.storage.get(slot)),
    to: wordToAddress(ctx.storage.get(slotAdd(slot, 1n))),
    amount: ctx.storage.get(slotAdd(slot, 2n)),
    releaseAt: ctx.storage.get(slotAdd(slot, 3n)),
    status: ctx.storage.get(slotAdd(slot, 4n)),
  }
}

function notQueued(id: bigint, status: bigint): string {
  const what = status === BigInt(QueueStatus.released) ? 'was released' : status === BigInt(QueueStatus.canceled) ? 'was canceled' : 'does not exist'
  return `withdrawal guard: transfer ${id} ${what}`
}

function releaseProblem(ctx: Reader, id: bigint): string | undefined {
  const transfer = readQueued(ctx, id)
  if (transfer.status !== BigInt(QueueStatus.queued)) return notQueued(id, transfer.status)
  if (ctx.height < transfer.releaseAt) return `withdrawal guard: transfer ${id} is released from block ${transfer.releaseAt}; this is block ${ctx.height}`
  return undefined
}

function cancelProblem(ctx: Reader, id: bigint, sender: Address): string | undefined {
  const transfer = readQueued(ctx, id)
  if (transfer.status !== BigInt(QueueStatus.queued)) return notQueued(id, transfer.status)
  if (!sameAddress(transfer.from, sender)) return `withdrawal guard: only ${transfer.from}, who queued transfer ${id}, may cancel it`
  return undefined
}

function queueProblem(to: Address, value: bigint): string | undefined {
  if (value === 0n) return 'withdrawal guard: queue(address) holds the wei sent with it; send more than 0'
  if (sameAddress(to, zeroAddress)) return 'withdrawal guard: queue(address) needs a recipient other than the zero address'
  return undefined
}

function verdict(problem: string | undefined): ModuleValidation {
  return problem === undefined ? {ok: true} : {ok: false, reason: problem}
}

function setStatus(ctx: ModuleContext, id: bigint, status: QueueStatus): void {
  ctx.storage.set(slotAdd(queueSlot(id), 4n), BigInt(status))
}

export const withdrawalGuard: NativeModule = {
  manifest: {id: WITHDRAWAL_GUARD_ID, version: '1.0.0', description: 'Per-account outflow limits, delayed large transfers and security events'},
  params,
  abi: withdrawalGuardAbi,
  gas: {queue: 60_000n, release: 30_000n, cancel: 30_000n, outflow: 4_200n, queued: 10_500n},
  validateTx(tx, ctx) {
    if (tx.name === 'queue') return verdict(queueProblem(tx.args[0] as Address, tx.value))
    if (tx.value !== 0n) return {ok: false, reason: `withdrawal guard: ${tx.name}() takes no value`}
    if (tx.name === 'release') return verdict(releaseProblem(ctx, tx.args[0] as bigint))
    if (tx.name === 'cancel') return verdict(cancelProblem(ctx, tx.args[0] as bigint, tx.from))
    return {ok: true}
  },
  checkTx(tx, ctx) {
    if (tx.value === 0n || !isLimited(ctx, tx.from)) return {ok: true}
    const {limit, windowBlocks, largeTransfer, largeTransferAction, delayBlocks} = guardParams(ctx)
    if (largeTransfer > 0n && tx.value >= largeTransfer) {
      const large = `withdrawal guard: ${tx.value} wei is at or above the large-transfer limit ${largeTransfer}`
      if (largeTransferAction === 'reject') return {ok: false, reason: `${large}; rejected by policy`}
      const toGuard = tx.to !== null && sameAddress(tx.to, ctx.self)
      if (!toGuard) return {ok: false, reason: `${large}; send it through queue(address) of the withdrawal guard at ${ctx.self}, which releases it after ${delayBlocks} blocks`}
    }
    if (limit > 0n) {
      const {used, windowEndsAt} = outflowOf(ctx, tx.from)
      if (used + tx.value > limit) {
        return {ok: false, reason: `withdrawal guard: outflow limit ${limit} wei per ${windowBlocks} blocks; ${used} used in this window, ${tx.value} asked; next window starts at block ${windowEndsAt}`}
      }
    }
    return {ok: true}
  },
  afterTx(tx, outcome, ctx, checked) {
    // Outflow is counted while a limit is set: with none, nothing is recorded.
    if (!checked.ok || !outcome.success || tx.value === 0n || guardParams(ctx).limit === 0n || !isLimited(ctx, tx.from)) return
    const {limit} = guardParams(ctx)
    const {used, windowIndex} = outflowOf(ctx, tx.from)
    const now = used + tx.value
    const record = mappingSlot(OUTFLOW_BASE, tx.from)
    ctx.storage.set(record, windowIndex + 1n)
    ctx.storage.set(slotAdd(record, 1n), now)
    // 80 %, compared as used × 10 >= limit × 8; raised once per window, when it is first reached.
    if (limit > 0n && now * 10n >= limit * 8n && used * 10n < limit * 8n) {
      ctx.emit('OutflowNearLimit', {account: tx.from, used: now, limit})
    }
  },
  calls: {
    queue(ctx, [to]) {
      const problem = queueProblem(to as Address, ctx.value)
      if (problem !== undefined) revert(problem)
      const id = ctx.storage.get(QUEUE_COUNT_SLOT) + 1n
      const releaseAt = ctx.height + guardParams(ctx).delayBlocks
      const slot = queueSlot(id)
      ctx.storage.set(QUEUE_COUNT_SLOT, id)
      ctx.storage.set(slot, addressToWord(ctx.sender))
      ctx.storage.set(slotAdd(slot, 1n), addressToWord(to as Address))
      ctx.storage.set(slotAdd(slot, 2n), ctx.value)
      ctx.storage.set(slotAdd(slot, 3n), releaseAt)
      setStatus(ctx, id, QueueStatus.queued)
      ctx.emit('TransferQueued', {id, from: ctx.sender, to, amount: ctx.value, releaseAt})
      return id
    },
    release(ctx, [id]) {
      const problem = releaseProblem(ctx, id as bigint)
      if (problem !== undefined) revert(problem)
      const transfer = readQueued(ctx, id as bigint)
      setStatus(ctx, id as bigint, QueueStatus.released)
      ctx.transfer(transfer.to, transfer.amount)
      ctx.emit('TransferReleased', {id})
    },
    cancel(ctx, [id]) {
      const problem = cancelProblem(ctx, id as bigint, ctx.sender)
      if (problem !== undefined) revert(problem)
      const transfer = readQueued(ctx, id as bigint)
      setStatus(ctx, id as bigint, QueueStatus.canceled)
      ctx.transfer(transfer.from, transfer.amount)
      ctx.emit('TransferCanceled', {id})
    },
    outflow(ctx, [account]) {
      const {used, windowEndsAt} = outflowOf(ctx, account as Address)
      return [used, windowEndsAt]
    },
    queued(ctx, [id]) {
      const transfer = readQueued(ctx, id as bigint)
      return [transfer.from, transfer.to, transfer.amount, transfer.releaseAt, Number(transfer.status)]
    },
  },
}

const ACCOUNTS: readonly Address[] = [
  '0x00000000000000000000000000000000000000a1',
  '0x00000000000000000000000000000000000000a2',
  '0x00000000000000000000000000000000000000a3',
]

/**
 * A random workload for the determinism replay: queues, releases, cancels and views. The guard
 * starts funded, since the test kit's calls do not move the value they carry.
 */
export const withdrawalGuardWorkload: ModuleWorkload = {
  steps: 80,
  seed: 13n,
  params: {delayBlocks: '2'},
  balances: {[moduleAddress(WITHDRAWAL_GUARD_ID)]: 10n ** 20n},
  step(rng) {
    const roll = rng.below(6n)
    if (roll === 0n) return {kind: 'advance', blocks: rng.below(3n)}
    if (roll === 1n) return {kind: 'call', name: 'queue', args: [rng.pick(ACCOUNTS)], sender: rng.pick(ACCOUNTS), value: 1n + rng.below(1000n)}
    if (roll === 2n) return {kind: 'call', name: 'release', args: [1n + rng.below(8n)], sender: rng.pick(ACCOUNTS)}
    if (roll === 3n) return {kind: 'call', name: 'cancel', args: [1n + rng.below(8n)], sender: rng.pick(ACCOUNTS)}
    if (roll === 4n) return {kind: 'call', name: 'queued', args: [1n + rng.below(8n)]}
    return {kind: 'call', name: 'outflow', args: [rng.pick(ACCOUNTS)]}
  },
}
