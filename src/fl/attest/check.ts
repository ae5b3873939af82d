import {X509Certificate} from 'node:crypto'

import {secp256k1} from '@noble/curves/secp256k1.js'

import {XaiError} from '../../util/errors.js'
import {type AttestationVerdict, quoteQualifyingData, type UpdateBinding} from '../attestation-port.js'
import {loadCaCertificates} from './ca.js'
import {createClientAttestor, type TpmSpec} from './client-attestor.js'
import {type PcrPolicy, policyFromValues} from './pcr-policy.js'
import {akBindingDigest, createAttestationVerifier} from './verifier.js'

/** The PCRs a check quotes when no policy names them: the firmware and boot chain (PCRs 0–7). */
export const DEFAULT_CHECK_PCRS = [0, 1, 2, 3, 4, 5, 6, 7] as const

export interface AttestationCheckOptions {
  tpm: TpmSpec | string
  /** The CA folder EK certificates must chain to. */
  caDir: string
  /** Without one, the policy is the TPM's current PCR 0–7 values (the protocol is checked, not the machine's state). */
  policy?: PcrPolicy
  signal?: AbortSignal
}

export interface AttestationCheckResult {
  tpm: string
  ekCertificate?: {subject: string; issuer: string; serialNumber: string; fingerprint256: string}
  akName?: string
  policy: 'file' | 'current values'
  /** sha256 PCR values quoted (or read, when enrollment was refused). */
  pcrs: Record<number, string>
  enrollment: {ok: true} | {ok: false; reason: string}
  verdict: AttestationVerdict
  timings: {enrollMs: number; quoteMs: number; verifyMs: number}
}

/**
 * The whole protocol on one machine: the client side on the TPM, the server side in TypeScript,
 * as a federation runs them — enrollment (EK certificate against the CA, AK creation, credential
 * activation, the AK bound to a throwaway secp256k1 key) and one quote verified against the
 * policy. A refusal is a verdict in the result; only a TPM that cannot be used throws.
 */
export async function runAttestationCheck(options: AttestationCheckOptions): Promise<AttestationCheckResult> {
  const caCertificates = loadCaCertificates(options.caDir)
  const attestor = await createClientAttestor(options.tpm)
  const onAbort = (): void => void attestor.close()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  const tpm = typeof options.tpm === 'string' ? options.tpm : options.tpm.kind === 'swtpm' ? `swtpm:${options.tpm.stateDir}` : 'device'
  try {
    const policy = options.policy ?? policyFromValues(await attestor.readPcrs(DEFAULT_CHECK_PCRS))
    const verifier = createAttestationVerifier({caCertificates, policy})
    const clientKey = secp256k1.utils.randomSecretKey()
    const clientId = 'attest-check'

    let t = performance.now()
    const request = await attestor.enrollment((akName) => secp256k1.sign(akBindingDigest(akName), clientKey, {prehash: false}))
    let ekCertificate: AttestationCheckResult['ekCertificate']
    try {
      const cert = new X509Certificate(request.ekCertificate)
      ekCertificate = {subject: cert.subject, issuer: cert.issuer, serialNumber: cert.serialNumber, fingerprint256: cert.fingerprint256}
    } catch {
      ekCertificate = undefined
    }
    const akName = Buffer.from(request.akName).toString('hex')
    try {
      const challenge = await verifier.beginEnrollment(clientId, secp256k1.getPublicKey(clientKey, true), request)
      await verifier.finishEnrollment(clientId, await attestor.activate(challenge))
    } catch (err) {
      if (!(err instanceof XaiError) || err.code !== 'FL_ATTEST_REFUSED') throw err
      const pcrs = await attestor.readPcrs(policy.pcrs)
      return {tpm, ekCertificate, akName, policy: options.policy ? 'file' : 'current values', pcrs, enrollment: {ok: false, reason: err.message}, verdict: {ok: false, reason: err.message}, timings: {enrollMs: performance.now() - t, quoteMs: 0, verifyMs: 0}}
    }
    const enrollMs = performance.now() - t

    const binding: UpdateBinding = {round: 0, baseModelHash: new Uint8Array(32), updateHash: new Uint8Array(32), clientId}
    t = performance.now()
    const evidence = await attestor.quote(quoteQualifyingData(binding), verifier.pcrs)
    const quoteMs = performance.now() - t
    t = performance.now()
    const verdict = verifier.verifyUpdate(clientId, binding, evidence)
    const verifyMs = performance.now() - t
    const pcrs = verdict.ok ? verdict.pcrs : await attestor.readPcrs(policy.pcrs)
    return {tpm, ekCertificate, akName, policy: options.policy ? 'file' : 'current values', pcrs, enrollment: {ok: true}, verdict, timings: {enrollMs, quoteMs, verifyMs}}
  } catch (err) {
    if (options.signal?.aborted) throw new XaiError('FL_INTERRUPTED', 'Attestation check interrupted', {hint: 'The software TPM was stopped; run the check again.', cause: err})
    throw err
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    await attestor.close()
  }
}
