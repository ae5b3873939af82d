import {XaiError} from '../util/errors.js'
import {GovernanceErrorCode, lifecycleError} from './errors.js'

/**
 * The lifecycle of a governance proposal and its tally, after Cosmos SDK x/gov and OpenZeppelin
 * Governor + Timelock. Pure and deterministic: heights and voting power are bigint, ratios are
 * basis points compared by cross-multiplication, records are never mutated (every function
 * returns a new record) and every transition returns the events it caused as data, named after
 * Governor's events where one fits, for the chain to emit as logs.
 *
 * Timeline of a proposal submitted in block `submitHeight` with voting period P and timelock T:
 * - snapshotHeight = submitHeight - 1 (the last committed state when it is submitted; 0 at most):
 *   a voter's power is their native balance there, so moving funds after submission changes
 *   nothing.
 * - Votes are accepted in blocks submitHeight … votingEndHeight (= submitHeight + P), both
 *   included.
 * - `advance` at votingEndHeight (run in endBlock, after that block's votes) tallies: Vetoed,
 *   Defeated, or Succeeded, which moves on at once to Queued with executableHeight =
 *   votingEndHeight + T (the timelock starts on success).
 * - From executableHeight the chain executes it and records the outcome with `markExecuted`:
 *   Executed, or Failed with its reason (a failed execution changes nothing).
 *
 * One vote per address per proposal, and it is final (Governor's rule, not x/gov's replacement):
 * a second vote from the same address is rejected with GOV_ALREADY_VOTED. Votes are tallied as
 * they arrive, so a record needs only the set of addresses that voted, and the tally a block ends
 * with cannot depend on which of two votes from one address came first.
 */

export type ProposalState = 'Active' | 'Succeeded' | 'Defeated' | 'Vetoed' | 'Queued' | 'Executed' | 'Failed' | 'Canceled'
export const PROPOSAL_STATES: readonly ProposalState[] = ['Active', 'Succeeded', 'Defeated', 'Vetoed', 'Queued', 'Executed', 'Failed', 'Canceled']

/**
 * How far along the lifecycle each state is; a transition always goes to a higher stage. Defeated,
 * Vetoed, Canceled, Executed and Failed are final.
 */
export const STATE_STAGE: Readonly<Record<ProposalState, number>> = {
  Active: 0,
  Succeeded: 1,
  Defeated: 1,
  Vetoed: 1,
  Canceled: 3,
  Queued: 2,
  Executed: 3,
  Failed: 3,
}
export const FINAL_STATES: ReadonlySet<ProposalState> = new Set(['Defeated', 'Vetoed', 'Canceled', 'Executed', 'Failed'])

export const VOTE_OPTIONS = ['yes', 'no', 'abstain', 'veto'] as const
export type VoteOption = (typeof VOTE_OPTIONS)[number]

/** The denominator of quorum, threshold and vetoThreshold: 10 000 basis points = 100 %. */
export const BASIS_POINTS = 10_000n

export interface GovernanceParams {
  /** Blocks a proposal is open for votes after the block it was submitted in. */
  votingPeriod: bigint
  /** Share of the total voting power that must vote (any option, abstain included), in basis points. */
  quorum: bigint
  /** Share of yes among yes + no + veto (abstain excluded) that must be exceeded to pass, in basis points. */
  threshold: bigint
  /** Share of veto among all votes cast at or above which the proposal is Vetoed, in basis points. */
  vetoThreshold: bigint
  /** Blocks between success and the first block it may execute in. */
  timelock: bigint
  /** Wei a proposer deposits with a proposal (checked by the chain when it is submitted). */
  minDeposit: bigint
}

/** Defaults close to x/gov's (quorum 33.4 %, threshold 50 %, veto 33.4 %) with devnet-sized periods. */
export const DEFAULT_GOVERNANCE_PARAMS: Readonly<GovernanceParams> = {
  votingPeriod: 20n,
  quorum: 3340n,
  threshold: 5000n,
  vetoThreshold: 3340n,
  timelock: 5n,
  minDeposit: 0n,
}

export interface Tally {
  yes: bigint
  no: bigint
  abstain: bigint
  veto: bigint
}

export interface ProposalRecord {
  id: bigint
  proposer: string
  submitHeight: bigint
  snapshotHeight: bigint
  votingEndHeight: bigint
  /** Set when the proposal is Queued: the first height it may execute at. */
  executableHeight?: bigint
  state: ProposalState
  tally: Tally
  /** Lowercase addresses that have voted. */
  voters: ReadonlySet<string>
  /** Why execution failed, for a Failed proposal. */
  failureReason?: string
}

