import {type Block, createBlockFromRLP} from '@ethereumjs/block'
import type {Common} from '@ethereumjs/common'
import {RLP} from '@ethereumjs/rlp'
import {Address, bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex} from '@ethereumjs/util'
import type {Log} from '@ethereumjs/evm'

import type {Bytes, KeyValueStore, WriteOp} from '../storage/database.js'
import {sealTransaction} from './seal.js'

/** What a node keeps of one executed transaction. */
export interface ReceiptRecord {
  status: 0 | 1
  cumulativeGasUsed: bigint
  gasUsed: bigint
  logs: Log[]
  /** The address a contract-creating transaction deployed to. */
  contractAddress?: Bytes
}

/** A committed block with what executing it produced. */
export interface BlockRecord {
  block: Block
  /** The sender of each transaction, recovered once at admission. */
  senders: Bytes[]
  receipts: ReceiptRecord[]
  /** Logs of the native modules' block hooks (beginBlock, endBlock): in no receipt. */
  events?: Log[]
}

const enc = new TextEncoder()
const K_HEAD = enc.encode('H')
const K_GENESIS = enc.encode('G')
const P_BLOCK = 0x62 // 'b' + hash → block record
const P_NUMBER = 0x68 // 'h' + uint64 → hash
const P_TX = 0x78 // 'x' + tx hash → [block hash, index]
const P_CONSENSUS = 0x63 // 'c' + uint64 height → the block's consensus record (commit, evidence)
const K_OVERLAY = enc.encode('S') // RLP [head hash, state root]: the head state as cheats changed it
const P_PRESTATE = 0x70 // 'p' + block hash → the state root the block was built on, when cheats changed its parent's

function prefixed(prefix: number, key: Bytes): Bytes {
  const out = new Uint8Array(key.length + 1)
  out[0] = prefix
  out.set(key, 1)
  return out
}

function numberKey(n: bigint, prefix = P_NUMBER): Bytes {
  const out = new Uint8Array(9)
  out[0] = prefix
  new DataView(out.buffer).setBigUint64(1, n)
  return out
}

const hexKey = (b: Bytes): string => bytesToHex(b)

/** Decoded transactions kept in the recent-block cache at the most. */
const MAX_CACHED_TXS = 4_096

/**
 * Blocks, receipts and the transaction index, on the key-value store, with the most recent
 * records kept decoded in memory. Writing a block is one atomic batch that also carries the state
 * trie's new nodes and the head pointer: after a crash the store holds every committed block
 * or none of a half-written one.
 */
export class BlockStore {
  private readonly recent = new Map<string, BlockRecord>()
  private recentTxs = 0
  private readonly byNumber = new Map<bigint, Bytes>()
  private readonly txIndex = new Map<string, {blockHash: Bytes; index: number}>()

  constructor(
    private readonly store: KeyValueStore,
    private readonly common: Common,
    private readonly cacheSize = 256,
  ) {}

  async headHash(): Promise<Bytes | undefined> {
    return this.store.get(K_HEAD)
  }

  async genesisHash(): Promise<Bytes | undefined> {
    return this.store.get(K_GENESIS)
  }

  /** The ops that commit `record` as the new head (the caller adds the trie nodes). */
  commitOps(record: BlockRecord, options: {genesis?: boolean} = {}): WriteOp[] {
    const {block} = record
    const hash = block.hash()
    const ops: WriteOp[] = [
      {type: 'put', key: prefixed(P_BLOCK, hash), value: encodeRecord(record)},
      {type: 'put', key: numberKey(block.header.number), value: hash},
      {type: 'put', key: K_HEAD, value: hash},
    ]
    if (options.genesis) ops.push({type: 'put', key: K_GENESIS, value: hash})
    block.transactions.forEach((tx, index) => {
      ops.push({type: 'put', key: prefixed(P_TX, tx.hash()), value: RLP.encode([hash, bigIntToUnpaddedBytes(BigInt(index))])})
    })
    return ops
  }

