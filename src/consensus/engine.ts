import type {BuiltBlock, Chain} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import {Mutex} from '../util/mutex.js'
import {errorMessage} from '../util/errors.js'
import {Telemetry, secondsSince} from '../util/telemetry.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {type BlockBundle, decodeBundle} from './block-codec.js'
import {BlockSync} from './block-sync.js'
import {checkBundleShape} from './bundle-check.js'
import {commitWithRecord, nextValidatorSet} from './block-commit.js'
import {decodeConsensusRecord} from './consensus-record.js'
import {type ConsensusEngineOptions, type ConsensusNetwork, type ConsensusStats, consensusTimeouts} from './engine-options.js'
import {type CommittedEvidence, EVIDENCE_INDEX, EvidencePool} from './evidence-pool.js'
import {type MachineState, describe, initialState, step} from './machine.js'
import {FutureMessages} from './future-messages.js'
import {HeightBlocks} from './height-blocks.js'
import {Liveness} from './liveness.js'
import {type Commit, type ConsensusMessage, type Evidence, decodeMessage} from './messages.js'
import {ProposerBlock} from './proposer-block.js'
import {Signer} from './signer.js'
import type {ConsensusEffect, ConsensusEvent, TimeoutConfig, ValidatorAddress, ValidatorInfo, ValueId, Vote} from './types.js'
import type {ValidatorSet} from './validator-set.js'
import {ConsensusWal, type WalEntry} from './wal.js'
import {SignerGuard, replayWal} from './wal-replay.js'
import {VoteBook} from './vote-book.js'

export {decodeConsensusRecord, encodeConsensusRecord} from './consensus-record.js'
export type {CommittedEvidence} from './evidence-pool.js'
export {type ConsensusEngineOptions, type ConsensusNetwork, type ConsensusStats, consensusTimeouts} from './engine-options.js'

type Bytes = Uint8Array

/**
 * The event loop around the Tendermint state machine: everything that touches the machine runs
 * one task at a time on `work`, so the machine sees one event at a time. The loop feeds it
 * messages and timeouts (logging them to the WAL first), carries out its effects (timers, signing,
 * proposing, committing) and owns the per-height state. The parts it drives: block sync
 * (block-sync.ts), the evidence pool (evidence-pool.ts), the proposer's open block
 * (proposer-block.ts) and WAL replay with the signer guard (wal-replay.ts).
 */
export class ConsensusEngine {
  private readonly chain: Chain
  private readonly mempool: Mempool
  /** The validator set of the height being decided (it changes when governance changes it). */
  validators: ValidatorSet
  private readonly self: ValidatorAddress | null
  private readonly host: ConsensusNetwork
  private readonly logger: Logger
  private readonly telemetry: Telemetry
  private readonly timeouts: TimeoutConfig
  private readonly chainId: number
  private readonly now: () => number
  private readonly work = new Mutex()
  private wal!: ConsensusWal

  private machine!: MachineState
  /** The height being decided. */
  private height = 0
  private started = false
  private closed = false
  /** This node's own messages at this height, and the rule against signing twice. */
  private readonly guard = new SignerGuard()

  /** Rounds of this height that have their proposal (later ones are ignored). */
  private readonly proposalRounds = new Set<number>()
  private readonly votes = new VoteBook()
  private readonly future = new FutureMessages()

  private readonly evidencePool: EvidencePool
  private readonly sync: BlockSync
  private readonly proposer: ProposerBlock
  private readonly blocks: HeightBlocks
  private readonly liveness: Liveness
  /** Present on a validator (a node with a key). */
  private readonly signer?: Signer

  private readonly timers = new Set<NodeJS.Timeout>()
  private startTimer?: NodeJS.Timeout
  private heightStartedAt = 0
  private lastCommitAt = 0
  private lastDecideMs = 0
  private lastProgressAt = 0
  private roundsAboveZero = 0
  /** When the round being decided started (performance.now()), for the round duration metric. */
  private roundStartedAt = 0

