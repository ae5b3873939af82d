import {mapHashToField} from '@noble/curves/abstract/modular.js'
import {secp256k1} from '@noble/curves/secp256k1.js'
import {equalBytes} from '@noble/curves/utils.js'
import {sha256, sha512} from '@noble/hashes/sha2.js'

import {XaiError} from '../util/errors.js'
import {badUpdate, CompressErrorCode} from './compress.js'

/**
 * Signed client updates: what travels from a client to its edge, and whose size is counted.
 *
 * Canonical encoding (little-endian; every field in this order, nothing after the signature):
 *
 *     u8   version            1
 *     u8   clientId length    1..255, then the UTF-8 bytes of the client id
 *     u32  round
 *     32   baseModelHash      sha256 of the model the client started from (see modelHash)
 *     u32  numExamples
 *     u32  attestation length 0..65536, then the attestation bytes
 *     u32  payload length     then the compressed update (see compress.ts)
 *     64   signature          compact r ‖ s, low-s
 *
 * The client's public key does not travel: the edge verifies with the key registered for the
 * client id (33 bytes saved per update, which matters next to an int8 payload of a small model).
 *
 * The signature is ECDSA over sha256("xai-fl-update-v1" ‖ every byte before the signature), with
 * the client's key; signing is deterministic (RFC 6979), so a rerun produces the same bytes.
 * Decoding is strict (exact lengths, valid UTF-8, no trailing bytes), so the bytes a verifier hashes
 * are the only encoding of the message they carry.
 *
 * Attestation: the field is where a client's attestation quote (a TEE report binding the client's
 * key and code measurement) will go. It is signed with the rest of the message; nothing produces or
 * checks one yet, so it is empty today.
 */

export interface UpdateMessage {
  clientId: string
  round: number
  baseModelHash: Uint8Array
  numExamples: number
  /** The compressed update. */
  payload: Uint8Array
  /** Reserved for the client's attestation quote; absent (encoded as empty) for now. */
  attestation?: Uint8Array
  /** 64-byte compact signature. */
  signature: Uint8Array
}

export const UpdateMessageErrorCode = {
  badUpdate: CompressErrorCode.badUpdate,
  invalidSeed: 'FL_INVALID_SEED',
} as const
export type UpdateMessageErrorCode = (typeof UpdateMessageErrorCode)[keyof typeof UpdateMessageErrorCode]

export type RejectReason = 'bad-signature' | 'unknown-client' | 'wrong-round' | 'wrong-model' | 'replay' | 'malformed'

export const UPDATE_MESSAGE_VERSION = 1
export const MAX_CLIENT_ID_BYTES = 255
export const MAX_ATTESTATION_BYTES = 65_536

const DOMAIN = new TextEncoder().encode('xai-fl-update-v1')
const KEY_DOMAIN = new TextEncoder().encode('xai-fl-client-key-v1')
const HASH_BYTES = 32
const SIGNATURE_BYTES = 64
const MAX_U32 = 0xff_ff_ff_ff
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})

/** sha256 of the parameters as little-endian float32 bytes. */
export function modelHash(params: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return sha256(new Uint8Array(params.buffer, params.byteOffset, params.byteLength))
  const bytes = new Uint8Array(params.byteLength)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < params.length; i++) view.setFloat32(4 * i, params[i]!, true)
  return sha256(bytes)
}

/**
 * A client's signing key, derived from the federation seed and the client id so reruns sign with
 * the same keys: the private key is sha512("xai-fl-client-key-v1" ‖ seed ‖ u8 len ‖ clientId)
 * mapped into [1, n − 1] (n the secp256k1 order) as in RFC 9380's hash_to_field (noble's
 * mapHashToField: reduction of 64 bytes mod n − 1, plus one; the bias is below 2^-128). A numeric
 * seed is encoded as tag 0 and the 8-byte little-endian two's complement of the (safe) integer, a
 * byte seed as tag 1, a u32 length and the bytes.
 */