  /** Called once the batch from commitOps is durable. */
  remember(record: BlockRecord): void {
    const hash = record.block.hash()
    this.cache(hash, record)
    this.byNumber.set(record.block.header.number, hash)
    record.block.transactions.forEach((tx, index) => this.txIndex.set(hexKey(tx.hash()), {blockHash: hash, index}))
    if (this.byNumber.size > this.cacheSize * 4) {
      const oldest = this.byNumber.keys().next().value as bigint
      this.byNumber.delete(oldest)
    }
    if (this.txIndex.size > MAX_CACHED_TXS * 4) {
      let drop = this.txIndex.size - MAX_CACHED_TXS * 2
      for (const key of this.txIndex.keys()) {
        if (drop-- <= 0) break
        this.txIndex.delete(key)
      }
    }
  }

  async write(ops: WriteOp[], record?: BlockRecord): Promise<void> {
    await this.store.batch(ops)
    if (record) this.remember(record)
  }

  /** The put recording that the head `headHash` has state `root` (changed by cheats after it). */
  overlayOp(headHash: Bytes, root: Bytes): WriteOp {
    return {type: 'put', key: K_OVERLAY, value: RLP.encode([headHash, root])}
  }

  overlayDelOp(): WriteOp {
    return {type: 'del', key: K_OVERLAY}
  }

  /** The head state cheats left on `headHash`, if any (a record for another head is stale). */
  async overlayRoot(headHash: Bytes): Promise<Bytes | undefined> {
    const raw = await this.store.get(K_OVERLAY)
    if (!raw) return undefined
    const [hash, root] = RLP.decode(raw) as Bytes[]
    return hash && root && bytesToHex(hash) === bytesToHex(headHash) ? root : undefined
  }

  preStateOp(blockHash: Bytes, root: Bytes): WriteOp {
    return {type: 'put', key: prefixed(P_PRESTATE, blockHash), value: root}
  }

  async preStateRoot(blockHash: Bytes): Promise<Bytes | undefined> {
    return this.store.get(prefixed(P_PRESTATE, blockHash))
  }

  /**
   * The ops that make `target` the head again and delete the `removed` blocks (records, number
   * and transaction index entries, consensus records), with `root` as the head state if cheats
   * changed it.
   */
  rewindOps(target: BlockRecord, removed: BlockRecord[], root?: Bytes): WriteOp[] {
    const ops: WriteOp[] = [{type: 'put', key: K_HEAD, value: target.block.hash()}]
    ops.push(root ? this.overlayOp(target.block.hash(), root) : this.overlayDelOp())
    for (const record of removed) {
      const hash = record.block.hash()
      ops.push({type: 'del', key: prefixed(P_BLOCK, hash)}, {type: 'del', key: prefixed(P_PRESTATE, hash)})
      ops.push({type: 'del', key: numberKey(record.block.header.number)}, {type: 'del', key: numberKey(record.block.header.number, P_CONSENSUS)})
      for (const tx of record.block.transactions) ops.push({type: 'del', key: prefixed(P_TX, tx.hash())})
    }
    return ops
  }

  /** Drops removed blocks from the in-memory caches (after the rewindOps batch is durable). */
  forget(removed: BlockRecord[]): void {
    for (const record of removed) {
      const key = hexKey(record.block.hash())
      const cached = this.recent.get(key)
      if (cached) {
        this.recent.delete(key)
        this.recentTxs -= cached.block.transactions.length
      }
      if (this.byNumber.has(record.block.header.number)) this.byNumber.delete(record.block.header.number)
      for (const tx of record.block.transactions) this.txIndex.delete(hexKey(tx.hash()))
    }
  }

  async hashByNumber(n: bigint): Promise<Bytes | undefined> {
    const cached = this.byNumber.get(n)
    if (cached) return cached
    if (n < 0n || n >= 2n ** 64n) return undefined
    return this.store.get(numberKey(n))
  }