  constructor(private readonly options: ConsensusEngineOptions) {
    const {chain, key} = options
    this.chain = chain
    this.mempool = options.mempool
    this.validators = options.validators
    this.self = key?.address ?? null
    this.host = options.host
    this.logger = options.logger ?? silentLogger
    this.timeouts = options.timeouts ?? consensusTimeouts(options.blockTime)
    this.chainId = Number(chain.chainId)
    this.now = options.now ?? Date.now
    const {chainId, logger} = this
    this.telemetry = options.telemetry ?? new Telemetry({logger, defaultMetrics: false})
    const telemetry = this.telemetry
    const validators = (): ValidatorSet => this.validators
    const consensusRecord = (height: bigint): Promise<Bytes | undefined> => chain.blocks.consensusRecord(height)
    const enqueue = (task: () => Promise<void>): void => this.enqueue(task)
    const decode = (bytes: Bytes): BlockBundle => decodeBundle(chain, bytes, this.validators, this.mempool)
    this.evidencePool = new EvidencePool({chainId, validators, consensusRecord, publish: (data) => this.publish('evidence', data), logger, telemetry})
    this.sync = new BlockSync({
      chainId,
      validators,
      headNumber: () => Number(chain.head.header.number),
      height: () => this.height,
      request: (peer, protocol, data, requestOptions) => this.host.request(peer, protocol, data, requestOptions),
      getBlock: (height) => chain.getBlock(height),
      consensusRecord,
      decodeBundle: decode,
      checkBundle: (bundle) => this.checkBundle(bundle, bundle.hash),
      execute: async (bundle) => {
        await this.proposer.drop()
        await this.blocks.dropHeld()
        return this.blocks.execute(bundle, this.height)
      },
      commit: (built, commit, evidence) => this.commitBlock(built, commit, evidence),
      advance: () => this.advance(0),
      enqueue,
      finished: () => {
        if (!this.started && !this.startTimer && !this.closed) this.scheduleStart(0)
      },
      closed: () => this.closed,
      logger,
      telemetry,
    })
    const {mempool, blockTime} = options
    this.proposer = new ProposerBlock({chain, mempool, coinbase: this.self, now: this.now, enqueue, started: () => this.started, blockTime})
    const checkBundle = (bundle: BlockBundle, value: ValueId): string | undefined => this.checkBundle(bundle, value)
    this.blocks = new HeightBlocks({chain, decodeBundle: decode, checkBundle, freeState: () => this.proposer.drop(), logger, telemetry})
    this.liveness = new Liveness({
      network: this.host,
      now: this.now,
      headNumber: () => Number(chain.head.header.number),
      round: () => (this.started ? describe(this.machine).round : undefined),
      lastProgressAt: () => this.lastProgressAt,
      own: (round) => ({proposal: this.guard.proposal(round), votes: (['prevote', 'precommit'] as const).flatMap((type) => this.guard.vote(type, round) ?? [])}),
      regossipEvidence: () => this.evidencePool.regossip(),
      closed: () => this.closed,
      logger,
    })
    if (key) {
      const publish = (wire: Bytes): void => this.publish('consensus', wire)
      this.signer = new Signer({chainId: this.chainId, key, guard: this.guard, wal: () => this.wal, publish, doubleSign: options.doubleSign, logger: this.logger})
    }
  }

  get address(): string | null {
    return this.self
  }

  /** Opens the WAL, replays it, subscribes to the network, and starts deciding the next height. */
  async start(): Promise<void> {
    await this.evidencePool.load()
    const {wal, entries} = ConsensusWal.open(this.options.walDir)
    this.wal = wal
    this.host.subscribe('consensus', (data, from) => this.onGossip(data, from))
    this.host.subscribe('evidence', (data) => this.evidencePool.onGossip(data))
    this.host.handle('sync', (request) => this.sync.serve(request))
    await this.refreshValidators()
    await this.liveness.waitForPeers(this.validators.validators.length - 1)
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
    this.liveness.start()
    this.mempool.on('tx', this.onPendingTx)
  }

  async close(): Promise<void> {
    this.closed = true
    this.mempool.off('tx', this.onPendingTx)
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    if (this.startTimer) clearTimeout(this.startTimer)
    this.liveness.stop()
    await this.work.run(async () => {
      await this.proposer.drop()
      await this.blocks.dropHeld()
      this.wal?.close()
    })
  }

  // ---- what RPC reads ----

  get stats(): ConsensusStats {
    return {
      evidenceCommitted: this.evidencePool.committedSinceStart,
      evidenceSeen: this.evidencePool.seen,
      roundsAboveZero: this.roundsAboveZero,
      blocksSynced: this.sync.blocksSynced,
    }
  }

  consensusState(): Record<string, unknown> {
    const d = describe(this.machine)
    return {
      ...d,
      started: this.started,
      syncing: this.sync.syncing,
      proposer: this.validators.proposer(this.height, d.round),
      validator: this.address,
      lastCommitAt: this.lastCommitAt || null,
      lastDecideMs: this.lastDecideMs,
      pendingEvidence: this.evidencePool.size,
    }
  }

