import {type Logger, silentLogger} from '../util/logger.js'
import {type ConsensusMessage, type SignedProposal, type SignedVote, decodeMessage, encodeMessage} from './messages.js'
import type {ConsensusEvent, ValidatorAddress, Vote, VoteType} from './types.js'
import type {WalEntry} from './wal.js'

type Bytes = Uint8Array

/** What the guard says of a vote the machine asks this node to sign. */
export type SignVerdict =
  /** Sign it: nothing was signed for its (round, type) yet. */
  | 'sign'
  /** The WAL being replayed holds it already: it is fed in the log's order, not signed again. */
  | 'logged'
  /** Already signed, with the same value: nothing to do. */
  | 'signed'
  /** A different vote was signed for its (round, type): signing would be double signing. */
  | 'conflict'

/**
 * This node's own signed messages at the height being decided, and the rule that keeps it from
 * signing twice: one vote per (round, type), one proposal per round. While a WAL replays, what
 * the log holds is not signed again (it is fed to the machine in the log's order).
 */
export class SignerGuard {
  private readonly votes = new Map<string, SignedVote>()
  private readonly proposals = new Map<number, SignedProposal>()
  /** Slots (`prevote:0`, `proposal:1`, …) the WAL being replayed holds; empty outside a replay. */
  private readonly logged = new Set<string>()
  private replayingNow = false

  get replaying(): boolean {
    return this.replayingNow
  }

  /** A new height: nothing signed yet. */
  reset(): void {
    this.votes.clear()
    this.proposals.clear()
  }

  checkVote(vote: Pick<Vote, 'type' | 'round' | 'value'>): SignVerdict {
    const slot = voteSlot(vote.type, vote.round)
    if (this.replayingNow && this.logged.has(slot)) return 'logged'
    const previous = this.votes.get(slot)
    if (previous) return previous.vote.value === vote.value ? 'signed' : 'conflict'
    return 'sign'
  }

  /** Whether to build and sign a proposal for `round` (false while replaying one the WAL holds). */
  mayPropose(round: number): boolean {
    return !(this.replayingNow && this.logged.has(`proposal:${round}`))
  }

  recordVote(signed: SignedVote): void {
    this.votes.set(voteSlot(signed.vote.type, signed.vote.round), signed)
  }

  recordProposal(signed: SignedProposal): void {
    this.proposals.set(signed.proposal.round, signed)
  }

  vote(type: VoteType, round: number): SignedVote | undefined {
    return this.votes.get(voteSlot(type, round))
  }

  proposal(round: number): SignedProposal | undefined {
    return this.proposals.get(round)
  }

  /** Everything signed at this height (to say it again after a restart). */
  signed(): {proposals: SignedProposal[]; votes: SignedVote[]} {
    return {proposals: [...this.proposals.values()], votes: [...this.votes.values()]}
  }

  beginReplay(messages: readonly (ConsensusMessage | undefined)[], self: ValidatorAddress | null): void {
    this.replayingNow = true
    for (const message of messages) {
      if (message?.kind === 'vote' && message.vote.vote.validator === self) this.logged.add(voteSlot(message.vote.vote.type, message.vote.vote.round))
      if (message?.kind === 'proposal' && message.proposal.proposal.proposer === self) this.logged.add(`proposal:${message.proposal.proposal.round}`)
    }
  }

  endReplay(): void {
    this.replayingNow = false
    this.logged.clear()
  }
}

function voteSlot(type: VoteType, round: number): string {
  return `${type}:${round}`
}

/** What replaying the WAL needs from the engine. */
export interface WalReplayPorts {
  chainId: number
  /** This node's validator address (null for an observer). */
  self: ValidatorAddress | null
  guard: SignerGuard
  /** Feeds one event to the machine (and carries out its effects) without logging it again. */
  apply(event: ConsensusEvent): Promise<void>
  /** The log's start entry: the height counts as started from now. */
  markStarted(): void
  /** A replayed vote's signature, kept for commits and evidence. */
  rememberVote(signed: SignedVote): void
  /**
   * A replayed proposal: recorded for its round, its block decoded. Returns valid(v) to feed the
   * machine: the verdict the log holds, or false when it holds none or the block does not decode.
   */
  rememberProposal(signed: SignedProposal, logged: boolean | undefined): boolean
  closed(): boolean
  /** Gossips a consensus message (fire and forget). */
  publish(wire: Bytes): void
  /** Where the machine stands after the replay (for the log). */
  summary(): {height: number; round: number; step: string}
  logger?: Logger
}

/**
 * Replays the WAL of the height being decided through the machine after a restart: the machine
 * is a pure function of what it was fed, so this rebuilds its locks and valid values. The node's
 * own messages in the log are known up front, so the machine's requests to sign them again are
 * skipped (the guard says 'logged') and they are fed back in the log's order. Messages that do not
 * decode are skipped, as when they were received. Then what this node had said is gossiped
 * again: peers may have missed it while it was down. Returns false when the node closed meanwhile.
 */
export async function replayWal(entries: readonly WalEntry[], ports: WalReplayPorts): Promise<boolean> {
  const {guard} = ports
  const steps = entries.map((entry) => ({entry, message: entry.t === 'msg' ? tryDecode(ports.chainId, entry.wire) : undefined}))
  guard.beginReplay(steps.map((s) => s.message), ports.self)
  try {
    for (const {entry, message} of steps) {
      if (ports.closed()) return false
      if (entry.t === 'start') {
        ports.markStarted()
        await ports.apply({kind: 'start', height: entry.height})
      } else if (entry.t === 'timeout') {
        await ports.apply({kind: 'timeout', step: entry.step, height: entry.height, round: entry.round})
      } else if (message?.kind === 'vote') {
        const signed = message.vote
        ports.rememberVote(signed)
        if (signed.vote.validator === ports.self) guard.recordVote(signed)
        await ports.apply({kind: 'vote', vote: signed.vote})
      } else if (message?.kind === 'proposal') {
        const signed = message.proposal
        if (signed.proposal.proposer === ports.self) guard.recordProposal(signed)
        const valid = ports.rememberProposal(signed, entry.t === 'msg' ? entry.valid : undefined)
        await ports.apply({kind: 'proposal', proposal: signed.proposal, valid})
      }
    }
  } finally {
    guard.endReplay()
  }
  ;(ports.logger ?? silentLogger).info('replayed the consensus log', {entries: entries.length, ...ports.summary()})
  const own = guard.signed()
  for (const proposal of own.proposals) ports.publish(encodeMessage({kind: 'proposal', proposal}))
  for (const vote of own.votes) ports.publish(encodeMessage({kind: 'vote', vote}))
  return true
}

/** A logged message, or undefined when it does not decode (it is then skipped, as when received). */
function tryDecode(chainId: number, wire: Bytes): ConsensusMessage | undefined {
  try {
    return decodeMessage(chainId, wire)
  } catch {
    return undefined
  }
}