/** An event a transition caused, for the chain to emit as a log. */
export interface GovernanceEvent {
  name: 'ProposalCreated' | 'VoteCast' | 'ProposalQueued' | 'ProposalExecuted' | 'ProposalCanceled' | 'ProposalDefeated' | 'ProposalVetoed' | 'ProposalFailed'
  args: Record<string, bigint | string | boolean>
}

export interface Transition {
  record: ProposalRecord
  events: GovernanceEvent[]
}

export type TallyResult = 'passed' | 'no-quorum' | 'below-threshold' | 'vetoed'

export interface TallyOutcome {
  /** yes + no + abstain + veto. */
  cast: bigint
  quorumReached: boolean
  vetoed: boolean
  passed: boolean
  result: TallyResult
}

/** Checks governance parameters: bigint, basis points within 0..10000, a voting period of at least one block. */
export function checkGovernanceParams(params: GovernanceParams): GovernanceParams {
  const problems: string[] = []
  for (const key of ['votingPeriod', 'quorum', 'threshold', 'vetoThreshold', 'timelock', 'minDeposit'] as const) {
    if (typeof params[key] !== 'bigint') problems.push(`${key} must be a bigint`)
    else if (params[key] < 0n) problems.push(`${key} must not be negative`)
  }
  if (problems.length === 0) {
    if (params.votingPeriod < 1n) problems.push('votingPeriod must be at least 1 block')
    for (const key of ['quorum', 'threshold', 'vetoThreshold'] as const) if (params[key] > BASIS_POINTS) problems.push(`${key} must be at most ${BASIS_POINTS} basis points`)
  }
  if (problems.length > 0) {
    throw new XaiError(GovernanceErrorCode.invalidParams, `Invalid governance parameters: ${problems.join('; ')}`, {details: {problems}})
  }
  return params
}

export interface OpenProposalParameters {
  id: bigint
  proposer: string
  submitHeight: bigint
  params: GovernanceParams
  /** Hash of the proposal's canonical bytes, carried in ProposalCreated. */
  proposalHash?: string
  description?: string
}

/** A new Active proposal and its ProposalCreated event. */
export function openProposal({id, proposer, submitHeight, params, proposalHash, description}: OpenProposalParameters): Transition {
  checkGovernanceParams(params)
  if (submitHeight < 0n) throw new RangeError('submitHeight must not be negative')
  const snapshotHeight = submitHeight > 0n ? submitHeight - 1n : 0n
  const votingEndHeight = submitHeight + params.votingPeriod
  const record: ProposalRecord = {
    id,
    proposer: proposer.toLowerCase(),
    submitHeight,
    snapshotHeight,
    votingEndHeight,
    state: 'Active',
    tally: {yes: 0n, no: 0n, abstain: 0n, veto: 0n},
    voters: new Set(),
  }
  const args: GovernanceEvent['args'] = {proposalId: id, proposer: record.proposer, voteStart: submitHeight, voteEnd: votingEndHeight, snapshot: snapshotHeight}
  if (proposalHash !== undefined) args.proposalHash = proposalHash
  if (description !== undefined) args.description = description
  return {record, events: [{name: 'ProposalCreated', args}]}
}

/**
 * Counts a vote of `power` (the voter's balance at the snapshot) for `option` cast in block
 * `height`. Rejected (GOV_VOTING_CLOSED) outside submitHeight … votingEndHeight or when the
 * proposal is no longer Active, and (GOV_ALREADY_VOTED) when the address has voted already.
 */
export function castVote(record: ProposalRecord, voter: string, option: VoteOption, power: bigint, height: bigint): Transition {
  if (!(VOTE_OPTIONS as readonly string[]).includes(option)) {
    throw new XaiError(GovernanceErrorCode.invalidVote, `Unknown vote option "${option}"; vote ${VOTE_OPTIONS.join(', ')}`, {details: {option}})
  }
  if (power < 0n) throw new XaiError(GovernanceErrorCode.invalidVote, `Voting power must not be negative (got ${power})`, {details: {power}})
  const details = {proposalId: record.id, state: record.state, height, votingEndHeight: record.votingEndHeight}
  if (record.state !== 'Active') {
    throw lifecycleError(GovernanceErrorCode.votingClosed, `Proposal ${record.id} is ${record.state}, not Active: it takes no more votes`, details)
  }
  if (height > record.votingEndHeight) {
    throw lifecycleError(GovernanceErrorCode.votingClosed, `Voting on proposal ${record.id} ended at block ${record.votingEndHeight}; this vote is at block ${height}`, details, 'Watch open proposals with `xai governance list` and vote before their end block.')
  }
  if (height < record.submitHeight) {
    throw lifecycleError(GovernanceErrorCode.votingClosed, `Proposal ${record.id} was submitted at block ${record.submitHeight}; a vote at block ${height} is before it`, details)
  }
  const address = voter.toLowerCase()
  if (record.voters.has(address)) {
    throw lifecycleError(GovernanceErrorCode.alreadyVoted, `${voter} has already voted on proposal ${record.id}; votes are final`, {...details, voter: address})
  }
  const voters = new Set(record.voters)
  voters.add(address)
  const tally = {...record.tally, [option]: record.tally[option] + power}
  return {
    record: {...record, tally, voters},
    events: [{name: 'VoteCast', args: {voter: address, proposalId: record.id, support: option, weight: power}}],
  }
}

