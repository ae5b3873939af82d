import {RLP} from '@ethereumjs/rlp'

import {bytesToHex, hexToBytes, keccak_256, recoverSigner, sign, type ValidatorKey} from './keys.js'
import type {Proposal, ValidatorAddress, ValueId, Vote, VoteType} from './types.js'
import type {ValidatorSet} from './validator-set.js'

type Bytes = Uint8Array

/**
 * Wire formats and signatures of consensus messages. Everything is RLP; every signature is over
 * keccak256 of a domain tag, the chain id and the signed fields, so a signature is never valid on
 * another chain or as another kind of message. Signers are recovered from signatures (65 bytes,
 * r ‖ s ‖ recid), not carried beside them.
 */

export class MessageError extends Error {
  override name = 'MessageError'
}

export interface SignedVote {
  vote: Vote
  signature: Bytes
}

export interface SignedProposal {
  proposal: Proposal
  /** The proposed block, serialized as on Ethereum (header, transactions, uncles, withdrawals). */
  block: Bytes
  signature: Bytes
}

/** The > 2/3 precommits that decided a block, stored beside it so anyone can check it. */
export interface Commit {
  height: number
  round: number
  value: ValueId
  signatures: Bytes[]
}

/** Two signed votes by one validator for one (height, round, type) with different values. */
export interface Evidence {
  first: SignedVote
  second: SignedVote
}

/** A hint gossiped every few seconds: the sender's committed height (it triggers block sync). */
export interface Status {
  height: number
  round: number
}

export type ConsensusMessage =
  | {kind: 'proposal'; proposal: SignedProposal}
  | {kind: 'vote'; vote: SignedVote}
  | {kind: 'status'; status: Status}

const KIND_PROPOSAL = 1
const KIND_VOTE = 2
const KIND_STATUS = 3
const VOTE_TYPE_BYTE: Record<VoteType, number> = {prevote: 1, precommit: 2}

const enc = new TextEncoder()

/** A non-negative safe integer as canonical RLP bytes (empty for 0). */
export function int(n: number): Bytes {
  if (!Number.isSafeInteger(n) || n < 0) throw new MessageError(`not a non-negative integer: ${n}`)
  if (n === 0) return new Uint8Array(0)
  const hex = n.toString(16)
  return hexToBytes(hex.length % 2 ? `0${hex}` : hex)
}

/** Canonical RLP integer bytes back to a number (at most 6 bytes); MessageError otherwise. */
export function toInt(b: unknown, what: string): number {
  if (!(b instanceof Uint8Array)) throw new MessageError(`${what}: expected bytes`)
  if (b.length > 6 || (b.length > 0 && b[0] === 0)) throw new MessageError(`${what}: not a canonical integer`)
  let n = 0
  for (const byte of b) n = n * 256 + byte
  return n
}

function toBytes(b: unknown, what: string, length?: number): Bytes {
  if (!(b instanceof Uint8Array)) throw new MessageError(`${what}: expected bytes`)
  if (length !== undefined && b.length !== length) throw new MessageError(`${what}: expected ${length} bytes, got ${b.length}`)
  return b
}

function toList(b: unknown, what: string, length?: number): unknown[] {
  if (!Array.isArray(b)) throw new MessageError(`${what}: expected a list`)
  if (length !== undefined && b.length !== length) throw new MessageError(`${what}: expected ${length} items, got ${b.length}`)
  return b
}

function valueBytes(value: ValueId | null): Bytes {
  return value === null ? new Uint8Array(0) : hexToBytes(value.slice(2))
}

function toValue(b: unknown, what: string): ValueId | null {
  const bytes = toBytes(b, what)
  if (bytes.length === 0) return null
  if (bytes.length !== 32) throw new MessageError(`${what}: a value id is 32 bytes`)
  return `0x${bytesToHex(bytes)}`
}

function voteType(b: unknown): VoteType {
  const n = toInt(b, 'vote type')
  if (n === 1) return 'prevote'
  if (n === 2) return 'precommit'
  throw new MessageError(`unknown vote type ${n}`)
}

