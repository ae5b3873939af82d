/**
 * The consensus machine in a simulated network: n = 4 or 7 validators, up to f of them Byzantine
 * (silent, or equivocating: conflicting votes to different peers, two proposals when proposing).
 * No real timers: a virtual clock and a priority queue of deliveries, timeouts and starts. The
 * scenario (validators, faults, drop / duplicate rates, delays, GST) comes from fast-check, and
 * so does the seed of the scheduler's generator, which orders, delays, drops and duplicates
 * every message.
 *
 * - Safety: under arbitrary drops, delays and duplicates, honest nodes never decide two values
 *   at one height, decide only valid values, and never equivocate.
 * - Liveness: when every message sent among honest nodes at time t arrives by max(t, GST) + Δ,
 *   every honest node decides every height within a bounded virtual time after GST.
 *
 * Gossip: the paper assumes a message a correct process received reaches every correct process
 * by max(t, GST) + Δ. Messages of honest nodes go to everyone directly; an honest node relays
 * each message it receives from a Byzantine node, which models the rest of that assumption.
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the scenarios; fast-check prints the seed
 * and the shrunk counterexample on failure, so `FC_SEED=<seed> npx vitest run <this file>`
 * replays it. FC_RUNS sets the number of runs.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {DEFAULT_TIMEOUTS, type MachineState, initialState, step} from '../../src/consensus/machine.js'
import type {ConsensusEffect, ConsensusEvent, Proposal, ValidatorAddress, ValueId, Vote} from '../../src/consensus/types.js'
import {ValidatorSet} from '../../src/consensus/validator-set.js'

const seed = Number(process.env.FC_SEED ?? 0x7e4d)
const runs = Number(process.env.FC_RUNS ?? 200)

/** Heights every run decides (liveness) or tries to (safety). */
const HEIGHTS = 3
/** Virtual ms between a node's decision and its start of the next height. */
const START_DELAY = 50
/** Virtual ms after GST by which every honest node must have decided every height (the worst seen over 8,000 runs was ~22 s). */
const LIVENESS_WINDOW = 60_000
/** Virtual ms a safety run lasts at most. */
const SAFETY_HORIZON = 60_000
/** Events a run processes at most (a guard against a runaway simulation). */
const MAX_EVENTS = 400_000

type ByzantineKind = 'silent' | 'equivocating'

interface ScenarioInput {
  n: 4 | 7
  /** Voting powers (the first n), or null for equal powers. */
  powers: number[] | null
  /** Faulty validators; those beyond f, or beyond a third of the power, stay honest. */
  byzantine: {index: number; kind: ByzantineKind}[]
  /** The scheduler's seed. */
  seed: number
  dropPercent: number
  dupPercent: number
  /** Share of slow messages per kind: slow ones take up to maxDelay, the others up to fastDelay. */
  slowPercent: Record<MessageKind, number>
  fastDelay: number
  maxDelay: number
  gst: number
  /** Δ: after GST every message arrives within this many ms. */
  delta: number
  startJitter: number
  /** How likely an equivocator votes a value it learns of to each honest node. */
  amplifyPercent: number
}

interface Scenario extends ScenarioInput {
  validators: ValidatorSet
  addresses: ValidatorAddress[]
  faults: Map<number, ByzantineKind>
}

type Message = {kind: 'proposal'; proposal: Proposal; valid: boolean} | {kind: 'vote'; vote: Vote}

type MessageKind = 'proposal' | 'prevote' | 'precommit'

type Scheduled =
  | {at: number; seq: number; kind: 'deliver'; to: number; message: Message}
  | {at: number; seq: number; kind: 'timeout'; node: number; event: ConsensusEvent & {kind: 'timeout'}}
  | {at: number; seq: number; kind: 'start'; node: number; height: number}
  | {at: number; seq: number; kind: 'act'; node: number; height: number; round: number}

/** Omit over each member of a union. */
type Unsequenced = Scheduled extends infer T ? (T extends Scheduled ? Omit<T, 'seq'> : never) : never

interface HonestNode {
  kind: 'honest'
  index: number
  state: MachineState
  /** Messages for later heights, replayed when the node starts them. */
  buffer: Message[]
  relayed: Set<string>
  decisions: Map<number, {value: ValueId; at: number}>
}

