import {type AggregatorSpec, aggregate} from './aggregators.js'
import type {ClientResult} from './client-task.js'
import {decodeUpdate} from './compress.js'
import {addGaussianNoise, clipUpdate} from './dp.js'
import type {FederationConfig, RoundRecord} from './federation.js'
import {Random} from './random.js'
import {type UpdateMessage, UpdateVerifier} from './update-message.js'

/**
 * One round's aggregation, shared by the simulation (`fl round`) and the processes (`fl serve`,
 * `fl edge`): an edge verifies and aggregates its clients ({@link aggregateEdge}); the global level
 * combines the edges ({@link combineEdges}); without edges the global level is the one edge.
 */

export interface Rejection {
  clientId: string
  reason: string
}

/** What arrived from one client: its encoded update message, or why nothing usable came. */
export type ClientOutcome = {clientId: string; message: Uint8Array} | {clientId: string; failed: string}

/** An extra check of an update whose signature verified (attestation); a reason refuses it. */
export type UpdateCheck = (message: UpdateMessage, bytes: Uint8Array) => {ok: true} | {ok: false; reason: string}

export interface EdgeInput {
  round: number
  baseHash: Uint8Array
  /** Parameters of the model. */
  size: number
  dp: boolean
  /** With DP, the L2 bound every decoded update is clipped to where it is summed (see decodeContribution); null without. */
  clip: number | null
  /** The rule this edge aggregates with. */
  aggregator: AggregatorSpec
  /** The number of Byzantine updates the rule assumes among n. */
  assumedF(n: number): number
  /** The registered public key of each client the edge serves. */
  publicKeys: Map<string, Uint8Array>
  outcomes: ClientOutcome[]
  check?: UpdateCheck
}

export interface EdgeAggregate {
  /** The aggregate (with DP: the sum of the clipped updates); null when no update was accepted. */
  update: Float32Array | null
  /** The total weight behind it (examples; with DP: the number of updates summed). */
  weight: number
  participants: number
  /** Updates that passed verification (before a robust rule left any out). */
  accepted: number
  rejections: Rejection[]
  /** Bytes of the update messages that arrived. */
  bytesUp: number
}

/**
 * An edge verifies each message (signature, round, base model, replay, then `check`), decodes the
 * accepted updates and aggregates them with its rule (with DP: sums them).
 */
export function aggregateEdge(input: EdgeInput): EdgeAggregate {
  const {size} = input
  const verifier = new UpdateVerifier({round: input.round, baseModelHash: input.baseHash, clients: input.publicKeys})
  const rejections: Rejection[] = []
  const updates: Float32Array[] = []
  const weights: number[] = []
  const ids: string[] = []
  let bytesUp = 0
  for (const outcome of input.outcomes) {
    if (!('message' in outcome)) {
      rejections.push({clientId: outcome.clientId, reason: `client-failed: ${outcome.failed}`})
      continue
    }
    bytesUp += outcome.message.byteLength
    const verdict = verifier.verify(outcome.message)
    if (!verdict.ok) {
      rejections.push({clientId: verdict.clientId ?? outcome.clientId, reason: verdict.reason})
      continue
    }
    if (verdict.message.clientId !== outcome.clientId) {
      rejections.push({clientId: outcome.clientId, reason: 'unknown-client'})
      continue
    }
    const checked = input.check?.(verdict.message, outcome.message) ?? {ok: true}
    if (!checked.ok) {
      rejections.push({clientId: outcome.clientId, reason: checked.reason})
      continue
    }
    let update: Float32Array
    try {
      update = decodeContribution(verdict.message.payload, size, input.dp ? input.clip : null)
    } catch {
      rejections.push({clientId: outcome.clientId, reason: 'malformed'})
      continue
    }
    updates.push(update)
    weights.push(input.dp ? 1 : verdict.message.numExamples)
    ids.push(verdict.message.clientId)
  }
  if (updates.length === 0) return {update: null, weight: 0, participants: 0, accepted: 0, rejections, bytesUp}
  if (input.dp) return {update: sum(updates, size), weight: updates.length, participants: updates.length, accepted: updates.length, rejections, bytesUp}
  const result = aggregate(input.aggregator, updates, weights, Math.min(input.assumedF(updates.length), maxF(input.aggregator, updates.length)))
  const used = new Set(result.selected)
  ids.forEach((id, j) => used.has(j) || rejections.push({clientId: id, reason: 'excluded-by-aggregator'}))
  return {update: result.model, weight: result.selected.reduce((s, j) => s + weights[j]!, 0), participants: used.size, accepted: updates.length, rejections, bytesUp}
}