/**
 * The outcome of the votes so far, as x/gov computes it at the end of voting: without quorum
 * (cast ≥ quorum × totalPower) the proposal fails; with quorum, veto ≥ vetoThreshold × cast
 * (abstain included, at least one veto) vetoes it before anything else; otherwise it passes when
 * yes > threshold × (yes + no + veto) (abstain excluded).
 */
export function tally(record: ProposalRecord, totalPower: bigint, params: GovernanceParams): TallyOutcome {
  const {yes, no, abstain, veto} = record.tally
  const cast = yes + no + abstain + veto
  const quorumReached = cast * BASIS_POINTS >= params.quorum * totalPower
  const vetoed = quorumReached && veto > 0n && veto * BASIS_POINTS >= params.vetoThreshold * cast
  const decisive = yes + no + veto
  const passed = quorumReached && !vetoed && decisive > 0n && yes * BASIS_POINTS > params.threshold * decisive
  const result: TallyResult = !quorumReached ? 'no-quorum' : vetoed ? 'vetoed' : passed ? 'passed' : 'below-threshold'
  return {cast, quorumReached, vetoed, passed, result}
}

/**
 * The record at the end of block `height`. An Active proposal whose voting has ended is tallied
 * against `totalPower` (the voting power at its snapshot) and becomes Vetoed, Defeated, or
 * Succeeded and at once Queued. Any other case returns the record unchanged with no events, so
 * calling it again at the same height (or any later one) changes nothing.
 */
export function advance(record: ProposalRecord, height: bigint, totalPower: bigint, params: GovernanceParams): Transition {
  if (record.state !== 'Active' || height < record.votingEndHeight) return {record, events: []}
  const outcome = tally(record, totalPower, params)
  const totals = {proposalId: record.id, yes: record.tally.yes, no: record.tally.no, abstain: record.tally.abstain, veto: record.tally.veto}
  if (outcome.vetoed) return {record: {...record, state: 'Vetoed'}, events: [{name: 'ProposalVetoed', args: totals}]}
  if (!outcome.passed) return {record: {...record, state: 'Defeated'}, events: [{name: 'ProposalDefeated', args: {...totals, reason: outcome.result}}]}
  const executableHeight = record.votingEndHeight + params.timelock
  return {record: {...record, state: 'Queued', executableHeight}, events: [{name: 'ProposalQueued', args: {proposalId: record.id, etaBlock: executableHeight}}]}
}

/** Whether a Queued proposal may be executed in block `height` (its timelock has run out). */
export function isExecutable(record: ProposalRecord, height: bigint): boolean {
  return record.state === 'Queued' && record.executableHeight !== undefined && height >= record.executableHeight
}

/**
 * Records the outcome of executing a Queued proposal: Executed, or Failed with its reason. The
 * chain calls it only when {@link isExecutable}; any other state is rejected.
 */
export function markExecuted(record: ProposalRecord, ok: boolean, reason?: string): Transition {
  if (record.state !== 'Queued') {
    throw lifecycleError(GovernanceErrorCode.invalidTransition, `Proposal ${record.id} is ${record.state}; only a Queued proposal can be executed`, {proposalId: record.id, state: record.state})
  }
  if (ok) return {record: {...record, state: 'Executed'}, events: [{name: 'ProposalExecuted', args: {proposalId: record.id}}]}
  const why = reason ?? 'execution failed'
  return {record: {...record, state: 'Failed', failureReason: why}, events: [{name: 'ProposalFailed', args: {proposalId: record.id, reason: why}}]}
}

/** Cancels an Active or Queued proposal (whether the caller may is the chain's decision). */
export function cancelProposal(record: ProposalRecord): Transition {
  if (record.state !== 'Active' && record.state !== 'Queued') {
    throw lifecycleError(GovernanceErrorCode.invalidTransition, `Proposal ${record.id} is ${record.state}; only an Active or Queued proposal can be canceled`, {proposalId: record.id, state: record.state})
  }
  return {record: {...record, state: 'Canceled'}, events: [{name: 'ProposalCanceled', args: {proposalId: record.id}}]}
}