interface ByzantineNode {
  kind: ByzantineKind
  index: number
  acted: Set<string>
  /** Values seen proposed or voted, by `${height}/${round}`. */
  seen: Map<string, ValueId[]>
}

/** mulberry32: a small deterministic generator for the scheduler's choices. */
class Rng {
  private s: number
  constructor(seed: number) {
    this.s = seed | 0
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n]. */
  upTo(n: number): number {
    return Math.floor(this.next() * (n + 1))
  }

  chance(percent: number): boolean {
    return this.next() * 100 < percent
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }
}

/** A binary min-heap on (at, seq): deterministic order for events at the same virtual time. */
class EventQueue {
  private readonly heap: Scheduled[] = []

  get size(): number {
    return this.heap.length
  }

  push(item: Scheduled): void {
    const h = this.heap
    h.push(item)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(h[i]!, h[parent]!)) break
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }

  pop(): Scheduled | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last !== undefined) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

const before = (a: Scheduled, b: Scheduled): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')

/** Value tags: honest blocks, valid Byzantine blocks, invalid Byzantine blocks (valid(v) false). */
const TAG = {honest: 'a', byzantine: 'b', invalid: 'f'} as const

/** A value id like 0x<height><round><proposer><variant><tag>, padded to 32 bytes; the last digit is the tag. */
function valueId(height: number, round: number, proposer: number, variant: number, tag: string): ValueId {
  return `0x${hex(height, 8)}${hex(round, 8)}${hex(proposer, 4)}${hex(variant, 4)}${'0'.repeat(39)}${tag}`
}

/** valid(v), the same at every honest node. */
const isValid = (value: ValueId): boolean => !value.endsWith(TAG.invalid)

const messageHeight = (m: Message): number => (m.kind === 'proposal' ? m.proposal.height : m.vote.height)
const messageSender = (m: Message): ValidatorAddress => (m.kind === 'proposal' ? m.proposal.proposer : m.vote.validator)
const messageKey = (m: Message): string =>
  m.kind === 'proposal'
    ? `p/${m.proposal.height}/${m.proposal.round}/${m.proposal.value}/${m.proposal.validRound}/${m.proposal.proposer}`
    : `${m.vote.type}/${m.vote.height}/${m.vote.round}/${m.vote.value}/${m.vote.validator}`

function buildScenario(input: ScenarioInput): Scenario {
  const {n} = input
  const addresses = Array.from({length: n}, (_, i) => `0x${hex(i + 1, 40)}` as ValidatorAddress)
  const powers = input.powers === null ? addresses.map(() => 1) : input.powers.slice(0, n)
  const total = powers.reduce((a, b) => a + b, 0)
  const f = Math.floor((n - 1) / 3)
  const faults = new Map<number, ByzantineKind>()
  let faulty = 0
  for (const {index, kind} of input.byzantine) {
    const i = index % n
    if (faults.has(i) || faults.size >= f || 3 * (faulty + powers[i]!) >= total) continue
    faults.set(i, kind)
    faulty += powers[i]!
  }
  const validators = new ValidatorSet(addresses.map((address, i) => ({address, power: powers[i]!})))
  return {...input, validators, addresses, faults}
}

/** One run: the network, the nodes, and the checks made as decisions happen. */
class Simulation {
  readonly rng: Rng
  readonly queue = new EventQueue()
  readonly nodes: (HonestNode | ByzantineNode)[]
  /** The first value decided at each height, by anyone honest. */
  readonly decided = new Map<number, ValueId>()
  now = 0
  events = 0
  private seq = 0

  constructor(
    readonly sc: Scenario,
    readonly mode: 'safety' | 'liveness',
  ) {
    this.rng = new Rng(sc.seed)
    this.nodes = sc.addresses.map((address, index) => {
      const kind = sc.faults.get(index)
      if (kind !== undefined) return {kind, index, acted: new Set<string>(), seen: new Map<string, ValueId[]>()}
      const state = initialState({validators: sc.validators, self: address, timeouts: DEFAULT_TIMEOUTS}, 1)
      return {kind: 'honest', index, state, buffer: [], relayed: new Set<string>(), decisions: new Map()}
    })
    for (const node of this.nodes) {
      if (node.kind === 'honest') this.schedule({at: this.rng.upTo(sc.startJitter), kind: 'start', node: node.index, height: 1})
      else if (node.kind === 'equivocating') this.schedule({at: 0, kind: 'act', node: node.index, height: 1, round: 0})
    }
  }

