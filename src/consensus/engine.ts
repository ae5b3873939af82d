import {RLP} from '@ethereumjs/rlp'
import {Address, bytesToHex, hexToBytes} from '@ethereumjs/util'

import type {BuiltBlock, Chain, OpenBlock} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import {Mutex} from '../util/mutex.js'
import {errorMessage} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import type {WriteOp} from '../storage/database.js'
import type {P2PHost} from '../p2p/host.js'
import {type BlockBundle, decodeBundle, encodeBundle, hashId} from './block-codec.js'
import type {ValidatorKey} from './keys.js'
import {type MachineState, describe, initialState, step} from './machine.js'
import {
  type Commit,
  type ConsensusMessage,
  type Evidence,
  type SignedProposal,
  type SignedVote,
  MessageError,
  checkEvidence,
  commitFromPrecommits,
  decodeCommit,
  decodeEvidenceList,
  decodeMessage,
  encodeCommit,
  encodeEvidenceList,
  encodeMessage,
  evidenceCommitment,
  evidenceKey,
  int,
  signProposal,
  signVote,
  toInt,
  verifyCommit,
} from './messages.js'
import type {ConsensusEffect, ConsensusEvent, TimeoutConfig, ValidatorInfo, ValueId, Vote, VoteType} from './types.js'
import {ValidatorSet} from './validator-set.js'
import {ConsensusWal, type WalEntry} from './wal.js'

type Bytes = Uint8Array

/** Transactions executed into the proposer's open block between two turns of the event loop. */
const FEED_BATCH = 128
/** Blocks per sync request, and the response's size bound. */
const SYNC_BATCH = 32
const SYNC_MAX_BYTES = 8 * 2 ** 20
/** How often a node says where it is, and repeats its own votes while a round makes no progress. */
const STATUS_INTERVAL_MS = 1_000
const REGOSSIP_INTERVAL_MS = 1_000
/** Messages for heights ahead of ours kept until we get there. */
const MAX_FUTURE_MESSAGES = 2_000
/**
 * Round timeouts. The propose timeout only costs time when a proposer is down, so it is long
 * enough for a proposer on a busy laptop to build and send a full block (CometBFT's default is
 * 3 s); votes come quickly once the block is known.
 */
export function consensusTimeouts(blockTime: number): TimeoutConfig {
  return {
    proposeBase: Math.max(3_000, blockTime * 2),
    proposeDelta: 500,
    prevoteBase: 1_000,
    prevoteDelta: 500,
    precommitBase: 1_000,
    precommitDelta: 500,
  }
}

/**
 * How long a proposer spends executing transactions into its block before it seals it: a share of
 * the block time, so that every validator can re-execute the block well within the round.
 */
function buildBudgetMs(blockTime: number): number {
  return Math.max(200, Math.min(blockTime, 2_000) * 0.4)
}

/** How long a starting node waits for its peers before it takes part in a round anyway. */
const PEER_WAIT_MS = 2_000
/** Evidence a proposer puts in one block at the most. */
const MAX_EVIDENCE_PER_BLOCK = 16
/**
 * How far ahead of a validator's clock a proposed block's timestamp may be (geth allows 15 s)
 * unless it is the parent's + 1: further, the validator prevotes nil, so no proposer can move the
 * chain's time ahead of the validators' clocks. A decided block is committed whatever its time
 * (the commit is the proof).
 */
const MAX_FUTURE_TIMESTAMP_S = 15n

export interface ConsensusEngineOptions {
  chain: Chain
  mempool: Mempool
  validators: ValidatorSet
  /**
   * The validator set in the state of the head block (governance changes it), read after every
   * commit: the set for the next height. Undefined or an empty list keeps the current set.
   */
  validatorsAtHead?: () => Promise<readonly ValidatorInfo[] | undefined>
  /** This node's validator key; without one the node follows consensus but never votes. */
  key?: ValidatorKey
  host: P2PHost
  /** Folder of the write-ahead log. */
  walDir: string
  /** Target milliseconds between commits. */
  blockTime: number
  /** Make blocks without transactions (default true); false waits for a transaction, as CometBFT can. */
  emptyBlocks?: boolean
  timeouts?: TimeoutConfig
  logger?: Logger
  /** Test only: sign a second, conflicting vote for every vote (to exercise evidence handling). */
  doubleSign?: boolean
  now?: () => number
}

export interface CommittedEvidence {
  /** Height of the block that holds it. */
  height: number
  evidence: Evidence
}

export interface ConsensusStats {
  evidenceCommitted: number
  evidenceSeen: number
  roundsAboveZero: number
  blocksSynced: number
}

interface KnownBundle {
  bytes: Bytes
  bundle: BlockBundle
  valid: boolean
}

/**
 * The driver of the Tendermint state machine: it owns the clock (timeouts), the keys (signing),
 * the network (gossip and block sync), the write-ahead log and block execution. Everything that
 * touches the machine runs one task at a time on `work`, so the machine sees one event at a time.
 */
