/**
 * The Tendermint consensus algorithm as a pure state machine: Algorithm 1 of Buchman, Kwon and
 * Milosevic, "The latest gossip on BFT consensus" (arXiv:1807.04938). `step` takes a state and
 * an event and returns the next state and the effects the driver must carry out (send a vote,
 * propose, schedule a timeout, commit a decision). It keeps no clock, does no I/O and never
 * mutates its input, so the driver can persist, replay and test it freely.
 *
 * Comments of the form `l.22` name the line of Algorithm 1 a rule implements. Where this differs
 * from the paper's pseudo-code:
 * - After deciding (l.49) the machine stays at its height; the driver commits the block and sends
 *   `start` for the next height, which resets the per-height state and runs StartRound(0).
 * - A threshold for a value counts the distinct validators that voted for it, as the paper's
 *   message counting does; a validator's second, different vote in a round is reported as an
 *   equivocation and still counts for its own value (never twice in "any value" power). Counting
 *   only first votes would let an equivocator that sends nil to some and v to others keep honest
 *   validators from ever seeing the polka their peers locked on (CometBFT avoids this with
 *   peer-claimed +2/3 majorities).
 * - Proposals whose valid round is not in [-1, round) are ignored (as CometBFT).
 * - When l.55 holds for several later rounds, the machine moves to the highest one at once.
 */
import type {
  ConsensusEffect,
  ConsensusEvent,
  Proposal,
  Step,
  TimeoutConfig,
  ValidatorAddress,
  ValueId,
  Vote,
  VoteType,
} from './types.js'
import type {ValidatorSet} from './validator-set.js'

/** What a machine is fixed to for its whole life. */
export interface MachineConfig {
  validators: ValidatorSet
  /** This node's validator address; null for an observer, which follows and decides but never votes. */
  self: ValidatorAddress | null
  timeouts: TimeoutConfig
}

/** propose 1000 + 500r ms, prevote and precommit 500 + 250r ms. */
export const DEFAULT_TIMEOUTS: TimeoutConfig = Object.freeze({
  proposeBase: 1000,
  proposeDelta: 500,
  prevoteBase: 500,
  prevoteDelta: 250,
  precommitBase: 500,
  precommitDelta: 250,
})

/** The duration of the timeout of `step` in `round`, in ms. */
export function timeoutMs(timeouts: TimeoutConfig, step: Step, round: number): number {
  switch (step) {
    case 'propose':
      return timeouts.proposeBase + round * timeouts.proposeDelta
    case 'prevote':
      return timeouts.prevoteBase + round * timeouts.prevoteDelta
    case 'precommit':
      return timeouts.precommitBase + round * timeouts.precommitDelta
  }
}

/** A proposal from the proposer of its round, with valid(v) as the driver judged it. */
export interface ProposalRecord {
  readonly proposal: Proposal
  readonly valid: boolean
}

/**
 * The votes of one type in one round. As in the paper, a threshold for a value counts the distinct
 * validators that sent a vote for that value: a validator that equivocated counts once for each
 * value it voted (and is reported), and once in the power of votes of any value.
 */
export interface VoteLog {
  /** The first vote of each validator. */
  readonly first: ReadonlyMap<ValidatorAddress, Vote>
  /** Votes by value (null is nil), one per validator and value. */
  readonly byValue: ReadonlyMap<ValueId | null, ReadonlyMap<ValidatorAddress, Vote>>
  /** Power per voted value. */
  readonly powerByValue: ReadonlyMap<ValueId | null, number>
  /** Power of the validators that voted, whatever their value. */
  readonly power: number
}

/** Everything received for one round of the current height. */
export interface RoundLog {
  readonly proposals: readonly ProposalRecord[]
  readonly prevote: VoteLog
  readonly precommit: VoteLog
  /** Validators that sent a proposal or a vote in this round (l.55). */
  readonly senders: ReadonlySet<ValidatorAddress>
  readonly senderPower: number
}

