import {RLP} from '@ethereumjs/rlp'

import type {BlockRecord, BuiltBlock} from '../chain/chain.js'
import {errorMessage} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {Telemetry, secondsSince} from '../util/telemetry.js'
import type {RequestOptions} from '../p2p/host.js'
import {type BlockBundle, encodeBundle} from './block-codec.js'
import {decodeConsensusRecord} from './consensus-record.js'
import {type Commit, type Evidence, MessageError, decodeCommit, encodeCommit, int, toInt, verifyCommit} from './messages.js'
import type {ValidatorSet} from './validator-set.js'

type Bytes = Uint8Array

/** Blocks per sync request, and the response's size bound. */
export const SYNC_BATCH = 32
export const SYNC_MAX_BYTES = 8 * 2 ** 20
const SYNC_TIMEOUT_MS = 15_000

/** What block sync needs from the node: the chain, the network, the verifier and the event loop. */
export interface BlockSyncPorts {
  chainId: number
  /** The validator set a fetched block's commit must be signed by. */
  validators(): ValidatorSet
  /** The number of the head block. */
  headNumber(): number
  /** The height being decided (a status at or past it starts a sync). */
  height(): number
  /** Request/response over the network (P2PHost.request). */
  request(peer: string, protocol: string, data: Bytes, options: RequestOptions): Promise<Bytes[]>
  /** A committed block and its stored consensus record, for serving peers. */
  getBlock(height: bigint): Promise<BlockRecord | undefined>
  consensusRecord(height: bigint): Promise<Bytes | undefined>
  /** Decodes a bundle (throws MessageError on malformed bytes). */
  decodeBundle(bytes: Bytes): BlockBundle
  /** What is wrong with a bundle on our head without executing it (checkBundleShape), or undefined. */
  checkBundle(bundle: BlockBundle): string | undefined
  /** Re-executes a bundle on the head: the built block when it gives the bundle's hash, else undefined. */
  execute(bundle: BlockBundle): Promise<BuiltBlock | undefined>
  /** Commits a verified, executed block with its commit and evidence. */
  commit(built: BuiltBlock, commit: Commit, evidence: Evidence[]): Promise<void>
  /** A synced block was committed: move to the next height (without starting it while syncing). */
  advance(): void
  /** Runs a task on the engine's queue (one task at a time). */
  enqueue(task: () => Promise<void>): void
  /** A sync has ended (caught up, peer gone or a block refused). */
  finished(): void
  closed(): boolean
  logger?: Logger
  /** Re-execution time and invalid-block security events (default: its own, log only). */
  telemetry?: Telemetry
}

/**
 * Block sync: a status from a peer at or past the height being decided starts fetching the blocks
 * it has committed beyond our head, SYNC_BATCH at a time. Each is verified (its commit signed by
 * more than two thirds of the power for exactly that block, its shape, its re-execution to the
 * same hash) before it is committed; the first refused block ends the sync from that peer.
 */
export class BlockSync {
  private readonly peerHeights = new Map<string, number>()
  private active = false
  private synced = 0
  private readonly logger: Logger
  private readonly telemetry: Telemetry

  constructor(private readonly ports: BlockSyncPorts) {
    this.logger = ports.logger ?? silentLogger
    this.telemetry = ports.telemetry ?? new Telemetry({logger: this.logger, defaultMetrics: false})
  }

  /** Whether a sync is running (the height is not started meanwhile). */
  get syncing(): boolean {
    return this.active
  }

  /** Blocks fetched from peers and committed since the node started. */
  get blocksSynced(): number {
    return this.synced
  }

  /** A peer said which height it has committed. */
  onStatus(from: string, height: number): void {
    this.peerHeights.set(from, height)
    if (height >= this.ports.height() && !this.active) {
      this.active = true
      this.ports.enqueue(() => this.syncFrom(from).finally(() => this.finish()))
    }
  }

  private finish(): void {
    this.active = false
    this.ports.finished()
  }

  /** Fetches, verifies and executes the blocks `peer` has committed beyond our head. */
  async syncFrom(peer: string): Promise<void> {
    for (;;) {
      if (this.ports.closed()) return
      const from = this.ports.headNumber() + 1
      if ((this.peerHeights.get(peer) ?? 0) < from) return
      let chunks: Bytes[]
      try {
        chunks = await this.ports.request(peer, 'sync', RLP.encode([int(from), int(SYNC_BATCH)]), {timeoutMs: SYNC_TIMEOUT_MS, maxChunks: SYNC_BATCH, maxBytes: SYNC_MAX_BYTES})
      } catch (err) {
        this.logger.debug('block sync request failed', {peer, from, error: errorMessage(err)})
        return
      }
      if (chunks.length === 0) return
      for (const chunk of chunks) {
        if (!(await this.applySynced(chunk, peer))) return
      }
    }
  }

  /** Verifies and commits one fetched `[bundle, commit]`; false when it is refused. */
  private async applySynced(chunk: Bytes, peer: string): Promise<boolean> {
    let bundle: BlockBundle
    let commit: Commit
    try {
      const [bundleBytes, commitBytes] = RLP.decode(chunk) as Bytes[]
      if (!(bundleBytes instanceof Uint8Array) || !(commitBytes instanceof Uint8Array)) throw new MessageError('a sync item is [bundle, commit]')
      bundle = this.ports.decodeBundle(bundleBytes)
      commit = decodeCommit(commitBytes)
      const problem = this.ports.checkBundle(bundle)
      if (problem) throw new MessageError(problem)
      verifyCommit(this.ports.chainId, this.ports.validators(), commit, Number(bundle.header.number), bundle.hash)
    } catch (err) {
      this.telemetry.security('invalid-block', 'rejected a synced block', {peer, error: errorMessage(err)})
      return false
    }
    const started = performance.now()
    const built = await this.ports.execute(bundle)
    this.telemetry.reexecution.observe({source: 'sync'}, secondsSince(started))
    if (!built) {
      this.telemetry.security('invalid-block', 'a block a peer sent by block sync does not re-execute to its hash', {peer, height: Number(bundle.header.number), hash: bundle.hash})
      return false
    }
    await this.ports.commit(built, commit, bundle.evidence)
    this.synced++
    this.logger.info('synced block', {height: Number(bundle.header.number), hash: bundle.hash, txs: bundle.transactions.length, peer})
    this.ports.advance()
    return true
  }

  /** Answers a peer's `[from, count]` with up to SYNC_BATCH `[bundle, commit]` items of committed blocks. */
  async serve(request: Bytes): Promise<Bytes[]> {
    const [fromBytes, countBytes] = RLP.decode(request) as Bytes[]
    const from = toInt(fromBytes, 'sync from')
    const count = Math.min(SYNC_BATCH, toInt(countBytes, 'sync count'))
    const out: Bytes[] = []
    let size = 0
    for (let n = from; n < from + count && size < SYNC_MAX_BYTES / 2; n++) {
      const record = await this.ports.getBlock(BigInt(n))
      const consensus = await this.ports.consensusRecord(BigInt(n))
      if (!record || !consensus) break
      const {commit, evidence} = decodeConsensusRecord(this.ports.chainId, consensus)
      const item = RLP.encode([encodeBundle(record.block.serialize(), evidence), encodeCommit(commit)])
      size += item.length
      out.push(item)
    }
    return out
  }
}