export function clientKey(seed: number | Uint8Array, clientId: string): {privateKey: Uint8Array; publicKey: Uint8Array} {
  let seedBytes: Uint8Array
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) {
      throw new XaiError(UpdateMessageErrorCode.invalidSeed, `A federation seed must be an integer, not ${seed}`, {
        hint: 'Pass --seed with an integer.',
        details: {seed},
      })
    }
    seedBytes = new Uint8Array(9)
    new DataView(seedBytes.buffer).setBigUint64(1, BigInt.asUintN(64, BigInt(seed)), true)
  } else {
    seedBytes = new Uint8Array(5 + seed.length)
    seedBytes[0] = 1
    new DataView(seedBytes.buffer).setUint32(1, seed.length, true)
    seedBytes.set(seed, 5)
  }
  const id = clientIdBytes(clientId)
  const material = sha512.create().update(KEY_DOMAIN).update(seedBytes).update(Uint8Array.of(id.length)).update(id).digest()
  const privateKey = mapHashToField(material, secp256k1.Point.Fn.ORDER)
  return {privateKey, publicKey: secp256k1.getPublicKey(privateKey, true)}
}

/** Signs the fields with `privateKey` (the edge verifies with the key registered for the client id). */
export function signUpdate(fields: Omit<UpdateMessage, 'signature'>, privateKey: Uint8Array): UpdateMessage {
  const unsigned = {...fields, signature: new Uint8Array(SIGNATURE_BYTES)}
  const encoded = encodeUpdateMessage(unsigned)
  const signature = secp256k1.sign(signingDigest(encoded), privateKey, {prehash: false})
  const message: UpdateMessage = {...unsigned, signature}
  if (message.attestation === undefined) delete message.attestation
  return message
}

/** The canonical bytes of a message (see the format above). */
export function encodeUpdateMessage(message: UpdateMessage): Uint8Array {
  const id = clientIdBytes(message.clientId)
  const attestation = message.attestation ?? new Uint8Array(0)
  checkU32('round', message.round)
  checkU32('numExamples', message.numExamples)
  checkLength('baseModelHash', message.baseModelHash, HASH_BYTES)
  checkLength('signature', message.signature, SIGNATURE_BYTES)
  if (attestation.length > MAX_ATTESTATION_BYTES) throw invalidField(`attestation is longer than ${MAX_ATTESTATION_BYTES} bytes`)
  if (message.payload.length > MAX_U32) throw invalidField('payload is longer than 4 GiB')
  const out = new Uint8Array(
    1 + 1 + id.length + 4 + HASH_BYTES + 4 + 4 + attestation.length + 4 + message.payload.length + SIGNATURE_BYTES,
  )
  const view = new DataView(out.buffer)
  let at = 0
  out[at++] = UPDATE_MESSAGE_VERSION
  out[at++] = id.length
  out.set(id, at)
  at += id.length
  view.setUint32(at, message.round, true)
  at += 4
  out.set(message.baseModelHash, at)
  at += HASH_BYTES
  view.setUint32(at, message.numExamples, true)
  at += 4
  view.setUint32(at, attestation.length, true)
  at += 4
  out.set(attestation, at)
  at += attestation.length
  view.setUint32(at, message.payload.length, true)
  at += 4
  out.set(message.payload, at)
  at += message.payload.length
  out.set(message.signature, at)
  return out
}

/** Strict decoding of encodeUpdateMessage's bytes; anything malformed is FL_BAD_UPDATE. */
export function decodeUpdateMessage(bytes: Uint8Array): UpdateMessage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  const need = (n: number, what: string): void => {
    if (bytes.length - at < n) throw badUpdate(`the message ends inside ${what}`)
  }
  need(2, 'the header')
  const version = bytes[at++]!
  if (version !== UPDATE_MESSAGE_VERSION) throw badUpdate(`unknown message version ${version}`)
  const idLength = bytes[at++]!
  if (idLength === 0) throw badUpdate('the client id is empty')
  need(idLength, 'the client id')
  let clientId: string
  try {
    clientId = strictUtf8.decode(bytes.subarray(at, at + idLength))
  } catch {
    throw badUpdate('the client id is not valid UTF-8')
  }
  at += idLength
  need(4 + HASH_BYTES + 4 + 4, 'the fixed fields')
  const round = view.getUint32(at, true)
  at += 4
  const baseModelHash = bytes.slice(at, at + HASH_BYTES)
  at += HASH_BYTES
  const numExamples = view.getUint32(at, true)
  at += 4
  const attestationLength = view.getUint32(at, true)
  at += 4
  if (attestationLength > MAX_ATTESTATION_BYTES) throw badUpdate(`the attestation is longer than ${MAX_ATTESTATION_BYTES} bytes`)
  need(attestationLength, 'the attestation')
  const attestation = bytes.slice(at, at + attestationLength)
  at += attestationLength
  need(4, 'the payload length')
  const payloadLength = view.getUint32(at, true)
  at += 4
  need(payloadLength, 'the payload')
  const payload = bytes.slice(at, at + payloadLength)
  at += payloadLength
  if (bytes.length - at !== SIGNATURE_BYTES) {
    throw badUpdate(bytes.length - at < SIGNATURE_BYTES ? 'the message ends inside the signature' : 'trailing bytes after the signature')
  }
  const signature = bytes.slice(at)
  const message: UpdateMessage = {clientId, round, baseModelHash, numExamples, payload, signature}
  if (attestation.length > 0) message.attestation = attestation
  return message
}