/** The state of the machine: one height at a time. Treat it as immutable. */
export interface MachineState {
  readonly config: MachineConfig
  readonly height: number
  /** Whether `start` was received for this height. */
  readonly started: boolean
  readonly round: number
  readonly step: Step
  readonly lockedValue: ValueId | null
  readonly lockedRound: number
  readonly validValue: ValueId | null
  readonly validRound: number
  /** decision[h_p]; once set, the machine ignores everything until `start` for a later height. */
  readonly decision: {readonly round: number; readonly value: ValueId} | null
  readonly rounds: ReadonlyMap<number, RoundLog>
  /** The round in which l.34 (schedule the prevote timeout) fired, -1 if none. */
  readonly prevoteTimeoutRound: number
  /** The round in which l.36 (lock / valid value) fired, -1 if none. */
  readonly polkaRound: number
  /** The round in which l.47 (schedule the precommit timeout) fired, -1 if none. */
  readonly precommitTimeoutRound: number
}

/** The result of one step. */
export interface StepResult {
  state: MachineState
  effects: ConsensusEffect[]
}

/** A summary of a state for RPC and logs. */
export interface MachineSummary {
  height: number
  round: number
  step: Step
  lockedRound: number
  lockedValue: ValueId | null
  validRound: number
  validValue: ValueId | null
  decided: ValueId | null
  votes: {round: number; prevotes: number; precommits: number; prevotePower: number; precommitPower: number}[]
}

const EMPTY_VOTES: VoteLog = Object.freeze({
  first: new Map(),
  byValue: new Map(),
  powerByValue: new Map(),
  power: 0,
})

const EMPTY_ROUND: RoundLog = Object.freeze({
  proposals: [],
  prevote: EMPTY_VOTES,
  precommit: EMPTY_VOTES,
  senders: new Set<ValidatorAddress>(),
  senderPower: 0,
})

/**
 * A machine at `height` that has not started: feed it `{kind: 'start', height}` to begin round 0.
 * Messages for `height` that arrive before the start are recorded and acted on at the start.
 */
export function initialState(config: MachineConfig, height: number): MachineState {
  if (!isIndex(height)) throw new RangeError(`initialState: height ${height} is not a non-negative safe integer`)
  return {
    config,
    height,
    started: false,
    round: 0,
    step: 'propose',
    lockedValue: null,
    lockedRound: -1,
    validValue: null,
    validRound: -1,
    decision: null,
    rounds: new Map(),
    prevoteTimeoutRound: -1,
    polkaRound: -1,
    precommitTimeoutRound: -1,
  }
}

/**
 * Applies one event. Returns the same state object and no effects when the event is ignored
 * (another height, a non-validator, a duplicate, a stale timeout, anything after the decision).
 * After the event every upon-rule that now holds fires, until none does, so the outcome does not
 * depend on the order in which messages arrive.
 */
export function step(state: MachineState, event: ConsensusEvent): StepResult {
  const s: Draft = {...state}
  const effects: ConsensusEffect[] = []
  let changed: boolean
  switch (event.kind) {
    case 'start':
      changed = onStart(s, event.height, effects)
      break
    case 'proposal':
      changed = onProposal(s, event.proposal, event.valid)
      break
    case 'vote':
      changed = onVote(s, event.vote, effects)
      break
    case 'timeout':
      changed = onTimeout(s, event.step, event.height, event.round, effects)
      break
    default:
      changed = false
  }
  if (!changed) return {state, effects: []}
  if (s.started) settle(s, effects)
  return {state: s, effects}
}

/** A read-only summary of `state`. */
export function describe(state: MachineState): MachineSummary {
  const votes = [...state.rounds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([round, log]) => ({
      round,
      prevotes: log.prevote.first.size,
      precommits: log.precommit.first.size,
      prevotePower: log.prevote.power,
      precommitPower: log.precommit.power,
    }))
  return {
    height: state.height,
    round: state.round,
    step: state.step,
    lockedRound: state.lockedRound,
    lockedValue: state.lockedValue,
    validRound: state.validRound,
    validValue: state.validValue,
    decided: state.decision?.value ?? null,
    votes,
  }
}

type Draft = {-readonly [K in keyof MachineState]: MachineState[K]}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

// ---- events ---------------------------------------------------------------------------------

function onStart(s: Draft, height: number, effects: ConsensusEffect[]): boolean {
  if (!isIndex(height) || height < s.height || (height === s.height && s.started)) return false
  if (height > s.height) Object.assign(s, initialState(s.config, height))
  s.started = true
  startRound(s, 0, effects)
  return true
}