export function voteDigest(chainId: number, type: VoteType, height: number, round: number, value: ValueId | null): Bytes {
  return keccak_256(RLP.encode([enc.encode('xai/vote'), int(chainId), int(VOTE_TYPE_BYTE[type]), int(height), int(round), valueBytes(value)]))
}

export function proposalDigest(chainId: number, p: Omit<Proposal, 'proposer'>): Bytes {
  return keccak_256(RLP.encode([enc.encode('xai/proposal'), int(chainId), int(p.height), int(p.round), int(p.validRound + 1), valueBytes(p.value)]))
}

export function signVote(chainId: number, key: ValidatorKey, vote: Omit<Vote, 'validator'>): SignedVote {
  const signature = sign(key, voteDigest(chainId, vote.type, vote.height, vote.round, vote.value))
  return {vote: {...vote, validator: key.address}, signature}
}

export function signProposal(chainId: number, key: ValidatorKey, proposal: Omit<Proposal, 'proposer'>, block: Bytes): SignedProposal {
  const signature = sign(key, proposalDigest(chainId, proposal))
  return {proposal: {...proposal, proposer: key.address}, block, signature}
}

function voteFields(v: SignedVote): (Bytes | Bytes[])[] {
  return [int(VOTE_TYPE_BYTE[v.vote.type]), int(v.vote.height), int(v.vote.round), valueBytes(v.vote.value), v.signature]
}

/** Decodes [type, height, round, value, signature] and recovers the validator. */
function decodeVoteFields(chainId: number, fields: unknown[]): SignedVote {
  const type = voteType(fields[0])
  const height = toInt(fields[1], 'height')
  const round = toInt(fields[2], 'round')
  const value = toValue(fields[3], 'value')
  const signature = toBytes(fields[4], 'signature', 65)
  const validator = recoverSigner(voteDigest(chainId, type, height, round, value), signature)
  if (!validator) throw new MessageError('vote signature does not recover')
  return {vote: {type, height, round, value, validator}, signature}
}

export function encodeMessage(message: ConsensusMessage): Bytes {
  switch (message.kind) {
    case 'vote':
      return RLP.encode([int(KIND_VOTE), ...voteFields(message.vote)])
    case 'proposal': {
      const {proposal, block, signature} = message.proposal
      return RLP.encode([int(KIND_PROPOSAL), int(proposal.height), int(proposal.round), int(proposal.validRound + 1), valueBytes(proposal.value), block, signature])
    }
    case 'status':
      return RLP.encode([int(KIND_STATUS), int(message.status.height), int(message.status.round)])
  }
}

/**
 * Decodes and authenticates a consensus message: throws MessageError on anything malformed or
 * unsigned. Whether the signer is a validator, and whether the block is valid, is for the caller.
 */
export function decodeMessage(chainId: number, bytes: Bytes): ConsensusMessage {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new MessageError(`not RLP: ${(err as Error).message}`)
  }
  const fields = toList(decoded, 'message')
  const kind = toInt(fields[0], 'kind')
  if (kind === KIND_VOTE) return {kind: 'vote', vote: decodeVoteFields(chainId, toList(decoded, 'vote', 6).slice(1))}
  if (kind === KIND_STATUS) {
    toList(decoded, 'status', 3)
    return {kind: 'status', status: {height: toInt(fields[1], 'height'), round: toInt(fields[2], 'round')}}
  }
  if (kind === KIND_PROPOSAL) {
    toList(decoded, 'proposal', 7)
    const height = toInt(fields[1], 'height')
    const round = toInt(fields[2], 'round')
    const validRound = toInt(fields[3], 'valid round') - 1
    const value = toValue(fields[4], 'value')
    if (value === null) throw new MessageError('a proposal needs a value')
    const block = toBytes(fields[5], 'block')
    const signature = toBytes(fields[6], 'signature', 65)
    if (validRound >= round) throw new MessageError('valid round must be below the round')
    const proposer = recoverSigner(proposalDigest(chainId, {height, round, validRound, value}), signature)
    if (!proposer) throw new MessageError('proposal signature does not recover')
    return {kind: 'proposal', proposal: {proposal: {height, round, validRound, value, proposer}, block, signature}}
  }
  throw new MessageError(`unknown message kind ${kind}`)
}