export interface CombineInput {
  size: number
  /** The global rule over the edges (f = 0: edges are trusted); unused when `flat`. */
  aggregator: AggregatorSpec
  edges: readonly EdgeAggregate[]
  /** One edge that is the global level itself (no edges): its aggregate is the update. */
  flat: boolean
  /** With DP: N(0, (multiplier · clip)²) added to the sum, divided by the clients sampled. */
  dp: {noiseMultiplier: number; clip: number; rng: Random; sampled: number} | null
}

/** The global level: the round's update (new model − old) from the edges' aggregates. */
export function combineEdges(input: CombineInput): Float32Array {
  const {size} = input
  const present = input.edges.filter((e) => e.update !== null)
  if (input.dp) {
    const total = sum(present.map((e) => e.update!), size)
    addGaussianNoise(total, input.dp.noiseMultiplier * input.dp.clip, input.dp.rng)
    for (let j = 0; j < size; j++) total[j] = total[j]! / input.dp.sampled
    return total
  }
  if (present.length === 0) return new Float32Array(size)
  if (input.flat) return present[0]!.update!
  return aggregate(input.aggregator, present.map((e) => e.update!), present.map((e) => e.weight), 0).model
}

/**
 * The clients of a round and their training seeds: a seeded shuffle of the population (indices
 * 0..population−1) cut to `perRound`, sorted; one seed per sampled client, in that order. The
 * returned generator then draws the round's DP noise.
 */
export function planRound(seed: number, round: number, population: number, perRound: number, poisson = false): {rng: Random; sampled: number[]; seeds: number[]} {
  const rng = new Random((seed ^ Math.imul(round, 0x9e37_79b1)) >>> 0)
  const sampled = sampleClients({clients: population, dp: poisson}, perRound, rng)
  const seeds = sampled.map(() => rng.nextUint32())
  return {rng, sampled, seeds}
}

/**
 * The clients of a round. Without DP, a fixed-size subset of `perRound` clients drawn uniformly.
 * With DP, Poisson sampling: each client takes part independently with probability
 * q = perRound / clients, so the number of participants varies per round (DP-FedAvg, McMahan et
 * al. 2018). That is the sampling the RDP accountant's bound (the sampled Gaussian mechanism,
 * Mironov et al. 2019) is proven for; a fixed-size subset is not.
 */
export function sampleClients(config: {clients: number; dp: boolean}, perRound: number, rng: Random): number[] {
  if (!config.dp) return rng.shuffle([...Array(config.clients).keys()]).slice(0, perRound).sort((a, b) => a - b)
  const q = perRound / config.clients
  const sampled: number[] = []
  for (let c = 0; c < config.clients; c++) if (rng.next() < q) sampled.push(c)
  return sampled
}

/**
 * Decodes a client's update payload; with DP it is then clipped to `clip` here, where it is
 * summed, whatever the client did: top-k error feedback sends the clipped update plus the carried
 * residual, int8 stochastic rounding can round every coordinate away from zero, and a client may
 * not clip at all. So every client's contribution to the noised sum is at most `clip` in L2, which
 * is the sensitivity the Gaussian mechanism's noise (σ·clip) is calibrated to.
 */
export function decodeContribution(payload: Uint8Array, size: number, clip: number | null): Float32Array {
  const update = decodeUpdate(payload, new Float32Array(size))
  if (clip !== null) clipUpdate(update, clip)
  return update
}

