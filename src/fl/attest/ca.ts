import {X509Certificate} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {XaiError} from '../../util/errors.js'
import {SWTPM_STATE_FILE} from './swtpm.js'
import {runTool} from './tpm2-tools.js'

/**
 * A local certificate authority for software TPMs: in a private deployment it plays the TPM
 * manufacturer's role, signing the EK certificates the verifier trusts (`--tpm-ca`). The folder
 * holds `ca.key` (mode 0600; needed only to provision), `ca.crt` (what verifiers need) and
 * `certserial` (the next EK certificate's serial, kept by swtpm_localca).
 */
export const CA_KEY = 'ca.key'
export const CA_CERT = 'ca.crt'
const CA_SERIAL = 'certserial'

export interface CreateCaResult {
  dir: string
  certificate: string
  subject: string
  fingerprint256: string
  validTo: string
}

export async function createCa(dir: string, options: {subject?: string; days?: number} = {}): Promise<CreateCaResult> {
  const root = resolve(dir)
  if (existsSync(join(root, CA_KEY)) || existsSync(join(root, CA_CERT))) {
    throw new XaiError('FL_ATTEST_CA_EXISTS', `${root} already holds a CA`, {hint: 'Use it as it is, or pick another folder: a new CA would orphan the TPMs it provisioned.'})
  }
  mkdirSync(root, {recursive: true})
  const subject = options.subject ?? 'xai TPM endorsement CA'
  await runTool('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(root, CA_KEY), '-out', join(root, CA_CERT), '-days', String(options.days ?? 3650),
    '-subj', `/CN=${subject.replaceAll('/', ' ')}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ])
  chmodSync(join(root, CA_KEY), 0o600)
  writeFileSync(join(root, CA_SERIAL), '1\n')
  const cert = new X509Certificate(readFileSync(join(root, CA_CERT)))
  return {dir: root, certificate: join(root, CA_CERT), subject: cert.subject, fingerprint256: cert.fingerprint256, validTo: cert.validTo}
}

/** Every certificate in `dir` (`*.crt`, `*.pem`): the trust anchors of EK certificates. */
export function loadCaCertificates(dir: string): X509Certificate[] {
  const root = resolve(dir)
  if (!existsSync(root)) throw new XaiError('FL_ATTEST_CA_NOT_FOUND', `No CA folder ${root}`, {hint: 'Create one with xai fl attest ca --dir DIR, or copy the CA certificate (ca.crt) of your TPMs there.'})
  const certs: X509Certificate[] = []
  for (const name of readdirSync(root).sort()) {
    if (!/\.(crt|pem)$/.test(name)) continue
    const text = readFileSync(join(root, name), 'utf8')
    for (const pem of text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) certs.push(new X509Certificate(pem))
  }
  if (certs.length === 0) throw new XaiError('FL_ATTEST_CA_NOT_FOUND', `${root} holds no CA certificate (*.crt, *.pem)`, {hint: 'Create a CA with xai fl attest ca --dir DIR, or copy the CA certificate of your TPMs there.'})
  return certs
}

export interface ProvisionResult {
  stateDir: string
  ca: string
}

/**
 * Manufactures a software TPM 2.0 in `stateDir` with swtpm_setup: an RSA-2048 EK (persistent handle
 * 0x81010001) whose certificate (NV index 0x01c00002) the CA in `caDir` signs, through
 * swtpm_localca with a configuration of our own (never the system-wide one), and only the sha256
 * PCR bank.
 */
export async function provisionSwtpm(stateDir: string, caDir: string, options: {overwrite?: boolean} = {}): Promise<ProvisionResult> {
  const ca = resolve(caDir)
  const state = resolve(stateDir)
  if (!existsSync(join(ca, CA_KEY)) || !existsSync(join(ca, CA_CERT))) {
    throw new XaiError('FL_ATTEST_CA_NOT_FOUND', `${ca} holds no CA (ca.key and ca.crt)`, {hint: `Create one: xai fl attest ca --dir ${caDir}`})
  }
  if (existsSync(join(state, SWTPM_STATE_FILE)) && !options.overwrite) {
    throw new XaiError('FL_ATTEST_CA_EXISTS', `${state} already holds a provisioned TPM`, {hint: 'Use it as it is, or pass --overwrite to manufacture a new one (its EK, and so its enrollment, changes).'})
  }
  if (!existsSync(join(ca, CA_SERIAL))) writeFileSync(join(ca, CA_SERIAL), '1\n')
  mkdirSync(state, {recursive: true})
  const config = mkdtempSync(join(tmpdir(), 'xai-swtpm-setup-'))
  try {
    writeFileSync(join(config, 'localca.conf'), [`statedir = ${ca}`, `signingkey = ${join(ca, CA_KEY)}`, `issuercert = ${join(ca, CA_CERT)}`, `certserial = ${join(ca, CA_SERIAL)}`, ''].join('\n'))
    writeFileSync(join(config, 'localca.options'), ['--platform-manufacturer xai', '--platform-version 1', '--platform-model swtpm', ''].join('\n'))
    writeFileSync(join(config, 'swtpm_setup.conf'), [
      'create_certs_tool = swtpm_localca',
      `create_certs_tool_config = ${join(config, 'localca.conf')}`,
      `create_certs_tool_options = ${join(config, 'localca.options')}`,
      'active_pcr_banks = sha256',
      '',
    ].join('\n'))
    try {
      await runTool('swtpm_setup', ['--tpm2', '--tpmstate', state, '--create-ek-cert', '--config', join(config, 'swtpm_setup.conf'), '--pcr-banks', 'sha256', ...(options.overwrite ? ['--overwrite'] : ['--not-overwrite'])])
    } catch (err) {
      if (err instanceof XaiError && err.code === 'FL_ATTEST_TPM_FAILED') {
        throw new XaiError('FL_ATTEST_PROVISION_FAILED', err.message.replace('swtpm_setup failed', 'Provisioning failed'), {hint: 'Check that the CA key is readable and that no swtpm runs on this state folder.', cause: err})
      }
      throw err
    }
  } finally {
    rmSync(config, {recursive: true, force: true})
  }
  return {stateDir: state, ca}
}
