import {type Address, type Hex, bytesToHex, hexToBytes, keccak256, parseAbi} from 'viem'
import {z} from 'zod'

import {
  type GovernanceParams,
  type ProposalRecord,
  type ProposalState,
  type VoteOption,
  DEFAULT_GOVERNANCE_PARAMS,
  PROPOSAL_STATES,
  advance,
  castVote,
  checkGovernanceParams,
  isExecutable,
  markExecuted,
  openProposal,
} from '../../governance/lifecycle.js'
import {type Proposal, decodeProposal} from '../../governance/proposal.js'
import {type ModuleContext, type ModuleStorage, type NativeModule, type ReadonlyModuleContext, revert} from '../module.js'
import {addressToWord, hexToWord, mappingSlot, namespaceSlot, readBytes, readString, slotAdd, wordToAddress, wordToHex, writeBytes, writeString} from '../storage-codec.js'

/**
 * Governance as a native module: proposals are submitted and voted on by ordinary transactions to
 * its system address, tallied and executed in its endBlock on every validator, after the pure
 * lifecycle of governance/lifecycle.ts (x/gov's tally, Governor's states and event names).
 * A voter's power is their native balance at the proposal's snapshot block (the block before the
 * one it was submitted in); the quorum is measured against the native wei outside module accounts
 * at the start of the submission block.
 *
 * Layout (slots of the governance address):
 * - count: namespaceSlot('xai.gov.count'): proposals so far (ids 1…count).
 * - open: namespaceSlot('xai.gov.open'): count, then the ids not yet final at open + 1 + i.
 * - proposal p at base = mappingSlot(namespaceSlot('xai.gov.proposal'), p): +0 proposer,
 *   +1 submit height, +2 voting end height, +3 state (index in PROPOSAL_STATES), +4 executable
 *   height, +5…+8 yes, no, abstain, veto, +9 total power, +10 deposit, +11 canonical proposal
 *   (bytes), +12 failure reason (string), +13 proposal hash.
 * - vote of v on p: mappingSlot(mappingSlot(namespaceSlot('xai.gov.votes'), p), v): support + 1.
 * - votes cast so far, on every proposal: namespaceSlot('xai.gov.voteCount').
 */

export const GOVERNANCE_VERSION = '1.0.0'

const COUNT = namespaceSlot('xai.gov.count')
const OPEN = namespaceSlot('xai.gov.open')
const PROPOSALS = namespaceSlot('xai.gov.proposal')
const VOTES = namespaceSlot('xai.gov.votes')
const VOTE_COUNT = namespaceSlot('xai.gov.voteCount')

/** Governor's support values. */
export const SUPPORT: Record<VoteOption, number> = {no: 0, yes: 1, abstain: 2, veto: 3}
const OPTION_OF: VoteOption[] = ['no', 'yes', 'abstain', 'veto']

const amount = z.coerce.bigint().nonnegative()
export const governanceParamsSchema = z.object({
  votingPeriod: amount.default(DEFAULT_GOVERNANCE_PARAMS.votingPeriod),
  quorum: amount.max(10_000n).default(DEFAULT_GOVERNANCE_PARAMS.quorum),
  threshold: amount.max(10_000n).default(DEFAULT_GOVERNANCE_PARAMS.threshold),
  vetoThreshold: amount.max(10_000n).default(DEFAULT_GOVERNANCE_PARAMS.vetoThreshold),
  timelock: amount.default(DEFAULT_GOVERNANCE_PARAMS.timelock),
  minDeposit: amount.default(DEFAULT_GOVERNANCE_PARAMS.minDeposit),
})

export const governanceAbi = parseAbi([
  'function propose(bytes proposal) payable returns (uint256)',
  'function vote(uint256 proposalId, uint8 support)',
  'function proposalCount() view returns (uint256)',
  'function state(uint256 proposalId) view returns (string)',
  'function proposal(uint256 proposalId) view returns (address proposer, uint256 submitHeight, uint256 snapshotHeight, uint256 votingEndHeight, uint256 executableHeight, string state, bytes body, string failureReason, bytes32 proposalHash)',
  'function tally(uint256 proposalId) view returns (uint256 yes, uint256 no, uint256 abstain, uint256 veto, uint256 totalPower)',
  'function hasVoted(uint256 proposalId, address voter) view returns (bool)',
  'function votingPower(uint256 proposalId, address voter) view returns (uint256)',
  'event ProposalCreated(uint256 indexed proposalId, address indexed proposer, uint256 voteStart, uint256 voteEnd, uint256 snapshot, bytes32 proposalHash, string kind, string title)',
  'event VoteCast(address indexed voter, uint256 indexed proposalId, uint8 support, uint256 weight)',
  'event ProposalQueued(uint256 indexed proposalId, uint256 etaBlock)',
  'event ProposalExecuted(uint256 indexed proposalId)',
  'event ProposalDefeated(uint256 indexed proposalId, string reason)',
  'event ProposalVetoed(uint256 indexed proposalId)',
  'event ProposalFailed(uint256 indexed proposalId, string reason)',
])

