import {constants, createHash, type KeyObject, randomBytes, timingSafeEqual, verify, X509Certificate} from 'node:crypto'

import {secp256k1} from '@noble/curves/secp256k1.js'

import {XaiError} from '../../util/errors.js'
import {type AttestationVerdict, type AttestationVerifier, type CredentialChallenge, type EnrollmentRequest, quoteQualifyingData, type UpdateBinding} from '../attestation-port.js'
import {decodeEvidence} from './evidence.js'
import {makeCredential} from './make-credential.js'
import type {PcrPolicy} from './pcr-policy.js'
import {
  concatBytes,
  hashOf,
  parseQuoteAttest,
  parseTpm2bPublic,
  parseTpmtSignature,
  publicKeyOf,
  qualifiedName,
  TPM_ALG,
  TPM_RH_ENDORSEMENT,
  TPMA_OBJECT,
  type TpmPublic,
  type TpmSignature,
  tpmName,
  u32be,
} from './tpm-structures.js'

/** The AK binding's domain: the client signs sha256(AK_BINDING_DOMAIN ‖ akName) with its secp256k1 key. */
export const AK_BINDING_DOMAIN = new TextEncoder().encode('xai-fl-ak-binding-v1')

export function akBindingDigest(akName: Uint8Array): Uint8Array {
  return createHash('sha256').update(AK_BINDING_DOMAIN).update(akName).digest()
}

/** A TPM's clock as a quote reports it; ordered by (resetCount, restartCount, clock). */
export interface TpmClock {
  resetCount: number
  restartCount: number
  /** Milliseconds the TPM has run, as a decimal string (a u64). */
  clock: string
}

/** What the verifier keeps per enrolled client (JSON, so a server can persist it and resume). */
export interface EnrolledClient {
  akPublic: string
  akName: string
  akQualifiedName: string
  lastClock?: TpmClock
}

export interface TpmAttestationVerifier extends AttestationVerifier {
  isEnrolled(clientId: string): boolean
  /** The enrolled clients, to persist beside the federation and hand back to {@link TpmAttestationVerifier.importState}. */
  exportState(): Record<string, EnrolledClient>
  importState(state: Record<string, EnrolledClient>): void
}

export interface AttestationVerifierOptions {
  /** Trust anchors of EK certificates (the TPM manufacturers' or a private CA's). */
  caCertificates: readonly X509Certificate[]
  policy: PcrPolicy
  /** The time EK certificates are checked at. */
  now?: () => Date
}

/** Enrollments begun and not finished that the verifier holds; the oldest is dropped past this. */
const MAX_PENDING = 10_000
/** Upper bounds of the request's fields (an EK certificate is ~1 KiB, a public area < 400 bytes). */
const MAX_CERTIFICATE_BYTES = 16 * 1024
const MAX_PUBLIC_BYTES = 1024

const AK_REQUIRED = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.restricted | TPMA_OBJECT.sign
const EK_REQUIRED = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt

function refuse(reason: string, hint = 'The client is not admitted; fix its TPM or its provisioning and enroll again.'): XaiError {
  return new XaiError('FL_ATTEST_REFUSED', `attestation: ${reason}`, {hint})
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The server's (or an edge's) half of attestation, in TypeScript and node:crypto: no TPM needed.
 *
 * Enrollment: the EK certificate must chain to one of the CA certificates and carry the EK's own
 * public key; the AK must be a restricted signing key fixed to the TPM, named as its public area
 * says, and bound by the client's secp256k1 signature to the key that signs its updates. The
 * challenge is MakeCredential to the EK for the AK's name; only that TPM, holding that AK, can
 * answer it.
 *
 * Per update: the quote (TPMS_ATTEST) must be signed by the client's AK, carry the update's
 * qualifying data, cover exactly the policy's PCRs in the sha256 bank, match the PCR values sent
 * beside it, show only values the policy allows, and come from a TPM whose clock moved forward
 * since the client's last accepted quote. Hostile evidence gets a verdict, never an exception.
 */