export interface AggregateRoundInput {
  round: number
  config: FederationConfig
  aggregator: AggregatorSpec
  edgeAggregator: AggregatorSpec
  sampled: number[]
  results: (ClientResult | {clientId: string; failed: string})[]
  edges: number
  edgeOf(client: number): number
  clientIds: string[]
  publicKeys: Uint8Array[]
  baseHash: Uint8Array
  size: number
  broadcastBytes: number
  rng: Random
  assumedF(n: number): number
  /**
   * With DP, the denominator of the noised mean: the expected number of sampled clients q·N
   * (DP-FedAvg's fixed denominator; the actual count depends on who took part). Defaults to the
   * number sampled.
   */
  expectedParticipants?: number
}

/**
 * The simulation's round: clients grouped by edge (client i → edge i mod edges), each group through
 * {@link aggregateEdge}, then {@link combineEdges}. With DP, every level sums clipped updates and the
 * global level adds N(0, (σ·clip)²) before dividing by the number of sampled clients (DP-FedAvg
 * with a fixed denominator).
 */
export function aggregateRound(input: AggregateRoundInput): {update: Float32Array; participants: number; rejections: Rejection[]; bytesUp: number; bytesDown: number; edges: RoundRecord['edges']} {
  const {config, size} = input
  const flat = input.edges === 0
  const groups = flat ? 1 : input.edges
  const aggregates: EdgeAggregate[] = []
  const rejections: Rejection[] = []
  const edgeStats: RoundRecord['edges'] = []
  let bytesUp = 0
  let bytesDown = 0
  for (let edge = 0; edge < groups; edge++) {
    const members = input.sampled.map((c, k) => ({c, k})).filter(({c}) => input.edgeOf(c) === edge)
    const result = aggregateEdge({
      round: input.round,
      baseHash: input.baseHash,
      size,
      dp: config.dp,
      clip: config.dp ? config.clip : null,
      aggregator: flat ? input.aggregator : input.edgeAggregator,
      assumedF: input.assumedF,
      publicKeys: new Map(members.map(({c}) => [input.clientIds[c]!, input.publicKeys[c]!])),
      outcomes: members.map(({k}) => {
        const r = input.results[k]!
        return 'message' in r ? {clientId: r.clientId, message: r.message} : r
      }),
    })
    aggregates.push(result)
    rejections.push(...result.rejections)
    bytesUp += result.bytesUp
    bytesDown += members.length * input.broadcastBytes
    if (flat) continue
    edgeStats.push({edge, clients: members.length, accepted: result.accepted, bytesUp: result.bytesUp, bytesDown: members.length * input.broadcastBytes})
    if (result.update === null) continue
    // The edge's aggregate travels up to the global level (and the new model comes back down).
    bytesUp += size * 4
    bytesDown += size * 4
  }
  const update = combineEdges({
    size,
    aggregator: input.aggregator,
    edges: aggregates,
    flat,
    dp: config.dp ? {noiseMultiplier: config.noiseMultiplier, clip: config.clip, rng: input.rng, sampled: input.expectedParticipants ?? input.sampled.length} : null,
  })
  const participants = aggregates.reduce((s, e) => s + e.participants, 0)
  return {update, participants, rejections, bytesUp, bytesDown, edges: edgeStats}
}

/** The largest f an aggregator tolerates among n updates (rejected updates can shrink n below the planned size). */
export function maxF(spec: AggregatorSpec, n: number): number {
  switch (spec.kind) {
    case 'nnm':
      return Math.min(maxF(spec.inner, n), Math.max(0, Math.ceil(n / 2) - 1))
    case 'krum':
    case 'multi-krum':
      return Math.max(0, Math.ceil((n - 2) / 2) - 1)
    case 'bulyan':
      return Math.max(0, Math.floor((n - 3) / 4))
    case 'median':
      return Math.max(0, Math.ceil(n / 2) - 1)
    default:
      return n
  }
}

function sum(updates: readonly Float32Array[], size: number): Float32Array {
  const out = new Float32Array(size)
  for (const u of updates) for (let j = 0; j < size; j++) out[j] = out[j]! + u[j]!
  return out
}