type Reader = Pick<ModuleStorage, 'get'>

function base(id: bigint): bigint {
  return mappingSlot(PROPOSALS, id)
}

interface StoredProposal {
  record: ProposalRecord
  totalPower: bigint
  deposit: bigint
  body: Uint8Array
  hash: Hex
}

function readProposal(storage: Reader, id: bigint): StoredProposal | undefined {
  if (id < 1n || id > storage.get(COUNT)) return undefined
  const at = (offset: bigint) => storage.get(slotAdd(base(id), offset))
  const submitHeight = at(1n)
  const executableHeight = at(4n)
  const failureReason = readString(storage, slotAdd(base(id), 12n))
  const record: ProposalRecord = {
    id,
    proposer: wordToAddress(at(0n)).toLowerCase(),
    submitHeight,
    snapshotHeight: submitHeight > 0n ? submitHeight - 1n : 0n,
    votingEndHeight: at(2n),
    state: PROPOSAL_STATES[Number(at(3n))]!,
    tally: {yes: at(5n), no: at(6n), abstain: at(7n), veto: at(8n)},
    voters: new Set(),
    ...(executableHeight !== 0n ? {executableHeight} : {}),
    ...(failureReason !== '' ? {failureReason} : {}),
  }
  return {record, totalPower: at(9n), deposit: at(10n), body: readBytes(storage, slotAdd(base(id), 11n)), hash: wordToHex(at(13n))}
}

function writeRecord(storage: ModuleStorage, record: ProposalRecord): void {
  const b = base(record.id)
  storage.set(slotAdd(b, 3n), BigInt(PROPOSAL_STATES.indexOf(record.state)))
  storage.set(slotAdd(b, 4n), record.executableHeight ?? 0n)
  storage.set(slotAdd(b, 5n), record.tally.yes)
  storage.set(slotAdd(b, 6n), record.tally.no)
  storage.set(slotAdd(b, 7n), record.tally.abstain)
  storage.set(slotAdd(b, 8n), record.tally.veto)
  if (record.failureReason !== undefined) writeString(storage, slotAdd(b, 12n), record.failureReason)
}

function voteSlot(id: bigint, voter: Address): bigint {
  return mappingSlot(mappingSlot(VOTES, id), voter)
}

function openIds(storage: Reader): bigint[] {
  const count = storage.get(OPEN)
  const ids: bigint[] = []
  for (let i = 0n; i < count; i++) ids.push(storage.get(slotAdd(OPEN, 1n + i)))
  return ids
}

function setOpenIds(storage: ModuleStorage, ids: bigint[]): void {
  const before = storage.get(OPEN)
  ids.forEach((id, i) => storage.set(slotAdd(OPEN, 1n + BigInt(i)), id))
  for (let i = BigInt(ids.length); i < before; i++) storage.set(slotAdd(OPEN, 1n + i), 0n)
  storage.set(OPEN, BigInt(ids.length))
}

function paramsOf(ctx: {params: Readonly<Record<string, unknown>>}): GovernanceParams {
  return checkGovernanceParams(ctx.params as unknown as GovernanceParams)
}

function emitAll(ctx: ModuleContext, events: {name: string; args: Record<string, unknown>}[]): void {
  for (const event of events) {
    const args = event.args
    switch (event.name) {
      case 'VoteCast':
        ctx.emit('VoteCast', {voter: args.voter, proposalId: args.proposalId, support: SUPPORT[args.support as VoteOption], weight: args.weight})
        break
      case 'ProposalQueued':
        ctx.emit('ProposalQueued', {proposalId: args.proposalId, etaBlock: args.etaBlock})
        break
      case 'ProposalExecuted':
      case 'ProposalVetoed':
        ctx.emit(event.name, {proposalId: args.proposalId})
        break
      case 'ProposalDefeated':
      case 'ProposalFailed':
        ctx.emit(event.name, {proposalId: args.proposalId, reason: args.reason})
        break
      default:
        break
    }
  }
}

