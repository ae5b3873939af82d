import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {XaiError} from '../../util/errors.js'
import type {ClientAttestor, CredentialChallenge, EnrollmentRequest} from '../attestation-port.js'
import {encodeEvidence} from './evidence.js'
import {deviceTcti, startSwtpm, type SwtpmProcess} from './swtpm.js'
import {Tpm2Tools} from './tpm2-tools.js'
import {concatBytes} from './tpm-structures.js'

/** The TCG's persistent handle of the RSA EK, and the NV index of its certificate. */
export const EK_HANDLE = '0x81010001'
export const EK_CERT_NV_INDEX = '0x01c00002'
/** Where the AK persists between commands (the client enrolls once, then quotes in later runs). */
export const AK_HANDLE = '0x81010002'

/** `--tpm swtpm:DIR | device`. */
export type TpmSpec = {kind: 'swtpm'; stateDir: string} | {kind: 'device'; path?: string}

export function parseTpmSpec(spec: string): TpmSpec {
  if (spec === 'device') return {kind: 'device'}
  if (spec.startsWith('swtpm:') && spec.length > 'swtpm:'.length) return {kind: 'swtpm', stateDir: spec.slice('swtpm:'.length)}
  throw new XaiError('FL_ATTEST_TPM_SPEC', `Unknown TPM "${spec}"`, {hint: 'Use --tpm swtpm:DIR (a software TPM provisioned with xai fl attest provision) or --tpm device (/dev/tpmrm0).'})
}

/** A TPM client attestor with extras the verifier side and tests use. */
export interface TpmClientAttestor extends ClientAttestor {
  readonly tpm: TpmSpec
  /** PID of the swtpm this attestor started (undefined for a device). */
  readonly swtpmPid?: number
  /** sha256 PCR values, read now. */
  readPcrs(pcrs: readonly number[]): Promise<Record<number, string>>
  /** TPM2_PCR_Extend of the sha256 bank (what a boot component does when it measures the next). */
  extendPcr(index: number, digest: Uint8Array): Promise<void>
}

const CREDENTIAL_FILE_MAGIC = Uint8Array.of(0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1)

/**
 * A client's TPM: a software TPM (started here on `swtpm:DIR`'s provisioned state and stopped on
 * close) or the machine's own through the kernel's resource manager (/dev/tpmrm0). Key material
 * stays in the TPM; the EK is the TCG's RSA EK at 0x81010001 (created there from the standard
 * template when a device TPM lacks it), the AK an ECDSA P-256 restricted signing key created under
 * the EK (so under the endorsement hierarchy) and kept at 0x81010002.
 */
