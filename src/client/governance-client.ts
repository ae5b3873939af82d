import {type Address, type Hex, type PublicClient, bytesToHex, getAddress, hexToBytes, numberToHex} from 'viem'

import {decodeRevert, isRevert} from '../contracts/decode-revert.js'
import {rpcFailed} from '../contracts/deploy-contract.js'
import {ExitCode, XaiError} from '../util/errors.js'
import {SUPPORT, governanceAbi, governanceParamsSchema} from '../modules/host/governance-module.js'
import {ModulesErrorCode} from '../modules/errors.js'
import {moduleAddress} from '../modules/module.js'
import {type ModuleTxSender, decodeModuleEvents, endpointOf, revertReason, sendModuleCall} from './module-tx.js'
import {hasZeroData, readModule} from './registry-client.js'
import {GovernanceErrorCode} from '../governance/errors.js'
import {
  BASIS_POINTS,
  type GovernanceParams,
  PROPOSAL_STATES,
  type ProposalState,
  type TallyResult,
  VOTE_OPTIONS,
  type VoteOption,
  tally,
} from '../governance/lifecycle.js'
import {type Proposal, type ProposalKind, canonicalProposal, decodeProposal, describeProposal} from '../governance/proposal.js'

/**
 * Governance over JSON-RPC: submit and vote (ordinary transactions to the governance module's
 * system address), read proposals through its views, the parameters from the module registry,
 * and a proposal's history from its logs (ProposalCreated, VoteCast: in receipts, so eth_getLogs)
 * and the block events of endBlock (ProposalQueued, ProposalExecuted, …: xai_getBlockEvents).
 * Everything returned is JSON-safe: heights and ids as numbers, wei and voting power as decimal
 * strings.
 */

export const GOVERNANCE_ADDRESS: Address = moduleAddress('governance')

/** Votes so far (wei of voting power), and the total power the quorum is measured against. */
export interface ProposalTally {
  yes: string
  no: string
  abstain: string
  veto: string
  totalPower: string
}

/** A proposal as the governance module holds it, its body decoded. */
export interface ProposalInfo {
  id: number
  proposer: Address
  state: ProposalState
  kind: ProposalKind
  title: string
  /** keccak256 of the canonical proposal bytes. */
  proposalHash: Hex
  submitHeight: number
  /** Voting power is the native balance at the end of this block. */
  snapshotHeight: number
  /** The last block that takes votes; the tally runs at its end. */
  votingEndHeight: number
  /** The block it executes in, once Queued. */
  executableHeight: number | null
  failureReason: string | null
  proposal: Proposal
  /** What it does, one line per action. */
  actions: string[]
  tally: ProposalTally
}

export interface GovernanceReadOptions {
  /** Read at this block (default: the latest). */
  blockNumber?: bigint
}

/**
 * The governance parameters in force (the registry's governance entry, defaults filled in).
 *
 * @example
 * const {votingPeriod, quorum} = await readGovernanceParams(client) // 20n, 3340n
 */
export async function readGovernanceParams(client: PublicClient, options: GovernanceReadOptions = {}): Promise<GovernanceParams> {
  const info = await readModule(client, 'governance', options)
  return governanceParamsSchema.parse(info.params) as GovernanceParams
}

/** How many proposals were ever submitted (ids are 1 … count). */
export async function proposalCount(client: PublicClient, options: GovernanceReadOptions = {}): Promise<number> {
  return Number(await readGovernance<bigint>(client, 'proposalCount', [], options))
}

