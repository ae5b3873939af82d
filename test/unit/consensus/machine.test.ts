import {describe, expect, it} from 'vitest'

import {DEFAULT_TIMEOUTS, type MachineState, describe as describeState, initialState, step, timeoutMs} from '../../../src/consensus/machine.js'
import type {ConsensusEffect, ConsensusEvent, Step, ValidatorAddress, ValueId, Vote, VoteType} from '../../../src/consensus/types.js'
import {ValidatorSet} from '../../../src/consensus/validator-set.js'

const addr = (digit: number): ValidatorAddress => `0x${digit.toString(16).repeat(40)}`
const value = (byte: string): ValueId => `0x${byte.repeat(32)}`

// Four validators of power 1: quorum 3, f+1 = 2. At height 1 the proposer of round r is
// [A, B, C, D][(1 + r) % 4]: B, C, D, A, B, …
const [A, B, C, D] = [addr(1), addr(2), addr(3), addr(4)] as const
const OUTSIDER = addr(9)
const four = new ValidatorSet([A, B, C, D].map((address) => ({address, power: 1})))
const V = value('aa')
const W = value('bb')
const H = 1

/** Drives one machine by hand and keeps the effects of the last event. */
class Node {
  state: MachineState
  effects: ConsensusEffect[] = []

  constructor(self: ValidatorAddress | null, validators = four, height = H) {
    this.state = initialState({validators, self, timeouts: DEFAULT_TIMEOUTS}, height)
  }

  send(event: ConsensusEvent): ConsensusEffect[] {
    const result = step(this.state, event)
    this.state = result.state
    this.effects = result.effects
    return result.effects
  }

  start(height = this.state.height): ConsensusEffect[] {
    return this.send({kind: 'start', height})
  }

  /** A proposal from the proposer of (height, round), unless `proposer` says otherwise. */
  propose(round: number, v: ValueId, opts: {validRound?: number; valid?: boolean; proposer?: ValidatorAddress; height?: number} = {}): ConsensusEffect[] {
    const height = opts.height ?? this.state.height
    const proposer = opts.proposer ?? this.state.config.validators.proposer(height, round)
    return this.send({kind: 'proposal', proposal: {height, round, value: v, validRound: opts.validRound ?? -1, proposer}, valid: opts.valid ?? true})
  }

  /** Votes of `type` for `v` in `round` from each validator, in order; returns all their effects. */
  votes(type: VoteType, round: number, v: ValueId | null, validators: ValidatorAddress[], height = this.state.height): ConsensusEffect[] {
    return validators.flatMap((validator) => this.send({kind: 'vote', vote: {type, height, round, value: v, validator}}))
  }

  prevotes(round: number, v: ValueId | null, ...validators: ValidatorAddress[]): ConsensusEffect[] {
    return this.votes('prevote', round, v, validators)
  }

  precommits(round: number, v: ValueId | null, ...validators: ValidatorAddress[]): ConsensusEffect[] {
    return this.votes('precommit', round, v, validators)
  }

  timeout(timeoutStep: Step, round: number, height = this.state.height): ConsensusEffect[] {
    return this.send({kind: 'timeout', step: timeoutStep, height, round})
  }
}

const vote = (type: VoteType, round: number, v: ValueId | null, validator: ValidatorAddress, height = H): Vote => ({type, height, round, value: v, validator})
const voteEffect = (type: VoteType, round: number, v: ValueId | null, validator: ValidatorAddress, height = H): ConsensusEffect => ({
  kind: 'vote',
  vote: vote(type, round, v, validator, height),
})
const timeoutEffect = (s: Step, round: number, height = H): ConsensusEffect => ({
  kind: 'timeout',
  step: s,
  height,
  round,
  ms: timeoutMs(DEFAULT_TIMEOUTS, s, round),
})

