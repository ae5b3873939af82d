import {describe, expect, it} from 'vitest'

import {
  type GovernanceParams,
  type ProposalRecord,
  type VoteOption,
  advance,
  cancelProposal,
  castVote,
  checkGovernanceParams,
  isExecutable,
  markExecuted,
  openProposal,
  tally,
} from '../../../src/governance/lifecycle.js'

const PARAMS: GovernanceParams = {votingPeriod: 10n, quorum: 4000n, threshold: 5000n, vetoThreshold: 3340n, timelock: 5n, minDeposit: 0n}
const A = '0x00000000000000000000000000000000000000a1'
const B = '0x00000000000000000000000000000000000000b2'
const C = '0x00000000000000000000000000000000000000c3'

function open(params = PARAMS): ProposalRecord {
  return openProposal({id: 7n, proposer: A, submitHeight: 100n, params}).record
}

function votes(record: ProposalRecord, list: [string, VoteOption, bigint][], height = 105n): ProposalRecord {
  return list.reduce((r, [voter, option, power]) => castVote(r, voter, option, power, height).record, record)
}

describe('openProposal', () => {
  it('opens an Active proposal with its heights and a ProposalCreated event', () => {
    const {record, events} = openProposal({id: 7n, proposer: A.toUpperCase().replace('0X', '0x'), submitHeight: 100n, params: PARAMS, proposalHash: '0xabc'})
    expect(record).toMatchObject({id: 7n, proposer: A, submitHeight: 100n, snapshotHeight: 99n, votingEndHeight: 110n, state: 'Active', tally: {yes: 0n, no: 0n, abstain: 0n, veto: 0n}})
    expect(events).toEqual([{name: 'ProposalCreated', args: {proposalId: 7n, proposer: A, voteStart: 100n, voteEnd: 110n, snapshot: 99n, proposalHash: '0xabc'}}])
  })

  it('refuses parameters out of range', () => {
    expect(() => checkGovernanceParams({...PARAMS, quorum: 10_001n})).toThrow(/quorum must be at most 10000/)
    expect(() => checkGovernanceParams({...PARAMS, votingPeriod: 0n})).toThrow(/votingPeriod must be at least 1/)
    expect(() => openProposal({id: 1n, proposer: A, submitHeight: 1n, params: {...PARAMS, timelock: -1n}})).toThrow(/timelock must not be negative/)
  })
})

describe('castVote', () => {
  it('adds the power to the option and emits VoteCast', () => {
    const {record, events} = castVote(open(), B, 'veto', 5n, 100n)
    expect(record.tally).toEqual({yes: 0n, no: 0n, abstain: 0n, veto: 5n})
    expect([...record.voters]).toEqual([B])
    expect(events).toEqual([{name: 'VoteCast', args: {voter: B, proposalId: 7n, support: 'veto', weight: 5n}}])
  })

  it('does not change the record it was given', () => {
    const before = open()
    castVote(before, B, 'yes', 5n, 101n)
    expect(before.tally.yes).toBe(0n)
    expect(before.voters.size).toBe(0)
  })

  it('accepts votes from the submit block to the end block, and rejects a vote after the end', () => {
    expect(castVote(open(), B, 'yes', 1n, 100n).record.tally.yes).toBe(1n)
    expect(castVote(open(), B, 'yes', 1n, 110n).record.tally.yes).toBe(1n)
    expect(() => castVote(open(), B, 'yes', 1n, 111n)).toThrow(expect.objectContaining({code: 'GOV_VOTING_CLOSED', exitCode: 4, message: expect.stringMatching(/ended at block 110/)}))
    expect(() => castVote(open(), B, 'yes', 1n, 99n)).toThrow(expect.objectContaining({code: 'GOV_VOTING_CLOSED'}))
  })

  it('votes are final: a second vote from the same address (any case) is rejected', () => {
    const once = castVote(open(), B, 'yes', 5n, 101n).record
    expect(() => castVote(once, B.toUpperCase().replace('0X', '0x'), 'no', 5n, 102n)).toThrow(expect.objectContaining({code: 'GOV_ALREADY_VOTED', exitCode: 4}))
  })

  it('rejects votes on a proposal that is no longer Active, and unknown options', () => {
    const defeated = advance(open(), 110n, 100n, PARAMS).record
    expect(defeated.state).toBe('Defeated')
    expect(() => castVote(defeated, B, 'yes', 1n, 110n)).toThrow(expect.objectContaining({code: 'GOV_VOTING_CLOSED', message: expect.stringMatching(/is Defeated/)}))
    expect(() => castVote(open(), B, 'maybe' as VoteOption, 1n, 101n)).toThrow(expect.objectContaining({code: 'GOV_INVALID_VOTE'}))
  })
})

