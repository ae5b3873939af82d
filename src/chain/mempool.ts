import {EventEmitter} from 'node:events'

import {Capability, type TypedTransaction, TransactionType} from '@ethereumjs/tx'
import {Address, bytesToHex, hexToBytes} from '@ethereumjs/util'
import type {MerkleStateManager} from '@ethereumjs/statemanager'

import {ExitCode, XaiError} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import type {SecurityEventKind, Telemetry} from '../util/telemetry.js'
import type {BlockRecord, Chain} from './chain.js'
import {decodeTransaction, sealTransaction, toChainTx} from './chain.js'
import {pinEncoding} from './seal.js'

/** A transaction the pool holds, with its sender recovered once at admission. */
export interface PooledTx {
  tx: TypedTransaction
  hash: Uint8Array
  sender: Uint8Array
  addedAt: number
}

/**
 * A transaction the pool refused. The message is the wording geth uses, because viem and ethers
 * classify errors by it; `rpcCode` is the JSON-RPC error code to answer with.
 */
export class TxRejectedError extends XaiError {
  readonly rpcCode: number
  constructor(message: string, options: {rpcCode?: number; cause?: unknown} = {}) {
    super('TX_REJECTED', message, {exitCode: ExitCode.chainRejected, cause: options.cause})
    this.rpcCode = options.rpcCode ?? -32000
  }
}

export interface MempoolOptions {
  logger?: Logger
  /** Send-to-commit latency and module refusals (security events) go here. */
  telemetry?: Telemetry
  /** Transactions held in all (default 10,000). */
  maxSize?: number
  /** Transactions held per sender (default 1,000). */
  maxPerSender?: number
  /** How far past the account nonce a transaction may be queued (default 1,000). */
  maxNonceGap?: number
  /** Largest serialized transaction in bytes (default 128 KiB, as geth). */
  maxTxBytes?: number
  /** Fee increase in percent a replacement must offer (default 10). */
  priceBump?: number
}

/** What selection needs of a block already being built: where each sender's lane continues. */
export interface OpenBlockView {
  /** The next nonce of `sender` (lowercase hex) after the block's transactions, if it holds any. */
  expectedNonce(sender: string): bigint | undefined
  /** Whether the block stopped taking `sender`'s transactions. */
  isBlocked(sender: string): boolean
}

interface SenderQueue {
  /** The account nonce in the head state. */
  stateNonce: bigint
  txs: Map<bigint, PooledTx>
}

const hexKey = (b: Uint8Array): string => bytesToHex(b)

/**
 * Blob (EIP-4844, type 3) transactions are refused: blocks here carry no blob sidecars, so a blob
 * transaction could not be made available. geth's words first (clients classify by them), then why.
 */
export const BLOB_REFUSAL = 'transaction type not supported: blob (type 3) transactions need blob data, which this chain does not carry; send type 2 (or 4 for EIP-7702)'

/**
 * Transactions waiting for a block: per-sender nonce order, gaps queued until filled, replacement
 * only with a fee bump, bounded in size. Validation runs against the head state at admission;
 * the block builder reports the transactions that failed on execution, and they are dropped.
 */
export class Mempool extends EventEmitter<{tx: [PooledTx]}> {
  private readonly byHash = new Map<string, PooledTx>()
  private readonly senders = new Map<string, SenderQueue>()
  private readonly logger: Logger
  private readonly telemetry?: Telemetry
  private readonly maxSize: number
  private readonly maxPerSender: number
  private readonly maxNonceGap: number
  private readonly maxTxBytes: number
  private readonly priceBump: bigint
  private headState?: {root: Uint8Array; sm: Promise<MerkleStateManager>}
  /** The native modules running at the head, per head state. */
  private running?: {root: MerkleStateManager; modules: Promise<unknown[]>}

