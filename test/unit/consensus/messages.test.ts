import {describe, expect, it} from 'vitest'

import {deriveDevnetSeeds, validatorKeyFromPrivate} from '../../../src/consensus/keys.js'
import {
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
  signProposal,
  signVote,
  verifyCommit,
} from '../../../src/consensus/messages.js'
import type {ValueId} from '../../../src/consensus/types.js'
import {ValidatorSet} from '../../../src/consensus/validator-set.js'

const CHAIN = 31337
const keys = [0, 1, 2, 3].map((i) => validatorKeyFromPrivate(deriveDevnetSeeds(CHAIN, 'test', i).validator))
const set = new ValidatorSet(keys.map((k) => ({address: k.address, power: 1})))
const V = `0x${'ab'.repeat(32)}` as ValueId
const W = `0x${'cd'.repeat(32)}` as ValueId

describe('consensus messages', () => {
  it('derives the same validator keys for the same devnet, different ones for another', () => {
    expect(validatorKeyFromPrivate(deriveDevnetSeeds(CHAIN, 'test', 0).validator).address).toBe(keys[0]!.address)
    expect(validatorKeyFromPrivate(deriveDevnetSeeds(CHAIN, 'other', 0).validator).address).not.toBe(keys[0]!.address)
    expect(new Set(keys.map((k) => k.address)).size).toBe(4)
  })

  it('round-trips votes and proposals and recovers who signed them', () => {
    const vote = signVote(CHAIN, keys[1]!, {type: 'precommit', height: 12, round: 3, value: V})
    expect(decodeMessage(CHAIN, encodeMessage({kind: 'vote', vote}))).toEqual({kind: 'vote', vote})
    const nil = signVote(CHAIN, keys[2]!, {type: 'prevote', height: 1, round: 0, value: null})
    expect(decodeMessage(CHAIN, encodeMessage({kind: 'vote', vote: nil}))).toEqual({kind: 'vote', vote: nil})
    const proposal = signProposal(CHAIN, keys[0]!, {height: 5, round: 1, validRound: -1, value: V}, Uint8Array.of(1, 2, 3))
    const decoded = decodeMessage(CHAIN, encodeMessage({kind: 'proposal', proposal}))
    expect(decoded).toEqual({kind: 'proposal', proposal})
  })

  it('a signature is not valid on another chain', () => {
    const vote = signVote(CHAIN, keys[1]!, {type: 'prevote', height: 2, round: 0, value: V})
    const elsewhere = decodeMessage(CHAIN + 1, encodeMessage({kind: 'vote', vote}))
    expect(elsewhere.kind === 'vote' && elsewhere.vote.vote.validator).not.toBe(keys[1]!.address)
  })

  it('rejects malformed input with MessageError, never anything else', () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(0xc0), Uint8Array.of(0xc1, 0x09), Uint8Array.of(0xff, 0xff), Uint8Array.of(0xc3, 0x02, 0x01, 0x01)]) {
      expect(() => decodeMessage(CHAIN, bytes)).toThrow(MessageError)
    }
  })

  it('verifies a commit of more than two thirds of the power, and refuses anything less or forged', () => {
    const precommits = keys.slice(0, 3).map((k) => signVote(CHAIN, k, {type: 'precommit', height: 9, round: 0, value: V}))
    const commit = decodeCommit(encodeCommit(commitFromPrecommits(precommits)))
    expect(verifyCommit(CHAIN, set, commit, 9, V).sort()).toEqual(keys.slice(0, 3).map((k) => k.address).sort())
    expect(() => verifyCommit(CHAIN, set, {...commit, signatures: commit.signatures.slice(0, 2)}, 9, V)).toThrow(/quorum/)
    expect(() => verifyCommit(CHAIN, set, {...commit, signatures: [...commit.signatures.slice(0, 2), commit.signatures[0]!]}, 9, V)).toThrow(/two signatures/)
    expect(() => verifyCommit(CHAIN, set, commit, 9, W)).toThrow(/another block/)
    expect(() => verifyCommit(CHAIN, set, {...commit, value: W}, 9, W)).toThrow(MessageError)
    const outsider = validatorKeyFromPrivate(deriveDevnetSeeds(CHAIN, 'test', 9).validator)
    const forged = commitFromPrecommits([...precommits.slice(0, 2), signVote(CHAIN, outsider, {type: 'precommit', height: 9, round: 0, value: V})])
    expect(() => verifyCommit(CHAIN, set, forged, 9, V)).toThrow(/no validator/)
  })

  it('accepts evidence only for two different votes by one validator in one slot', () => {
    const a = signVote(CHAIN, keys[3]!, {type: 'prevote', height: 4, round: 2, value: V})
    const b = signVote(CHAIN, keys[3]!, {type: 'prevote', height: 4, round: 2, value: null})
    const list = decodeEvidenceList(CHAIN, encodeEvidenceList([{first: a, second: b}]), set)
    expect(list).toEqual([{first: a, second: b}])
    expect(evidenceCommitment(list)).toHaveLength(32)
    expect(evidenceCommitment([])).toHaveLength(0)
    const other = signVote(CHAIN, keys[2]!, {type: 'prevote', height: 4, round: 2, value: null})
    expect(() => checkEvidence({first: a, second: other})).toThrow(/different validators/)
    expect(() => checkEvidence({first: a, second: a})).toThrow(/do not conflict/)
    const later = signVote(CHAIN, keys[3]!, {type: 'prevote', height: 4, round: 3, value: null})
    expect(() => checkEvidence({first: a, second: later})).toThrow(/different slots/)
  })
})
