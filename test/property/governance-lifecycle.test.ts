/**
 * Properties of the governance lifecycle: the tally does not depend on the order of the votes;
 * advance at the same height twice changes nothing the second time; states only move forward.
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the cases and FC_RUNS their number; a
 * failure names the seed, so `FC_SEED=<seed> npx vitest run test/property/governance-lifecycle.test.ts`
 * replays it.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {
  type GovernanceParams,
  type ProposalRecord,
  STATE_STAGE,
  VOTE_OPTIONS,
  advance,
  castVote,
  isExecutable,
  markExecuted,
  openProposal,
  tally,
} from '../../src/governance/lifecycle.js'

const seed = Number(process.env.FC_SEED ?? 0x90e)
const runs = Number(process.env.FC_RUNS ?? 200)

function check<T>(property: fc.IProperty<T>): void {
  try {
    fc.assert(property, {seed, numRuns: runs})
  } catch (err) {
    throw new Error(`governance property failed; replay with FC_SEED=${seed}\n${(err as Error).message}`, {cause: err})
  }
}

const bps = fc.bigInt({min: 0n, max: 10_000n})
const paramsArb: fc.Arbitrary<GovernanceParams> = fc.record({
  votingPeriod: fc.bigInt({min: 1n, max: 50n}),
  quorum: bps,
  threshold: bps,
  vetoThreshold: bps,
  timelock: fc.bigInt({min: 0n, max: 20n}),
  minDeposit: fc.constant(0n),
})
const voteArb = fc.record({option: fc.constantFrom(...VOTE_OPTIONS), power: fc.bigInt({min: 0n, max: 10n ** 24n})})
const votesArb = fc.array(voteArb, {maxLength: 12})

function voter(i: number): string {
  return `0x${i.toString(16).padStart(40, '0')}`
}

function cast(record: ProposalRecord, votes: {option: (typeof VOTE_OPTIONS)[number]; power: bigint}[], order: number[]): ProposalRecord {
  return order.reduce((r, i) => castVote(r, voter(i + 1), votes[i].option, votes[i].power, r.submitHeight).record, record)
}

describe('governance lifecycle properties', () => {
  it('the tally and the outcome do not depend on the order of the votes', () => {
    check(
      fc.property(paramsArb, votesArb, fc.bigInt({min: 0n, max: 10n ** 26n}), fc.integer(), (params, votes, extra, shuffleSeed) => {
        const record = openProposal({id: 1n, proposer: voter(0), submitHeight: 10n, params}).record
        const order = votes.map((_, i) => i)
        const shuffled = fc.sample(fc.shuffledSubarray(order, {minLength: order.length, maxLength: order.length}), {seed: shuffleSeed, numRuns: 1})[0]
        const total = votes.reduce((sum, v) => sum + v.power, 0n) + extra
        const a = cast(record, votes, order)
        const b = cast(record, votes, shuffled)
        expect(b.tally).toEqual(a.tally)
        expect(tally(b, total, params)).toEqual(tally(a, total, params))
        expect(advance(b, a.votingEndHeight, total, params).record.state).toBe(advance(a, a.votingEndHeight, total, params).record.state)
      }),
    )
  })

  it('advance is idempotent at the same height', () => {
    check(
      fc.property(paramsArb, votesArb, fc.bigInt({min: 0n, max: 100n}), (params, votes, offset) => {
        const record = cast(openProposal({id: 1n, proposer: voter(0), submitHeight: 10n, params}).record, votes, votes.map((_, i) => i))
        const total = votes.reduce((sum, v) => sum + v.power, 0n) * 2n
        const height = 10n + offset
        const once = advance(record, height, total, params)
        const twice = advance(once.record, height, total, params)
        expect(twice.record).toEqual(once.record)
        expect(twice.events).toEqual([])
      }),
    )
  })

  it('states only move forward over any sequence of heights and executions', () => {
    check(
      fc.property(paramsArb, votesArb, fc.array(fc.oneof(fc.bigInt({min: 0n, max: 100n}).map((h) => ({h})), fc.boolean().map((ok) => ({ok}))), {maxLength: 30}), (params, votes, steps) => {
        let record = cast(openProposal({id: 1n, proposer: voter(0), submitHeight: 10n, params}).record, votes, votes.map((_, i) => i))
        const total = votes.reduce((sum, v) => sum + v.power, 0n) * 3n
        let height = 10n
        for (const step of steps) {
          const before = record.state
          if ('h' in step) {
            height += step.h
            record = advance(record, height, total, params).record
          } else if (isExecutable(record, height)) {
            record = markExecuted(record, step.ok, step.ok ? undefined : 'reverted').record
          }
          expect(STATE_STAGE[record.state]).toBeGreaterThanOrEqual(STATE_STAGE[before])
          if (record.state !== before) expect(STATE_STAGE[record.state]).toBeGreaterThan(STATE_STAGE[before])
        }
      }),
    )
  })
})