export function encodeCommit(commit: Commit): Bytes {
  return RLP.encode([int(commit.height), int(commit.round), valueBytes(commit.value), commit.signatures])
}

export function decodeCommit(bytes: Bytes): Commit {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new MessageError(`commit is not RLP: ${(err as Error).message}`)
  }
  const fields = toList(decoded, 'commit', 4)
  const value = toValue(fields[2], 'value')
  if (value === null) throw new MessageError('a commit needs a value')
  const signatures = toList(fields[3], 'signatures').map((s) => toBytes(s, 'signature', 65))
  return {height: toInt(fields[0], 'height'), round: toInt(fields[1], 'round'), value, signatures}
}

export function commitFromPrecommits(precommits: SignedVote[]): Commit {
  const first = precommits[0]
  if (!first || first.vote.value === null) throw new MessageError('a commit needs precommits for a value')
  return {height: first.vote.height, round: first.vote.round, value: first.vote.value, signatures: precommits.map((p) => p.signature)}
}

/**
 * Checks that `commit` decides `blockHash` at `height`: every signature is a precommit for it by
 * a distinct validator of `validators`, and together they hold more than two thirds of the power.
 * Returns the signers; throws MessageError otherwise.
 */
export function verifyCommit(chainId: number, validators: ValidatorSet, commit: Commit, height: number, blockHash: ValueId): ValidatorAddress[] {
  if (commit.height !== height) throw new MessageError(`commit is for height ${commit.height}, not ${height}`)
  if (commit.value !== blockHash) throw new MessageError('commit is for another block')
  const digest = voteDigest(chainId, 'precommit', commit.height, commit.round, commit.value)
  const signers = new Set<ValidatorAddress>()
  let power = 0
  for (const signature of commit.signatures) {
    const signer = recoverSigner(digest, signature)
    if (!signer || !validators.has(signer)) throw new MessageError('commit holds a signature by no validator')
    if (signers.has(signer)) throw new MessageError('commit holds two signatures by one validator')
    signers.add(signer)
    power += validators.power(signer)
  }
  if (power < validators.quorum) throw new MessageError(`commit holds ${power} of ${validators.totalPower} voting power, below the quorum ${validators.quorum}`)
  return [...signers]
}

export function encodeEvidenceList(list: Evidence[]): Bytes {
  return RLP.encode(list.map((e) => [voteFields(e.first), voteFields(e.second)]))
}

/** Decodes and checks evidence: both votes signed by the same validator of the set, same slot, different values. */
export function decodeEvidenceList(chainId: number, bytes: Bytes, validators?: ValidatorSet): Evidence[] {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new MessageError(`evidence is not RLP: ${(err as Error).message}`)
  }
  return toList(decoded, 'evidence list').map((item) => {
    const [a, b] = toList(item, 'evidence', 2)
    const evidence = {first: decodeVoteFields(chainId, toList(a, 'vote', 5)), second: decodeVoteFields(chainId, toList(b, 'vote', 5))}
    checkEvidence(evidence, validators)
    return evidence
  })
}

export function checkEvidence(e: Evidence, validators?: ValidatorSet): void {
  const a = e.first.vote
  const b = e.second.vote
  if (a.validator !== b.validator) throw new MessageError('evidence votes are by different validators')
  if (validators && !validators.has(a.validator)) throw new MessageError('evidence names no validator')
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round) throw new MessageError('evidence votes are for different slots')
  if (a.value === b.value) throw new MessageError('evidence votes do not conflict')
}

/** A stable identity for a piece of evidence (the same pair in either order). */
export function evidenceKey(e: Evidence): string {
  const [x, y] = [bytesToHex(e.first.signature), bytesToHex(e.second.signature)].sort()
  return `${e.first.vote.validator}:${e.first.vote.height}:${e.first.vote.round}:${e.first.vote.type}:${x}:${y}`
}

/** What a block's extraData holds: keccak256 of its evidence list, or nothing when it has none. */
export function evidenceCommitment(list: Evidence[]): Bytes {
  return list.length === 0 ? new Uint8Array(0) : keccak_256(encodeEvidenceList(list))
}
