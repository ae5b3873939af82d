/**
 * The vocabulary of consensus: what the pure state machine (machine.ts) takes in and gives out.
 * Messages here are already authenticated: the driver verifies signatures and block validity
 * before it hands anything to the machine, and signs what the machine asks it to send.
 */

/** A value id: the 0x-prefixed, lowercase hash of a proposed block. */
export type ValueId = `0x${string}`

/** A validator's address: 0x-prefixed, lowercase, 20 bytes (its secp256k1 key's Ethereum address). */
export type ValidatorAddress = `0x${string}`

export type VoteType = 'prevote' | 'precommit'

export type Step = 'propose' | 'prevote' | 'precommit'

export interface ValidatorInfo {
  address: ValidatorAddress
  /** Voting power, a positive safe integer. */
  power: number
}

export interface Proposal {
  height: number
  round: number
  value: ValueId
  /** The round in which the proposer saw the value polka'd (-1 when none). */
  validRound: number
  proposer: ValidatorAddress
}

export interface Vote {
  type: VoteType
  height: number
  round: number
  /** The voted value, or null for nil. */
  value: ValueId | null
  validator: ValidatorAddress
}

export interface TimeoutConfig {
  /** ms; round r waits base + r * delta. */
  proposeBase: number
  proposeDelta: number
  prevoteBase: number
  prevoteDelta: number
  precommitBase: number
  precommitDelta: number
}

export type ConsensusEvent =
  /** Begin deciding `height` at round 0 (the machine must be at a fresh height or the next one). */
  | {kind: 'start'; height: number}
  /** A proposal from the network or from this node; `valid` is valid(v) of the paper. */
  | {kind: 'proposal'; proposal: Proposal; valid: boolean}
  /** A vote from the network or from this node. */
  | {kind: 'vote'; vote: Vote}
  /** A timeout the machine scheduled has fired. */
  | {kind: 'timeout'; step: Step; height: number; round: number}

export type ConsensusEffect =
  /**
   * This node is the proposer of (height, round): the driver proposes validValue if not null,
   * else builds a new block, signs and broadcasts the proposal, and feeds it back as an event.
   */
  | {kind: 'propose'; height: number; round: number; validValue: ValueId | null; validRound: number}
  /** Sign and broadcast this vote (after the WAL is flushed), and feed it back as an event. */
  | {kind: 'vote'; vote: Vote}
  /** Schedule a timeout event for (step, height, round) after `ms`. */
  | {kind: 'timeout'; step: Step; height: number; round: number; ms: number}
  /** `value` is decided at `height` in `round`; `precommits` are the quorum that decided it. */
  | {kind: 'decide'; height: number; round: number; value: ValueId; precommits: Vote[]}
  /** A validator signed two different votes for one (height, round, type). */
  | {kind: 'equivocation'; first: Vote; second: Vote}