  get honest(): HonestNode[] {
    return this.nodes.filter((n): n is HonestNode => n.kind === 'honest')
  }

  /** Runs until every honest node decided every height, the queue is empty, or the horizon. */
  run(): void {
    const horizon = this.mode === 'safety' ? SAFETY_HORIZON : this.sc.gst + LIVENESS_WINDOW
    while (this.queue.size > 0 && !this.allDecided()) {
      const item = this.queue.pop()!
      if (item.at > horizon) break
      if (++this.events > MAX_EVENTS) throw new Error(`runaway simulation: more than ${MAX_EVENTS} events by ${this.now} ms`)
      this.now = item.at
      this.dispatch(item)
    }
  }

  allDecided(): boolean {
    return this.honest.every((n) => n.decisions.size === HEIGHTS)
  }

  private schedule(item: Unsequenced): void {
    this.queue.push({...item, seq: this.seq++})
  }

  private dispatch(item: Scheduled): void {
    const node = this.nodes[item.kind === 'deliver' ? item.to : item.node]!
    switch (item.kind) {
      case 'start':
        if (node.kind === 'honest') this.start(node, item.height)
        return
      case 'timeout':
        if (node.kind === 'honest') this.feed(node, item.event)
        return
      case 'act':
        if (node.kind === 'equivocating') this.act(node, item.height, item.round)
        return
      case 'deliver':
        if (node.kind === 'honest') this.receive(node, item.message)
        else if (node.kind === 'equivocating') this.observe(node, item.message)
        return
    }
  }

  // ---- network ------------------------------------------------------------------------------

  /** When a message sent now arrives, or null when it is lost. */
  private deliveryTime(kind: MessageKind): number | null {
    const {dropPercent, slowPercent, fastDelay, maxDelay, gst, delta} = this.sc
    if (this.mode === 'liveness' && this.now >= gst) return this.now + this.rng.upTo(delta)
    const lost = this.rng.chance(dropPercent)
    const at = this.now + this.rng.upTo(this.rng.chance(slowPercent[kind]) ? maxDelay : fastDelay)
    if (this.mode === 'safety') return lost ? null : at
    // Before GST a message may be late, or "lost" until GST; it arrives by GST + Δ all the same.
    return lost ? gst + this.rng.upTo(delta) : Math.min(at, gst + delta)
  }

  private send(to: number, message: Message): void {
    const kind = message.kind === 'proposal' ? 'proposal' : message.vote.type
    const copies = this.rng.chance(this.sc.dupPercent) ? 2 : 1
    for (let c = 0; c < copies; c++) {
      const at = this.deliveryTime(kind)
      if (at !== null) this.schedule({at, kind: 'deliver', to, message})
    }
  }

  private broadcast(from: number, message: Message): void {
    for (let to = 0; to < this.nodes.length; to++) if (to !== from) this.send(to, message)
  }

  // ---- honest nodes -------------------------------------------------------------------------

  private start(node: HonestNode, height: number): void {
    this.feed(node, {kind: 'start', height})
    const later: Message[] = []
    const now: Message[] = []
    for (const m of node.buffer) (messageHeight(m) === height ? now : later).push(m)
    node.buffer = later
    for (const m of now) this.feed(node, m)
  }

  private receive(node: HonestNode, message: Message): void {
    const sender = this.sc.addresses.indexOf(messageSender(message))
    if (this.sc.faults.has(sender)) {
      const key = messageKey(message)
      if (!node.relayed.has(key)) {
        node.relayed.add(key)
        for (const other of this.honest) if (other !== node) this.send(other.index, message)
      }
    }
    this.feed(node, message)
  }