/** One proposal, decoded; GOV_PROPOSAL_NOT_FOUND (exit 2) when there is no such id. */
export async function readProposal(client: PublicClient, id: number | bigint, options: GovernanceReadOptions = {}): Promise<ProposalInfo> {
  const blockNumber = options.blockNumber ?? (await client.getBlockNumber())
  const notFound = (): never => {
    throw proposalNotFound(id)
  }
  const [record, votes] = await Promise.all([
    readGovernance<readonly [Address, bigint, bigint, bigint, bigint, string, Hex, string, Hex]>(client, 'proposal', [BigInt(id)], {blockNumber}, notFound),
    readGovernance<readonly [bigint, bigint, bigint, bigint, bigint]>(client, 'tally', [BigInt(id)], {blockNumber}, notFound),
  ])
  const [proposer, submitHeight, snapshotHeight, votingEndHeight, executableHeight, state, body, failureReason, hash] = record
  const proposal = decodeProposal(hexToBytes(body), `proposal ${id}`)
  const [yes, no, abstain, veto, totalPower] = votes
  return {
    id: Number(id),
    proposer: getAddress(proposer),
    state: state as ProposalState,
    kind: proposal.kind,
    title: proposal.title,
    proposalHash: hash,
    submitHeight: Number(submitHeight),
    snapshotHeight: Number(snapshotHeight),
    votingEndHeight: Number(votingEndHeight),
    executableHeight: executableHeight === 0n ? null : Number(executableHeight),
    failureReason: failureReason === '' ? null : failureReason,
    proposal,
    actions: describeProposal(proposal),
    tally: {yes: yes.toString(), no: no.toString(), abstain: abstain.toString(), veto: veto.toString(), totalPower: totalPower.toString()},
  }
}

/** Every proposal, oldest first, optionally only those in `state`; all read at one block. */
export async function listProposals(client: PublicClient, options: GovernanceReadOptions & {state?: ProposalState} = {}): Promise<ProposalInfo[]> {
  const blockNumber = options.blockNumber ?? (await client.getBlockNumber())
  const count = await proposalCount(client, {blockNumber})
  const proposals: ProposalInfo[] = []
  // A few at a time: a long history must not open hundreds of requests at once.
  for (let start = 1; start <= count; start += 16) {
    const ids = Array.from({length: Math.min(16, count - start + 1)}, (_, i) => start + i)
    proposals.push(...(await Promise.all(ids.map((id) => readProposal(client, id, {blockNumber})))))
  }
  return options.state === undefined ? proposals : proposals.filter((p) => p.state === options.state)
}

/** The state name `value` means, case-insensitively (`queued` → Queued); undefined when none. */
export function parseProposalState(value: string): ProposalState | undefined {
  return PROPOSAL_STATES.find((state) => state.toLowerCase() === value.trim().toLowerCase())
}

/** The vote option `value` names (yes, no, abstain, veto; case-insensitive); undefined when none. */
export function parseVoteOption(value: string): VoteOption | undefined {
  return VOTE_OPTIONS.find((option) => option === value.trim().toLowerCase())
}

// ----- tally ---------------------------------------------------------------------------------

/** The tally against the parameters: shares in percent (two decimals, rounded down). */
export interface TallySummary {
  yes: string
  no: string
  abstain: string
  veto: string
  /** yes + no + abstain + veto. */
  cast: string
  totalPower: string
  /** Each option's share of the votes cast. */
  percent: {yes: number; no: number; abstain: number; veto: number}
  quorum: {
    /** Share of the total power that must vote (any option), in basis points. */
    bps: number
    /** Voting power that must be cast to reach it. */
    required: string
    /** Share of the total power cast so far. */
    turnout: number
    reached: boolean
  }
  threshold: {
    /** Share of yes among yes + no + veto that must be exceeded, in basis points. */
    bps: number
    /** yes / (yes + no + veto) so far. */
    yesShare: number
    met: boolean
  }
  vetoThreshold: {
    /** Share of veto among the votes cast at or above which the proposal is vetoed, in basis points. */
    bps: number
    /** veto / cast so far. */
    vetoShare: number
    vetoed: boolean
  }
  /** What the tally gives with these votes: the outcome if voting ended now, or the one it had. */
  outcome: TallyResult
}

/**
 * The tally of a proposal measured against the governance parameters, as governance's endBlock
 * computes it (lifecycle.ts `tally`), with the shares a person reads.
 *
 * @example
 * tallySummary(info.tally, params).quorum // {bps: 3340, required: '…', turnout: 40, reached: true}
 */
