import {type AggregatorSpec, aggregate} from '../aggregators.js'
import {createCompressor, decodeUpdate} from '../compress.js'
import type {RoundRecord} from '../federation.js'
import {type EdgeAggregate, type Rejection, type UpdateCheck, aggregateEdge} from '../round-aggregate.js'
import {Random} from '../random.js'
import {UpdateVerifier, encodeUpdateMessage, signUpdate} from '../update-message.js'
import type {HubRoundResult} from './hub.js'
import {fromB64} from './messages.js'

export interface GatherInput {
  round: number
  baseHash: Uint8Array
  size: number
  dp: boolean
  /** With DP, the L2 bound each direct client's decoded update is clipped to; null without. */
  clip: number | null
  /** The rule over the direct clients when no edge answers to this level (the level is flat). */
  flatRule: AggregatorSpec
  /** The rule over the direct clients when edges answer too (they form one more edge). */
  edgeRule: AggregatorSpec
  result: HubRoundResult
  /** The public key each direct client registered. */
  publicKeys: Map<string, Uint8Array>
  check?: UpdateCheck
}

export interface Gathered {
  aggregates: EdgeAggregate[]
  /** True when only direct clients answered: their aggregate is the level's. */
  flat: boolean
  rejections: Rejection[]
  participants: number
  bytesUp: number
  edges: RoundRecord['edges']
}

/**
 * One level of the hierarchy over the wire (the server, or an edge): its direct clients go through
 * the same aggregateEdge as the simulation's edges; each child edge's signed aggregate is verified
 * under the edge's key and decoded; the edges' reported rejections are carried up.
 */
export function gatherLevel(input: GatherInput): Gathered {
  const {result, size} = input
  const flat = result.edges.length === 0
  const rule = flat ? input.flatRule : input.edgeRule
  const aggregates: EdgeAggregate[] = []
  const rejections: Rejection[] = []
  const edges: RoundRecord['edges'] = []
  let bytesUp = 0
  const clientPart = aggregateEdge({
    round: input.round,
    baseHash: input.baseHash,
    size,
    dp: input.dp,
    clip: input.clip,
    aggregator: rule,
    assumedF: (n) => n,
    publicKeys: input.publicKeys,
    outcomes: result.clients.map((c) => ('message' in c ? {clientId: c.clientId, message: c.message} : c)),
    check: input.check,
  })
  if (result.clients.length > 0) aggregates.push(clientPart)
  rejections.push(...clientPart.rejections)
  bytesUp += clientPart.bytesUp
  result.edges.forEach((edge, index) => {
    const answer = edge.answer
    const refuse = (reason: string): void => {
      for (const id of edge.tasks) rejections.push({clientId: id, reason})
      edges.push({edge: index, clients: edge.tasks.length, accepted: 0, bytesUp: 0, bytesDown: 0})
    }
    if (!answer) return refuse(`edge ${edge.id}: ${edge.failed ?? 'no answer'}`)
    const tasks = new Set(edge.tasks)
    const reported = answer.rejections.filter((r) => tasks.has(r.clientId))
    rejections.push(...reported)
    if (answer.message === null) {
      edges.push({edge: index, clients: edge.tasks.length, accepted: 0, bytesUp: answer.bytesUp, bytesDown: 0})
      bytesUp += answer.bytesUp
      return
    }
    const bytes = fromB64(answer.message)
    const verdict = new UpdateVerifier({round: input.round, baseModelHash: input.baseHash, clients: new Map([[edge.id, edge.publicKey]])}).verify(bytes)
    if (!verdict.ok) return refuse(`edge ${edge.id}: ${verdict.reason}`)
    let update: Float32Array
    try {
      update = decodeUpdate(verdict.message.payload, new Float32Array(size))
    } catch {
      return refuse(`edge ${edge.id}: malformed`)
    }
    const participants = Math.min(answer.participants, edge.tasks.length)
    aggregates.push({update, weight: verdict.message.numExamples, participants, accepted: Math.min(answer.accepted, edge.tasks.length), rejections: reported, bytesUp: answer.bytesUp})
    bytesUp += answer.bytesUp + bytes.byteLength
    edges.push({edge: index, clients: edge.tasks.length, accepted: Math.min(answer.accepted, edge.tasks.length), bytesUp: answer.bytesUp, bytesDown: 0})
  })
  const participants = aggregates.reduce((s, a) => s + a.participants, 0)
  return {aggregates, flat, rejections, participants, bytesUp, edges}
}

/**
 * An edge's one update up from its level: flat, its clients' aggregate; with child edges, their
 * example-weighted mean (with DP: the sum of the sums, weight the number of updates).
 */
export function mergeLevel(gathered: Gathered, size: number, dp: boolean): {update: Float32Array; weight: number} | null {
  const present = gathered.aggregates.filter((a) => a.update !== null)
  if (present.length === 0) return null
  const weight = present.reduce((s, a) => s + a.weight, 0)
  if (dp) {
    const total = new Float32Array(size)
    for (const a of present) for (let j = 0; j < size; j++) total[j] = total[j]! + a.update![j]!
    return {update: total, weight}
  }
  if (present.length === 1) return {update: present[0]!.update!, weight}
  return {update: aggregate({kind: 'fedavg'}, present.map((a) => a.update!), present.map((a) => a.weight), 0).model, weight}
}

/** The edge's aggregate as a signed update message (uncompressed payload, numExamples = its weight). */
export function signAggregate(edgeId: string, round: number, baseHash: Uint8Array, merged: {update: Float32Array; weight: number}, privateKey: Uint8Array): Uint8Array {
  const payload = createCompressor({kind: 'none'}, merged.update.length).encode(merged.update, new Random(0))
  const weight = Math.min(0xffff_ffff, Math.max(0, Math.round(merged.weight)))
  return encodeUpdateMessage(signUpdate({clientId: edgeId, round, baseModelHash: baseHash, numExamples: weight, payload}, privateKey))
}