export class ConsensusEngine {
  private readonly chain: Chain
  private readonly mempool: Mempool
  /** The validator set of the height being decided (it changes when governance changes it). */
  validators: ValidatorSet
  private readonly key?: ValidatorKey
  private readonly host: P2PHost
  private readonly logger: Logger
  private readonly blockTime: number
  private readonly emptyBlocks: boolean
  private readonly timeouts: TimeoutConfig
  private readonly chainId: number
  private readonly doubleSign: boolean
  private readonly now: () => number
  private readonly work = new Mutex()
  private readonly walDir: string
  private wal!: ConsensusWal

  private machine!: MachineState
  /** The height being decided. */
  private height = 0
  private started = false
  private closed = false
  private replaying = false
  /** Own messages the WAL already holds (on replay they are not signed again). */
  private readonly replayOwn = new Set<string>()

  private readonly bundles = new Map<ValueId, KnownBundle>()
  private readonly proposalsByRound = new Map<number, SignedProposal>()
  /** Signatures of the votes seen at this height, by `${type}:${round}:${validator}:${value}`. */
  private readonly voteSignatures = new Map<string, Bytes>()
  /** This node's own signed messages at this height (repeated while a round stalls). */
  private readonly ownVotes = new Map<string, SignedVote>()
  private readonly ownProposals = new Map<number, SignedProposal>()
  private held?: {value: ValueId; built: BuiltBlock}
  private open?: {height: number; block: OpenBlock}
  private feeding = false
  private readonly future: {height: number; wire: Bytes}[] = []

  private readonly evidencePool = new Map<string, Evidence>()
  private readonly committedEvidenceKeys = new Set<string>()
  private readonly committedEvidence: CommittedEvidence[] = []

  private readonly timers = new Set<NodeJS.Timeout>()
  private startTimer?: NodeJS.Timeout
  private statusTimer?: NodeJS.Timeout
  private regossipTimer?: NodeJS.Timeout
  private heightStartedAt = 0
  private lastCommitAt = 0
  private lastDecideMs = 0
  private lastProgressAt = 0
  private readonly peerHeights = new Map<string, number>()
  private syncing = false
  private readonly validatorsAtHead?: () => Promise<readonly ValidatorInfo[] | undefined>
  readonly stats: ConsensusStats = {evidenceCommitted: 0, evidenceSeen: 0, roundsAboveZero: 0, blocksSynced: 0}

  constructor(options: ConsensusEngineOptions) {
    this.chain = options.chain
    this.mempool = options.mempool
    this.validators = options.validators
    this.validatorsAtHead = options.validatorsAtHead
    this.key = options.key
    this.host = options.host
    this.logger = options.logger ?? silentLogger
    this.blockTime = options.blockTime
    this.emptyBlocks = options.emptyBlocks ?? true
    this.timeouts = options.timeouts ?? consensusTimeouts(options.blockTime)
    this.chainId = Number(options.chain.chainId)
    this.doubleSign = options.doubleSign ?? false
    this.now = options.now ?? Date.now
    this.walDir = options.walDir
  }

  get address(): string | null {
    return this.key?.address ?? null
  }

  /** Opens the WAL, replays it, subscribes to the network, and starts deciding the next height. */
  async start(): Promise<void> {
    await this.loadCommittedEvidence()
    const {wal, entries} = ConsensusWal.open(this.walDir)
    this.wal = wal
    this.host.subscribe('consensus', (data, from) => this.onGossip(data, from))
    this.host.subscribe('evidence', (data) => this.onEvidenceGossip(data))
    this.host.handle('sync', (request) => this.serveSync(request))
    await this.refreshValidators()
    await this.waitForPeers()
    await this.work.run(async () => {
      this.resetHeight(Number(this.chain.head.header.number) + 1)
      const first = entries[0]
      if (first?.t === 'start' && first.height === this.height) {
        await this.replay(entries)
      } else {
        this.wal.startHeight(this.height)
        this.scheduleStart(0)
      }
    })
    this.statusTimer = setInterval(() => this.publishStatus(), STATUS_INTERVAL_MS)
    this.regossipTimer = setInterval(() => this.regossip(), REGOSSIP_INTERVAL_MS)
    this.mempool.on('tx', this.onPendingTx)
  }

  /**
   * At startup, wait (briefly) until the other validators are connected and subscribed to the
   * consensus topic: a round-0 proposal sent before is lost, and the height then takes a propose
   * timeout longer.
   */
  private async waitForPeers(): Promise<void> {
    const others = this.validators.validators.length - 1
    const deadline = this.now() + PEER_WAIT_MS
    while (this.host.topicPeers('consensus') < others && this.now() < deadline && !this.closed) await new Promise((r) => setTimeout(r, 25))
  }

  async close(): Promise<void> {
    this.closed = true
    this.mempool.off('tx', this.onPendingTx)
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    if (this.startTimer) clearTimeout(this.startTimer)
    if (this.statusTimer) clearInterval(this.statusTimer)
    if (this.regossipTimer) clearInterval(this.regossipTimer)
    await this.work.run(async () => {
      await this.dropSpeculative()
      await this.dropHeld()
      this.wal?.close()
    })
  }

  // ---- what RPC reads ----