export function tallySummary(votes: ProposalTally, params: Pick<GovernanceParams, 'quorum' | 'threshold' | 'vetoThreshold'>): TallySummary {
  const yes = BigInt(votes.yes)
  const no = BigInt(votes.no)
  const abstain = BigInt(votes.abstain)
  const veto = BigInt(votes.veto)
  const totalPower = BigInt(votes.totalPower)
  const outcome = tally(
    {id: 0n, proposer: '', submitHeight: 0n, snapshotHeight: 0n, votingEndHeight: 0n, state: 'Active', tally: {yes, no, abstain, veto}, voters: new Set()},
    totalPower,
    {...params, votingPeriod: 1n, timelock: 0n, minDeposit: 0n},
  )
  const cast = outcome.cast
  const decisive = yes + no + veto
  return {
    yes: votes.yes,
    no: votes.no,
    abstain: votes.abstain,
    veto: votes.veto,
    cast: cast.toString(),
    totalPower: votes.totalPower,
    percent: {yes: percent(yes, cast), no: percent(no, cast), abstain: percent(abstain, cast), veto: percent(veto, cast)},
    quorum: {bps: Number(params.quorum), required: ceilDiv(params.quorum * totalPower, BASIS_POINTS).toString(), turnout: percent(cast, totalPower), reached: outcome.quorumReached},
    threshold: {bps: Number(params.threshold), yesShare: percent(yes, decisive), met: decisive > 0n && yes * BASIS_POINTS > params.threshold * decisive},
    vetoThreshold: {bps: Number(params.vetoThreshold), vetoShare: percent(veto, cast), vetoed: outcome.vetoed},
    outcome: outcome.result,
  }
}

/** part / whole in percent, rounded down to two decimals; 0 when whole is 0. */
export function percent(part: bigint, whole: bigint): number {
  if (whole === 0n) return 0
  return Number((part * 100n * 100n) / whole) / 100
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

// ----- history -------------------------------------------------------------------------------

export type GovernanceEventName = 'ProposalCreated' | 'VoteCast' | 'ProposalQueued' | 'ProposalExecuted' | 'ProposalDefeated' | 'ProposalVetoed' | 'ProposalFailed'

/** One event of a proposal: from a receipt (txHash set) or from a block's endBlock (txHash null). */
export interface ProposalEvent {
  event: GovernanceEventName
  blockNumber: number
  txHash: Hex | null
  /** The event's arguments, integers as decimal strings; VoteCast's support as yes/no/abstain/veto. */
  args: Record<string, unknown>
}

/** A vote cast on a proposal. */
export interface CastVote {
  voter: Address
  support: VoteOption
  /** Voting power counted (wei held at the snapshot). */
  weight: string
  blockNumber: number
  txHash: Hex
}

export interface ProposalHistory {
  events: ProposalEvent[]
  votes: CastVote[]
}

/** The widest range one eth_getLogs request asks for (the node's default limit). */
const LOG_RANGE = 10_000n

/**
 * A proposal's events in block order: ProposalCreated and VoteCast from eth_getLogs over its
 * voting blocks, and the endBlock events (ProposalQueued, Defeated, Vetoed, Executed, Failed)
 * from xai_getBlockEvents over the blocks its tally and execution run in, up to the head.
 */
export async function proposalHistory(client: PublicClient, info: Pick<ProposalInfo, 'id' | 'submitHeight' | 'votingEndHeight' | 'executableHeight'>, options: GovernanceReadOptions = {}): Promise<ProposalHistory> {
  const head = options.blockNumber ?? (await client.getBlockNumber())
  const id = BigInt(info.id)
  const events: ProposalEvent[] = []
  const votes: CastVote[] = []
  const submit = BigInt(info.submitHeight)
  const votingEnd = BigInt(info.votingEndHeight)
  try {
    const logs = []
    const created = await client.getLogs({address: GOVERNANCE_ADDRESS, event: eventAbi('ProposalCreated'), args: {proposalId: id}, fromBlock: submit, toBlock: submit})
    logs.push(...created)
    const last = votingEnd < head ? votingEnd : head
    for (let from = submit; from <= last; from += LOG_RANGE) {
      const to = from + LOG_RANGE - 1n < last ? from + LOG_RANGE - 1n : last
      logs.push(...(await client.getLogs({address: GOVERNANCE_ADDRESS, event: eventAbi('VoteCast'), args: {proposalId: id}, fromBlock: from, toBlock: to})))
    }
    for (const log of logs) {
      const [decoded] = decodeModuleEvents(governanceAbi, GOVERNANCE_ADDRESS, [log])
      if (!decoded) continue
      const blockNumber = Number(log.blockNumber)
      const txHash = log.transactionHash as Hex
      if (decoded.event === 'VoteCast') {
        const support = VOTE_BY_SUPPORT[Number(decoded.raw.support)] ?? 'no'
        votes.push({voter: getAddress(decoded.raw.voter as Address), support, weight: String(decoded.raw.weight), blockNumber, txHash})
        events.push({event: 'VoteCast', blockNumber, txHash, args: {...decoded.args, support}})
      } else {
        events.push({event: decoded.event as GovernanceEventName, blockNumber, txHash, args: decoded.args})
      }
    }
    // The tally runs at the end of votingEndHeight, execution at the end of executableHeight.
    const lastHook = BigInt(info.executableHeight ?? info.votingEndHeight)
    for (let height = votingEnd; height <= lastHook && height <= head; height++) {
      const blockEvents = (await client.request({method: 'xai_getBlockEvents', params: [numberToHex(height)]} as never)) as {address: Hex; topics: Hex[]; data: Hex}[] | null
      for (const decoded of decodeModuleEvents(governanceAbi, GOVERNANCE_ADDRESS, blockEvents ?? [])) {
        if (decoded.raw.proposalId !== id) continue
        events.push({event: decoded.event as GovernanceEventName, blockNumber: Number(height), txHash: null, args: decoded.args})
      }
    }
  } catch (err) {
    if (err instanceof XaiError) throw err
    throw rpcFailed(`Reading the history of proposal ${info.id}`, endpointOf(client), err)
  }
  events.sort((a, b) => a.blockNumber - b.blockNumber)
  return {events, votes}
}

const VOTE_BY_SUPPORT: Record<number, VoteOption> = Object.fromEntries(Object.entries(SUPPORT).map(([option, value]) => [value, option as VoteOption]))

function eventAbi<N extends 'ProposalCreated' | 'VoteCast'>(name: N) {
  return governanceAbi.find((item) => item.type === 'event' && item.name === name) as Extract<(typeof governanceAbi)[number], {type: 'event'; name: N}>
}

/** A proposal with everything `governance show` reports. */
export interface ProposalDetails extends ProposalInfo {
  /** The tally against quorum, threshold and veto. */
  tallySummary: TallySummary
  /** The governance parameters in force (integers as decimal strings). */
  params: Record<keyof GovernanceParams, string>
  votes: CastVote[]
  history: ProposalEvent[]
  /** The block everything was read at. */
  head: number
}

/**
 * A proposal, its tally against the parameters in force, its votes and its history, all read at
 * one block (the latest by default).
 */
export async function readProposalDetails(client: PublicClient, id: number | bigint, options: GovernanceReadOptions = {}): Promise<ProposalDetails> {
  const head = options.blockNumber ?? (await client.getBlockNumber())
  const [info, params] = await Promise.all([readProposal(client, id, {blockNumber: head}), readGovernanceParams(client, {blockNumber: head})])
  const {events, votes} = await proposalHistory(client, info, {blockNumber: head})
  return {
    ...info,
    tallySummary: tallySummary(info.tally, params),
    params: Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)])) as Record<keyof GovernanceParams, string>,
    votes,
    history: events,
    head: Number(head),
  }
}