  constructor(
    private readonly chain: Chain,
    options: MempoolOptions = {},
  ) {
    super()
    this.logger = options.logger ?? silentLogger
    this.telemetry = options.telemetry
    this.maxSize = options.maxSize ?? 10_000
    this.maxPerSender = options.maxPerSender ?? 1_000
    this.maxNonceGap = options.maxNonceGap ?? 1_000
    this.maxTxBytes = options.maxTxBytes ?? 128 * 1024
    this.priceBump = BigInt(options.priceBump ?? 10)
    chain.on('block', (record) => this.onBlock(record))
  }

  get size(): number {
    return this.byHash.size
  }

  /** Decodes, validates and admits a serialized transaction; returns its hash. */
  async addRaw(raw: Uint8Array): Promise<Uint8Array> {
    if (raw.length > this.maxTxBytes) throw new TxRejectedError('oversized data')
    if (raw.length > 0 && raw[0] === TransactionType.BlobEIP4844) throw new TxRejectedError(BLOB_REFUSAL)
    let tx: TypedTransaction
    try {
      tx = decodeTransaction(this.chain, raw)
    } catch (err) {
      throw new TxRejectedError(decodeErrorMessage((err as Error).message), {cause: err})
    }
    return this.add(tx)
  }

  /**
   * Validates and admits a decoded transaction; returns its hash. `sender` pins the sender
   * without recovering it: only for a development node's impersonated accounts
   * (anvil_impersonateAccount), whose transactions carry a placeholder signature.
   */
  async add(tx: TypedTransaction, options: {sender?: Address; settle?: boolean} = {}): Promise<Uint8Array> {
    if (tx.type === TransactionType.BlobEIP4844) throw new TxRejectedError(BLOB_REFUSAL)
    if (!tx.isSigned()) throw new TxRejectedError('invalid sender')
    const hash = pinEncoding(tx)
    const key = hexKey(hash)
    if (this.byHash.has(key)) throw new TxRejectedError('already known')
    try {
      sealTransaction(tx, options.sender)
    } catch (err) {
      throw new TxRejectedError('invalid sender', {cause: err})
    }
    const senderAddress = tx.getSenderAddress()
    const sender = senderAddress.bytes
    const head = this.chain.head.header
    if (tx.gasLimit > head.gasLimit) throw new TxRejectedError('exceeds block gas limit')
    if (tx.gasLimit < tx.getIntrinsicGas()) throw new TxRejectedError('intrinsic gas too low')
    const maxFee = maxFeeOf(tx)
    if (maxFee < this.chain.nextBaseFee()) throw new TxRejectedError('max fee per gas less than block base fee')

    const account = await (await this.stateAtHead()).getAccount(senderAddress)
    const stateNonce = account?.nonce ?? 0n
    const balance = account?.balance ?? 0n
    if (tx.nonce < stateNonce) throw new TxRejectedError('nonce too low')
    if (tx.nonce > stateNonce + BigInt(this.maxNonceGap)) throw new TxRejectedError('nonce too high')
    const cost = tx.gasLimit * maxFee + tx.value
    if (balance < cost) {
      throw new TxRejectedError(
        `insufficient funds for gas * price + value: address ${senderAddress.toString()} have ${balance} want ${cost}`,
      )
    }

    await this.checkByModules(tx)

    const senderKey = hexKey(sender)
    let queue = this.senders.get(senderKey)
    if (!queue) {
      queue = {stateNonce, txs: new Map()}
      this.senders.set(senderKey, queue)
    } else {
      queue.stateNonce = stateNonce
    }
    const existing = queue.txs.get(tx.nonce)
    if (existing) {
      const bump = (fee: bigint): bigint => fee + (fee * this.priceBump) / 100n
      if (maxFee < bump(maxFeeOf(existing.tx)) || tipOf(tx) < bump(tipOf(existing.tx))) {
        throw new TxRejectedError('replacement transaction underpriced')
      }
      this.byHash.delete(hexKey(existing.hash))
    } else {
      if (queue.txs.size >= this.maxPerSender || this.byHash.size >= this.maxSize) {
        if (queue.txs.size === 0) this.senders.delete(senderKey)
        throw new TxRejectedError('txpool is full')
      }
    }
    const pooled: PooledTx = {tx, hash, sender, addedAt: Date.now()}
    queue.txs.set(tx.nonce, pooled)
    this.byHash.set(key, pooled)
    this.emit('tx', pooled)
    if (this.settle && options.settle !== false) await this.settle(hash)
    return hash
  }