  evidence(): {committed: CommittedEvidence[]; pending: Evidence[]} {
    return this.evidencePool.list()
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
    this.machine = initialState({validators: this.validators, self: this.self, timeouts: this.timeouts}, height)
    this.blocks.reset()
    this.proposalRounds.clear()
    this.votes.clear()
    this.guard.reset()
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
      if (this.options.emptyBlocks === false && !this.mempool.hasPending() && this.evidencePool.size === 0 && !this.future.has(height)) {
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
    this.roundStartedAt = performance.now()
    await this.apply({kind: 'start', height}, {t: 'start', height})
    // Logged now: they were kept aside unlogged, and a replay needs them (a proposal to relock on).
    for (const wire of this.future.take(height)) await this.onMessage(wire, true)
  }

  private readonly onPendingTx = (): void => {
    if (!this.started && !this.startTimer && !this.closed && !this.sync.syncing) {
      const height = this.height
      this.enqueue(() => this.startHeight(height))
    }
    this.proposer.onPendingTx()
  }

  // ---- the machine ----

  private async apply(event: ConsensusEvent, entry: WalEntry | null): Promise<void> {
    if (entry && !this.guard.replaying) this.wal.append(entry)
    const before = this.machine
    const {state, effects} = step(this.machine, event)
    this.machine = state
    if (state.height === before.height && state.round > before.round && this.roundStartedAt > 0) {
      // The round ended without a decision (a timeout, or a quorum seen at a later round).
      this.telemetry.roundDuration.observe({outcome: 'next-round'}, secondsSince(this.roundStartedAt))
      this.roundStartedAt = performance.now()
    }
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
    const signed = this.signer?.vote(vote)
    if (!signed) return
    this.votes.remember(signed)
    await this.apply({kind: 'vote', vote: signed.vote}, null)
  }

  // ---- proposing ----

  private isProposer(height: number, round: number): boolean {
    return this.self !== null && this.validators.proposer(height, round) === this.self
  }

  private async propose(round: number, validValue: ValueId | null, validRound: number): Promise<void> {
    const signer = this.signer
    if (!signer || !this.guard.mayPropose(round)) return
    let value: ValueId
    let bundleBytes = validValue !== null ? this.blocks.bytes(validValue) : undefined
    if (validValue !== null && bundleBytes) {
      value = validValue
    } else {
      await this.blocks.dropHeld()
      // One list for the header's commitment and the bundle: evidence may arrive while the block is built.
      const evidence = this.evidencePool.forBlock()
      const building = performance.now()
      const built = await this.proposer.build(this.height, round, evidence)
      this.telemetry.blockExecution.observe(secondsSince(building))
      ;({value, bytes: bundleBytes} = this.blocks.holdOwn(built, evidence))
      validRound = -1
    }
    const signed = signer.proposal({height: this.height, round, validRound, value}, bundleBytes)
    this.proposalRounds.add(round)
    this.logger.debug('proposed', {height: this.height, round, value, validRound})
    await this.apply({kind: 'proposal', proposal: signed.proposal, valid: true}, null)
  }

  /** As the next proposer, open the next block right away (see ProposerBlock). */
  private async openSpeculative(height: number): Promise<void> {
    if (this.closed || height !== this.height || this.started || this.proposer.openHeight !== undefined || this.blocks.holding || this.sync.syncing) return
    if (this.evidencePool.size > 0) return
    await this.proposer.openAhead(height)
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
      // From the network: a peer sent it (or relayed it); from the WAL: our own log, not a peer.
      if (from) this.telemetry.security('bad-peer', 'dropped a malformed consensus message', {peer: from, error: errorMessage(err)})
      else this.logger.debug('dropped a malformed consensus message', {error: errorMessage(err)})
      return
    }
    if (message.kind === 'status') {
      if (from) this.sync.onStatus(from, message.status.height)
      return
    }
    const height = message.kind === 'vote' ? message.vote.vote.height : message.proposal.proposal.height
    if (height < this.height) return
    if (height > this.height || !this.started) {
      this.future.add(height, wire, this.height)
      if (height === this.height && !this.started && !this.startTimer) await this.startHeight(height)
      return
    }
    const replaying = this.guard.replaying
    if (message.kind === 'vote') {
      const {vote} = message.vote
      if (!this.validators.has(vote.validator)) return
      if (vote.validator === this.self && !replaying) return // our own, echoed
      this.votes.remember(message.vote)
      await this.apply({kind: 'vote', vote}, record ? {t: 'msg', wire} : null)
      return
    }
    const {proposal} = message.proposal
    if (this.validators.proposer(proposal.height, proposal.round) !== proposal.proposer) return
    if (proposal.proposer === this.self && !replaying) return
    if (this.proposalRounds.has(proposal.round)) return
    this.proposalRounds.add(proposal.round)
    const valid = await this.blocks.validate(proposal.value, message.proposal.block, this.height)
    await this.apply({kind: 'proposal', proposal, valid}, record ? {t: 'msg', wire, valid} : null)
  }