export function createAttestationVerifier(options: AttestationVerifierOptions): TpmAttestationVerifier {
  const {policy} = options
  const now = options.now ?? (() => new Date())
  const pending = new Map<string, {secret: Uint8Array; client: EnrolledClient}>()
  const enrolled = new Map<string, EnrolledClient & {key: KeyObject; ak: TpmPublic}>()

  const admit = (clientId: string, client: EnrolledClient): void => {
    const ak = parseTpm2bPublic(Buffer.from(client.akPublic, 'hex'))
    enrolled.set(clientId, {...client, ak, key: publicKeyOf(ak)})
  }

  const checkEkCertificate = (der: Uint8Array, ek: TpmPublic): void => {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(der)
    } catch {
      throw refuse('EK certificate unreadable')
    }
    const anchor = options.caCertificates.find((ca) => ca.ca && cert.checkIssued(ca) && cert.verify(ca.publicKey))
    if (!anchor) throw refuse('unknown CA', 'The EK certificate is not signed by a CA in --tpm-ca: provision the TPM with that CA, or add its CA certificate there.')
    const at = now().getTime()
    if (at < Date.parse(cert.validFrom) || at > Date.parse(cert.validTo)) throw refuse('EK certificate expired or not yet valid')
    const fromCert = cert.publicKey.export({format: 'jwk'})
    const fromTpm = publicKeyOf(ek).export({format: 'jwk'})
    const same = fromCert.kty === fromTpm.kty && (fromTpm.kty === 'RSA' ? fromCert.n === fromTpm.n && fromCert.e === fromTpm.e : fromCert.crv === fromTpm.crv && fromCert.x === fromTpm.x && fromCert.y === fromTpm.y)
    if (!same) throw refuse('EK does not match its certificate')
  }

  return {
    pcrs: policy.pcrs,

    async beginEnrollment(clientId: string, clientPublicKey: Uint8Array, request: EnrollmentRequest): Promise<CredentialChallenge> {
      if (request.ekCertificate.length > MAX_CERTIFICATE_BYTES || request.ekPublic.length > MAX_PUBLIC_BYTES || request.akPublic.length > MAX_PUBLIC_BYTES || request.akName.length > 66) {
        throw refuse('enrollment request too large')
      }
      let ek: TpmPublic
      let ak: TpmPublic
      try {
        ek = parseTpm2bPublic(request.ekPublic)
        ak = parseTpm2bPublic(request.akPublic)
      } catch (err) {
        throw refuse(`malformed key (${err instanceof Error ? err.message : String(err)})`)
      }
      checkEkCertificate(request.ekCertificate, ek)
      if ((ek.attributes & EK_REQUIRED) !== EK_REQUIRED || (ek.attributes & TPMA_OBJECT.sign) !== 0) throw refuse('EK is not a restricted decryption key of the TPM')
      if ((ak.attributes & AK_REQUIRED) !== AK_REQUIRED || (ak.attributes & TPMA_OBJECT.decrypt) !== 0) throw refuse('AK is not a restricted signing key fixed to the TPM')
      const akName = tpmName(ak)
      if (!sameBytes(akName, request.akName)) throw refuse('AK name does not match its public area')
      let bound = false
      try {
        bound = request.akBinding.length === 64 && secp256k1.verify(request.akBinding, akBindingDigest(akName), clientPublicKey, {prehash: false})
      } catch {
        bound = false
      }
      if (!bound) throw refuse('AK not bound to the client key')
      const secret = new Uint8Array(randomBytes(32))
      let challenge: CredentialChallenge
      try {
        challenge = makeCredential(ek, akName, secret)
      } catch (err) {
        throw refuse(`cannot make a credential for this EK (${err instanceof Error ? err.message : String(err)})`)
      }
      const ekQualified = qualifiedName(ek.nameAlg, u32be(TPM_RH_ENDORSEMENT), tpmName(ek))
      pending.delete(clientId)
      if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!)
      pending.set(clientId, {secret, client: {akPublic: hex(request.akPublic), akName: hex(akName), akQualifiedName: hex(qualifiedName(ak.nameAlg, ekQualified, akName))}})
      return challenge
    },

    async finishEnrollment(clientId: string, answer: Uint8Array): Promise<void> {
      const entry = pending.get(clientId)
      if (!entry) throw refuse('no enrollment in progress for this client')
      pending.delete(clientId)
      if (!sameBytes(entry.secret, answer)) throw refuse('credential activation failed: the AK is not in the TPM that owns the EK')
      admit(clientId, entry.client)
    },

    verifyUpdate(clientId: string, binding: UpdateBinding, evidence: Uint8Array): AttestationVerdict {
      const client = enrolled.get(clientId)
      if (!client) return {ok: false, reason: 'attestation: client not enrolled'}
      try {
        const {attest, signature, pcrs} = decodeEvidence(evidence)
        if (!verifySignature(client.ak, client.key, attest, parseTpmtSignature(signature))) return {ok: false, reason: 'attestation: bad quote signature'}
        const quote = parseQuoteAttest(attest)
        if (!sameBytes(quote.extraData, quoteQualifyingData(binding))) return {ok: false, reason: 'attestation: nonce mismatch'}
        if (hex(quote.qualifiedSigner) !== client.akQualifiedName) return {ok: false, reason: 'attestation: quote signed by another key'}
        const selected = quote.pcrSelections.filter((s) => s.pcrs.length > 0)
        if (selected.length !== 1 || selected[0]!.hash !== TPM_ALG.SHA256 || selected[0]!.pcrs.join(',') !== policy.pcrs.join(',')) {
          return {ok: false, reason: `attestation: quote does not cover the policy PCRs (sha256:${policy.pcrs.join(',')})`}
        }
        if (pcrs.map((p) => p.index).join(',') !== policy.pcrs.join(',')) return {ok: false, reason: 'attestation: PCR values sent do not match the quoted selection'}
        const digest = createHash('sha256')
        for (const pcr of pcrs) digest.update(pcr.value)
        if (!sameBytes(digest.digest(), quote.pcrDigest)) return {ok: false, reason: 'attestation: PCR values do not match the quoted digest'}
        const values: Record<number, string> = {}
        for (const pcr of pcrs) {
          const value = hex(pcr.value)
          if (!policy.allowed.get(pcr.index)?.has(value)) return {ok: false, reason: `attestation: PCR ${pcr.index} not in policy`}
          values[pcr.index] = value
        }
        const clock: TpmClock = {resetCount: quote.resetCount, restartCount: quote.restartCount, clock: quote.clock.toString()}
        const order = client.lastClock ? compareClocks(clock, client.lastClock) : 1
        if (order < 0) return {ok: false, reason: 'attestation: TPM clock went backwards'}
        if (order === 0) return {ok: false, reason: 'attestation: quote replayed'}
        client.lastClock = clock
        return {ok: true, pcrs: values}
      } catch (err) {
        return {ok: false, reason: `attestation: malformed evidence (${err instanceof Error ? err.message : String(err)})`}
      }
    },

    isEnrolled: (clientId) => enrolled.has(clientId),

    exportState() {
      return Object.fromEntries([...enrolled].map(([id, c]) => [id, {akPublic: c.akPublic, akName: c.akName, akQualifiedName: c.akQualifiedName, ...(c.lastClock ? {lastClock: c.lastClock} : {})}]))
    },

    importState(state) {
      for (const [id, client] of Object.entries(state)) admit(id, client)
    },
  }
}

