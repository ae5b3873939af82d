import {sha256} from '@noble/hashes/sha2.js'

/**
 * The seam between federation (wire, rounds, edges) and attestation (TPM 2.0). Federation code
 * speaks only these types; the TPM side implements them. Byte fields are opaque to federation:
 * it carries them (base64 on the wire, the `attestation` field of an update message) and hands
 * them back to the verifier.
 *
 * Protocol, per client:
 * 1. Enrollment, once when a client joins: the client sends an {@link EnrollmentRequest}; the
 *    server's {@link AttestationVerifier.beginEnrollment} checks the EK certificate against its CA
 *    and answers with a {@link CredentialChallenge} (TPM2_MakeCredential to the EK for the AK's
 *    name); the client's {@link ClientAttestor.activate} recovers the secret
 *    (TPM2_ActivateCredential), which proves the AK lives in the TPM that owns the EK;
 *    {@link AttestationVerifier.finishEnrollment} checks it. The request carries the client's
 *    secp256k1 signature over the AK's name, which binds the AK to the key that signs updates.
 * 2. Per update: the client quotes the policy's PCRs with qualifying data
 *    {@link quoteQualifyingData} of the update it sends, and puts the evidence in the update's
 *    `attestation` field; {@link AttestationVerifier.verifyUpdate} checks signature, nonce, PCRs
 *    against the policy and the TPM clock (no rewind).
 */

/** What one quote vouches for: a quote made for one update cannot be replayed for another. */
export interface UpdateBinding {
  round: number
  /** sha256 of the model the client started from. */
  baseModelHash: Uint8Array
  /** sha256 of the update's payload bytes (the compressed update as sent). */
  updateHash: Uint8Array
  clientId: string
}

export interface EnrollmentRequest {
  /** The EK certificate, DER. */
  ekCertificate: Uint8Array
  /** The EK's public area (TPM2B_PUBLIC as tpm2-tools writes it). */
  ekPublic: Uint8Array
  /** The AK's public area (TPM2B_PUBLIC). */
  akPublic: Uint8Array
  /** The AK's TPM name (nameAlg ‖ digest of its public area). */
  akName: Uint8Array
  /** The client's 64-byte compact secp256k1 signature over sha256("xai-fl-ak-binding-v1" ‖ akName). */
  akBinding: Uint8Array
}

export interface CredentialChallenge {
  /** TPM2B_ID_OBJECT from MakeCredential. */
  credentialBlob: Uint8Array
  /** TPM2B_ENCRYPTED_SECRET from MakeCredential. */
  encryptedSecret: Uint8Array
}

export type AttestationVerdict = {ok: true; pcrs: Record<number, string>} | {ok: false; reason: string}

/** The client's side: a TPM (software or device) that enrolls and quotes. */
export interface ClientAttestor {
  enrollment(signAkName: (akName: Uint8Array) => Uint8Array): Promise<EnrollmentRequest>
  /** Recovers the challenge's secret with TPM2_ActivateCredential. */
  activate(challenge: CredentialChallenge): Promise<Uint8Array>
  /** A quote over `pcrs` (sha256 bank) with `qualifyingData`, encoded as evidence bytes. */
  quote(qualifyingData: Uint8Array, pcrs: readonly number[]): Promise<Uint8Array>
  close(): Promise<void>
}

/** The server's (or an edge's) side; needs no TPM. */
export interface AttestationVerifier {
  /** The PCR indices a quote must cover (from the policy). */
  readonly pcrs: readonly number[]
  /** Checks the EK certificate chain and the AK binding; refusals throw with `attestation: …` reasons. */
  beginEnrollment(clientId: string, clientPublicKey: Uint8Array, request: EnrollmentRequest): Promise<CredentialChallenge>
  /** Checks the recovered secret; after this the client's AK is trusted for its updates. */
  finishEnrollment(clientId: string, secret: Uint8Array): Promise<void>
  /** Verifies one update's evidence; never throws on hostile evidence, answers a verdict. */
  verifyUpdate(clientId: string, binding: UpdateBinding, evidence: Uint8Array): AttestationVerdict
}

const QUOTE_DOMAIN = new TextEncoder().encode('xai-fl-quote-v1')

/** sha256("xai-fl-quote-v1" ‖ u32le round ‖ baseModelHash ‖ updateHash ‖ u8 len ‖ clientId UTF-8). */
export function quoteQualifyingData(binding: UpdateBinding): Uint8Array {
  const id = new TextEncoder().encode(binding.clientId)
  const round = new Uint8Array(4)
  new DataView(round.buffer).setUint32(0, binding.round, true)
  return sha256.create().update(QUOTE_DOMAIN).update(round).update(binding.baseModelHash).update(binding.updateHash).update(Uint8Array.of(id.length)).update(id).digest()
}