// ----- writes --------------------------------------------------------------------------------

export interface SubmitProposalOptions {
  proposal: Proposal
  /** Wei deposited with it (refunded unless it is vetoed); default: the chain's minDeposit. */
  deposit?: bigint
  receiptTimeoutMs?: number
  onEvent?: (event: {type: 'simulated' | 'sent' | 'mined'; detail: string}) => void
}

export interface SubmitProposalResult {
  id: number
  proposalHash: Hex
  txHash: Hex
  submitHeight: number
  votingEndHeight: number
  snapshotHeight: number
  proposer: Address
  /** Wei deposited. */
  deposit: string
}

/**
 * Submits a proposal (governance.propose with its canonical bytes and the deposit) and waits for
 * it to be mined. The chain's refusal (an invalid proposal, a deposit below minDeposit) is
 * GOV_REJECTED (exit 4) with the module's reason.
 */
export async function submitProposal(client: PublicClient, sender: ModuleTxSender, options: SubmitProposalOptions): Promise<SubmitProposalResult> {
  const deposit = options.deposit ?? (await readGovernanceParams(client)).minDeposit
  const body = bytesToHex(canonicalProposal(options.proposal))
  const result = await sendModuleCall({
    client,
    sender,
    to: GOVERNANCE_ADDRESS,
    abi: governanceAbi,
    functionName: 'propose',
    args: [body],
    value: deposit,
    what: `governance.propose("${options.proposal.title}")`,
    rejectedCode: GovernanceErrorCode.rejected,
    rejectedHint: 'Check the proposal with `xai governance validate` and the deposit against the governance parameters (`xai module show governance`).',
    receiptTimeoutMs: options.receiptTimeoutMs,
    onEvent: options.onEvent,
  })
  const created = result.events.find((e) => e.event === 'ProposalCreated')
  if (!created) throw new XaiError(GovernanceErrorCode.rejected, `The proposal was mined in block ${result.blockNumber} (tx ${result.txHash}) but emitted no ProposalCreated`, {exitCode: ExitCode.bug})
  return {
    id: Number(created.raw.proposalId),
    proposalHash: created.raw.proposalHash as Hex,
    txHash: result.txHash,
    submitHeight: Number(created.raw.voteStart),
    votingEndHeight: Number(created.raw.voteEnd),
    snapshotHeight: Number(created.raw.snapshot),
    proposer: sender.address,
    deposit: deposit.toString(),
  }
}

