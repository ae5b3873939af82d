import {describe, expect, it} from 'vitest'

import {DEFAULT_TIMEOUTS, type MachineState, describe as summary, initialState, step} from '../../../src/consensus/machine.js'
import {type SignedProposal, type SignedVote, encodeMessage, signProposal, signVote} from '../../../src/consensus/messages.js'
import type {ConsensusEvent, ValueId, Vote} from '../../../src/consensus/types.js'
import {type SignVerdict, SignerGuard, replayWal} from '../../../src/consensus/wal-replay.js'
import type {WalEntry} from '../../../src/consensus/wal.js'
import {CHAIN_ID, valueOf, setOf, validatorKeys} from './fixtures.js'

type Bytes = Uint8Array

const keys = validatorKeys(4)
const validators = setOf(keys)
const H = 1
const V = valueOf(0xaa)
const proposerKey = keys.find((k) => k.address === validators.proposer(H, 0))!
const others = keys.filter((k) => k !== proposerKey)
/** This node: a validator that is not the proposer of round 0. */
const self = others[0]!
const BLOCK = Uint8Array.of(0xc0)

const vote = (key = self, type: Vote['type'] = 'prevote', value: ValueId | null = V, round = 0): SignedVote => signVote(CHAIN_ID, key, {type, height: H, round, value})
const msg = (m: {vote: SignedVote} | {proposal: SignedProposal}, valid?: boolean): WalEntry => {
  const wire = 'vote' in m ? encodeMessage({kind: 'vote', vote: m.vote}) : encodeMessage({kind: 'proposal', proposal: m.proposal})
  return valid === undefined ? {t: 'msg', wire} : {t: 'msg', wire, valid}
}
const proposal = (key = proposerKey, round = 0): SignedProposal => signProposal(CHAIN_ID, key, {height: H, round, validRound: -1, value: V}, BLOCK)

/**
 * The engine's side of a replay, over the real pure machine: events are stepped, and the
 * machine's requests to vote or propose go through the guard as the engine sends them (a vote
 * the guard lets through is signed and fed back).
 */
function harness(me = self) {
  const guard = new SignerGuard()
  let machine: MachineState = initialState({validators, self: me.address, timeouts: DEFAULT_TIMEOUTS}, H)
  const verdicts: {type: string; round: number; verdict: SignVerdict}[] = []
  const proposeRequests: {round: number; allowed: boolean}[] = []
  const signedNow: SignedVote[] = []
  const published: Bytes[] = []
  const remembered: {votes: SignedVote[]; proposals: {signed: SignedProposal; logged: boolean | undefined}[]} = {votes: [], proposals: []}
  let started = 0
  let closeAfter = Infinity
  const apply = async (event: ConsensusEvent): Promise<void> => {
    if (--closeAfter < 0) return
    const result = step(machine, event)
    machine = result.state
    for (const effect of result.effects) {
      if (effect.kind === 'vote') {
        const verdict = guard.checkVote(effect.vote)
        verdicts.push({type: effect.vote.type, round: effect.vote.round, verdict})
        if (verdict !== 'sign') continue
        const signed = signVote(CHAIN_ID, me, effect.vote)
        guard.recordVote(signed)
        signedNow.push(signed)
        await apply({kind: 'vote', vote: signed.vote})
      } else if (effect.kind === 'propose') {
        proposeRequests.push({round: effect.round, allowed: guard.mayPropose(effect.round)})
      }
    }
  }
  const replay = (entries: WalEntry[]): Promise<boolean> =>
    replayWal(entries, {
      chainId: CHAIN_ID,
      self: me.address,
      guard,
      apply,
      markStarted: () => started++,
      rememberVote: (signed) => remembered.votes.push(signed),
      rememberProposal: (signed, logged) => {
        remembered.proposals.push({signed, logged})
        return logged ?? false
      },
      closed: () => closeAfter <= 0,
      publish: (wire) => published.push(wire),
      summary: () => ({height: H, round: summary(machine).round, step: summary(machine).step}),
    })
  return {
    guard,
    replay,
    machine: () => summary(machine),
    verdicts,
    proposeRequests,
    signedNow,
    published,
    remembered,
    started: () => started,
    closeAfterEvents: (n: number) => (closeAfter = n),
  }
}

