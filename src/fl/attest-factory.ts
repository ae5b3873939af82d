import {XaiError} from '../util/errors.js'
import {createAttestationVerifier, createClientAttestor as createTpmClientAttestor, loadCaCertificates, loadPcrPolicy, parseTpmSpec as parseTpm} from './attest/index.js'
import type {AttestationVerifier, ClientAttestor} from './attestation-port.js'

/**
 * Where the TPM side plugs into federation: `fl serve`/`fl edge` build their verifier and
 * `fl join` its attestor through these two functions only (src/fl/attest implements the port).
 */

export type TpmSpec = {kind: 'none'} | {kind: 'swtpm'; dir: string} | {kind: 'device'}

export function parseTpmSpec(text: string): TpmSpec {
  if (text === 'none') return {kind: 'none'}
  const spec = parseTpm(text)
  return spec.kind === 'swtpm' ? {kind: 'swtpm', dir: spec.stateDir} : {kind: 'device'}
}

export interface VerifierOptions {
  /** Folder of the CA the EK certificates must chain to. */
  tpmCa?: string
  /** YAML file: PCR index → allowed sha256 values. */
  pcrPolicy?: string
}

export async function createVerifier(options: VerifierOptions): Promise<AttestationVerifier> {
  if (options.tpmCa === undefined) {
    throw new XaiError('FL_ATTEST_UNAVAILABLE', 'Attestation needs the CA that signs the clients\' EK certificates', {
      hint: 'Pass --tpm-ca DIR (made with xai fl attest ca), or run with --attest off.',
    })
  }
  if (options.pcrPolicy === undefined) {
    throw new XaiError('FL_ATTEST_UNAVAILABLE', 'Attestation needs a PCR policy: which PCR values a client may quote', {
      hint: 'Pass --pcr-policy FILE (YAML: PCR index → allowed sha256 values; xai fl attest check --json prints a TPM\'s PCRs), or run with --attest off.',
    })
  }
  return createAttestationVerifier({caCertificates: loadCaCertificates(options.tpmCa), policy: loadPcrPolicy(options.pcrPolicy)})
}

export async function createClientAttestor(spec: TpmSpec): Promise<ClientAttestor | undefined> {
  if (spec.kind === 'none') return undefined
  return createTpmClientAttestor(spec.kind === 'swtpm' ? {kind: 'swtpm', stateDir: spec.dir} : {kind: 'device'})
}