export interface VoteOptions {
  id: number | bigint
  support: VoteOption
  receiptTimeoutMs?: number
  onEvent?: (event: {type: 'simulated' | 'sent' | 'mined'; detail: string}) => void
}

export interface VoteResult {
  id: number
  support: VoteOption
  /** Voting power counted: the voter's balance at the snapshot (wei). */
  weight: string
  voter: Address
  txHash: Hex
  blockNumber: number
}

/**
 * Votes on a proposal. Simulated first, so a vote the module refuses (voting ended, already
 * voted, no power at the snapshot, no such proposal) stops there as GOV_REJECTED (exit 4) with
 * its reason; then sent and waited for.
 */
export async function voteOnProposal(client: PublicClient, sender: ModuleTxSender, options: VoteOptions): Promise<VoteResult> {
  const result = await sendModuleCall({
    client,
    sender,
    to: GOVERNANCE_ADDRESS,
    abi: governanceAbi,
    functionName: 'vote',
    args: [BigInt(options.id), SUPPORT[options.support]],
    what: `Voting ${options.support} on proposal ${options.id}`,
    rejectedCode: GovernanceErrorCode.rejected,
    rejectedHint: '`xai governance show <id>` shows the proposal\'s state, voting end and who voted.',
    receiptTimeoutMs: options.receiptTimeoutMs,
    onEvent: options.onEvent,
  })
  const cast = result.events.find((e) => e.event === 'VoteCast')
  return {
    id: Number(options.id),
    support: options.support,
    weight: cast ? String(cast.raw.weight) : '0',
    voter: sender.address,
    txHash: result.txHash,
    blockNumber: Number(result.blockNumber),
  }
}

function proposalNotFound(id: number | bigint): XaiError {
  return new XaiError(GovernanceErrorCode.proposalNotFound, `There is no proposal ${id}`, {
    hint: '`xai governance list` lists the proposals of the chain.',
    details: {id: Number(id)},
  })
}

/** A governance view by eth_call; a revert goes to `onRevert` when given (else exit 4 with the reason). */
async function readGovernance<T>(client: PublicClient, functionName: string, args: readonly unknown[], options: GovernanceReadOptions, onRevert?: (reason: string) => never): Promise<T> {
  try {
    return (await client.readContract({address: GOVERNANCE_ADDRESS, abi: governanceAbi, functionName, args, ...(options.blockNumber === undefined ? {} : {blockNumber: options.blockNumber})} as Parameters<PublicClient['readContract']>[0])) as T
  } catch (err) {
    if (isRevert(err)) {
      const reason = revertReason(decodeRevert(governanceAbi, err))
      if (onRevert) onRevert(reason)
      throw new XaiError(GovernanceErrorCode.rejected, `governance.${functionName} reverted: ${reason}`, {cause: err, details: {reason}})
    }
    if (hasZeroData(err)) {
      throw new XaiError(ModulesErrorCode.notFound, 'This chain has no governance module (its address answers nothing)', {
        hint: 'Governance runs on xai chains whose genesis activates the built-in modules (a devnet made by `xai devnet up` does).',
        cause: err,
      })
    }
    throw rpcFailed(`Reading governance (${functionName})`, endpointOf(client), err)
  }
}