describe('tally', () => {
  it('quorum is reached exactly at the quorum share of the total power', () => {
    // quorum 40 % of 1000 = 400
    expect(tally(votes(open(), [[B, 'yes', 399n]]), 1000n, PARAMS)).toMatchObject({quorumReached: false, passed: false, result: 'no-quorum'})
    expect(tally(votes(open(), [[B, 'yes', 400n]]), 1000n, PARAMS)).toMatchObject({quorumReached: true, passed: true, result: 'passed'})
  })

  it('abstain counts for quorum but not for the threshold', () => {
    const record = votes(open(), [[B, 'abstain', 350n], [C, 'yes', 50n]])
    expect(tally(record, 1000n, PARAMS)).toMatchObject({cast: 400n, quorumReached: true, passed: true})
    const onlyAbstain = votes(open(), [[B, 'abstain', 500n]])
    expect(tally(onlyAbstain, 1000n, PARAMS)).toMatchObject({quorumReached: true, passed: false, result: 'below-threshold'})
  })

  it('passes only above the threshold: exactly 50 % yes is not enough', () => {
    expect(tally(votes(open(), [[B, 'yes', 300n], [C, 'no', 300n]]), 1000n, PARAMS)).toMatchObject({passed: false, result: 'below-threshold'})
    expect(tally(votes(open(), [[B, 'yes', 301n], [C, 'no', 300n]]), 1000n, PARAMS)).toMatchObject({passed: true})
  })

  it('veto at the veto threshold beats a yes majority; just below it does not', () => {
    // vetoThreshold 33.4 % of 1000 cast = 334
    expect(tally(votes(open(), [[B, 'yes', 666n], [C, 'veto', 334n]]), 1000n, PARAMS)).toMatchObject({vetoed: true, passed: false, result: 'vetoed'})
    expect(tally(votes(open(), [[B, 'yes', 667n], [C, 'veto', 333n]]), 1000n, PARAMS)).toMatchObject({vetoed: false, passed: true})
  })

  it('veto counts against the threshold (yes / (yes + no + veto))', () => {
    expect(tally(votes(open(), [[B, 'yes', 500n], [C, 'veto', 300n], [A, 'no', 200n]]), 1000n, PARAMS)).toMatchObject({vetoed: false, passed: false, result: 'below-threshold'})
  })
})

describe('advance and execution', () => {
  it('does nothing before the end of voting', () => {
    const record = votes(open(), [[B, 'yes', 900n]])
    expect(advance(record, 109n, 1000n, PARAMS)).toEqual({record, events: []})
  })

  it('a passing proposal is Queued at the end with the timelock, executable from votingEnd + timelock', () => {
    const {record, events} = advance(votes(open(), [[B, 'yes', 900n]]), 110n, 1000n, PARAMS)
    expect(record).toMatchObject({state: 'Queued', executableHeight: 115n})
    expect(events).toEqual([{name: 'ProposalQueued', args: {proposalId: 7n, etaBlock: 115n}}])
    expect(isExecutable(record, 114n)).toBe(false)
    expect(isExecutable(record, 115n)).toBe(true)
    // tallied late, the timelock still counts from the end of voting
    expect(advance(votes(open(), [[B, 'yes', 900n]]), 130n, 1000n, PARAMS).record.executableHeight).toBe(115n)
  })

  it('timelock 0 makes it executable in the end block', () => {
    const record = advance(votes(open(), [[B, 'yes', 900n]]), 110n, 1000n, {...PARAMS, timelock: 0n}).record
    expect(isExecutable(record, 110n)).toBe(true)
  })

  it('no quorum → Defeated; veto → Vetoed', () => {
    expect(advance(votes(open(), [[B, 'yes', 10n]]), 110n, 1000n, PARAMS)).toMatchObject({record: {state: 'Defeated'}, events: [{name: 'ProposalDefeated', args: {reason: 'no-quorum'}}]})
    expect(advance(votes(open(), [[B, 'yes', 600n], [C, 'veto', 400n]]), 110n, 1000n, PARAMS)).toMatchObject({record: {state: 'Vetoed'}, events: [{name: 'ProposalVetoed'}]})
  })

  it('markExecuted records Executed or Failed with the reason, and only from Queued', () => {
    const queued = advance(votes(open(), [[B, 'yes', 900n]]), 110n, 1000n, PARAMS).record
    expect(markExecuted(queued, true)).toMatchObject({record: {state: 'Executed'}, events: [{name: 'ProposalExecuted', args: {proposalId: 7n}}]})
    expect(markExecuted(queued, false, 'gas limit out of range')).toMatchObject({record: {state: 'Failed', failureReason: 'gas limit out of range'}, events: [{name: 'ProposalFailed', args: {reason: 'gas limit out of range'}}]})
    expect(() => markExecuted(open(), true)).toThrow(expect.objectContaining({code: 'GOV_INVALID_TRANSITION'}))
    expect(() => markExecuted(markExecuted(queued, true).record, true)).toThrow(/only a Queued proposal/)
  })

  it('cancel works on Active and Queued proposals only', () => {
    expect(cancelProposal(open())).toMatchObject({record: {state: 'Canceled'}, events: [{name: 'ProposalCanceled'}]})
    expect(() => cancelProposal(advance(open(), 110n, 1000n, PARAMS).record)).toThrow(/only an Active or Queued/)
  })
})
