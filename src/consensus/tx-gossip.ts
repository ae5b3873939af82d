import {RLP} from '@ethereumjs/rlp'
import type {TypedTransaction} from '@ethereumjs/tx'
import {bytesToHex} from '@ethereumjs/util'
import {keccak_256} from '@noble/hashes/sha3.js'

import type {Mempool, PooledTx} from '../chain/mempool.js'
import {pinEncoding} from '../chain/seal.js'
import {errorMessage} from '../util/errors.js'
import type {Telemetry} from '../util/telemetry.js'
import {type Logger, silentLogger} from '../util/logger.js'
import type {P2PHost} from '../p2p/host.js'

type Bytes = Uint8Array

/** Transactions sent together at the most, and how long one waits for company. */
const MAX_BATCH = 512
const BATCH_DELAY_MS = 40
/** Transactions one gossip message may carry before the rest of it is ignored. */
const MAX_INBOUND_BATCH = 1_024

/**
 * Spreads the transactions a node admits (from RPC) to its peers, batched, and admits what peers
 * send. A transaction that arrived by gossip is not sent on again: every node hears from every
 * other directly (gossipsub floods to all subscribed peers).
 */
export class TxGossip {
  private readonly fromPeers = new Set<string>()
  private batch: Bytes[] = []
  private timer?: NodeJS.Timeout
  private closed = false
  private readonly logger: Logger

  constructor(
    private readonly mempool: Mempool,
    private readonly host: P2PHost,
    private readonly decode: (raw: Bytes) => TypedTransaction,
    logger?: Logger,
    /** Keccak-256 (the chain's): a transaction's hash is that of its encoding. */
    private readonly keccak: (data: Bytes) => Bytes = keccak_256,
    private readonly telemetry?: Telemetry,
  ) {
    this.logger = logger ?? silentLogger
  }

  start(): void {
    this.mempool.on('tx', this.onTx)
    this.host.subscribe('tx', (data, from) => void this.onGossip(data, from))
  }

  close(): void {
    this.closed = true
    this.mempool.off('tx', this.onTx)
    if (this.timer) clearTimeout(this.timer)
    this.flush()
  }

  private readonly onTx = (pooled: PooledTx): void => {
    const key = bytesToHex(pooled.hash)
    if (this.fromPeers.delete(key)) return
    this.batch.push(pooled.tx.serialize())
    if (this.batch.length >= MAX_BATCH) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), BATCH_DELAY_MS)
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.batch.length === 0) return
    const data = RLP.encode(this.batch)
    this.batch = []
    this.host.publish('tx', data).catch((err) => this.logger.debug('tx gossip failed', {error: errorMessage(err)}))
  }

  private async onGossip(data: Bytes, from: string): Promise<void> {
    if (this.closed) return
    let list: unknown
    try {
      list = RLP.decode(data)
    } catch {
      if (this.telemetry) this.telemetry.security('bad-peer', 'dropped malformed tx gossip', {peer: from})
      else this.logger.debug('dropped malformed tx gossip', {from})
      return
    }
    if (!Array.isArray(list)) return
    for (const raw of list.slice(0, MAX_INBOUND_BATCH)) {
      if (!(raw instanceof Uint8Array)) continue
      // A transaction's hash is keccak256 of its encoding: one the pool holds already is known
      // without decoding it (a non-canonical encoding hashes differently and is decoded below).
      if (this.mempool.get(this.keccak(raw))) continue
      let tx: TypedTransaction
      try {
        tx = this.decode(raw)
      } catch {
        continue
      }
      const hash = pinEncoding(tx)
      if (this.mempool.get(hash)) continue
      const key = bytesToHex(hash)
      this.fromPeers.add(key)
      // Rejections (already known, nonce too low after a block, …) are normal here.
      await this.mempool.add(tx).catch(() => undefined)
      this.fromPeers.delete(key)
    }
  }
}