  consensusState(): Record<string, unknown> {
    const d = describe(this.machine)
    return {
      ...d,
      started: this.started,
      syncing: this.syncing,
      proposer: this.validators.proposer(this.height, d.round),
      validator: this.address,
      lastCommitAt: this.lastCommitAt || null,
      lastDecideMs: this.lastDecideMs,
      pendingEvidence: this.evidencePool.size,
    }
  }

  evidence(): {committed: CommittedEvidence[]; pending: Evidence[]} {
    return {committed: [...this.committedEvidence], pending: [...this.evidencePool.values()]}
  }

  /** The consensus record (commit, evidence) stored beside block `height`. */
  async blockConsensus(height: bigint): Promise<{commit: Commit; evidence: Evidence[]} | undefined> {
    const raw = await this.chain.blocks.consensusRecord(height)
    return raw ? decodeConsensusRecord(this.chainId, raw) : undefined
  }

  // ---- heights ----

  private resetHeight(height: number): void {
    this.height = height
    this.started = false
    this.machine = initialState({validators: this.validators, self: this.key?.address ?? null, timeouts: this.timeouts}, height)
    this.bundles.clear()
    this.proposalsByRound.clear()
    this.voteSignatures.clear()
    this.ownVotes.clear()
    this.ownProposals.clear()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    if (this.startTimer) clearTimeout(this.startTimer)
    this.startTimer = undefined
  }

  /**
   * Starts the current height after `delayMs` (the pause that spaces commits by the block time).
   * Without empty blocks, it waits further until there is something to put in a block, or until
   * other validators have moved on to this height.
   */
  private scheduleStart(delayMs: number): void {
    const height = this.height
    this.startTimer = setTimeout(() => {
      this.startTimer = undefined
      if (!this.emptyBlocks && !this.mempool.hasPending() && this.evidencePool.size === 0 && !this.future.some((m) => m.height === height)) {
        return // onPendingTx or an incoming message starts it
      }
      this.enqueue(() => this.startHeight(height))
    }, delayMs)
    if (this.isProposer(height, 0)) this.enqueue(() => this.openSpeculative(height))
  }

  private async startHeight(height: number): Promise<void> {
    if (this.started || height !== this.height || this.closed) return
    if (this.startTimer) clearTimeout(this.startTimer)
    this.startTimer = undefined
    this.started = true
    this.heightStartedAt = this.now()
    this.lastProgressAt = this.heightStartedAt
    await this.apply({kind: 'start', height}, {t: 'start', height})
    const buffered = this.future.filter((m) => m.height === height)
    this.dropFuture(height)
    for (const m of buffered) await this.onMessage(m.wire, false)
  }

  private dropFuture(upTo: number): void {
    for (let i = this.future.length - 1; i >= 0; i--) if (this.future[i]!.height <= upTo) this.future.splice(i, 1)
  }

  private readonly onPendingTx = (): void => {
    if (!this.started && !this.startTimer && !this.closed && !this.syncing) {
      const height = this.height
      this.enqueue(() => this.startHeight(height))
    }
    if (this.open && !this.feeding) this.enqueueFeed()
  }

  // ---- the machine ----

  private async apply(event: ConsensusEvent, entry: WalEntry | null): Promise<void> {
    if (entry && !this.replaying) this.wal.append(entry)
    const before = this.machine
    const {state, effects} = step(this.machine, event)
    this.machine = state
    if (state !== before) this.lastProgressAt = this.now()
    for (const effect of effects) {
      if (this.closed) return
      await this.perform(effect)
    }
  }