function onProposal(s: Draft, proposal: Proposal, valid: boolean): boolean {
  if (s.decision !== null || proposal.height !== s.height) return false
  const {round, validRound} = proposal
  // A proposal's valid round must be -1 or an earlier round (as CometBFT's ValidateBasic).
  if (!isIndex(round) || !Number.isSafeInteger(validRound) || validRound < -1 || validRound >= round) return false
  if (proposal.proposer !== s.config.validators.proposer(s.height, round)) return false
  const log = s.rounds.get(round) ?? EMPTY_ROUND
  if (log.proposals.some((p) => p.proposal.value === proposal.value && p.proposal.validRound === validRound)) return false
  setRound(s, round, withSender(s, {...log, proposals: [...log.proposals, {proposal, valid}]}, proposal.proposer))
  return true
}

function onVote(s: Draft, vote: Vote, effects: ConsensusEffect[]): boolean {
  if (s.decision !== null || vote.height !== s.height || !isIndex(vote.round)) return false
  if (vote.type !== 'prevote' && vote.type !== 'precommit') return false
  const power = s.config.validators.power(vote.validator)
  if (power === 0) return false
  const log = s.rounds.get(vote.round) ?? EMPTY_ROUND
  const votes = log[vote.type]
  const forValue = votes.byValue.get(vote.value)
  if (forValue?.has(vote.validator)) return false
  const first = votes.first.get(vote.validator)
  if (first !== undefined) effects.push({kind: 'equivocation', first, second: vote})
  const next: VoteLog = {
    first: first === undefined ? new Map(votes.first).set(vote.validator, vote) : votes.first,
    byValue: new Map(votes.byValue).set(vote.value, new Map(forValue).set(vote.validator, vote)),
    powerByValue: new Map(votes.powerByValue).set(vote.value, (votes.powerByValue.get(vote.value) ?? 0) + power),
    power: first === undefined ? votes.power + power : votes.power,
  }
  setRound(s, vote.round, withSender(s, {...log, [vote.type]: next}, vote.validator))
  return true
}

/** l.57, l.61, l.65: a timeout acts only when height, round (and step) still match. */
function onTimeout(s: Draft, timeoutStep: Step, height: number, round: number, effects: ConsensusEffect[]): boolean {
  if (!s.started || s.decision !== null || height !== s.height || round !== s.round) return false
  switch (timeoutStep) {
    case 'propose': // l.57
      if (s.step !== 'propose') return false
      broadcast(s, 'prevote', null, effects)
      s.step = 'prevote'
      return true
    case 'prevote': // l.61
      if (s.step !== 'prevote') return false
      broadcast(s, 'precommit', null, effects)
      s.step = 'precommit'
      return true
    case 'precommit': // l.65
      startRound(s, s.round + 1, effects)
      return true
    default:
      return false
  }
}

// ---- rules ----------------------------------------------------------------------------------

/** Fires the upon-rules that hold, one at a time, until none does or the height is decided. */
function settle(s: Draft, effects: ConsensusEffect[]): void {
  while (s.decision === null) {
    if (tryDecide(s, effects)) return
    if (tryCurrentRound(s, effects)) continue
    if (trySkipRound(s, effects)) continue
    return
  }
}

/** l.11 StartRound(r). */
function startRound(s: Draft, round: number, effects: ConsensusEffect[]): void {
  s.round = round
  s.step = 'propose'
  const {validators, self, timeouts} = s.config
  if (self !== null && validators.proposer(s.height, round) === self) {
    effects.push({kind: 'propose', height: s.height, round, validValue: s.validValue, validRound: s.validRound})
  } else {
    effects.push({kind: 'timeout', step: 'propose', height: s.height, round, ms: timeoutMs(timeouts, 'propose', round)})
  }
}

/** l.49: a proposal of any round with 2f+1 precommits for its value in that round, if valid(v). */
function tryDecide(s: Draft, effects: ConsensusEffect[]): boolean {
  const {quorum} = s.config.validators
  for (const [round, log] of s.rounds) {
    if (log.precommit.power < quorum) continue
    for (const {proposal, valid} of log.proposals) {
      if (!valid || powerFor(log.precommit, proposal.value) < quorum) continue
      s.decision = {round, value: proposal.value}
      const precommits = [...(log.precommit.byValue.get(proposal.value)?.values() ?? [])].sort((a, b) => (a.validator < b.validator ? -1 : a.validator > b.validator ? 1 : 0))
      effects.push({kind: 'decide', height: s.height, round, value: proposal.value, precommits})
      return true
    }
  }
  return false
}

