import {bytesToHex} from '@noble/hashes/utils.js'
import {secp256k1} from '@noble/curves/secp256k1.js'

import {XaiError} from '../../util/errors.js'
import {parseAggregator} from '../aggregators.js'
import type {AttestationVerifier} from '../attestation-port.js'
import {decodeBroadcast} from '../client-task.js'
import {modelHash} from '../update-message.js'
import {gatherLevel, mergeLevel, signAggregate} from './gather.js'
import {type AttestMode, type AttestationStats, Hub, attestationCheck} from './hub.js'
import {type WireSettings, FL_PROTOCOL_VERSION, fromB64, signHello, toB64} from './messages.js'
import {connectParent} from './parent-link.js'

export type EdgeEvent =
  | {type: 'listening'; url: string; settings: WireSettings}
  | {type: 'round'; round: number; clients: number; accepted: number; rejected: number}
  | {type: 'refused'; clientId?: string; reason: string}

export interface EdgeOptions {
  server: string
  id: string
  privateKey: Uint8Array
  host: string
  port: number
  attest: AttestMode
  verifier?: AttestationVerifier
  signal?: AbortSignal
  onEvent?(event: EdgeEvent): void
}

export interface EdgeResult {
  id: string
  server: string
  url: string
  rounds: number
  finished: boolean
}

/**
 * `fl edge`: a child to its parent (the server or another edge) and a parent to its own children
 * (clients or edges, so the tree has any depth). Each round it passes the tasks of its clients
 * down, verifies and aggregates what comes back with the same code as the server (gatherLevel),
 * and sends one signed aggregate up with the rejections it made.
 */
export async function runEdge(options: EdgeOptions): Promise<EdgeResult> {
  const link = await connectParent(options.server)
  const publicKey = secp256k1.getPublicKey(options.privateKey, true)
  let hub: Hub | undefined
  const result: EdgeResult = {id: options.id, server: options.server, url: '', rounds: 0, finished: false}
  try {
    const welcome = await link.next(options.signal)
    if (welcome.type !== 'welcome') throw new XaiError('FL_WIRE_PROTOCOL', `The parent sent ${welcome.type} where welcome was expected`, {hint: 'Check that --server points at xai fl serve or fl edge.'})
    link.send({type: 'hello', version: FL_PROTOCOL_VERSION, role: 'edge', id: options.id, publicKey: toB64(publicKey), proof: toB64(signHello(fromB64(welcome.nonce), 'edge', options.id, options.privateKey))})
    const accepted = await link.next(options.signal)
    if (accepted.type === 'error') throw new XaiError('FL_WIRE_REFUSED', `The parent refused this edge: ${accepted.message}`, {hint: 'Use another --id, or the key this id registered with.'})
    if (accepted.type !== 'accepted') throw new XaiError('FL_WIRE_PROTOCOL', `The parent sent ${accepted.type} where accepted was expected`, {hint: 'Check that both run the same xai version.'})
    const settings = accepted.settings
    const edgeRule = parseAggregator(settings.edgeAggregator)
    const keys = new Map<string, string>()
    const sendMembers = (): void => {
      if (hub) link.send({type: 'members', clients: hub.leaves().map((l) => ({id: l.id, publicKey: toB64(l.publicKey)}))})
    }
    hub = new Hub({
      host: options.host,
      port: options.port,
      settings: () => ({...settings, pcrs: options.attest !== 'off' && options.verifier ? [...options.verifier.pcrs] : settings.pcrs}),
      attest: options.attest,
      verifier: options.verifier,
      register(id, key) {
        const hex = bytesToHex(key)
        const known = keys.get(id)
        if (known !== undefined) return known === hex
        keys.set(id, hex)
        return true
      },
      onChange: sendMembers,
      onRefused: (clientId, reason) => options.onEvent?.({type: 'refused', clientId, reason}),
    })
    result.url = await hub.url()
    options.onEvent?.({type: 'listening', url: result.url, settings})
    for (;;) {
      const message = await link.next(options.signal)
      if (message.type === 'end') {
        hub.broadcast(message)
        result.finished = true
        return result
      }
      if (message.type === 'verdict') {
        hub.sendToLeaf(message.clientId, message)
        continue
      }
      if (message.type === 'error') throw new XaiError('FL_WIRE_REFUSED', `The parent closed this edge: ${message.message}`, {hint: 'See the parent\'s output.'})
      if (message.type !== 'round') continue
      const model = fromB64(message.model)
      if (model.byteLength < 4 || (model.byteLength - 4) % 4 !== 0) throw new XaiError('FL_WIRE_PROTOCOL', 'The parent sent a model that is not whole float32 values', {hint: 'Check that both run the same xai version.'})
      const {params} = decodeBroadcast(model)
      const baseHash = modelHash(params)
      // Answer the parent before its own deadline: keep a fifth of it for the way up.
      const deadlineMs = Math.max(1, Math.floor(message.deadlineMs * 0.8))
      const round = await hub.runRound({round: message.round, model: message.model, deadlineMs, tasks: message.tasks}, options.signal)
      const stats: AttestationStats = {verified: 0, unattested: 0, refused: 0}
      const leaves = hub.leaves()
      const gathered = gatherLevel({
        round: message.round,
        baseHash,
        size: params.length,
        dp: settings.dp,
        clip: settings.dp ? settings.clip : null,
        flatRule: edgeRule,
        edgeRule,
        result: round,
        publicKeys: new Map(leaves.filter((l) => l.viaRole === 'client').map((l) => [l.id, l.publicKey])),
        check: attestationCheck(options.attest, options.verifier, message.round, baseHash, stats),
      })
      const merged = mergeLevel(gathered, params.length, settings.dp)
      link.send({
        type: 'aggregate',
        round: message.round,
        message: merged ? toB64(signAggregate(options.id, message.round, baseHash, merged, options.privateKey)) : null,
        participants: gathered.participants,
        accepted: gathered.aggregates.reduce((s, a) => s + a.accepted, 0),
        rejections: gathered.rejections,
        bytesUp: gathered.bytesUp,
      })
      result.rounds++
      options.onEvent?.({type: 'round', round: message.round, clients: message.tasks.length, accepted: gathered.participants, rejected: gathered.rejections.length})
    }
  } finally {
    link.close()
    await hub?.close()
  }
}