function decodeBody(body: Hex): Proposal {
  const bytes = hexToBytes(body)
  try {
    return decodeProposal(bytes)
  } catch (err) {
    const problems = ((err as {details?: {problems?: {path: string; message: string}[]}}).details?.problems ?? []).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message))
    revert(`invalid proposal: ${problems.join('; ') || (err as Error).message}`)
  }
}

/** The reason `voter` may not vote `option` on `id` now, or undefined when they may. */
function voteProblem(ctx: ReadonlyModuleContext, id: bigint, support: number): string | undefined {
  if (!Number.isInteger(support) || support < 0 || support > 3) return `support must be 0 (no), 1 (yes), 2 (abstain) or 3 (veto), not ${support}`
  const stored = readProposal(ctx.storage, id)
  if (!stored) return `no proposal ${id}`
  const {record} = stored
  if (record.state !== 'Active') return `proposal ${id} is ${record.state}, not Active: it takes no more votes`
  if (ctx.height > record.votingEndHeight) return `voting on proposal ${id} ended at block ${record.votingEndHeight}`
  if (ctx.storage.get(voteSlot(id, ctx.sender)) !== 0n) return `${ctx.sender} has already voted on proposal ${id}; votes are final`
  if (ctx.balanceAt(ctx.sender, record.snapshotHeight) === 0n) return `${ctx.sender} had no voting power at block ${record.snapshotHeight} (the proposal's snapshot)`
  return undefined
}