/** The rules about the current round: l.22, l.28, l.34, l.36, l.44, l.47. Fires at most one. */
function tryCurrentRound(s: Draft, effects: ConsensusEffect[]): boolean {
  const {quorum} = s.config.validators
  const log = s.rounds.get(s.round)
  if (log === undefined) return false

  if (s.step === 'propose') {
    for (const {proposal, valid} of log.proposals) {
      const {value, validRound: vr} = proposal
      if (vr === -1) {
        // l.22
        const accept = valid && (s.lockedRound === -1 || s.lockedValue === value)
        broadcast(s, 'prevote', accept ? value : null, effects)
        s.step = 'prevote'
        return true
      }
      const polka = s.rounds.get(vr)
      if (polka !== undefined && powerFor(polka.prevote, value) >= quorum) {
        // l.28 (vr < round_p holds for every recorded proposal)
        const accept = valid && (s.lockedRound <= vr || s.lockedValue === value)
        broadcast(s, 'prevote', accept ? value : null, effects)
        s.step = 'prevote'
        return true
      }
    }
  }

  // l.34
  if (s.step === 'prevote' && s.prevoteTimeoutRound !== s.round && log.prevote.power >= quorum) {
    s.prevoteTimeoutRound = s.round
    effects.push({kind: 'timeout', step: 'prevote', height: s.height, round: s.round, ms: timeoutMs(s.config.timeouts, 'prevote', s.round)})
    return true
  }

  // l.36
  if (s.step !== 'propose' && s.polkaRound !== s.round) {
    for (const {proposal, valid} of log.proposals) {
      if (!valid || powerFor(log.prevote, proposal.value) < quorum) continue
      s.polkaRound = s.round
      if (s.step === 'prevote') {
        s.lockedValue = proposal.value
        s.lockedRound = s.round
        broadcast(s, 'precommit', proposal.value, effects)
        s.step = 'precommit'
      }
      s.validValue = proposal.value
      s.validRound = s.round
      return true
    }
  }

  // l.44
  if (s.step === 'prevote' && powerFor(log.prevote, null) >= quorum) {
    broadcast(s, 'precommit', null, effects)
    s.step = 'precommit'
    return true
  }

  // l.47
  if (s.precommitTimeoutRound !== s.round && log.precommit.power >= quorum) {
    s.precommitTimeoutRound = s.round
    effects.push({kind: 'timeout', step: 'precommit', height: s.height, round: s.round, ms: timeoutMs(s.config.timeouts, 'precommit', s.round)})
    return true
  }
  return false
}

/** l.55: f+1 power of distinct senders in a later round moves to it (the highest such round). */
function trySkipRound(s: Draft, effects: ConsensusEffect[]): boolean {
  const {skipThreshold} = s.config.validators
  let target = -1
  for (const [round, log] of s.rounds) {
    if (round > s.round && round > target && log.senderPower >= skipThreshold) target = round
  }
  if (target === -1) return false
  startRound(s, target, effects)
  return true
}

// ---- helpers --------------------------------------------------------------------------------

/** Asks the driver to sign and send a vote; an observer (or a non-validator) sends nothing. */
function broadcast(s: Draft, type: VoteType, value: ValueId | null, effects: ConsensusEffect[]): void {
  const {self, validators} = s.config
  if (self === null || !validators.has(self)) return
  effects.push({kind: 'vote', vote: {type, height: s.height, round: s.round, value, validator: self}})
}

function powerFor(votes: VoteLog, value: ValueId | null): number {
  return votes.powerByValue.get(value) ?? 0
}

function withSender(s: Draft, log: RoundLog, sender: ValidatorAddress): RoundLog {
  if (log.senders.has(sender)) return log
  return {...log, senders: new Set(log.senders).add(sender), senderPower: log.senderPower + s.config.validators.power(sender)}
}

function setRound(s: Draft, round: number, log: RoundLog): void {
  s.rounds = new Map(s.rounds).set(round, log)
}
