import {RLP} from '@ethereumjs/rlp'

import {errorMessage} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {Telemetry} from '../util/telemetry.js'
import {decodeConsensusRecord} from './consensus-record.js'
import {type Evidence, decodeEvidenceList, encodeEvidenceList, evidenceKey, int, toInt} from './messages.js'
import type {ValidatorSet} from './validator-set.js'

type Bytes = Uint8Array

/** Evidence a proposer puts in one block at the most (and a gossip message may carry). */
export const MAX_EVIDENCE_PER_BLOCK = 16

/** Key under which the heights of blocks holding evidence are kept (beyond any real height). */
export const EVIDENCE_INDEX = 2n ** 64n - 1n

export interface CommittedEvidence {
  /** Height of the block that holds it. */
  height: number
  evidence: Evidence
}

/** What the evidence pool needs from the node. */
export interface EvidencePoolPorts {
  chainId: number
  /** The validator set that evidence from the network must name (the height being decided). */
  validators(): ValidatorSet
  /** The raw consensus record stored beside block `height` (the block store's `'c'` keys). */
  consensusRecord(height: bigint): Promise<Bytes | undefined>
  /** Gossips an encoded evidence list on the `evidence` topic (fire and forget). */
  publish(data: Bytes): void
  logger?: Logger
  /** Where the duplicate-vote security event is raised (default: one of its own, log only). */
  telemetry?: Telemetry
}

/**
 * Double-signing evidence: what is pending (seen here or on the network, not yet in a block) and
 * what committed blocks already hold (loaded from the store at start, so nothing is put in a block
 * twice, even across restarts).
 */
export class EvidencePool {
  private readonly pending = new Map<string, Evidence>()
  private readonly committedKeys = new Set<string>()
  private readonly committedList: CommittedEvidence[] = []
  private readonly logger: Logger
  private readonly telemetry: Telemetry
  private seenCount = 0
  private committedCount = 0

  constructor(private readonly ports: EvidencePoolPorts) {
    this.logger = ports.logger ?? silentLogger
    this.telemetry = ports.telemetry ?? new Telemetry({logger: this.logger, defaultMetrics: false})
  }

  /** Evidence seen for the first time (here or on the network) since the node started. */
  get seen(): number {
    return this.seenCount
  }

  /** Evidence committed in blocks since the node started. */
  get committedSinceStart(): number {
    return this.committedCount
  }

  /** How much evidence waits for a block. */
  get size(): number {
    return this.pending.size
  }

  /** Loads the evidence committed blocks hold, through the index of heights kept at EVIDENCE_INDEX. */
  async load(): Promise<void> {
    const raw = await this.ports.consensusRecord(EVIDENCE_INDEX)
    if (!raw) return
    const heights = (RLP.decode(raw) as Bytes[]).map((b) => toInt(b, 'evidence height'))
    for (const height of heights) {
      const record = await this.ports.consensusRecord(BigInt(height))
      const evidence = record ? decodeConsensusRecord(this.ports.chainId, record).evidence : []
      for (const e of evidence) {
        this.committedKeys.add(evidenceKey(e))
        this.committedList.push({height, evidence: e})
      }
    }
  }

  /**
   * Adds checked evidence (once: pending or committed evidence is ignored); gossips it when
   * `gossip` (this node saw the equivocation itself). Returns whether it was new.
   */
  add(evidence: Evidence, gossip: boolean): boolean {
    const key = evidenceKey(evidence)
    if (this.pending.has(key) || this.committedKeys.has(key)) return false
    this.pending.set(key, evidence)
    this.seenCount++
    const details = {
      validator: evidence.first.vote.validator,
      height: evidence.first.vote.height,
      round: evidence.first.vote.round,
      type: evidence.first.vote.type,
      values: [evidence.first.vote.value, evidence.second.vote.value],
    }
    this.telemetry.security('duplicate-vote', 'security: a validator signed two conflicting votes', details)
    if (gossip) this.ports.publish(encodeEvidenceList([evidence]))
    return true
  }

  /** Evidence from the network: decoded and checked against the current set; malformed lists are dropped. */
  onGossip(data: Bytes): void {
    let list: Evidence[]
    try {
      list = decodeEvidenceList(this.ports.chainId, data, this.ports.validators())
    } catch (err) {
      this.logger.debug('dropped malformed evidence', {error: errorMessage(err)})
      return
    }
    for (const e of list.slice(0, MAX_EVIDENCE_PER_BLOCK)) this.add(e, false)
  }

  /** What a proposer puts in its block: the oldest pending evidence, at most MAX_EVIDENCE_PER_BLOCK. */
  forBlock(): Evidence[] {
    return [...this.pending.values()].slice(0, MAX_EVIDENCE_PER_BLOCK)
  }

  isCommitted(evidence: Evidence): boolean {
    return this.committedKeys.has(evidenceKey(evidence))
  }

  /** The index of heights holding evidence once block `height` (which holds some) is committed. */
  indexRecord(height: number): Bytes {
    const heights = [...new Set([...this.committedList.map((e) => e.height), height])]
    return RLP.encode(heights.map((h) => int(h)))
  }

  /** Block `height`, holding `evidence`, is committed: it leaves the pending pool for good. */
  markCommitted(height: number, evidence: Evidence[]): void {
    for (const e of evidence) {
      const key = evidenceKey(e)
      this.pending.delete(key)
      if (this.committedKeys.has(key)) continue
      this.committedKeys.add(key)
      this.committedList.push({height, evidence: e})
      this.committedCount++
      // Raised as a security event when it was seen (add); this records where it landed.
      this.logger.warn('evidence of double signing committed', {
        height,
        validator: e.first.vote.validator,
        voteHeight: e.first.vote.height,
        round: e.first.vote.round,
        type: e.first.vote.type,
      })
    }
  }

  /** Gossips every pending piece again (gossip is lossy; a stalled round repeats it). */
  regossip(): void {
    for (const evidence of this.pending.values()) this.ports.publish(encodeEvidenceList([evidence]))
  }

  /** For RPC: committed evidence (with its block's height) and pending evidence. */
  list(): {committed: CommittedEvidence[]; pending: Evidence[]} {
    return {committed: [...this.committedList], pending: [...this.pending.values()]}
  }
}