  /**
   * What admission waits for before it returns (automine waits for the transaction's block, as
   * anvil's eth_sendRawTransaction does).
   */
  settle?: (hash: Uint8Array) => Promise<void>

  /** Whether the pool holds `hash` and it can go into the next block (no nonce gap before it). */
  isExecutable(hash: Uint8Array): boolean {
    const pooled = this.byHash.get(hexKey(hash))
    if (!pooled) return false
    const queue = this.senders.get(hexKey(pooled.sender))
    if (!queue) return false
    for (let nonce = queue.stateNonce; nonce < pooled.tx.nonce; nonce++) if (!queue.txs.has(nonce)) return false
    return true
  }

  /** The native modules' verdict at the head (validateTx of a module it is sent to, every checkTx). */
  private async checkByModules(tx: TypedTransaction): Promise<void> {
    const host = this.chain.modules
    if (!host) return
    const sm = await this.stateAtHead()
    const head = this.chain.head.header
    const height = head.number + 1n
    if (this.running?.root !== sm) this.running = {root: sm, modules: host.runningModules(sm as never, height)}
    const modules = await this.running.modules.catch(() => undefined)
    const env = {height, timestamp: head.timestamp + 1n, coinbase: '0x0000000000000000000000000000000000000000' as const, baseFeePerGas: this.chain.nextBaseFee()}
    const check = await host.checkTx(sm as never, env, toChainTx(tx), {modules})
    if (!check.ok) {
      this.telemetry?.security(moduleRejectKind(check.module), `transaction rejected by module ${check.module}`, {
        module: check.module,
        reason: check.reason,
        tx: bytesToHex(tx.hash()),
      })
      throw new TxRejectedError(`rejected by module ${check.module}: ${check.reason}`)
    }
  }

  get(hash: Uint8Array): PooledTx | undefined {
    return this.byHash.get(hexKey(hash))
  }

  /** The next nonce for `address`, counting its contiguous pending transactions. */
  async pendingNonce(address: Uint8Array): Promise<bigint> {
    const account = await (await this.stateAtHead()).getAccount(new Address(address))
    let nonce = account?.nonce ?? 0n
    const queue = this.senders.get(hexKey(address))
    if (queue) while (queue.txs.has(nonce)) nonce++
    return nonce
  }

  status(): {pending: number; queued: number} {
    const {pending, queued} = this.content()
    return {pending: pending.length, queued: queued.length}
  }

