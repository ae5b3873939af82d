// Attestation against real software TPMs (swtpm + tpm2-tools, Debian packages swtpm, swtpm-tools,
// tpm2-tools): a CA, TPMs it certifies (and one another CA certifies), enrollment by credential
// activation, quotes verified in TypeScript, and the refusals: unknown CA, an AK swapped in from
// another TPM, a PCR extended after enrollment, a quote replayed for another update, a TPM clock
// going back. Then the CLI (bin/run.js → dist: `npm run build` first). Every swtpm is stopped by
// its PID; the test checks that it is.
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {secp256k1} from '@noble/curves/secp256k1.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createCa, loadCaCertificates, provisionSwtpm} from '../../src/fl/attest/ca.js'
import {createClientAttestor, type TpmClientAttestor} from '../../src/fl/attest/client-attestor.js'
import {policyFromValues} from '../../src/fl/attest/pcr-policy.js'
import {isProcessAlive, startSwtpm} from '../../src/fl/attest/swtpm.js'
import {akBindingDigest, createAttestationVerifier, type TpmAttestationVerifier} from '../../src/fl/attest/verifier.js'
import {type EnrollmentRequest, quoteQualifyingData, type UpdateBinding} from '../../src/fl/attestation-port.js'
import {XaiError} from '../../src/util/errors.js'
import {explain, json, runXai} from '../helpers/cli.js'

const TOOLS = ['swtpm', 'swtpm_setup', 'swtpm_localca', 'tpm2_quote', 'tpm2_createak', 'openssl']
const missing = TOOLS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
if (missing.length > 0) console.warn(`fl-attest: skipped, ${missing.join(', ')} not installed (apt-get install -y swtpm swtpm-tools tpm2-tools openssl)`)

const PCRS = [0, 7]
const clientKey = secp256k1.utils.randomSecretKey()
const clientPublicKey = secp256k1.getPublicKey(clientKey, true)
const signAkName = (akName: Uint8Array): Uint8Array => secp256k1.sign(akBindingDigest(akName), clientKey, {prehash: false})

function binding(round: number): UpdateBinding {
  return {round, baseModelHash: createHash('sha256').update(`model ${round}`).digest(), updateHash: createHash('sha256').update(`update ${round}`).digest(), clientId: 'alice'}
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(XaiError)
    return (err as XaiError).message
  }
  throw new Error('not refused')
}

