import {createHash, generateKeyPairSync, type KeyObject, sign} from 'node:crypto'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {encodeEvidence} from '../../../../src/fl/attest/evidence.js'
import {policyFromValues} from '../../../../src/fl/attest/pcr-policy.js'
import {parseTpm2bPublic, qualifiedName, sized, tpmName, u16be, u32be} from '../../../../src/fl/attest/tpm-structures.js'
import {compareClocks, createAttestationVerifier, type TpmAttestationVerifier} from '../../../../src/fl/attest/verifier.js'
import {type EnrollmentRequest, quoteQualifyingData, type UpdateBinding} from '../../../../src/fl/attestation-port.js'
import {SWTPM_AK_NAME, SWTPM_AK_PUBLIC, SWTPM_EK_PUBLIC} from './vectors.js'

/**
 * The per-update rules, against quotes made in software: an ECDSA P-256 key with a restricted
 * signing key's public area stands in for an AK already enrolled (importState), so each rule is
 * hit by exactly one crafted field. The real TPM path is in test/e2e/fl-attest.test.ts.
 */
const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
const other = generateKeyPairSync('ec', {namedCurve: 'P-256'})

function akPublicOf(key: KeyObject): Uint8Array {
  const jwk = key.export({format: 'jwk'})
  const area = Buffer.concat([
    u16be(0x0023), u16be(0x000b), u32be(0x00050072), sized(new Uint8Array(0)),
    u16be(0x0010), u16be(0x0018), u16be(0x000b), u16be(0x0003), u16be(0x0010),
    sized(Buffer.from(jwk.x!, 'base64url')), sized(Buffer.from(jwk.y!, 'base64url')),
  ])
  return sized(area)
}

const akPublic = akPublicOf(publicKey)
const akName = tpmName(parseTpm2bPublic(akPublic))
const akQualifiedName = qualifiedName(0x000b, new Uint8Array(34).fill(7), akName)
const GOOD = new Uint8Array(32).fill(0xaa)
const BAD = new Uint8Array(32).fill(0xbb)
const policy = policyFromValues({0: Buffer.alloc(32).toString('hex'), 7: [Buffer.from(GOOD).toString('hex'), Buffer.alloc(32, 1).toString('hex')]})

function binding(round = 1, clientId = 'c1'): UpdateBinding {
  return {round, baseModelHash: new Uint8Array(32).fill(round), updateHash: new Uint8Array(32).fill(9), clientId}
}

interface QuoteFields {
  extraData: Uint8Array
  clock: bigint
  resetCount: number
  restartCount: number
  select: number[]
  values: Record<number, Uint8Array>
  /** PCR values sent beside the quote (default: the quoted ones). */
  sent?: Record<number, Uint8Array>
  signer: KeyObject
  qualifiedSigner: Uint8Array
}

function quote(overrides: Partial<QuoteFields> = {}): Uint8Array {
  const q: QuoteFields = {extraData: quoteQualifyingData(binding()), clock: 1000n, resetCount: 1, restartCount: 0, select: [0, 7], values: {0: new Uint8Array(32), 7: GOOD}, signer: privateKey, qualifiedSigner: akQualifiedName, ...overrides}
  const mask = new Uint8Array(3)
  for (const i of q.select) mask[i >> 3]! |= 1 << (i & 7)
  const digest = createHash('sha256')
  for (const i of q.select) digest.update(q.values[i]!)
  const clock = Buffer.alloc(8)
  clock.writeBigUInt64BE(q.clock)
  const attest = Buffer.concat([
    u32be(0xff544347), u16be(0x8018), sized(q.qualifiedSigner), sized(q.extraData),
    clock, u32be(q.resetCount), u32be(q.restartCount), Uint8Array.of(1), Buffer.alloc(8),
    u32be(1), u16be(0x000b), Uint8Array.of(3), mask, sized(digest.digest()),
  ])
  const raw = sign('sha256', attest, {key: q.signer, dsaEncoding: 'ieee-p1363'})
  const signature = Buffer.concat([u16be(0x0018), u16be(0x000b), sized(raw.subarray(0, 32)), sized(raw.subarray(32))])
  const sent = q.sent ?? q.values
  return encodeEvidence({attest, signature, pcrs: Object.keys(sent).map((i) => ({index: Number(i), value: sent[Number(i)]!}))})
}