  async recordByHash(hash: Bytes): Promise<BlockRecord | undefined> {
    const key = hexKey(hash)
    const cached = this.recent.get(key)
    if (cached) return cached
    const raw = await this.store.get(prefixed(P_BLOCK, hash))
    if (!raw) return undefined
    const record = decodeRecord(raw, this.common)
    this.cache(hash, record)
    return record
  }

  async recordByNumber(n: bigint): Promise<BlockRecord | undefined> {
    const hash = await this.hashByNumber(n)
    return hash ? this.recordByHash(hash) : undefined
  }

  /**
   * The put of a block's consensus record (its commit and evidence, encoded by the consensus
   * layer), to go in the same batch as the block.
   */
  consensusOp(height: bigint, value: Bytes): WriteOp {
    return {type: 'put', key: numberKey(height, P_CONSENSUS), value}
  }

  async consensusRecord(height: bigint): Promise<Bytes | undefined> {
    if (height < 0n || height >= 2n ** 64n) return undefined
    return this.store.get(numberKey(height, P_CONSENSUS))
  }

  async txLocation(txHash: Bytes): Promise<{blockHash: Bytes; index: number} | undefined> {
    const cached = this.txIndex.get(hexKey(txHash))
    if (cached) return cached
    const raw = await this.store.get(prefixed(P_TX, txHash))
    if (!raw) return undefined
    const [blockHash, index] = RLP.decode(raw) as Bytes[]
    return {blockHash: blockHash!, index: Number(bytesToBigInt(index!))}
  }

  /**
   * Recent records stay decoded, bounded by blocks and by the transactions they hold (a decoded
   * transaction costs a few KiB; a few hundred full blocks would cost hundreds of MiB).
   */
  private cache(hash: Bytes, record: BlockRecord): void {
    const key = hexKey(hash)
    const previous = this.recent.get(key)
    if (previous) {
      this.recent.delete(key)
      this.recentTxs -= previous.block.transactions.length
    }
    this.recent.set(key, record)
    this.recentTxs += record.block.transactions.length
    while (this.recent.size > 1 && (this.recent.size > this.cacheSize || this.recentTxs > MAX_CACHED_TXS)) {
      const [oldestKey, oldest] = this.recent.entries().next().value as [string, BlockRecord]
      this.recent.delete(oldestKey)
      this.recentTxs -= oldest.block.transactions.length
    }
  }
}

function encodeRecord(record: BlockRecord): Bytes {
  const receipts = record.receipts.map((r) => [
    r.status === 1 ? Uint8Array.of(1) : new Uint8Array(0),
    bigIntToUnpaddedBytes(r.cumulativeGasUsed),
    bigIntToUnpaddedBytes(r.gasUsed),
    r.logs,
    r.contractAddress ?? new Uint8Array(0),
  ])
  const fields: unknown[] = [record.block.serialize(), record.senders, receipts]
  if (record.events && record.events.length > 0) fields.push(record.events)
  return RLP.encode(fields as Parameters<typeof RLP.encode>[0])
}

function decodeRecord(raw: Bytes, common: Common): BlockRecord {
  const [blockBytes, senders, receipts, events] = RLP.decode(raw) as unknown as [Bytes, Bytes[], [Bytes, Bytes, Bytes, Log[], Bytes][], Log[] | undefined]
  const block = createBlockFromRLP(blockBytes, {common, skipConsensusFormatValidation: true, freeze: false})
  block.transactions.forEach((tx, i) => sealTransaction(tx, new Address(senders[i]!)))
  Object.freeze(block)
  return {
    block,
    senders,
    receipts: receipts.map(([status, cumulative, gasUsed, logs, contractAddress]) => ({
      status: status.length > 0 && status[0] === 1 ? 1 : 0,
      cumulativeGasUsed: bytesToBigInt(cumulative),
      gasUsed: bytesToBigInt(gasUsed),
      logs,
      contractAddress: contractAddress.length === 20 ? contractAddress : undefined,
    })),
    ...(events ? {events} : {}),
  }
}