export type VerifyResult = {ok: true; message: UpdateMessage} | {ok: false; reason: RejectReason; clientId?: string}

export interface UpdateVerifierOptions {
  round: number
  baseModelHash: Uint8Array
  /** The registered public key (33-byte compressed) of every client id this edge serves. */
  clients: Map<string, Uint8Array>
}

/**
 * An edge's verifier: the expected round and base model hash, the registered public key per
 * client id, and the (clientId, round) pairs already accepted (replays rejected). Checks, in order:
 * the message decodes (malformed), the client is registered (unknown-client), the message carries
 * a signature that verifies under the registered key (bad-signature), then round (wrong-round), base
 * model (wrong-model) and replay. Nothing unauthenticated decides past the signature check.
 */
export class UpdateVerifier {
  private round: number
  private baseModelHash: Uint8Array
  private readonly clients: Map<string, Uint8Array>
  private readonly accepted = new Set<string>()

  constructor(options: UpdateVerifierOptions) {
    this.round = options.round
    this.baseModelHash = options.baseModelHash
    this.clients = options.clients
  }

  /** Moves to the next round and model; pairs accepted before stay replays. */
  advance(round: number, baseModelHash: Uint8Array): void {
    this.round = round
    this.baseModelHash = baseModelHash
  }

  verify(bytes: Uint8Array): VerifyResult {
    let message: UpdateMessage
    try {
      message = decodeUpdateMessage(bytes)
    } catch {
      return {ok: false, reason: 'malformed'}
    }
    const {clientId} = message
    const registered = this.clients.get(clientId)
    if (registered === undefined) return {ok: false, reason: 'unknown-client', clientId}
    const digest = signingDigest(bytes)
    if (!secp256k1.verify(message.signature, digest, registered, {prehash: false})) return {ok: false, reason: 'bad-signature', clientId}
    if (message.round !== this.round) return {ok: false, reason: 'wrong-round', clientId}
    if (!equalBytes(message.baseModelHash, this.baseModelHash)) return {ok: false, reason: 'wrong-model', clientId}
    const pair = `${message.round}\u0000${clientId}`
    if (this.accepted.has(pair)) return {ok: false, reason: 'replay', clientId}
    this.accepted.add(pair)
    return {ok: true, message}
  }
}

/** sha256 of the domain tag and every byte of an encoded message before its signature. */
function signingDigest(encoded: Uint8Array): Uint8Array {
  return sha256.create().update(DOMAIN).update(encoded.subarray(0, encoded.length - SIGNATURE_BYTES)).digest()
}

function clientIdBytes(clientId: string): Uint8Array {
  const bytes = utf8.encode(clientId)
  if (bytes.length === 0 || bytes.length > MAX_CLIENT_ID_BYTES || strictUtf8.decode(bytes) !== clientId) {
    throw invalidField(`client id ${JSON.stringify(clientId)} must be 1 to ${MAX_CLIENT_ID_BYTES} bytes of well-formed UTF-8`)
  }
  return bytes
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) throw invalidField(`${name} must be an integer in [0, 2^32), not ${value}`)
}

function checkLength(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw invalidField(`${name} must be ${length} bytes, not ${value.length}`)
}

function invalidField(reason: string): XaiError {
  return new XaiError(UpdateMessageErrorCode.badUpdate, `Cannot encode the update message: ${reason}`, {details: {reason}})
}