  /** Pending: executable now (contiguous from the account nonce); queued: waiting for a gap to fill. */
  content(): {pending: PooledTx[]; queued: PooledTx[]} {
    const pending: PooledTx[] = []
    const queued: PooledTx[] = []
    for (const queue of this.senders.values()) {
      const nonces = [...queue.txs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      let next = queue.stateNonce
      for (const nonce of nonces) {
        const pooled = queue.txs.get(nonce)!
        if (nonce === next) {
          pending.push(pooled)
          next++
        } else {
          queued.push(pooled)
        }
      }
    }
    return {pending, queued}
  }

  /** Whether any transaction can go into the next block. */
  hasPending(): boolean {
    for (const queue of this.senders.values()) if (queue.txs.has(queue.stateNonce)) return true
    return false
  }

  /**
   * Candidates for the next block, highest tip first while each sender's nonces stay in order.
   * How many fit is decided by the builder on the gas actually used (a transaction's gas limit is
   * usually well above what it uses), so this offers up to `maxCount` of them. With `open`, the
   * selection continues a block already being built.
   */
  selectForBlock(baseFee: bigint, maxCount = 5_000, open?: OpenBlockView): TypedTransaction[] {
    const heap = new LaneHeap(baseFee)
    for (const [sender, queue] of this.senders) {
      if (open?.isBlocked(sender)) continue
      const lane: PooledTx[] = []
      const inBlock = open?.expectedNonce(sender)
      const first = inBlock !== undefined && inBlock > queue.stateNonce ? inBlock : queue.stateNonce
      for (let nonce = first; ; nonce++) {
        const pooled = queue.txs.get(nonce)
        if (!pooled) break
        lane.push(pooled)
      }
      if (lane.length > 0) heap.push({lane, at: 0})
    }
    const out: TypedTransaction[] = []
    while (heap.size > 0 && out.length < maxCount) {
      const cursor = heap.pop()!
      const pooled = cursor.lane[cursor.at]!
      if (maxFeeOf(pooled.tx) < baseFee) continue // this sender waits for a lower base fee
      out.push(pooled.tx)
      if (cursor.at + 1 < cursor.lane.length) heap.push({lane: cursor.lane, at: cursor.at + 1})
    }
    return out
  }

  /** Removes transactions the builder found invalid against the state they met. */
  drop(txs: TypedTransaction[], reason: string): void {
    for (const tx of txs) {
      const pooled = this.byHash.get(hexKey(tx.hash()))
      if (!pooled) continue
      this.remove(pooled)
      this.logger.debug('dropped transaction', {hash: pooled.hash, reason})
    }
  }

  /** Removes one transaction by hash (anvil_dropTransaction); whether the pool held it. */
  dropByHash(hash: Uint8Array): boolean {
    const pooled = this.byHash.get(hexKey(hash))
    if (!pooled) return false
    this.remove(pooled)
    return true
  }

  /** Empties the pool; returns what it held, oldest first. */
  clear(): PooledTx[] {
    const all = [...this.byHash.values()].sort((a, b) => a.addedAt - b.addedAt)
    this.byHash.clear()
    this.senders.clear()
    return all
  }

  /**
   * Re-reads every sender's nonce from the head state after it changed outside a block (cheats,
   * a rewind) and drops what became stale.
   */
  async resync(): Promise<void> {
    const sm = await this.stateAtHead()
    for (const [senderKey, queue] of this.senders) {
      const account = await sm.getAccount(new Address(hexToBytes(senderKey as `0x${string}`)))
      queue.stateNonce = account?.nonce ?? 0n
      for (const [nonce, pooled] of queue.txs) {
        if (nonce < queue.stateNonce) {
          queue.txs.delete(nonce)
          this.byHash.delete(hexKey(pooled.hash))
        }
      }
      if (queue.txs.size === 0) this.senders.delete(senderKey)
    }
  }

  private remove(pooled: PooledTx): void {
    this.byHash.delete(hexKey(pooled.hash))
    const senderKey = hexKey(pooled.sender)
    const queue = this.senders.get(senderKey)
    if (!queue) return
    if (queue.txs.get(pooled.tx.nonce) === pooled) queue.txs.delete(pooled.tx.nonce)
    if (queue.txs.size === 0) this.senders.delete(senderKey)
  }

  private onBlock(record: BlockRecord): void {
    const {block, senders} = record
    const committedAt = Date.now()
    block.transactions.forEach((tx, i) => {
      const senderKey = hexKey(senders[i]!)
      const queue = this.senders.get(senderKey)
      if (!queue) return
      if (tx.nonce + 1n > queue.stateNonce) queue.stateNonce = tx.nonce + 1n
      const pooled = queue.txs.get(tx.nonce)
      if (pooled && this.telemetry && committedAt - pooled.addedAt >= 0 && bytesEqual(pooled.hash, tx.hash())) {
        this.telemetry.sendToCommit.observe((committedAt - pooled.addedAt) / 1000)
      }
      if (pooled) {
        // Included, or made stale by another transaction with the same nonce.
        this.byHash.delete(hexKey(pooled.hash))
        queue.txs.delete(tx.nonce)
      }
    })
    // Drop what the block made stale (a nonce now below the account's).
    for (const sender of new Set(senders.map(hexKey))) {
      const queue = this.senders.get(sender)
      if (!queue) continue
      for (const [nonce, pooled] of queue.txs) {
        if (nonce < queue.stateNonce) {
          queue.txs.delete(nonce)
          this.byHash.delete(hexKey(pooled.hash))
        }
      }
      if (queue.txs.size === 0) this.senders.delete(sender)
    }
  }

  /** A state manager at the head; a new one per head so reads in flight never see a mix. */
  private stateAtHead(): Promise<MerkleStateManager> {
    const root = this.chain.headStateRoot
    if (this.headState?.root !== root) {
      const sm = this.chain.createStateManager()
      this.headState = {root, sm: sm.setStateRoot(root).then(() => sm)}
    }
    return this.headState.sm
  }
}

function maxFeeOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket) ? (tx as {maxFeePerGas: bigint} & TypedTransaction).maxFeePerGas : (tx as {gasPrice: bigint} & TypedTransaction).gasPrice
}

function tipOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket)
    ? (tx as {maxPriorityFeePerGas: bigint} & TypedTransaction).maxPriorityFeePerGas
    : (tx as {gasPrice: bigint} & TypedTransaction).gasPrice
}

/** The tip a transaction pays the proposer at a given base fee. */
export function effectiveTip(tx: TypedTransaction, baseFee: bigint): bigint {
  const maxFee = maxFeeOf(tx)
  const tip = tipOf(tx)
  return maxFee - baseFee < tip ? maxFee - baseFee : tip
}

function decodeErrorMessage(message: string): string {
  if (/chain ID|EIP155/i.test(message)) return 'invalid chain id'
  if (/maxFeePerGas cannot be less than maxPriorityFeePerGas/.test(message)) return 'max priority fee per gas higher than max fee per gas'
  if (/Invalid Signature|s-values/i.test(message)) return 'invalid sender'
  if (/gasLimit|nonce/.test(message) && /overflow|exceed|2\^64/i.test(message)) return `invalid transaction: ${message.split(' (')[0]}`
  if (/type/i.test(message) && /unknown|not supported|invalid/i.test(message)) return 'transaction type not supported'
  return `invalid transaction: ${message.split(' (')[0]}`
}

interface LaneCursor {
  lane: PooledTx[]
  at: number
}

/** A max-heap of sender lanes by the tip of their next transaction. */
class LaneHeap {
  private readonly items: LaneCursor[] = []
  constructor(private readonly baseFee: bigint) {}

  get size(): number {
    return this.items.length
  }

  private key(c: LaneCursor): bigint {
    return effectiveTip(c.lane[c.at]!.tx, this.baseFee)
  }

  private before(a: LaneCursor, b: LaneCursor): boolean {
    const ka = this.key(a)
    const kb = this.key(b)
    if (ka !== kb) return ka > kb
    return a.lane[a.at]!.addedAt < b.lane[b.at]!.addedAt
  }

  push(c: LaneCursor): void {
    const items = this.items
    items.push(c)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): LaneCursor | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < items.length && this.before(items[l]!, items[best]!)) best = l
        if (r < items.length && this.before(items[r]!, items[best]!)) best = r
        if (best === i) break
        ;[items[i], items[best]] = [items[best]!, items[i]!]
        i = best
      }
    }
    return top
  }
}

/** The security event kind of a module's refusal: the guard's and the rule engine's have their own. */
function moduleRejectKind(module: string): SecurityEventKind {
  if (module === 'withdrawal-guard') return 'guard-reject'
  if (module === 'rule-engine') return 'rule-reject'
  return 'module-reject'
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