/** −1, 0 or 1 as `a` is before, equal to or after `b`. */
export function compareClocks(a: TpmClock, b: TpmClock): number {
  if (a.resetCount !== b.resetCount) return a.resetCount < b.resetCount ? -1 : 1
  if (a.restartCount !== b.restartCount) return a.restartCount < b.restartCount ? -1 : 1
  const x = BigInt(a.clock)
  const y = BigInt(b.clock)
  return x === y ? 0 : x < y ? -1 : 1
}

function verifySignature(ak: TpmPublic, key: KeyObject, data: Uint8Array, sig: TpmSignature): boolean {
  if (ak.scheme !== TPM_ALG.NULL && (sig.algorithm !== ak.scheme || sig.hash !== ak.schemeHash)) return false
  if (sig.hash === TPM_ALG.SHA1) return false
  const hash = hashOf(sig.hash).name
  if (sig.algorithm === TPM_ALG.ECDSA) {
    if (ak.type !== 'ecc') return false
    const size = ak.x.length
    if (sig.r!.length > size || sig.s!.length > size) return false
    const raw = concatBytes(new Uint8Array(size - sig.r!.length), sig.r!, new Uint8Array(size - sig.s!.length), sig.s!)
    return verify(hash, data, {key, dsaEncoding: 'ieee-p1363'}, raw)
  }
  if (ak.type !== 'rsa') return false
  if (sig.algorithm === TPM_ALG.RSASSA) return verify(hash, data, key, sig.rsa!)
  return verify(hash, data, {key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO}, sig.rsa!)
}