  private checkBundle(bundle: BlockBundle, value: ValueId): string | undefined {
    return checkBundleShape(bundle, value, {head: this.chain.head, nowMs: this.now(), isCommitted: (e) => this.evidencePool.isCommitted(e)})
  }

  // ---- deciding ----

  private async commitDecided(round: number, value: ValueId, precommits: Vote[]): Promise<void> {
    const height = this.height
    const decided = await this.blocks.decided(value, height)
    if (!decided) return
    const {built} = decided
    await this.commitBlock(built, this.votes.commit(precommits), decided.bundle.evidence)
    this.lastDecideMs = this.now() - this.heightStartedAt
    if (this.roundStartedAt > 0) this.telemetry.roundDuration.observe({outcome: 'commit'}, secondsSince(this.roundStartedAt))
    this.roundStartedAt = 0
    if (round > 0) this.roundsAboveZero++
    this.logger.info('committed block', {
      height,
      round,
      hash: value,
      txs: built.record.block.transactions.length,
      proposer: this.validators.proposer(height, round),
      decideMs: this.lastDecideMs,
      rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    })
    this.advance(Math.max(0, this.options.blockTime - this.lastDecideMs))
  }

  /** Commits a block with its consensus record (and the evidence index) in the block's own batch. */
  private async commitBlock(built: BuiltBlock, commit: Commit, evidence: Evidence[]): Promise<void> {
    const height = Number(built.record.block.header.number)
    const index = evidence.length > 0 ? {key: EVIDENCE_INDEX, value: this.evidencePool.indexRecord(height)} : undefined
    await commitWithRecord(this.chain, built, commit, evidence, index)
    this.lastCommitAt = this.now()
    await this.refreshValidators()
    this.evidencePool.markCommitted(height, evidence)
  }

  /** Takes the validator set of the next height from the head state, when it differs. */
  private async refreshValidators(): Promise<void> {
    const context = {logger: this.logger, height: Number(this.chain.head.header.number) + 1, self: this.self}
    this.validators = await nextValidatorSet(this.validators, this.options.validatorsAtHead, context)
  }

  /** Moves to the next height after a commit (ours or synced); starts it after `delayMs`. */
  private advance(delayMs: number): void {
    this.resetHeight(Number(this.chain.head.header.number) + 1)
    this.future.drop(this.height - 1)
    this.wal.startHeight(this.height)
    if (!this.sync.syncing) this.scheduleStart(delayMs)
  }

  // ---- evidence ----

  private recordEquivocation(first: Vote, second: Vote): void {
    const evidence = this.votes.evidence(first, second)
    if (evidence) this.evidencePool.add(evidence, true)
  }

  private publish(topic: 'consensus' | 'evidence', data: Bytes): void {
    this.liveness.publish(topic, data)
  }

  // ---- replay ----

  private async replay(entries: WalEntry[]): Promise<void> {
    const completed = await replayWal(entries, {
      chainId: this.chainId,
      self: this.self,
      guard: this.guard,
      apply: (event) => this.apply(event, null),
      markStarted: () => {
        this.started = true
        this.heightStartedAt = this.now()
      },
      rememberVote: (signed) => this.votes.remember(signed),
      rememberProposal: (signed, logged) => {
        this.proposalRounds.add(signed.proposal.round)
        return this.blocks.rememberLogged(signed.proposal.value, signed.block, logged)
      },
      closed: () => this.closed,
      publish: (wire) => this.publish('consensus', wire),
      summary: () => {
        const {height, round, step} = describe(this.machine)
        return {height, round, step}
      },
      logger: this.logger,
    })
    if (completed && !this.started) this.scheduleStart(0)
  }
}