describe('consensus machine', () => {
  describe('StartRound (l.11) and start', () => {
    it('schedules the propose timeout when another validator proposes', () => {
      const node = new Node(A)
      expect(node.start()).toEqual([timeoutEffect('propose', 0)])
      expect(describeState(node.state)).toMatchObject({height: H, round: 0, step: 'propose', lockedRound: -1, validRound: -1, decided: null})
    })

    it('asks the driver to propose when it is the proposer', () => {
      const node = new Node(B)
      expect(node.start()).toEqual([{kind: 'propose', height: H, round: 0, validValue: null, validRound: -1}])
    })

    it('grows timeouts with the round', () => {
      expect(DEFAULT_TIMEOUTS).toEqual({proposeBase: 1000, proposeDelta: 500, prevoteBase: 500, prevoteDelta: 250, precommitBase: 500, precommitDelta: 250})
      expect(timeoutMs(DEFAULT_TIMEOUTS, 'propose', 2)).toBe(2000)
      expect(timeoutMs(DEFAULT_TIMEOUTS, 'prevote', 2)).toBe(1000)
      expect(timeoutMs(DEFAULT_TIMEOUTS, 'precommit', 4)).toBe(1500)
    })

    it('ignores a start for a height it already started or a lower one', () => {
      const node = new Node(A)
      node.start()
      const started = node.state
      expect(node.start()).toEqual([])
      expect(node.state).toBe(started)
      expect(node.start(H - 1)).toEqual([])
      expect(node.state).toBe(started)
    })

    it('acts at the start on messages recorded before it', () => {
      const node = new Node(A)
      expect(node.propose(0, V)).toEqual([])
      expect(node.state.started).toBe(false)
      expect(node.start()).toEqual([timeoutEffect('propose', 0), voteEffect('prevote', 0, V, A)])
    })

    it('starts the next height with fresh locks and logs', () => {
      const node = new Node(A)
      node.start()
      node.propose(0, V)
      node.prevotes(0, V, A, B, C)
      expect(node.state.lockedValue).toBe(V)
      node.precommits(0, V, A, B, C)
      expect(node.state.decision).toEqual({round: 0, value: V})
      // Proposer of (2, 0) is C.
      expect(node.start(H + 1)).toEqual([timeoutEffect('propose', 0, H + 1)])
      expect(describeState(node.state)).toEqual({
        height: H + 1,
        round: 0,
        step: 'propose',
        lockedRound: -1,
        lockedValue: null,
        validRound: -1,
        validValue: null,
        decided: null,
        votes: [],
      })
    })
  })

  describe('happy path', () => {
    it('decides in round 0 with four validators', () => {
      const node = new Node(A)
      node.start()
      // l.22: the proposal of B, valid, nothing locked: prevote it.
      expect(node.propose(0, V)).toEqual([voteEffect('prevote', 0, V, A)])
      expect(node.state.step).toBe('prevote')
      // Its own prevote is counted only when it comes back.
      expect(describeState(node.state).votes).toEqual([{round: 0, prevotes: 0, precommits: 0, prevotePower: 0, precommitPower: 0}])
      expect(node.prevotes(0, V, A, B)).toEqual([])
      // l.34 then l.36: 2f+1 prevotes for V lock it and precommit it.
      expect(node.prevotes(0, V, C)).toEqual([timeoutEffect('prevote', 0), voteEffect('precommit', 0, V, A)])
      expect(node.state).toMatchObject({step: 'precommit', lockedValue: V, lockedRound: 0, validValue: V, validRound: 0})
      expect(node.prevotes(0, V, D)).toEqual([])
      expect(node.precommits(0, V, A, C)).toEqual([])
      // l.49
      expect(node.precommits(0, V, D)).toEqual([{kind: 'decide', height: H, round: 0, value: V, precommits: [vote('precommit', 0, V, A), vote('precommit', 0, V, C), vote('precommit', 0, V, D)]}])
      expect(describeState(node.state).decided).toBe(V)
      // After the decision everything is ignored until the next height starts.
      const decided = node.state
      expect(node.precommits(0, V, B)).toEqual([])
      expect(node.timeout('precommit', 0)).toEqual([])
      expect(node.propose(1, W)).toEqual([])
      expect(node.state).toBe(decided)
    })

    it('decides as the proposer once its own proposal comes back', () => {
      const node = new Node(B)
      expect(node.start()).toEqual([{kind: 'propose', height: H, round: 0, validValue: null, validRound: -1}])
      expect(node.propose(0, V)).toEqual([voteEffect('prevote', 0, V, B)])
      node.prevotes(0, V, A, B, C)
      node.precommits(0, V, B, C)
      expect(node.precommits(0, V, D).map((e) => e.kind)).toEqual(['decide'])
    })

    it('decides when every vote arrives before the proposal', () => {
      const node = new Node(A)
      node.start()
      expect(node.prevotes(0, V, B, C, D)).toEqual([])
      // l.47 needs no step: 2f+1 precommits of any kind schedule the precommit timeout.
      expect(node.precommits(0, V, B, C, D)).toEqual([timeoutEffect('precommit', 0)])
      const effects = node.propose(0, V)
      expect(effects.map((e) => e.kind)).toEqual(['decide'])
    })

    it('counts quorums by power, not by count', () => {
      // A holds 5 of 8: quorum is 6, so A alone is not enough, A and any other is.
      const weighted = new ValidatorSet([
        {address: A, power: 5},
        {address: B, power: 1},
        {address: C, power: 1},
        {address: D, power: 1},
      ])
      const node = new Node(C, weighted)
      node.start()
      node.propose(0, V)
      expect(node.prevotes(0, V, A)).toEqual([])
      expect(node.prevotes(0, V, B)).toContainEqual(voteEffect('precommit', 0, V, C))
      expect(node.precommits(0, V, B, C, D)).toEqual([])
      expect(node.precommits(0, V, A).map((e) => e.kind)).toEqual(['decide'])
    })
  })

  describe('timeouts (l.57, l.61, l.65) and nil (l.44, l.47)', () => {
    it('prevotes nil on a propose timeout, precommits nil on 2f+1 nil prevotes, moves on after the precommit timeout', () => {
      const node = new Node(A)
      node.start()
      expect(node.timeout('propose', 0)).toEqual([voteEffect('prevote', 0, null, A)])
      expect(node.prevotes(0, null, A, B)).toEqual([])
      // l.34 and l.44
      expect(node.prevotes(0, null, C)).toEqual([timeoutEffect('prevote', 0), voteEffect('precommit', 0, null, A)])
      expect(node.state.step).toBe('precommit')
      expect(node.precommits(0, null, A, B)).toEqual([])
      // l.47: 2f+1 precommits of any kind.
      expect(node.precommits(0, V, C)).toEqual([timeoutEffect('precommit', 0)])
      expect(node.precommits(0, null, D)).toEqual([])
      // l.65: round 1, whose proposer is C.
      expect(node.timeout('precommit', 0)).toEqual([timeoutEffect('propose', 1)])
      expect(node.state).toMatchObject({round: 1, step: 'propose', lockedRound: -1})
    })

    it('precommits nil on the prevote timeout when prevotes are split', () => {
      const node = new Node(A)
      node.start()
      node.propose(0, V)
      node.prevotes(0, V, A, B)
      expect(node.prevotes(0, null, C)).toEqual([timeoutEffect('prevote', 0)])
      expect(node.timeout('prevote', 0)).toEqual([voteEffect('precommit', 0, null, A)])
    })

    it('ignores timeouts whose height, round or step no longer match', () => {
      const node = new Node(A)
      node.start()
      const proposing = node.state
      expect(node.timeout('prevote', 0)).toEqual([])
      expect(node.timeout('propose', 0, H + 1)).toEqual([])
      expect(node.timeout('propose', 1)).toEqual([])
      expect(node.state).toBe(proposing)
      node.propose(0, V)
      const prevoted = node.state
      expect(node.timeout('propose', 0)).toEqual([])
      expect(node.timeout('precommit', 1)).toEqual([])
      expect(node.timeout('precommit', 0, H + 1)).toEqual([])
      expect(node.state).toBe(prevoted)
    })

    it('schedules the prevote and precommit timeouts once per round', () => {
      const node = new Node(A)
      node.start()
      node.timeout('propose', 0)
      expect(node.prevotes(0, W, B, C, D)).toEqual([timeoutEffect('prevote', 0)])
      expect(node.prevotes(0, null, A)).toEqual([])
      node.timeout('prevote', 0)
      expect(node.precommits(0, W, B, C)).toEqual([])
      expect(node.precommits(0, null, D)).toEqual([timeoutEffect('precommit', 0)])
      expect(node.precommits(0, null, A)).toEqual([])
    })
  })

  describe('locking (l.22, l.28, l.36)', () => {
    /** A locked on V in round 0, then moved to round 1 without a decision. */
    function lockedInRound0(): Node {
      const node = new Node(A)
      node.start()
      node.propose(0, V)
      node.prevotes(0, V, A, B, C)
      node.precommits(0, V, A)
      node.precommits(0, null, B, C)
      node.timeout('precommit', 0)
      expect(node.state).toMatchObject({round: 1, lockedValue: V, lockedRound: 0, validValue: V, validRound: 0})
      return node
    }

    it('prevotes nil for a different value proposed with validRound -1', () => {
      const node = lockedInRound0()
      expect(node.propose(1, W)).toEqual([voteEffect('prevote', 1, null, A, H)])
    })

    it('prevotes its locked value when it is proposed again', () => {
      const node = lockedInRound0()
      expect(node.propose(1, V)).toEqual([voteEffect('prevote', 1, V, A)])
    })

    it('proposes its valid value with its valid round', () => {
      const node = lockedInRound0()
      node.prevotes(1, null, B, C, D)
      node.precommits(1, null, B, C, D)
      node.timeout('precommit', 1)
      node.prevotes(2, null, B, C, D)
      node.precommits(2, null, B, C, D)
      // Round 3's proposer is A.
      expect(node.timeout('precommit', 2)).toEqual([{kind: 'propose', height: H, round: 3, validValue: V, validRound: 0}])
    })

    it('unlocks for a value proposed with validRound >= lockedRound and 2f+1 prevotes in that round', () => {
      const node = lockedInRound0()
      // Round 1: C proposes W, A prevotes nil (locked), the others polka W.
      node.propose(1, W)
      node.prevotes(1, W, B, C, D)
      node.precommits(1, null, A, B, C)
      node.timeout('precommit', 1)
      // Round 2: D re-proposes W with validRound 1.
      expect(node.propose(2, W, {validRound: 1})).toEqual([voteEffect('prevote', 2, W, A)])
    })

    it('waits for the 2f+1 prevotes at validRound before acting on such a proposal', () => {
      const node = lockedInRound0()
      node.prevotes(1, W, B, C)
      node.precommits(1, null, B, C, D)
      node.timeout('precommit', 1)
      expect(node.propose(2, W, {validRound: 1})).toEqual([])
      expect(node.state.step).toBe('propose')
      expect(node.prevotes(1, W, D)).toEqual([voteEffect('prevote', 2, W, A)])
    })

    it('prevotes nil for a proposal with validRound below its lock', () => {
      const node = new Node(A)
      node.start()
      // Round 0: polka for W (A did not see the proposal; precommits nil on timeout).
      node.timeout('propose', 0)
      node.prevotes(0, W, B, C, D)
      node.timeout('prevote', 0)
      node.precommits(0, null, A, B, C)
      node.timeout('precommit', 0)
      // Round 1: A locks on V.
      node.propose(1, V)
      node.prevotes(1, V, A, B, C)
      expect(node.state).toMatchObject({lockedValue: V, lockedRound: 1})
      node.precommits(1, null, B, C, D)
      node.timeout('precommit', 1)
      // Round 2: D proposes W with validRound 0 < lockedRound 1.
      expect(node.propose(2, W, {validRound: 0})).toEqual([voteEffect('prevote', 2, null, A)])
    })

    it('updates the valid value but does not lock when the polka comes after it precommitted', () => {
      const node = new Node(A)
      node.start()
      node.timeout('propose', 0)
      node.prevotes(0, V, B, C)
      node.prevotes(0, null, A)
      node.timeout('prevote', 0)
      expect(node.state.step).toBe('precommit')
      // The proposal arrives late; with D's prevote V has its polka.
      node.propose(0, V)
      expect(node.prevotes(0, V, D)).toEqual([])
      expect(node.state).toMatchObject({lockedValue: null, lockedRound: -1, validValue: V, validRound: 0})
    })

    it('acts on a polka seen while still proposing only once it has prevoted (step >= prevote)', () => {
      const node = new Node(A)
      node.start()
      node.timeout('propose', 0)
      node.prevotes(0, null, A, B, C)
      node.precommits(0, null, A, B, C)
      node.timeout('precommit', 0)
      // Round 1: C proposes V claiming a polka in round 0 that A never saw, so l.28 does not hold;
      // V's polka in round 1 arrives while A is still in the propose step.
      node.propose(1, V, {validRound: 0})
      expect(node.prevotes(1, V, B, C, D)).toEqual([])
      expect(node.state).toMatchObject({step: 'propose', validValue: null})
      // The propose timeout makes A prevote nil; now l.36 holds and A locks on V.
      expect(node.timeout('propose', 1)).toEqual([voteEffect('prevote', 1, null, A), timeoutEffect('prevote', 1), voteEffect('precommit', 1, V, A)])
      expect(node.state).toMatchObject({lockedValue: V, lockedRound: 1, validValue: V, validRound: 1})
    })

    it('locks when the proposal arrives after its own nil prevote but before it precommitted', () => {
      const node = new Node(A)
      node.start()
      node.timeout('propose', 0)
      node.prevotes(0, V, B, C, D)
      expect(node.propose(0, V)).toEqual([voteEffect('precommit', 0, V, A)])
      expect(node.state).toMatchObject({lockedValue: V, lockedRound: 0})
    })
  })

  describe('invalid proposals', () => {
    it('prevotes nil for an invalid value and never locks on or decides it', () => {
      const node = new Node(A)
      node.start()
      expect(node.propose(0, V, {valid: false})).toEqual([voteEffect('prevote', 0, null, A)])
      node.prevotes(0, V, B, C, D)
      expect(node.state.lockedValue).toBeNull()
      node.precommits(0, V, B, C, D)
      expect(node.state.decision).toBeNull()
    })

    it('ignores proposals from anyone but the proposer of the round, and malformed valid rounds', () => {
      const node = new Node(A)
      node.start()
      const s = node.state
      expect(node.propose(0, V, {proposer: C})).toEqual([])
      expect(node.propose(0, V, {proposer: OUTSIDER})).toEqual([])
      expect(node.propose(1, V, {validRound: 1})).toEqual([])
      expect(node.propose(1, V, {validRound: -2})).toEqual([])
      expect(node.propose(0, V, {height: H + 1})).toEqual([])
      expect(node.state).toBe(s)
    })
  })

  describe('round skip (l.55)', () => {
    it('moves to a later round on f+1 power of messages in it, not on f', () => {
      const node = new Node(A)
      node.start()
      expect(node.prevotes(3, W, B)).toEqual([])
      expect(node.state.round).toBe(0)
      // A precommit from another validator makes two distinct senders: round 3, proposer A.
      expect(node.precommits(3, null, C)).toEqual([{kind: 'propose', height: H, round: 3, validValue: null, validRound: -1}])
      expect(node.state).toMatchObject({round: 3, step: 'propose'})
    })

    it('counts a proposal as a message from its proposer', () => {
      const node = new Node(A)
      node.start()
      // Proposer of round 2 is D; with B's prevote in round 2 that is f+1.
      node.propose(2, W)
      expect(node.prevotes(2, null, B)).toEqual([timeoutEffect('propose', 2), voteEffect('prevote', 2, W, A)])
    })

    it('does not count one validator twice', () => {
      const node = new Node(A)
      node.start()
      node.prevotes(2, W, B)
      node.precommits(2, W, B)
      expect(node.state.round).toBe(0)
    })

    it('jumps straight to the highest such round', () => {
      const node = new Node(A)
      node.prevotes(2, null, B, C)
      node.prevotes(5, null, B, C)
      expect(node.start()).toEqual([timeoutEffect('propose', 0), timeoutEffect('propose', 5)])
      expect(node.state.round).toBe(5)
    })
  })

  describe('equivocation', () => {
    it('reports a second, different vote once per pair; identical duplicates are ignored', () => {
      const node = new Node(A)
      node.start()
      node.prevotes(0, V, B)
      expect(node.prevotes(0, W, B)).toEqual([{kind: 'equivocation', first: vote('prevote', 0, V, B), second: vote('prevote', 0, W, B)}])
      expect(node.prevotes(0, W, B)).toEqual([])
      expect(node.prevotes(0, null, B)).toEqual([{kind: 'equivocation', first: vote('prevote', 0, V, B), second: vote('prevote', 0, null, B)}])
      const s = node.state
      expect(node.prevotes(0, V, B)).toEqual([])
      expect(node.state).toBe(s)
      // One validator, one vote in the tallies of any value.
      expect(describeState(node.state).votes).toEqual([{round: 0, prevotes: 1, precommits: 0, prevotePower: 1, precommitPower: 0}])
      // A precommit of the same round is a different type: no equivocation.
      expect(node.precommits(0, W, B)).toEqual([])
    })

    it('counts an equivocator once for each value it voted, as the thresholds of the paper do', () => {
      // Without this, an equivocator that sent nil to A and W to C and D could keep A from ever
      // seeing the polka C and D locked on: the honest validators would wait on each other forever.
      const node = new Node(A)
      node.start()
      node.timeout('propose', 0)
      node.prevotes(0, null, B)
      node.prevotes(0, W, C)
      // B counts once in the power of any value: no prevote timeout yet.
      expect(node.prevotes(0, W, B).map((e) => e.kind)).toEqual(['equivocation'])
      expect(describeState(node.state).votes[0]).toMatchObject({prevotes: 2, prevotePower: 2})
      node.propose(0, W)
      expect(node.state.validValue).toBeNull()
      // D's prevote makes W's polka with B's second vote.
      expect(node.prevotes(0, W, D)).toEqual([timeoutEffect('prevote', 0), voteEffect('precommit', 0, W, A)])
      expect(node.state).toMatchObject({lockedValue: W, lockedRound: 0})
    })

    it('lists the equivocator among the precommits that decided', () => {
      const node = new Node(A)
      node.start()
      node.propose(0, V)
      node.precommits(0, null, B)
      node.precommits(0, V, B, C, D)
      expect(node.effects).toEqual([{kind: 'decide', height: H, round: 0, value: V, precommits: [vote('precommit', 0, V, B), vote('precommit', 0, V, C), vote('precommit', 0, V, D)]}])
    })
  })

  describe('decision (l.49)', () => {
    it('decides on a proposal of an earlier round with 2f+1 precommits in that round', () => {
      const node = new Node(A)
      node.start()
      node.prevotes(2, null, B, C)
      expect(node.state.round).toBe(2)
      node.precommits(0, V, B, C)
      expect(node.propose(0, V)).toEqual([])
      const effects = node.precommits(0, V, D)
      expect(effects).toEqual([{kind: 'decide', height: H, round: 0, value: V, precommits: [vote('precommit', 0, V, B), vote('precommit', 0, V, C), vote('precommit', 0, V, D)]}])
      expect(node.state.round).toBe(2)
    })

    it('ignores votes from non-validators and messages for other heights', () => {
      const node = new Node(A)
      node.start()
      const s = node.state
      expect(node.votes('prevote', 0, V, [OUTSIDER])).toEqual([])
      expect(node.votes('prevote', 0, V, [B, C, D], H + 1)).toEqual([])
      expect(node.votes('precommit', 0, V, [B, C, D], H - 1)).toEqual([])
      expect(node.state).toBe(s)
    })
  })

  describe('observer', () => {
    it('never votes or proposes but follows the rounds and decides', () => {
      const node = new Node(null)
      const all: ConsensusEffect[] = [...node.start()]
      all.push(...node.propose(0, V))
      expect(node.state.step).toBe('prevote')
      all.push(...node.prevotes(0, null, A, B, C))
      all.push(...node.precommits(0, null, A, B, C))
      all.push(...node.timeout('precommit', 0))
      all.push(...node.timeout('propose', 1))
      all.push(...node.prevotes(1, null, A, B, C))
      all.push(...node.precommits(1, null, A, B, C))
      // Round 2's proposer is D; round 3's is A: the observer never proposes.
      all.push(...node.timeout('precommit', 1))
      all.push(...node.propose(2, W))
      all.push(...node.prevotes(2, W, A, B, D))
      all.push(...node.precommits(2, W, A, B))
      expect(all.some((e) => e.kind === 'vote' || e.kind === 'propose')).toBe(false)
      expect(node.precommits(2, W, D).map((e) => e.kind)).toEqual(['decide'])
    })
  })

  describe('purity', () => {
    it('never mutates the state it is given', () => {
      const node = new Node(A)
      node.start()
      node.propose(0, V)
      node.prevotes(0, V, B)
      const before = node.state
      const snapshot = JSON.stringify(describeState(before))
      const sizes = [...before.rounds.values()].map((r) => [r.proposals.length, r.prevote.first.size, r.precommit.first.size, r.senders.size])
      // Events that lock, equivocate, skip rounds and decide.
      for (const event of [
        {kind: 'vote', vote: vote('prevote', 0, V, C)},
        {kind: 'vote', vote: vote('prevote', 0, W, B)},
        {kind: 'vote', vote: vote('precommit', 4, W, C)},
        {kind: 'timeout', step: 'propose', height: H, round: 0},
      ] satisfies ConsensusEvent[]) {
        step(before, event)
      }
      let s = before
      for (const v of [A, B, C]) s = step(s, {kind: 'vote', vote: vote('prevote', 0, V, v)}).state
      for (const v of [A, B, C]) s = step(s, {kind: 'vote', vote: vote('precommit', 0, V, v)}).state
      expect(s.decision?.value).toBe(V)
      expect(JSON.stringify(describeState(before))).toBe(snapshot)
      expect([...before.rounds.values()].map((r) => [r.proposals.length, r.prevote.first.size, r.precommit.first.size, r.senders.size])).toEqual(sizes)
      expect(before.decision).toBeNull()
    })
  })
})