  private async perform(effect: ConsensusEffect): Promise<void> {
    switch (effect.kind) {
      case 'timeout': {
        if (effect.height !== this.height) return
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          this.enqueue(async () => {
            if (effect.height !== this.height || !this.started) return
            const event = {kind: 'timeout', step: effect.step, height: effect.height, round: effect.round} as const
            await this.apply(event, {t: 'timeout', step: effect.step, height: effect.height, round: effect.round})
          })
        }, effect.ms)
        this.timers.add(timer)
        return
      }
      case 'vote':
        if (effect.vote.height !== this.height) return
        return this.castVote(effect.vote)
      case 'propose':
        if (effect.height !== this.height) return
        return this.propose(effect.round, effect.validValue, effect.validRound)
      case 'decide':
        return this.commitDecided(effect.round, effect.value, effect.precommits)
      case 'equivocation':
        return this.recordEquivocation(effect.first, effect.second)
    }
  }

  private async castVote(vote: Vote): Promise<void> {
    const key = this.key
    if (!key) return
    const slot = `${vote.type}:${vote.round}`
    if (this.replaying && this.replayOwn.has(slot)) return // the WAL holds it; it is replayed in order
    const previous = this.ownVotes.get(slot)
    if (previous) {
      if (previous.vote.value !== vote.value) {
        this.logger.error('refused to sign a second, different vote', {height: vote.height, round: vote.round, type: vote.type})
      }
      return
    }
    const signed = signVote(this.chainId, key, vote)
    const wire = encodeMessage({kind: 'vote', vote: signed})
    this.wal.append({t: 'msg', wire})
    this.wal.sync()
    this.ownVotes.set(slot, signed)
    this.publish('consensus', wire)
    if (this.doubleSign) {
      const other = vote.value === null ? hashId(new Uint8Array(32).fill(0xee)) : null
      this.publish('consensus', encodeMessage({kind: 'vote', vote: signVote(this.chainId, key, {...vote, value: other})}))
      this.logger.warn('signed a conflicting vote (test double-sign mode)', {height: vote.height, round: vote.round, type: vote.type})
    }
    this.rememberVote(signed)
    await this.apply({kind: 'vote', vote: signed.vote}, null)
  }

  private rememberVote(v: SignedVote): void {
    this.voteSignatures.set(voteKey(v.vote.type, v.vote.round, v.vote.validator, v.vote.value), v.signature)
  }

  // ---- proposing ----

  private isProposer(height: number, round: number): boolean {
    return this.key !== undefined && this.validators.proposer(height, round) === this.key.address
  }

  private async propose(round: number, validValue: ValueId | null, validRound: number): Promise<void> {
    const key = this.key
    if (!key) return
    if (this.replaying && this.replayOwn.has(`proposal:${round}`)) return
    let value: ValueId
    let bundleBytes: Bytes
    if (validValue !== null && this.bundles.has(validValue)) {
      value = validValue
      bundleBytes = this.bundles.get(validValue)!.bytes
    } else {
      const built = await this.buildProposal(round)
      value = hashId(built.record.block.hash())
      const evidence = this.blockEvidence()
      bundleBytes = encodeBundle(built.record.block.serialize(), evidence)
      this.held = {value, built}
      this.bundles.set(value, {bytes: bundleBytes, bundle: bundleOf(built, value, evidence), valid: true})
      validRound = -1
    }
    const signed = signProposal(this.chainId, key, {height: this.height, round, validRound, value}, bundleBytes)
    const wire = encodeMessage({kind: 'proposal', proposal: signed})
    this.wal.append({t: 'msg', wire, valid: true})
    this.wal.sync()
    this.ownProposals.set(round, signed)
    this.proposalsByRound.set(round, signed)
    this.publish('consensus', wire)
    this.logger.debug('proposed', {height: this.height, round, value, validRound})
    await this.apply({kind: 'proposal', proposal: signed.proposal, valid: true}, null)
  }

  /** The block to propose: the speculative one opened after the last commit, or a new one. */
  private async buildProposal(round: number): Promise<BuiltBlock> {
    await this.dropHeld()
    const evidence = this.blockEvidence()
    let open = this.open?.height === this.height && round === 0 && evidence.length === 0 ? this.open.block : undefined
    this.open = undefined
    if (!open) {
      await this.dropSpeculative()
      open = await this.chain.openBlock(this.blockOptions(evidence))
    }
    await this.feed(open, Infinity, performance.now() + buildBudgetMs(this.blockTime))
    const built = await open.seal()
    if (built.rejected.length > 0) this.mempool.drop(built.rejected.map((r) => r.tx), built.rejected[0]!.error)
    return built
  }

  private blockOptions(evidence: Evidence[]): {timestamp: bigint; coinbase: Address; extraData: Bytes} {
    return {
      timestamp: BigInt(Math.floor(this.now() / 1000)),
      coinbase: new Address(hexToBytes(this.key!.address)),
      extraData: evidenceCommitment(evidence),
    }
  }

  private blockEvidence(): Evidence[] {
    return [...this.evidencePool.values()].slice(0, MAX_EVIDENCE_PER_BLOCK)
  }

  /**
   * The next proposer keeps the next block open between commits, executing transactions into it
   * as they arrive, so proposing only seals it (as the single-node producer does).
   */
  private async openSpeculative(height: number): Promise<void> {
    if (this.closed || height !== this.height || this.started || this.open || this.held || this.syncing) return
    if (this.evidencePool.size > 0) return
    this.open = {height, block: await this.chain.openBlock(this.blockOptions([]))}
    this.enqueueFeed()
  }

  private enqueueFeed(): void {
    this.feeding = true
    setImmediate(() => {
      this.enqueue(async () => {
        this.feeding = false
        const open = this.open
        if (open && !this.started) await this.feed(open.block, 1)
      })
    })
  }

  private async feed(open: OpenBlock, maxBatches = Infinity, deadline = Infinity): Promise<void> {
    for (let i = 0; i < maxBatches && open.hasRoom && performance.now() < deadline; i++) {
      const txs = this.mempool.selectForBlock(open.env.baseFeePerGas, FEED_BATCH, open)
      if (txs.length === 0) return
      await open.add(txs)
    }
    if (maxBatches !== Infinity && this.open?.block === open) this.enqueueFeed()
  }

  private async dropSpeculative(): Promise<void> {
    const open = this.open
    this.open = undefined
    if (open) await open.block.abandon()
  }

  private async dropHeld(): Promise<void> {
    const held = this.held
    this.held = undefined
    if (held) await this.chain.discardBlock(held.built)
  }

  // ---- receiving ----

  private enqueue(task: () => Promise<void>): void {
    if (this.closed) return
    this.work.run(task).catch((err) => this.logger.error('consensus task failed', {error: errorMessage(err), stack: (err as Error).stack}))
  }

  private onGossip(data: Bytes, from: string): void {
    this.enqueue(() => this.onMessage(data, true, from))
  }

  private async onMessage(wire: Bytes, record: boolean, from?: string): Promise<void> {
    let message: ConsensusMessage
    try {
      message = decodeMessage(this.chainId, wire)
    } catch (err) {
      this.logger.debug('dropped a malformed consensus message', {from, error: errorMessage(err)})
      return
    }
    if (message.kind === 'status') {
      if (from) this.onStatus(from, message.status.height)
      return
    }
    const height = message.kind === 'vote' ? message.vote.vote.height : message.proposal.proposal.height
    if (height < this.height) return
    if (height > this.height || !this.started) {
      if (height <= this.height + 2 && this.future.length < MAX_FUTURE_MESSAGES) this.future.push({height, wire})
      if (height === this.height && !this.started && !this.startTimer) await this.startHeight(height)
      return
    }
    if (message.kind === 'vote') {
      const {vote} = message.vote
      if (!this.validators.has(vote.validator)) return
      if (this.key && vote.validator === this.key.address && !this.replaying) return // our own, echoed
      this.rememberVote(message.vote)
      await this.apply({kind: 'vote', vote}, record ? {t: 'msg', wire} : null)
      return
    }
    const {proposal} = message.proposal
    if (this.validators.proposer(proposal.height, proposal.round) !== proposal.proposer) return
    if (this.key && proposal.proposer === this.key.address && !this.replaying) return
    if (this.proposalsByRound.has(proposal.round)) return
    this.proposalsByRound.set(proposal.round, message.proposal)
    const valid = await this.validate(proposal.value, message.proposal.block)
    await this.apply({kind: 'proposal', proposal, valid}, record ? {t: 'msg', wire, valid} : null)
  }

  /**
   * valid(v): the bundle decodes, its block extends our head, its evidence is real and new, and
   * executing its transactions on our state gives exactly its header (roots, gas, bloom, hash).
   * The result of a valid execution is held, to be committed if the block is decided.
   */
  private async validate(value: ValueId, bytes: Bytes): Promise<boolean> {
    const known = this.bundles.get(value)
    if (known) return known.valid
    let bundle: BlockBundle
    try {
      bundle = decodeBundle(this.chain, bytes, this.validators, this.mempool)
    } catch (err) {
      this.logger.warn('invalid proposal', {height: this.height, error: errorMessage(err)})
      return false
    }
    const entry: KnownBundle = {bytes, bundle, valid: false}
    this.bundles.set(value, entry)
    const problem = this.checkBundleShape(bundle, value)
    if (problem) {
      this.logger.warn('invalid proposal', {height: this.height, value, reason: problem})
      return false
    }
    await this.dropSpeculative()
    await this.dropHeld()
    const started = performance.now()
    const built = await this.execute(bundle)
    if (!built) return false
    this.held = {value, built}
    entry.valid = true
    this.logger.debug('validated proposal', {height: this.height, value, txs: bundle.transactions.length, ms: Math.round(performance.now() - started)})
    return true
  }

  private checkBundleShape(bundle: BlockBundle, value: ValueId): string | undefined {
    const head = this.chain.head
    if (bundle.hash !== value) return 'the block hash is not the proposed value'
    if (bundle.header.number !== head.header.number + 1n) return `block number ${bundle.header.number} does not follow the head`
    if (bytesToHex(bundle.header.parentHash) !== bytesToHex(head.hash())) return 'the block does not extend our head'
    if (bundle.header.timestamp <= head.header.timestamp) return `timestamp ${bundle.header.timestamp} is not after the parent's (${head.header.timestamp})`
    // Blocks faster than one a second push the time ahead by the one second each must add: the
    // parent's time + 1 is always allowed.
    const ahead = bundle.header.timestamp - BigInt(Math.floor(this.now() / 1000))
    if (ahead > MAX_FUTURE_TIMESTAMP_S && bundle.header.timestamp > head.header.timestamp + 1n) {
      return `timestamp ${bundle.header.timestamp} is ${ahead} s ahead of this node's clock (at most ${MAX_FUTURE_TIMESTAMP_S} s, or the parent's + 1)`
    }
    if (bytesToHex(bundle.header.extraData) !== bytesToHex(evidenceCommitment(bundle.evidence))) return 'extraData does not commit to the evidence'
    for (const e of bundle.evidence) if (this.committedEvidenceKeys.has(evidenceKey(e))) return 'the block repeats committed evidence'
    return undefined
  }

  /** Re-executes a bundle's transactions on the head; undefined (and nothing held) when the result differs. */
  private async execute(bundle: BlockBundle): Promise<BuiltBlock | undefined> {
    let built: BuiltBlock
    try {
      built = await this.chain.buildBlock(bundle.transactions, {
        timestamp: bundle.header.timestamp,
        coinbase: bundle.header.coinbase,
        extraData: bundle.header.extraData,
      })
    } catch (err) {
      this.logger.warn('executing a proposed block failed', {height: this.height, error: errorMessage(err)})
      return undefined
    }
    const hash = hashId(built.record.block.hash())
    if (hash !== bundle.hash || built.rejected.length > 0) {
      this.logger.warn('proposed block does not re-execute to its header', {
        height: Number(bundle.header.number),
        proposed: bundle.hash,
        executed: hash,
        rejected: built.rejected.length,
        stateRoot: bytesToHex(built.record.block.header.stateRoot),
        proposedStateRoot: bytesToHex(bundle.header.stateRoot),
      })
      await this.chain.discardBlock(built)
      return undefined
    }
    return built
  }

  // ---- deciding ----

  private async commitDecided(round: number, value: ValueId, precommits: Vote[]): Promise<void> {
    const height = this.height
    const known = this.bundles.get(value)
    if (!known) {
      this.logger.error('decided a block this node does not hold', {height, value})
      return
    }
    let built = this.held?.value === value ? this.held.built : undefined
    if (built) {
      this.held = undefined
    } else {
      await this.dropSpeculative()
      await this.dropHeld()
      built = await this.execute(known.bundle)
      if (!built) {
        this.logger.error('the decided block does not execute here', {height, value})
        return
      }
    }
    const signatures = precommits.map((v) => this.voteSignatures.get(voteKey('precommit', v.round, v.validator, v.value)))
    const commit = commitFromPrecommits(
      precommits.flatMap((vote, i) => (signatures[i] ? [{vote, signature: signatures[i]}] : [])),
    )
    await this.commitBlock(built, commit, known.bundle.evidence)
    this.lastDecideMs = this.now() - this.heightStartedAt
    if (round > 0) this.stats.roundsAboveZero++
    this.logger.info('committed block', {
      height,
      round,
      hash: value,
      txs: built.record.block.transactions.length,
      proposer: this.validators.proposer(height, round),
      decideMs: this.lastDecideMs,
      rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    })
    this.advance(Math.max(0, this.blockTime - this.lastDecideMs))
  }

  private async commitBlock(built: BuiltBlock, commit: Commit, evidence: Evidence[]): Promise<void> {
    const height = built.record.block.header.number
    const ops: WriteOp[] = [this.chain.blocks.consensusOp(height, encodeConsensusRecord(commit, evidence))]
    if (evidence.length > 0) {
      const heights = [...new Set([...this.committedEvidence.map((e) => e.height), Number(height)])]
      ops.push(this.chain.blocks.consensusOp(EVIDENCE_INDEX, RLP.encode(heights.map((h) => int(h)))))
    }
    try {
      await this.chain.commitBlock(built, ops)
    } catch (err) {
      await this.chain.discardBlock(built)
      throw err
    }
    this.lastCommitAt = this.now()
    await this.refreshValidators()
    for (const e of evidence) {
      const key = evidenceKey(e)
      this.evidencePool.delete(key)
      if (!this.committedEvidenceKeys.has(key)) {
        this.committedEvidenceKeys.add(key)
        this.committedEvidence.push({height: Number(height), evidence: e})
        this.stats.evidenceCommitted++
        this.logger.warn('security: evidence of double signing committed', {
          event: 'security',
          kind: 'duplicate-vote',
          height: Number(height),
          validator: e.first.vote.validator,
          voteHeight: e.first.vote.height,
          round: e.first.vote.round,
          type: e.first.vote.type,
        })
      }
    }
  }

  /** Takes the validator set of the next height from the head state, when it differs. */
  private async refreshValidators(): Promise<void> {
    let list: readonly ValidatorInfo[] | undefined
    try {
      list = await this.validatorsAtHead?.()
    } catch (err) {
      this.logger.error('reading the validator set failed; keeping the current one', {error: errorMessage(err)})
      return
    }
    if (!list || list.length === 0) return
    const same = list.length === this.validators.size && list.every((v) => this.validators.power(v.address) === v.power)
    if (same) return
    const next = new ValidatorSet(list)
    this.logger.info('validator set changed', {
      height: Number(this.chain.head.header.number) + 1,
      validators: next.validators.map((v) => `${v.address}:${v.power}`),
      self: this.key ? next.has(this.key.address) : null,
    })
    this.validators = next
  }

  /** Moves to the next height after a commit (ours or synced); starts it after `delayMs`. */
  private advance(delayMs: number): void {
    this.resetHeight(Number(this.chain.head.header.number) + 1)
    this.dropFuture(this.height - 1)
    this.wal.startHeight(this.height)
    if (!this.syncing) this.scheduleStart(delayMs)
  }

  // ---- evidence ----

  private recordEquivocation(first: Vote, second: Vote): void {
    const a = this.voteSignatures.get(voteKey(first.type, first.round, first.validator, first.value))
    const b = this.voteSignatures.get(voteKey(second.type, second.round, second.validator, second.value))
    if (!a || !b) return
    this.addEvidence({first: {vote: first, signature: a}, second: {vote: second, signature: b}}, true)
  }

  private addEvidence(evidence: Evidence, gossip: boolean): void {
    const key = evidenceKey(evidence)
    if (this.evidencePool.has(key) || this.committedEvidenceKeys.has(key)) return
    this.evidencePool.set(key, evidence)
    this.stats.evidenceSeen++
    this.logger.warn('security: a validator signed two conflicting votes', {
      event: 'security',
      kind: 'duplicate-vote',
      validator: evidence.first.vote.validator,
      height: evidence.first.vote.height,
      round: evidence.first.vote.round,
      type: evidence.first.vote.type,
      values: [evidence.first.vote.value, evidence.second.vote.value],
    })
    if (gossip) this.publish('evidence', encodeEvidenceList([evidence]))
  }

  private onEvidenceGossip(data: Bytes): void {
    let list: Evidence[]
    try {
      list = decodeEvidenceList(this.chainId, data, this.validators)
    } catch (err) {
      this.logger.debug('dropped malformed evidence', {error: errorMessage(err)})
      return
    }
    for (const e of list.slice(0, MAX_EVIDENCE_PER_BLOCK)) this.addEvidence(e, false)
  }

  private async loadCommittedEvidence(): Promise<void> {
    const raw = await this.chain.blocks.consensusRecord(EVIDENCE_INDEX)
    if (!raw) return
    const heights = (RLP.decode(raw) as Bytes[]).map((b) => toInt(b, 'evidence height'))
    for (const height of heights) {
      const record = await this.blockConsensus(BigInt(height))
      for (const evidence of record?.evidence ?? []) {
        this.committedEvidenceKeys.add(evidenceKey(evidence))
        this.committedEvidence.push({height, evidence})
      }
    }
  }

  // ---- liveness: status, repeats, sync ----

  private publish(topic: 'consensus' | 'evidence', data: Bytes): void {
    this.host.publish(topic, data).catch((err) => this.logger.debug('publish failed', {topic, error: errorMessage(err)}))
  }

  private publishStatus(): void {
    if (this.closed) return
    const height = Number(this.chain.head.header.number)
    this.publish('consensus', encodeMessage({kind: 'status', status: {height, round: this.started ? describe(this.machine).round : 0}}))
  }

  /**
   * Gossip is fire-and-forget: a vote sent while a peer was cut off is lost to it. The paper
   * assumes messages are eventually delivered, so while a round stalls each validator repeats its
   * own proposal and votes of the current round.
   */
  private regossip(): void {
    if (this.closed || !this.started || this.now() - this.lastProgressAt < REGOSSIP_INTERVAL_MS) return
    const {round} = describe(this.machine)
    const proposal = this.ownProposals.get(round)
    if (proposal) this.publish('consensus', encodeMessage({kind: 'proposal', proposal}))
    for (const type of ['prevote', 'precommit'] as const) {
      const vote = this.ownVotes.get(`${type}:${round}`)
      if (vote) this.publish('consensus', encodeMessage({kind: 'vote', vote}))
    }
    for (const evidence of this.evidencePool.values()) this.publish('evidence', encodeEvidenceList([evidence]))
  }

  private onStatus(from: string, height: number): void {
    this.peerHeights.set(from, height)
    if (height >= this.height && !this.syncing) {
      this.syncing = true
      this.enqueue(() => this.syncFrom(from).finally(() => this.finishSync()))
    }
  }

  private finishSync(): void {
    this.syncing = false
    if (!this.started && !this.startTimer && !this.closed) this.scheduleStart(0)
  }

  /** Fetches, verifies and executes the blocks `peer` has committed beyond our head. */
  private async syncFrom(peer: string): Promise<void> {
    for (;;) {
      if (this.closed) return
      const from = Number(this.chain.head.header.number) + 1
      if ((this.peerHeights.get(peer) ?? 0) < from) return
      let chunks: Bytes[]
      try {
        chunks = await this.host.request(peer, 'sync', RLP.encode([int(from), int(SYNC_BATCH)]), {timeoutMs: 15_000, maxChunks: SYNC_BATCH, maxBytes: SYNC_MAX_BYTES})
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

  private async applySynced(chunk: Bytes, peer: string): Promise<boolean> {
    let bundle: BlockBundle
    let commit: Commit
    try {
      const [bundleBytes, commitBytes] = RLP.decode(chunk) as Bytes[]
      if (!(bundleBytes instanceof Uint8Array) || !(commitBytes instanceof Uint8Array)) throw new MessageError('a sync item is [bundle, commit]')
      bundle = decodeBundle(this.chain, bundleBytes, this.validators, this.mempool)
      commit = decodeCommit(commitBytes)
      const problem = this.checkBundleShape(bundle, bundle.hash)
      if (problem) throw new MessageError(problem)
      verifyCommit(this.chainId, this.validators, commit, Number(bundle.header.number), bundle.hash)
    } catch (err) {
      this.logger.warn('rejected a synced block', {peer, error: errorMessage(err)})
      return false
    }
    await this.dropSpeculative()
    await this.dropHeld()
    const built = await this.execute(bundle)
    if (!built) return false
    await this.commitBlock(built, commit, bundle.evidence)
    this.stats.blocksSynced++
    this.logger.info('synced block', {height: Number(bundle.header.number), hash: bundle.hash, txs: bundle.transactions.length, peer})
    this.advance(0)
    return true
  }

  private async serveSync(request: Bytes): Promise<Bytes[]> {
    const [fromBytes, countBytes] = RLP.decode(request) as Bytes[]
    const from = toInt(fromBytes, 'sync from')
    const count = Math.min(SYNC_BATCH, toInt(countBytes, 'sync count'))
    const out: Bytes[] = []
    let size = 0
    for (let n = from; n < from + count && size < SYNC_MAX_BYTES / 2; n++) {
      const record = await this.chain.getBlock(BigInt(n))
      const consensus = await this.chain.blocks.consensusRecord(BigInt(n))
      if (!record || !consensus) break
      const {commit, evidence} = decodeConsensusRecord(this.chainId, consensus)
      const item = RLP.encode([encodeBundle(record.block.serialize(), evidence), encodeCommit(commit)])
      size += item.length
      out.push(item)
    }
    return out
  }

  // ---- replay ----

  private async replay(entries: WalEntry[]): Promise<void> {
    this.replaying = true
    try {
      // Each logged message is decoded once; what this node signed itself is known up front, so
      // the machine's requests to sign it again are skipped while the log replays.
      const steps = entries.map((entry) => ({entry, message: entry.t === 'msg' ? tryDecode(this.chainId, entry.wire) : undefined}))
      for (const {message} of steps) {
        if (message?.kind === 'vote' && message.vote.vote.validator === this.key?.address) this.replayOwn.add(`${message.vote.vote.type}:${message.vote.vote.round}`)
        if (message?.kind === 'proposal' && message.proposal.proposal.proposer === this.key?.address) this.replayOwn.add(`proposal:${message.proposal.proposal.round}`)
      }
      for (const {entry, message} of steps) {
        if (this.closed) return
        if (entry.t === 'start') {
          this.started = true
          this.heightStartedAt = this.now()
          await this.apply({kind: 'start', height: entry.height}, null)
        } else if (entry.t === 'timeout') {
          await this.apply({kind: 'timeout', step: entry.step, height: entry.height, round: entry.round}, null)
        } else if (message) {
          await this.replayMessage(message, entry.valid)
        }
      }
      this.logger.info('replayed the consensus log', {height: this.height, entries: entries.length, ...describeShort(this.machine)})
    } finally {
      this.replaying = false
      this.replayOwn.clear()
    }
    // Say again what we had said: peers may have missed it while we were down.
    for (const proposal of this.ownProposals.values()) this.publish('consensus', encodeMessage({kind: 'proposal', proposal}))
    for (const vote of this.ownVotes.values()) this.publish('consensus', encodeMessage({kind: 'vote', vote}))
    if (!this.started) this.scheduleStart(0)
  }

  private async replayMessage(message: ConsensusMessage, valid: boolean | undefined): Promise<void> {
    if (message.kind === 'vote') {
      const signed = message.vote
      this.rememberVote(signed)
      if (signed.vote.validator === this.key?.address) this.ownVotes.set(`${signed.vote.type}:${signed.vote.round}`, signed)
      await this.apply({kind: 'vote', vote: signed.vote}, null)
    } else if (message.kind === 'proposal') {
      const signed = message.proposal
      this.proposalsByRound.set(signed.proposal.round, signed)
      if (signed.proposal.proposer === this.key?.address) this.ownProposals.set(signed.proposal.round, signed)
      let isValid = valid ?? false
      if (!this.bundles.has(signed.proposal.value)) {
        try {
          const bundle = decodeBundle(this.chain, signed.block, this.validators, this.mempool)
          this.bundles.set(signed.proposal.value, {bytes: signed.block, bundle, valid: isValid})
        } catch {
          isValid = false
        }
      }
      await this.apply({kind: 'proposal', proposal: signed.proposal, valid: isValid}, null)
    }
  }
}

/** A logged message, or undefined when it does not decode (it is then skipped, as when received). */
function tryDecode(chainId: number, wire: Bytes): ConsensusMessage | undefined {
  try {
    return decodeMessage(chainId, wire)
  } catch {
    return undefined
  }
}

/** Key under which the heights of blocks holding evidence are kept (beyond any real height). */
const EVIDENCE_INDEX = 2n ** 64n - 1n

function voteKey(type: VoteType, round: number, validator: string, value: ValueId | null): string {
  return `${type}:${round}:${validator}:${value ?? 'nil'}`
}

function bundleOf(built: BuiltBlock, value: ValueId, evidence: Evidence[]): BlockBundle {
  const {block} = built.record
  return {header: block.header, hash: value, transactions: [...block.transactions], evidence}
}

export function encodeConsensusRecord(commit: Commit, evidence: Evidence[]): Bytes {
  return RLP.encode([encodeCommit(commit), encodeEvidenceList(evidence)])
}

export function decodeConsensusRecord(chainId: number, raw: Bytes): {commit: Commit; evidence: Evidence[]} {
  const [commit, evidence] = RLP.decode(raw) as Bytes[]
  const list = decodeEvidenceList(chainId, evidence!)
  for (const e of list) checkEvidence(e)
  return {commit: decodeCommit(commit!), evidence: list}
}

function describeShort(state: MachineState): {round: number; step: string} {
  const d = describe(state)
  return {round: d.round, step: d.step}
}
