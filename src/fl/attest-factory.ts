import {XaiError} from '../util/errors.js'
import type {AttestationVerifier, ClientAttestor} from './attestation-port.js'

/**
 * Where the concrete TPM side plugs into federation: `fl serve`/`fl edge` build their verifier and
 * `fl join` its attestor through these two functions only. Until the TPM implementation is wired
 * in, asking for attestation fails clearly instead of running unattested.
 */

export type TpmSpec = {kind: 'none'} | {kind: 'swtpm'; dir: string} | {kind: 'device'}

export function parseTpmSpec(text: string): TpmSpec {
  if (text === 'none') return {kind: 'none'}
  if (text === 'device') return {kind: 'device'}
  if (text.startsWith('swtpm:') && text.length > 6) return {kind: 'swtpm', dir: text.slice(6)}
  throw new XaiError('FL_INVALID_TPM', `Unknown TPM "${text}"`, {hint: 'Use --tpm swtpm:DIR (a provisioned software TPM), --tpm device (/dev/tpmrm0) or --tpm none.'})
}

export interface VerifierOptions {
  /** Folder of the CA the EK certificates must chain to. */
  tpmCa?: string
  /** YAML file: PCR index → allowed sha256 values. */
  pcrPolicy?: string
}

export async function createVerifier(options: VerifierOptions): Promise<AttestationVerifier> {
  throw new XaiError('FL_ATTEST_UNAVAILABLE', `TPM attestation is not available in this build (CA ${options.tpmCa ?? 'not given'})`, {
    hint: 'Run with --attest off until the TPM verifier is installed.',
  })
}

export async function createClientAttestor(spec: TpmSpec): Promise<ClientAttestor | undefined> {
  if (spec.kind === 'none') return undefined
  throw new XaiError('FL_ATTEST_UNAVAILABLE', `TPM attestation (${spec.kind === 'swtpm' ? `swtpm:${spec.dir}` : 'device'}) is not available in this build`, {
    hint: 'Join with --tpm none until the TPM client is installed.',
  })
}