describe.skipIf(missing.length > 0)('TPM attestation with swtpm', () => {
  let tmp: string
  const dir = (name: string): string => join(tmp, name)
  let alice: TpmClientAttestor
  let mallory: TpmClientAttestor
  let verifier: TpmAttestationVerifier
  const swtpmPids: number[] = []

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'xai-fl-attest-'))
    await Promise.all([createCa(dir('ca')), createCa(dir('other-ca'))])
    await Promise.all([provisionSwtpm(dir('tpm-alice'), dir('ca')), provisionSwtpm(dir('tpm-mallory'), dir('other-ca'))])
    alice = await createClientAttestor(`swtpm:${dir('tpm-alice')}`)
    mallory = await createClientAttestor(`swtpm:${dir('tpm-mallory')}`)
    swtpmPids.push(alice.swtpmPid!, mallory.swtpmPid!)
    verifier = createAttestationVerifier({caCertificates: loadCaCertificates(dir('ca')), policy: policyFromValues(await alice.readPcrs(PCRS))})
  })

  afterAll(async () => {
    await alice?.close()
    await mallory?.close()
    for (const pid of swtpmPids) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL')
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  it('refuses an EK certificate from another CA: attestation: unknown CA', async () => {
    const request = await mallory.enrollment(signAkName)
    expect(await refusal(verifier.beginEnrollment('mallory', clientPublicKey, request))).toBe('attestation: unknown CA')
  })

  it('an AK from another TPM beside this EK cannot answer the challenge (credential activation fails)', async () => {
    const aliceRequest = await alice.enrollment(signAkName)
    const malloryRequest = await mallory.enrollment(signAkName)
    const swapped: EnrollmentRequest = {...aliceRequest, akPublic: malloryRequest.akPublic, akName: malloryRequest.akName, akBinding: signAkName(malloryRequest.akName)}
    const challenge = await verifier.beginEnrollment('swap', clientPublicKey, swapped)
    expect(await refusal(alice.activate(challenge))).toMatch(/tpm2_activatecredential failed/)
    expect(await refusal(mallory.activate(challenge))).toMatch(/tpm2_activatecredential failed/)
    expect(await refusal(verifier.finishEnrollment('swap', new Uint8Array(32)))).toMatch(/^attestation: credential activation failed/)
    expect(verifier.isEnrolled('swap')).toBe(false)
  })

  it('refuses an AK not bound to the client key', async () => {
    const request = await alice.enrollment(signAkName)
    const otherKey = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)
    expect(await refusal(verifier.beginEnrollment('alice', otherKey, request))).toBe('attestation: AK not bound to the client key')
  })

  it('enrolls by credential activation, then verifies a quote for an update', async () => {
    const request = await alice.enrollment(signAkName)
    const challenge = await verifier.beginEnrollment('alice', clientPublicKey, request)
    await verifier.finishEnrollment('alice', await alice.activate(challenge))
    expect(verifier.isEnrolled('alice')).toBe(true)

    const quoteMs: number[] = []
    const verifyMs: number[] = []
    for (let round = 1; round <= 5; round++) {
      let t = performance.now()
      const evidence = await alice.quote(quoteQualifyingData(binding(round)), verifier.pcrs)
      quoteMs.push(performance.now() - t)
      t = performance.now()
      const verdict = verifier.verifyUpdate('alice', binding(round), evidence)
      verifyMs.push(performance.now() - t)
      expect(verdict).toEqual({ok: true, pcrs: {0: '00'.repeat(32), 7: '00'.repeat(32)}})
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    console.log(`fl-attest: per update, quote ${median(quoteMs).toFixed(1)} ms (client, swtpm), verify ${median(verifyMs).toFixed(2)} ms (server), medians of 5`)
  })

  it('refuses a quote replayed for another update: attestation: nonce mismatch', async () => {
    const evidence = await alice.quote(quoteQualifyingData(binding(10)), verifier.pcrs)
    expect(verifier.verifyUpdate('alice', binding(11), evidence)).toEqual({ok: false, reason: 'attestation: nonce mismatch'})
    expect(verifier.verifyUpdate('alice', {...binding(10), clientId: 'bob'}, evidence)).toEqual({ok: false, reason: 'attestation: nonce mismatch'})
    expect(verifier.verifyUpdate('alice', binding(10), evidence).ok).toBe(true)
  })

  it('refuses an older quote after a newer one: attestation: TPM clock went backwards', async () => {
    const older = await alice.quote(quoteQualifyingData(binding(20)), verifier.pcrs)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const newer = await alice.quote(quoteQualifyingData(binding(21)), verifier.pcrs)
    expect(verifier.verifyUpdate('alice', binding(21), newer).ok).toBe(true)
    expect(verifier.verifyUpdate('alice', binding(20), older)).toEqual({ok: false, reason: 'attestation: TPM clock went backwards'})
  })

  it('refuses quotes once a PCR is extended after enrollment: attestation: PCR 7 not in policy', async () => {
    await alice.extendPcr(7, createHash('sha256').update('an unsigned bootloader').digest())
    const evidence = await alice.quote(quoteQualifyingData(binding(30)), verifier.pcrs)
    expect(verifier.verifyUpdate('alice', binding(30), evidence)).toEqual({ok: false, reason: 'attestation: PCR 7 not in policy'})
  })

  it('close stops swtpm by its PID', async () => {
    const pid = mallory.swtpmPid!
    expect(isProcessAlive(pid)).toBe(true)
    await mallory.close()
    expect(isProcessAlive(pid)).toBe(false)
  })

  it("swtpm's guard stops it when the process that started it dies without cleaning up", async () => {
    const owner = spawn('sleep', ['60'], {stdio: 'ignore'})
    const tpm = await startSwtpm(dir('tpm-mallory'), {ownerPid: owner.pid!})
    swtpmPids.push(tpm.pid)
    try {
      expect(isProcessAlive(tpm.pid)).toBe(true)
      owner.kill('SIGKILL')
      const deadline = Date.now() + 10_000
      while (isProcessAlive(tpm.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      expect(isProcessAlive(tpm.pid)).toBe(false)
    } finally {
      await tpm.close()
    }
  })

  it('a software TPM killed in use four times still enrolls (its dictionary-attack lockout is cleared at start)', async () => {
    await provisionSwtpm(dir('tpm-da'), dir('ca'))
    for (let i = 0; i < 4; i++) {
      const tpm = await createClientAttestor(`swtpm:${dir('tpm-da')}`)
      swtpmPids.push(tpm.swtpmPid!)
      await tpm.enrollment(signAkName)
      process.kill(tpm.swtpmPid!, 'SIGKILL') // no TPM2_Shutdown: counts as an authorization failure
      await tpm.close()
    }
    const tpm = await createClientAttestor(`swtpm:${dir('tpm-da')}`)
    try {
      const challenge = await verifier.beginEnrollment('da', clientPublicKey, await tpm.enrollment(signAkName))
      await verifier.finishEnrollment('da', await tpm.activate(challenge))
      expect(verifier.isEnrolled('da')).toBe(true)
    } finally {
      await tpm.close()
    }
  })

  describe('the CLI', () => {
    it('fl attest check: the whole protocol, the PCRs and the verdict', async () => {
      const result = await runXai(['fl', 'attest', 'check', '--tpm', `swtpm:${dir('tpm-mallory')}`, '--ca', dir('other-ca'), '--json'], tmp)
      expect(result.exitCode, explain(result)).toBe(0)
      const doc = json<{verdict: {ok: boolean}; enrollment: {ok: boolean}; pcrs: Record<string, string>; ekCertificate: {issuer: string}; policy: string}>(result)
      expect(doc.verdict.ok).toBe(true)
      expect(doc.enrollment.ok).toBe(true)
      expect(Object.keys(doc.pcrs)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7'])
      expect(doc.ekCertificate.issuer).toBe('CN=xai TPM endorsement CA')
      expect(doc.policy).toBe('current values')
    })

    it('fl attest check exits 4 with the reason: another CA, a PCR outside the policy', async () => {
      const unknownCa = await runXai(['fl', 'attest', 'check', '--tpm', `swtpm:${dir('tpm-mallory')}`, '--ca', dir('ca'), '--json'], tmp)
      expect(unknownCa.exitCode, explain(unknownCa)).toBe(4)
      expect(json<{verdict: {reason: string}}>(unknownCa).verdict.reason).toBe('attestation: unknown CA')

      writeFileSync(dir('policy.yaml'), `0: [${'00'.repeat(32)}]\n7: [${'11'.repeat(32)}]\n`)
      const badPcr = await runXai(['fl', 'attest', 'check', '--tpm', `swtpm:${dir('tpm-mallory')}`, '--ca', dir('other-ca'), '--pcr-policy', dir('policy.yaml')], tmp)
      expect(badPcr.exitCode, explain(badPcr)).toBe(4)
      expect(badPcr.stdout).toContain('✖ refused: attestation: PCR 7 not in policy')
    })

    it('fl attest ca and provision refuse to overwrite; provision refuses a device', async () => {
      const again = await runXai(['fl', 'attest', 'ca', '--dir', dir('ca')], tmp)
      expect(again.exitCode, explain(again)).toBe(2)
      expect(again.stderr).toContain('[FL_ATTEST_CA_EXISTS]')
      const fresh = await runXai(['fl', 'attest', 'provision', '--tpm', `swtpm:${dir('tpm-cli')}`, '--ca', dir('ca'), '--json'], tmp)
      expect(fresh.exitCode, explain(fresh)).toBe(0)
      expect(json<{stateDir: string}>(fresh).stateDir).toBe(dir('tpm-cli'))
      const twice = await runXai(['fl', 'attest', 'provision', '--tpm', `swtpm:${dir('tpm-cli')}`, '--ca', dir('ca')], tmp)
      expect(twice.exitCode, explain(twice)).toBe(2)
      const device = await runXai(['fl', 'attest', 'provision', '--tpm', 'device', '--ca', dir('ca')], tmp)
      expect(device.exitCode, explain(device)).toBe(2)
      expect(device.stderr).toContain('[FL_ATTEST_TPM_SPEC]')
    })
  })
})
