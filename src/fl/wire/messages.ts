import {secp256k1} from '@noble/curves/secp256k1.js'
import {sha256} from '@noble/hashes/sha2.js'
import {z} from 'zod'

import {XaiError} from '../../util/errors.js'
import type {CredentialChallenge, EnrollmentRequest} from '../attestation-port.js'

/**
 * The federation protocol's messages (docs/fl-protocol.md is the normative text): one JSON object
 * per WebSocket text frame, `type` first, byte fields in standard base64. Every frame is bounded
 * (MAX_FRAME_BYTES) and validated against these schemas before anything reads it; a frame that
 * fails closes the connection with 1008 and the reason.
 */

export const FL_PROTOCOL_VERSION = 1
/** The WebSocket subprotocol both ends name, so a stray client of another protocol is refused at the upgrade. */
export const FL_SUBPROTOCOL = 'xai-fl.v1'
/** The default bound of one frame (the server's `round` carries the model: 4 bytes a parameter, base64). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024

const HELLO_DOMAIN = new TextEncoder().encode('xai-fl-hello-v1')

const b64 = (maxBytes: number) => z.string().max(Math.ceil(maxBytes / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')
const id = z.string().min(1).max(255)
const u32 = z.number().int().min(0).max(0xffff_ffff)
const reason = z.string().max(500)
const KEY_BYTES = 33
const BIG = MAX_FRAME_BYTES

/** What the server tells each client once: everything it needs to train like the others. */
export const settingsSchema = z.strictObject({
  federation: z.string().max(64),
  model: z.discriminatedUnion('kind', [z.strictObject({kind: z.literal('logreg')}), z.strictObject({kind: z.literal('mlp'), hidden: z.number().int().min(1).max(4096)})]),
  features: z.number().int().min(1).max(1_000_000),
  classes: z.array(z.string().max(255)).min(2).max(256),
  epochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(100_000),
  lr: z.number().gt(0).max(100),
  clip: z.number().gt(0).nullable(),
  compression: z.string().max(64),
  dp: z.boolean(),
  edgeAggregator: z.string().max(128),
  /** PCRs a quote must cover; empty when the server does not attest. */
  pcrs: z.array(z.number().int().min(0).max(23)).max(24),
})
export type WireSettings = z.infer<typeof settingsSchema>

const enrollment = z.strictObject({ekCertificate: b64(16_384), ekPublic: b64(4096), akPublic: b64(4096), akName: b64(256), akBinding: b64(64)})
const rejection = z.strictObject({clientId: id, reason})

/** Parent (server or edge) → child (client or edge). */
export const downSchema = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('welcome'), version: u32, nonce: b64(32)}),
  z.strictObject({type: z.literal('challenge'), credentialBlob: b64(4096), encryptedSecret: b64(4096)}),
  z.strictObject({type: z.literal('accepted'), id, settings: settingsSchema}),
  z.strictObject({type: z.literal('round'), round: u32, model: b64(BIG), deadlineMs: u32, tasks: z.array(z.strictObject({clientId: id, seed: u32})).max(100_000)}),
  z.strictObject({type: z.literal('verdict'), round: u32, clientId: id, accepted: z.boolean(), reason: reason.optional(), accuracy: z.number().optional()}),
  z.strictObject({type: z.literal('end'), rounds: u32, accuracy: z.number().nullable()}),
  z.strictObject({type: z.literal('error'), code: z.string().max(64), message: reason}),
])
export type DownMessage = z.infer<typeof downSchema>

/** Child → parent. */
export const upSchema = z.discriminatedUnion('type', [
  z.strictObject({type: z.literal('hello'), version: u32, role: z.enum(['client', 'edge']), id, publicKey: b64(KEY_BYTES), proof: b64(64), enrollment: enrollment.optional()}),
  z.strictObject({type: z.literal('activate'), secret: b64(256)}),
  z.strictObject({type: z.literal('members'), clients: z.array(z.strictObject({id, publicKey: b64(KEY_BYTES)})).max(100_000)}),
  z.strictObject({type: z.literal('update'), round: u32, clientId: id, message: b64(BIG), loss: z.number().optional(), trainMs: z.number().optional()}),
  z.strictObject({
    type: z.literal('aggregate'),
    round: u32,
    message: b64(BIG).nullable(),
    participants: u32,
    accepted: u32,
    rejections: z.array(rejection).max(100_000),
    bytesUp: z.number().int().min(0),
  }),
  z.strictObject({type: z.literal('error'), code: z.string().max(64), message: reason}),
])
export type UpMessage = z.infer<typeof upSchema>

/** Parses one frame; a reason when it is not a message of `schema`. */
export function parseFrame<T>(schema: z.ZodType<T>, data: string): {ok: true; message: T} | {ok: false; reason: string} {
  let json: unknown
  try {
    json = JSON.parse(data)
  } catch {
    return {ok: false, reason: 'not JSON'}
  }
  const parsed = schema.safeParse(json)
  if (parsed.success) return {ok: true, message: parsed.data}
  const issue = parsed.error.issues[0]!
  return {ok: false, reason: `invalid message: ${issue.path.join('.') || '(root)'}: ${issue.message}`.slice(0, 120)}
}

export const toB64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
export const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'))

/** The digest a child signs to prove it holds the key it names: sha256("xai-fl-hello-v1" ‖ nonce ‖ role ‖ 0 ‖ id). */
export function helloDigest(nonce: Uint8Array, role: 'client' | 'edge', childId: string): Uint8Array {
  return sha256.create().update(HELLO_DOMAIN).update(nonce).update(new TextEncoder().encode(`${role}\u0000${childId}`)).digest()
}

export function signHello(nonce: Uint8Array, role: 'client' | 'edge', childId: string, privateKey: Uint8Array): Uint8Array {
  return secp256k1.sign(helloDigest(nonce, role, childId), privateKey, {prehash: false})
}

export function verifyHello(nonce: Uint8Array, role: 'client' | 'edge', childId: string, publicKey: Uint8Array, proof: Uint8Array): boolean {
  try {
    return secp256k1.verify(proof, helloDigest(nonce, role, childId), publicKey, {prehash: false})
  } catch {
    return false
  }
}

export function encodeEnrollment(request: EnrollmentRequest): z.infer<typeof enrollment> {
  return {ekCertificate: toB64(request.ekCertificate), ekPublic: toB64(request.ekPublic), akPublic: toB64(request.akPublic), akName: toB64(request.akName), akBinding: toB64(request.akBinding)}
}

export function decodeEnrollment(wire: z.infer<typeof enrollment>): EnrollmentRequest {
  return {ekCertificate: fromB64(wire.ekCertificate), ekPublic: fromB64(wire.ekPublic), akPublic: fromB64(wire.akPublic), akName: fromB64(wire.akName), akBinding: fromB64(wire.akBinding)}
}

export function decodeChallenge(message: {credentialBlob: string; encryptedSecret: string}): CredentialChallenge {
  return {credentialBlob: fromB64(message.credentialBlob), encryptedSecret: fromB64(message.encryptedSecret)}
}

/** The signing key's binding to the AK (attestation-port: the client signs sha256(domain ‖ akName)). */
export function akBindingDigest(akName: Uint8Array): Uint8Array {
  return sha256.create().update(new TextEncoder().encode('xai-fl-ak-binding-v1')).update(akName).digest()
}

export function protocolError(message: string, hint: string): XaiError {
  return new XaiError('FL_WIRE_PROTOCOL', message, {hint})
}