export async function createClientAttestor(tpm: TpmSpec | string): Promise<TpmClientAttestor> {
  const spec = typeof tpm === 'string' ? parseTpmSpec(tpm) : tpm
  let swtpm: SwtpmProcess | undefined
  let tcti: string
  if (spec.kind === 'swtpm') {
    swtpm = await startSwtpm(spec.stateDir)
    tcti = swtpm.tcti
  } else {
    tcti = deviceTcti(spec.path)
  }
  const work = mkdtempSync(join(tmpdir(), 'xai-tpm-'))
  const tools = new Tpm2Tools(tcti, {flush: spec.kind === 'swtpm', cwd: work})
  const file = (name: string): string => join(work, name)
  // Whatever an earlier run that crashed left loaded in the TPM goes first. A software TPM stopped
  // without TPM2_Shutdown (a crash, a kill) counts as an authorization failure at its next start
  // (dictionary-attack protection, 3 allowed): after three, every use of the EK or AK fails with
  // "DA lockout mode". Its lockout authorization is empty, so clearing the lockout here takes
  // nothing from it; a device TPM's is left alone.
  await tools.exclusive(async () => {
    if (spec.kind === 'swtpm') await tools.run('tpm2_dictionarylockout', ['-c'])
  }).catch(async (err: unknown) => {
    rmSync(work, {recursive: true, force: true})
    await swtpm?.close()
    throw err
  })

  const persistentHandles = async (): Promise<string[]> => {
    const out = await tools.run('tpm2_getcap', ['handles-persistent'])
    return [...out.matchAll(/0x[0-9a-f]+/gi)].map((m) => m[0].toLowerCase())
  }

  const ensureEk = async (): Promise<void> => {
    if ((await persistentHandles()).includes(EK_HANDLE)) return
    if (spec.kind === 'swtpm') throw new XaiError('FL_ATTEST_NOT_PROVISIONED', 'The software TPM has no EK at 0x81010001', {hint: 'Provision it again: xai fl attest provision --tpm swtpm:DIR --ca CA --overwrite'})
    await tools.run('tpm2_createek', ['-c', EK_HANDLE, '-G', 'rsa', '-u', file('ek.pub')])
  }

  const policySession = async (): Promise<string> => {
    await tools.run('tpm2_startauthsession', ['--policy-session', '-S', file('session.ctx')])
    await tools.run('tpm2_policysecret', ['-S', file('session.ctx'), '-c', 'e'])
    return `session:${file('session.ctx')}`
  }

  let closed = false
  const attestor: TpmClientAttestor = {
    tpm: spec,
    swtpmPid: swtpm?.pid,

    enrollment(signAkName) {
      return tools.exclusive(async (): Promise<EnrollmentRequest> => {
        await ensureEk()
        await tools.run('tpm2_nvread', [EK_CERT_NV_INDEX, '-C', 'o', '-o', file('ek.crt')])
        await tools.run('tpm2_readpublic', ['-c', EK_HANDLE, '-o', file('ek.pub')])
        // A fresh AK per enrollment: the one a previous enrollment left is evicted.
        if ((await persistentHandles()).includes(AK_HANDLE)) await tools.run('tpm2_evictcontrol', ['-C', 'o', '-c', AK_HANDLE])
        await tools.run('tpm2_createak', ['-C', EK_HANDLE, '-c', file('ak.ctx'), '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', file('ak.pub'), '-n', file('ak.name')])
        await tools.run('tpm2_evictcontrol', ['-C', 'o', '-c', file('ak.ctx'), AK_HANDLE])
        const akName = new Uint8Array(readFileSync(file('ak.name')))
        return {
          ekCertificate: new Uint8Array(readFileSync(file('ek.crt'))),
          ekPublic: new Uint8Array(readFileSync(file('ek.pub'))),
          akPublic: new Uint8Array(readFileSync(file('ak.pub'))),
          akName,
          akBinding: signAkName(akName),
        }
      })
    },

    activate(challenge: CredentialChallenge) {
      return tools.exclusive(async () => {
        writeFileSync(file('credential.in'), concatBytes(CREDENTIAL_FILE_MAGIC, challenge.credentialBlob, challenge.encryptedSecret))
        const session = await policySession()
        await tools.run('tpm2_activatecredential', ['-c', AK_HANDLE, '-C', EK_HANDLE, '-i', file('credential.in'), '-o', file('credential.out'), '-P', session])
        return new Uint8Array(readFileSync(file('credential.out')))
      })
    },

    quote(qualifyingData, pcrs) {
      return tools.exclusive(async () => {
        const indices = [...new Set(pcrs)].sort((a, b) => a - b)
        await tools.run('tpm2_quote', [
          '-c', AK_HANDLE, '-l', `sha256:${indices.join(',')}`, '-q', Buffer.from(qualifyingData).toString('hex'),
          '-m', file('quote.msg'), '-s', file('quote.sig'), '-o', file('quote.pcrs'), '-F', 'values', '-g', 'sha256',
        ])
        const values = readFileSync(file('quote.pcrs'))
        if (values.length !== indices.length * 32) throw new XaiError('FL_ATTEST_TPM_FAILED', `tpm2_quote wrote ${values.length} bytes of PCR values for ${indices.length} PCRs`, {hint: 'Is the sha256 PCR bank active on this TPM?'})
        return encodeEvidence({
          attest: new Uint8Array(readFileSync(file('quote.msg'))),
          signature: new Uint8Array(readFileSync(file('quote.sig'))),
          pcrs: indices.map((index, i) => ({index, value: new Uint8Array(values.subarray(i * 32, (i + 1) * 32))})),
        })
      }, false)
    },

    readPcrs(pcrs) {
      return tools.exclusive(async () => {
        const indices = [...new Set(pcrs)].sort((a, b) => a - b)
        await tools.run('tpm2_pcrread', [`sha256:${indices.join(',')}`, '-o', file('pcrs.bin')])
        const values = readFileSync(file('pcrs.bin'))
        return Object.fromEntries(indices.map((index, i) => [index, values.subarray(i * 32, (i + 1) * 32).toString('hex')]))
      }, false)
    },

    extendPcr(index, digest) {
      return tools.exclusive(async () => {
        await tools.run('tpm2_pcrextend', [`${index}:sha256=${Buffer.from(digest).toString('hex')}`])
      }, false)
    },

    async close() {
      if (closed) return
      closed = true
      try {
        // An orderly TPM2_Shutdown, so the next start does not count as a failure (see above).
        await tools.exclusive(async () => {
          if (spec.kind === 'swtpm') await tools.run('tpm2_shutdown', ['-c'])
        }, false).catch(() => undefined)
      } finally {
        rmSync(work, {recursive: true, force: true})
        await swtpm?.close()
      }
    },
  }
  return attestor
}