  /** Steps the machine on an event and on everything it feeds back to itself. */
  private feed(node: HonestNode, first: ConsensusEvent): void {
    const pending: ConsensusEvent[] = [first]
    for (let event = pending.shift(); event !== undefined; event = pending.shift()) {
      if ((event.kind === 'proposal' || event.kind === 'vote') && messageHeight(event) > node.state.height) {
        node.buffer.push(event)
        continue
      }
      const result = step(node.state, event)
      node.state = result.state
      for (const effect of result.effects) this.apply(node, effect, pending)
    }
  }

  private apply(node: HonestNode, effect: ConsensusEffect, pending: ConsensusEvent[]): void {
    switch (effect.kind) {
      case 'propose': {
        const value = effect.validValue ?? valueId(effect.height, effect.round, node.index, 0, TAG.honest)
        const proposal: Proposal = {height: effect.height, round: effect.round, value, validRound: effect.validRound, proposer: this.sc.addresses[node.index]!}
        const message: Message = {kind: 'proposal', proposal, valid: isValid(value)}
        this.broadcast(node.index, message)
        pending.push(message)
        return
      }
      case 'vote': {
        const message: Message = {kind: 'vote', vote: effect.vote}
        this.broadcast(node.index, message)
        pending.push(message)
        return
      }
      case 'timeout':
        this.schedule({at: this.now + effect.ms, kind: 'timeout', node: node.index, event: {kind: 'timeout', step: effect.step, height: effect.height, round: effect.round}})
        return
      case 'decide':
        this.decide(node, effect)
        return
      case 'equivocation': {
        const culprit = this.sc.addresses.indexOf(effect.first.validator)
        if (!this.sc.faults.has(culprit)) throw new Error(`honest validator ${culprit} equivocated: ${JSON.stringify(effect)}`)
        return
      }
    }
  }

  private decide(node: HonestNode, effect: ConsensusEffect & {kind: 'decide'}): void {
    const {height, value, precommits} = effect
    if (node.decisions.has(height)) throw new Error(`node ${node.index} decided height ${height} twice`)
    if (height !== node.decisions.size + 1) throw new Error(`node ${node.index} decided height ${height} out of order`)
    if (!isValid(value)) throw new Error(`node ${node.index} decided the invalid value ${value} at height ${height}`)
    const power = precommits.reduce((sum, v) => sum + this.sc.validators.power(v.validator), 0)
    if (power < this.sc.validators.quorum || precommits.some((v) => v.value !== value || v.height !== height || v.round !== effect.round)) {
      throw new Error(`node ${node.index} decided without a quorum of matching precommits: ${JSON.stringify(effect)}`)
    }
    const other = this.decided.get(height)
    if (other === undefined) this.decided.set(height, value)
    else if (other !== value) throw new Error(`disagreement at height ${height}: ${other} and ${value} (node ${node.index})`)
    node.decisions.set(height, {value, at: this.now})
    if (height < HEIGHTS) this.schedule({at: this.now + START_DELAY, kind: 'start', node: node.index, height: height + 1})
  }

  // ---- Byzantine nodes ----------------------------------------------------------------------

  /**
   * An equivocating node learns of (height, round) and its values from every message. It attacks
   * each round it hears of (and the next round and height) once, then votes each value it learns
   * to each honest node with probability amplifyPercent: an equivocator that helps every quorum.
   */
  private observe(node: ByzantineNode, message: Message): void {
    const {height, round} = message.kind === 'proposal' ? message.proposal : message.vote
    const value = message.kind === 'proposal' ? message.proposal.value : message.vote.value
    this.act(node, height, round)
    this.act(node, height, round + 1)
    if (height < HEIGHTS) this.act(node, height + 1, 0)
    if (value !== null) this.learn(node, height, round, value)
  }

  private learn(node: ByzantineNode, height: number, round: number, value: ValueId): void {
    const key = `${height}/${round}`
    const seen = node.seen.get(key) ?? []
    if (seen.includes(value)) return
    node.seen.set(key, [...seen, value])
    const self = this.sc.addresses[node.index]!
    for (const peer of this.honest) {
      for (const type of ['prevote', 'precommit'] as const) {
        if (this.rng.chance(this.sc.amplifyPercent)) this.send(peer.index, {kind: 'vote', vote: {type, height, round, value, validator: self}})
      }
    }
  }