describe('replayWal', () => {
  // Before the crash: the proposal came, this node prevoted V, saw a polka (its own prevote and
  // two others), locked on V and precommitted it.
  const ownPrevote = vote()
  const ownPrecommit = vote(self, 'precommit')
  const log: WalEntry[] = [
    {t: 'start', height: H},
    msg({proposal: proposal()}, true),
    msg({vote: ownPrevote}),
    msg({vote: vote(others[1])}),
    msg({vote: vote(others[2])}),
    msg({vote: ownPrecommit}),
  ]

  it('rebuilds the lock from the log and signs nothing again', async () => {
    const h = harness()
    expect(await h.replay(log)).toBe(true)
    expect(h.started()).toBe(1)
    const state = h.machine()
    expect([state.lockedValue, state.lockedRound, state.validValue, state.step]).toEqual([V, 0, V, 'precommit'])
    // The machine asked for both votes again; the guard answered that the log holds them.
    expect(h.verdicts).toEqual([
      {type: 'prevote', round: 0, verdict: 'logged'},
      {type: 'precommit', round: 0, verdict: 'logged'},
    ])
    expect(h.signedNow).toEqual([])
    expect(h.remembered.proposals).toEqual([{signed: proposal(), logged: true}])
    expect(h.remembered.votes.map((v) => v.vote.validator)).toEqual([self.address, others[1]!.address, others[2]!.address, self.address])
  })

  it('says again what this node had said, and only that', async () => {
    const h = harness()
    await h.replay(log)
    const wire = (entry: WalEntry): Bytes => (entry as {wire: Bytes}).wire
    expect(h.published).toEqual([wire(log[2]!), wire(log[5]!)])
  })

  it('after the replay, the guard refuses a different vote in a slot the log filled and allows a new slot', async () => {
    const h = harness()
    await h.replay(log)
    expect(h.guard.replaying).toBe(false)
    expect(h.guard.checkVote({type: 'prevote', round: 0, value: null})).toBe('conflict')
    expect(h.guard.checkVote({type: 'precommit', round: 0, value: valueOf(0xbb)})).toBe('conflict')
    expect(h.guard.checkVote({type: 'prevote', round: 0, value: V})).toBe('signed')
    expect(h.guard.checkVote({type: 'prevote', round: 1, value: V})).toBe('sign')
    expect(h.guard.vote('precommit', 0)).toEqual(ownPrecommit)
  })

  it('without its own votes in the log, the same messages make the node sign them (the log is what prevents it)', async () => {
    const h = harness()
    await h.replay(log.filter((_, i) => i !== 2 && i !== 5))
    expect(h.signedNow.map((v) => [v.vote.type, v.vote.value])).toEqual([
      ['prevote', V],
      ['precommit', V],
    ])
    expect(h.machine().lockedValue).toBe(V)
  })

  it('does not propose again a proposal the log holds', async () => {
    const h = harness(proposerKey)
    await h.replay([{t: 'start', height: H}, msg({proposal: proposal()}, true)])
    expect(h.proposeRequests).toEqual([{round: 0, allowed: false}])
    expect(h.guard.proposal(0)).toEqual(proposal())
    expect(h.guard.mayPropose(0)).toBe(true) // outside a replay, the engine's own state decides
    // The prevote the log did not hold yet is signed; both are said again.
    expect(h.signedNow.map((v) => [v.vote.type, v.vote.value])).toEqual([['prevote', V]])
    expect(h.published).toEqual([encodeMessage({kind: 'proposal', proposal: proposal()}), encodeMessage({kind: 'vote', vote: h.signedNow[0]!})])
  })

  it('replays timeouts, skips entries that do not decode, and treats a proposal without a verdict as invalid', async () => {
    const h = harness()
    const entries: WalEntry[] = [
      {t: 'start', height: H},
      {t: 'msg', wire: Uint8Array.of(0xde, 0xad)},
      msg({proposal: proposal()}),
      {t: 'timeout', step: 'propose', height: H, round: 0},
    ]
    expect(await h.replay(entries)).toBe(true)
    expect(h.remembered.proposals).toEqual([{signed: proposal(), logged: undefined}])
    // valid(v) false: the node prevotes nil, and signs it (nothing in the log for that slot).
    expect(h.signedNow.map((v) => [v.vote.type, v.vote.value])).toEqual([['prevote', null]])
  })

  it('stops when the node closes meanwhile, says nothing, and leaves replay mode', async () => {
    const h = harness()
    h.closeAfterEvents(2)
    expect(await h.replay(log)).toBe(false)
    expect(h.published).toEqual([])
    expect(h.guard.replaying).toBe(false)
  })
})

describe('SignerGuard', () => {
  it('lets one vote per (round, type) be signed, and forgets them at a new height', () => {
    const guard = new SignerGuard()
    expect(guard.checkVote({type: 'prevote', round: 0, value: V})).toBe('sign')
    guard.recordVote(vote())
    expect(guard.checkVote({type: 'prevote', round: 0, value: V})).toBe('signed')
    expect(guard.checkVote({type: 'prevote', round: 0, value: null})).toBe('conflict')
    expect(guard.checkVote({type: 'precommit', round: 0, value: null})).toBe('sign')
    guard.reset()
    expect(guard.checkVote({type: 'prevote', round: 0, value: null})).toBe('sign')
  })
})