function enrolled(): TpmAttestationVerifier {
  const verifier = createAttestationVerifier({caCertificates: [], policy})
  verifier.importState({c1: {akPublic: Buffer.from(akPublic).toString('hex'), akName: Buffer.from(akName).toString('hex'), akQualifiedName: Buffer.from(akQualifiedName).toString('hex')}})
  return verifier
}

describe('AttestationVerifier.verifyUpdate', () => {
  it('accepts a quote over the policy PCRs with the update qualifying data, and reports the PCRs', () => {
    const verdict = enrolled().verifyUpdate('c1', binding(), quote())
    expect(verdict).toEqual({ok: true, pcrs: {0: '00'.repeat(32), 7: 'aa'.repeat(32)}})
  })

  it('refuses a client that never enrolled', () => {
    expect(enrolled().verifyUpdate('c2', binding(1, 'c2'), quote())).toEqual({ok: false, reason: 'attestation: client not enrolled'})
  })

  it('refuses a quote made for another update, round or client: nonce mismatch', () => {
    const v = enrolled()
    expect(v.verifyUpdate('c1', binding(2), quote())).toEqual({ok: false, reason: 'attestation: nonce mismatch'})
    expect(v.verifyUpdate('c1', {...binding(), updateHash: new Uint8Array(32)}, quote())).toEqual({ok: false, reason: 'attestation: nonce mismatch'})
  })

  it('refuses a PCR value outside the policy, naming the PCR', () => {
    expect(enrolled().verifyUpdate('c1', binding(), quote({values: {0: new Uint8Array(32), 7: BAD}}))).toEqual({ok: false, reason: 'attestation: PCR 7 not in policy'})
  })

  it('refuses PCR values that are not the quoted ones (a lie beside a genuine quote)', () => {
    const verdict = enrolled().verifyUpdate('c1', binding(), quote({values: {0: new Uint8Array(32), 7: BAD}, sent: {0: new Uint8Array(32), 7: GOOD}}))
    expect(verdict).toEqual({ok: false, reason: 'attestation: PCR values do not match the quoted digest'})
  })

  it('refuses a quote over other PCRs than the policy', () => {
    const verdict = enrolled().verifyUpdate('c1', binding(), quote({select: [0], values: {0: new Uint8Array(32)}}))
    expect(verdict).toEqual({ok: false, reason: 'attestation: quote does not cover the policy PCRs (sha256:0,7)'})
  })

  it('refuses a quote signed by another key, or naming another signer', () => {
    const v = enrolled()
    expect(v.verifyUpdate('c1', binding(), quote({signer: other.privateKey}))).toEqual({ok: false, reason: 'attestation: bad quote signature'})
    expect(v.verifyUpdate('c1', binding(), quote({qualifiedSigner: akName}))).toEqual({ok: false, reason: 'attestation: quote signed by another key'})
  })

  it('refuses a TPM clock that goes back, and the same quote twice; a reset counts as forward', () => {
    const v = enrolled()
    const older = quote({clock: 500n})
    expect(v.verifyUpdate('c1', binding(), quote({clock: 900n})).ok).toBe(true)
    expect(v.verifyUpdate('c1', binding(), older)).toEqual({ok: false, reason: 'attestation: TPM clock went backwards'})
    const again = quote({clock: 1000n})
    expect(v.verifyUpdate('c1', binding(), again).ok).toBe(true)
    expect(v.verifyUpdate('c1', binding(), again)).toEqual({ok: false, reason: 'attestation: quote replayed'})
    expect(v.verifyUpdate('c1', binding(), quote({clock: 10n, resetCount: 2})).ok).toBe(true)
    expect(v.verifyUpdate('c1', binding(), quote({clock: 5000n, resetCount: 1}))).toEqual({ok: false, reason: 'attestation: TPM clock went backwards'})
  })

  it('a refused quote does not move the clock forward', () => {
    const v = enrolled()
    expect(v.verifyUpdate('c1', binding(), quote({clock: 9000n, values: {0: new Uint8Array(32), 7: BAD}})).ok).toBe(false)
    expect(v.verifyUpdate('c1', binding(), quote({clock: 100n})).ok).toBe(true)
  })

  it('keeps the last clock in its exported state', () => {
    const v = enrolled()
    v.verifyUpdate('c1', binding(), quote({clock: 700n}))
    const restored = createAttestationVerifier({caCertificates: [], policy})
    restored.importState(JSON.parse(JSON.stringify(v.exportState())))
    expect(restored.isEnrolled('c1')).toBe(true)
    expect(restored.verifyUpdate('c1', binding(), quote({clock: 600n}))).toEqual({ok: false, reason: 'attestation: TPM clock went backwards'})
  })

  it('answers hostile evidence with a verdict, never an exception', () => {
    const v = enrolled()
    const good = quote({clock: 1n << 62n})
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 400}), fc.nat(good.length - 1), fc.integer({min: 1, max: 255}), (random, at, flip) => {
        const mutated = Uint8Array.from(good)
        mutated[at]! ^= flip
        for (const input of [random, mutated]) {
          const verdict = v.verifyUpdate('c1', binding(), input)
          expect(verdict.ok).toBe(false)
          if (!verdict.ok) expect(verdict.reason).toMatch(/^attestation: /)
        }
      }),
      {numRuns: 300, seed: Number(process.env.FC_SEED ?? 15)},
    )
  })

  it('orders clocks by reset count, restart count, then clock', () => {
    expect(compareClocks({resetCount: 1, restartCount: 0, clock: '5'}, {resetCount: 0, restartCount: 9, clock: '99'})).toBe(1)
    expect(compareClocks({resetCount: 1, restartCount: 0, clock: '5'}, {resetCount: 1, restartCount: 1, clock: '1'})).toBe(-1)
    expect(compareClocks({resetCount: 1, restartCount: 1, clock: '18446744073709551615'}, {resetCount: 1, restartCount: 1, clock: '18446744073709551614'})).toBe(1)
  })
})