  /** The first attack on a round: two groups of peers get conflicting votes, and conflicting proposals. */
  private act(node: ByzantineNode, height: number, round: number): void {
    const key = `${height}/${round}`
    if (node.acted.has(key)) return
    node.acted.add(key)
    const self = this.sc.addresses[node.index]!
    const peers = this.honest.map((n) => n.index)
    const group = new Map(peers.map((p) => [p, this.rng.upTo(1)]))
    const own = [valueId(height, round, node.index, 1, TAG.byzantine), valueId(height, round, node.index, 2, TAG.byzantine)]
    const seen = node.seen.get(key) ?? []
    if (this.sc.validators.proposer(height, round) === self) {
      const candidates = [...own, valueId(height, round, node.index, 3, TAG.invalid), ...seen]
      const a = this.rng.pick(candidates)
      const b = this.rng.pick(candidates.filter((v) => v !== a))
      for (const [i, value] of [a, b].entries()) {
        let validRound = -1
        let proposed = value
        if (round > 0 && this.rng.chance(30)) {
          // Re-propose a value of an earlier round, claiming that round's polka.
          validRound = this.rng.upTo(round - 1)
          const earlier = node.seen.get(`${height}/${validRound}`)
          if (earlier !== undefined && earlier.length > 0) proposed = this.rng.pick(earlier)
        }
        const message: Message = {kind: 'proposal', proposal: {height, round, value: proposed, validRound, proposer: self}, valid: isValid(proposed)}
        for (const peer of peers) if (group.get(peer) === i) this.send(peer, message)
      }
    }
    const choices: (ValueId | null)[] = [null, ...own, ...seen]
    const votes = [this.rng.pick(choices), this.rng.pick(choices)]
    for (const peer of peers) {
      const value = this.rng.chance(80) ? votes[group.get(peer)!]! : this.rng.pick(choices)
      for (const type of ['prevote', 'precommit'] as const) this.send(peer, {kind: 'vote', vote: {type, height, round, value, validator: self}})
    }
  }
}

const percent = (max: number): fc.Arbitrary<number> => fc.integer({min: 0, max})

const scenarioInput: fc.Arbitrary<ScenarioInput> = fc.record({
  n: fc.constantFrom(4 as const, 7 as const),
  powers: fc.option(fc.array(fc.integer({min: 1, max: 3}), {minLength: 7, maxLength: 7}), {freq: 3}),
  byzantine: fc.array(fc.record({index: fc.nat(6), kind: fc.constantFrom<ByzantineKind>('silent', 'equivocating', 'equivocating', 'equivocating')}), {minLength: 1, maxLength: 2}),
  seed: fc.integer(),
  dropPercent: percent(30),
  dupPercent: percent(30),
  slowPercent: fc.record({proposal: percent(100), prevote: percent(100), precommit: percent(100)}),
  fastDelay: fc.integer({min: 0, max: 300}),
  maxDelay: fc.integer({min: 0, max: 8000}),
  gst: fc.integer({min: 0, max: 15_000}),
  delta: fc.integer({min: 0, max: 200}),
  startJitter: fc.integer({min: 0, max: 500}),
  amplifyPercent: fc.integer({min: 50, max: 100}),
})

describe('consensus machine in a simulated network', () => {
  it('is safe: no two honest nodes decide different values at one height, whatever the network does', () => {
    fc.assert(
      fc.property(scenarioInput, (input) => {
        const sim = new Simulation(buildScenario(input), 'safety')
        sim.run()
      }),
      {seed, numRuns: runs},
    )
  })

  it('is live: after GST every honest node decides every height within a bounded time', () => {
    fc.assert(
      fc.property(scenarioInput, (input) => {
        const sc = buildScenario(input)
        const sim = new Simulation(sc, 'liveness')
        sim.run()
        for (const node of sim.honest) {
          expect(node.decisions.size, `node ${node.index} decided ${node.decisions.size} of ${HEIGHTS} heights by ${sim.now} ms (GST ${sc.gst})`).toBe(HEIGHTS)
          for (const {at} of node.decisions.values()) expect(at).toBeLessThanOrEqual(sc.gst + LIVENESS_WINDOW)
        }
      }),
      {seed, numRuns: runs},
    )
  })
})
