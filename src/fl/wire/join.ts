import {secp256k1} from '@noble/curves/secp256k1.js'
import {sha256} from '@noble/hashes/sha2.js'

import {XaiError} from '../../util/errors.js'
import {type ClientAttestor, quoteQualifyingData} from '../attestation-port.js'
import {type ClientTask, finishClientTask, trainClientUpdate} from '../client-task.js'
import type {Dataset} from '../data.js'
import {type WireSettings, akBindingDigest, decodeChallenge, encodeEnrollment, FL_PROTOCOL_VERSION, fromB64, signHello, toB64} from './messages.js'
import {connectParent} from './parent-link.js'

export type JoinEvent =
  | {type: 'accepted'; id: string; settings: WireSettings; attested: boolean}
  | {type: 'trained'; round: number; loss: number; trainMs: number; bytesUp: number}
  | {type: 'verdict'; round: number; accepted: boolean; reason?: string; accuracy?: number}

export interface JoinOptions {
  server: string
  id: string
  data: Dataset
  privateKey: Uint8Array
  attestor?: ClientAttestor
  signal?: AbortSignal
  onEvent?(event: JoinEvent): void
}

export interface JoinResult {
  id: string
  server: string
  attested: boolean
  rounds: {round: number; loss: number; accepted: boolean | null; reason?: string}[]
  /** The federation's final test accuracy, as the server announced it. */
  accuracy: number | null
  finished: boolean
}

/**
 * `fl join`: one client process. Proves its key (and, with a TPM, enrolls its AK), takes the
 * training settings from the server, and for each round it is sampled in trains on its own data
 * with the same client code as the simulation (trainClientUpdate), quotes the update when
 * attested, signs it and sends it up. Leaves when the federation ends.
 */
export async function joinFederation(options: JoinOptions): Promise<JoinResult> {
  const link = await connectParent(options.server)
  const result: JoinResult = {id: options.id, server: options.server, attested: false, rounds: [], accuracy: null, finished: false}
  const publicKey = secp256k1.getPublicKey(options.privateKey, true)
  try {
    const welcome = await link.next(options.signal)
    if (welcome.type !== 'welcome') throw unexpected(welcome.type, 'welcome')
    if (welcome.version !== FL_PROTOCOL_VERSION) throw new XaiError('FL_WIRE_PROTOCOL', `The server speaks protocol version ${welcome.version}, this client ${FL_PROTOCOL_VERSION}`, {hint: 'Run the same xai version on both sides.'})
    const enrollment = options.attestor ? await options.attestor.enrollment((akName) => secp256k1.sign(akBindingDigest(akName), options.privateKey, {prehash: false})) : undefined
    link.send({
      type: 'hello',
      version: FL_PROTOCOL_VERSION,
      role: 'client',
      id: options.id,
      publicKey: toB64(publicKey),
      proof: toB64(signHello(fromB64(welcome.nonce), 'client', options.id, options.privateKey)),
      ...(enrollment ? {enrollment: encodeEnrollment(enrollment)} : {}),
    })
    let settings: WireSettings | undefined
    let residual: Float32Array | null = null
    const indices = Uint32Array.from({length: options.data.n}, (_, i) => i)
    for (;;) {
      const message = await link.next(options.signal)
      switch (message.type) {
        case 'challenge': {
          if (!options.attestor) throw unexpected('challenge', 'accepted')
          const secret = await options.attestor.activate(decodeChallenge(message))
          link.send({type: 'activate', secret: toB64(secret)})
          break
        }
        case 'accepted': {
          settings = message.settings
          checkData(options.data, settings)
          result.attested = enrollment !== undefined
          options.onEvent?.({type: 'accepted', id: message.id, settings, attested: result.attested})
          break
        }
        case 'round': {
          if (!settings) throw unexpected('round', 'accepted')
          const mine = message.tasks.find((t) => t.clientId === options.id)
          if (!mine) break
          const task: ClientTask = {
            clientId: options.id,
            round: message.round,
            broadcast: fromB64(message.model),
            indices,
            epochs: settings.epochs,
            batchSize: settings.batchSize,
            lr: settings.lr,
            seed: mine.seed,
            attack: null,
            clip: settings.clip,
            compression: settings.compression,
            residual,
            privateKey: options.privateKey,
          }
          if (task.broadcast.byteLength < 4 || (task.broadcast.byteLength - 4) % 4 !== 0) throw new XaiError('FL_WIRE_PROTOCOL', 'The server sent a model that is not whole float32 values', {hint: 'Check that server and client run the same xai version.'})
          const trained = trainClientUpdate({data: options.data, model: settings.model}, task)
          let evidence: Uint8Array | undefined
          if (options.attestor && settings.pcrs.length > 0) {
            const binding = {round: message.round, baseModelHash: trained.fields.baseModelHash, updateHash: sha256(trained.fields.payload), clientId: options.id}
            evidence = await options.attestor.quote(quoteQualifyingData(binding), settings.pcrs)
          }
          const sent = finishClientTask(trained, options.privateKey, evidence)
          residual = sent.residual
          link.send({type: 'update', round: message.round, clientId: options.id, message: toB64(sent.message), loss: sent.loss, trainMs: Math.round(sent.trainMs)})
          result.rounds.push({round: message.round, loss: sent.loss, accepted: null})
          options.onEvent?.({type: 'trained', round: message.round, loss: sent.loss, trainMs: sent.trainMs, bytesUp: sent.message.byteLength})
          break
        }
        case 'verdict': {
          const entry = result.rounds.find((r) => r.round === message.round)
          if (entry && message.clientId === options.id) {
            entry.accepted = message.accepted
            if (message.reason !== undefined) entry.reason = message.reason
          }
          if (message.accuracy !== undefined) result.accuracy = message.accuracy
          options.onEvent?.({type: 'verdict', round: message.round, accepted: message.accepted, reason: message.reason, accuracy: message.accuracy})
          break
        }
        case 'end':
          result.accuracy = message.accuracy
          result.finished = true
          return result
        case 'error':
          throw new XaiError(message.code === 'FL_ATTEST_REFUSED' ? 'FL_ATTEST_REFUSED' : 'FL_WIRE_REFUSED', `The server refused this client: ${message.message}`, {
            hint: message.code === 'FL_ATTEST_REFUSED' ? 'Check the TPM: its EK certificate must chain to the server\'s --tpm-ca and its PCRs match the --pcr-policy.' : 'Use another --id or the key this id registered with (--key).',
          })
        case 'welcome':
          throw unexpected('welcome', 'a round')
      }
    }
  } finally {
    link.close()
  }
}

function checkData(data: Dataset, settings: WireSettings): void {
  if (data.d !== settings.features || data.classes.length !== settings.classes.length) {
    throw new XaiError('FL_WIRE_DATA_MISMATCH', `This client's data has ${data.d} features and ${data.classes.length} classes; the federation's model takes ${settings.features} and ${settings.classes.length}`, {
      hint: 'Join with a CSV of the federation\'s data set (xai fl split writes one per client, with every class in its header).',
    })
  }
}

function unexpected(got: string, wanted: string): XaiError {
  return new XaiError('FL_WIRE_PROTOCOL', `The server sent ${got} where ${wanted} was expected`, {hint: 'Check that the URL points at an xai fl serve or fl edge of the same version.'})
}