export const governanceModule: NativeModule = {
  manifest: {id: 'governance', version: GOVERNANCE_VERSION, description: 'Proposals, votes weighted by balance at a snapshot, tally, timelock and execution'},
  params: governanceParamsSchema,
  abi: governanceAbi,
  gas: {propose: 100_000n, vote: 40_000n, proposalCount: 2_000n, state: 2_000n, proposal: 5_000n, tally: 3_000n, hasVoted: 2_000n, votingPower: 3_000n},
  validateTx(tx, ctx) {
    if (tx.name === 'propose') {
      try {
        decodeBody(tx.args[0] as Hex)
      } catch (err) {
        return {ok: false, reason: (err as Error).message}
      }
      const {minDeposit} = paramsOf(ctx)
      if (tx.value < minDeposit) return {ok: false, reason: `a proposal needs a deposit of at least ${minDeposit} wei; ${tx.value} sent`}
      return {ok: true}
    }
    if (tx.value !== 0n) return {ok: false, reason: `${tx.name} does not take value`}
    if (tx.name === 'vote') {
      const problem = voteProblem(ctx, tx.args[0] as bigint, Number(tx.args[1]))
      return problem ? {ok: false, reason: problem} : {ok: true}
    }
    return {ok: true}
  },
  calls: {
    propose(ctx, [body]) {
      const proposal = decodeBody(body as Hex)
      const params = paramsOf(ctx)
      if (ctx.value < params.minDeposit) revert(`a proposal needs a deposit of at least ${params.minDeposit} wei; ${ctx.value} sent`)
      const supply = ctx.system?.circulatingSupply?.()
      if (supply === undefined) revert('governance runs only as the chain built-in')
      const id = ctx.storage.get(COUNT) + 1n
      ctx.storage.set(COUNT, id)
      const hash = keccak256(body as Hex)
      const {record} = openProposal({id, proposer: ctx.sender, submitHeight: ctx.height, params, proposalHash: hash})
      const b = base(id)
      ctx.storage.set(b, addressToWord(ctx.sender))
      ctx.storage.set(slotAdd(b, 1n), record.submitHeight)
      ctx.storage.set(slotAdd(b, 2n), record.votingEndHeight)
      ctx.storage.set(slotAdd(b, 9n), supply)
      ctx.storage.set(slotAdd(b, 10n), ctx.value)
      ctx.storage.set(slotAdd(b, 13n), hexToWord(hash))
      writeBytes(ctx.storage, slotAdd(b, 11n), hexToBytes(body as Hex))
      writeRecord(ctx.storage, record)
      setOpenIds(ctx.storage, [...openIds(ctx.storage), id])
      ctx.emit('ProposalCreated', {
        proposalId: id,
        proposer: ctx.sender,
        voteStart: record.submitHeight,
        voteEnd: record.votingEndHeight,
        snapshot: record.snapshotHeight,
        proposalHash: hash,
        kind: proposal.kind,
        title: proposal.title,
      })
      return id
    },
    vote(ctx, [proposalId, support]) {
      const id = proposalId as bigint
      const problem = voteProblem(ctx, id, Number(support))
      if (problem) revert(problem)
      const stored = readProposal(ctx.storage, id)!
      const power = ctx.balanceAt(ctx.sender, stored.record.snapshotHeight)
      const option = OPTION_OF[Number(support)]!
      const transition = castVote(stored.record, ctx.sender, option, power, ctx.height)
      ctx.storage.set(voteSlot(id, ctx.sender), BigInt(Number(support) + 1))
      ctx.storage.set(VOTE_COUNT, ctx.storage.get(VOTE_COUNT) + 1n)
      writeRecord(ctx.storage, transition.record)
      emitAll(ctx, transition.events)
    },
    proposalCount: (ctx) => ctx.storage.get(COUNT),
    state(ctx, [proposalId]) {
      const stored = readProposal(ctx.storage, proposalId as bigint)
      if (!stored) revert(`no proposal ${String(proposalId)}`)
      return stored.record.state
    },
    proposal(ctx, [proposalId]) {
      const stored = readProposal(ctx.storage, proposalId as bigint)
      if (!stored) revert(`no proposal ${String(proposalId)}`)
      const {record} = stored
      return [wordToAddress(BigInt(record.proposer)), record.submitHeight, record.snapshotHeight, record.votingEndHeight, record.executableHeight ?? 0n, record.state, bytesToHex(stored.body), record.failureReason ?? '', stored.hash]
    },
    tally(ctx, [proposalId]) {
      const stored = readProposal(ctx.storage, proposalId as bigint)
      if (!stored) revert(`no proposal ${String(proposalId)}`)
      const {tally} = stored.record
      return [tally.yes, tally.no, tally.abstain, tally.veto, stored.totalPower]
    },
    hasVoted: (ctx, [proposalId, voter]) => ctx.storage.get(voteSlot(proposalId as bigint, voter as Address)) !== 0n,
    votingPower(ctx, [proposalId, voter]) {
      const stored = readProposal(ctx.storage, proposalId as bigint)
      if (!stored) revert(`no proposal ${String(proposalId)}`)
      return ctx.balanceAt(voter as Address, stored.record.snapshotHeight)
    },
  },
  endBlock(ctx) {
    const params = paramsOf(ctx)
    const open = openIds(ctx.storage)
    if (open.length === 0) return
    const still: bigint[] = []
    for (const id of open) {
      const stored = readProposal(ctx.storage, id)!
      let {record} = stored
      const tallied = advance(record, ctx.height, stored.totalPower, params)
      record = tallied.record
      emitAll(ctx, tallied.events)
      if (isExecutable(record, ctx.height)) {
        let ok = true
        let reason: string | undefined
        try {
          ctx.system!.execute!(decodeProposal(stored.body), id)
        } catch (err) {
          ok = false
          reason = err instanceof Error ? err.message : String(err)
        }
        const done = markExecuted(record, ok, reason)
        record = done.record
        emitAll(ctx, done.events)
      }
      writeRecord(ctx.storage, record)
      const final = record.state === 'Executed' || record.state === 'Failed' || record.state === 'Defeated' || record.state === 'Vetoed' || record.state === 'Canceled'
      if (final && stored.deposit > 0n && record.state !== 'Vetoed') ctx.transfer(wordToAddress(BigInt(record.proposer)), stored.deposit)
      if (!final) still.push(id)
    }
    setOpenIds(ctx.storage, still)
  },
}

/** Proposals by state and votes cast, from governance's storage (for the node's metrics). */
export function governanceStats(storage: Reader): {proposals: Record<ProposalState, number>; votes: bigint} {
  const proposals = Object.fromEntries(PROPOSAL_STATES.map((state) => [state, 0])) as Record<ProposalState, number>
  const count = storage.get(COUNT)
  for (let id = 1n; id <= count; id++) {
    const state = PROPOSAL_STATES[Number(storage.get(slotAdd(base(id), 3n)))]
    if (state) proposals[state] += 1
  }
  return {proposals, votes: storage.get(VOTE_COUNT)}
}

/** The state names, for readers of `state(id)`. */
export type {ProposalState}