describe('AttestationVerifier enrollment refusals that need no TPM', () => {
  const request: EnrollmentRequest = {
    ekCertificate: new Uint8Array(800).fill(0x30),
    ekPublic: Buffer.from(SWTPM_EK_PUBLIC, 'hex'),
    akPublic: Buffer.from(SWTPM_AK_PUBLIC, 'hex'),
    akName: Buffer.from(SWTPM_AK_NAME, 'hex'),
    akBinding: new Uint8Array(64),
  }

  async function reason(promise: Promise<unknown>): Promise<string> {
    return promise.then(
      () => 'accepted',
      (err: Error) => err.message,
    )
  }

  it('refuses oversized fields, malformed keys and an unreadable certificate, with reasons', async () => {
    const v = createAttestationVerifier({caCertificates: [], policy})
    expect(await reason(v.beginEnrollment('x', new Uint8Array(33), {...request, ekCertificate: new Uint8Array(1 << 20)}))).toBe('attestation: enrollment request too large')
    expect(await reason(v.beginEnrollment('x', new Uint8Array(33), {...request, akPublic: new Uint8Array(10)}))).toMatch(/^attestation: malformed key \(/)
    expect(await reason(v.beginEnrollment('x', new Uint8Array(33), request))).toBe('attestation: EK certificate unreadable')
    expect(await reason(v.finishEnrollment('x', new Uint8Array(32)))).toBe('attestation: no enrollment in progress for this client')
  })
})
