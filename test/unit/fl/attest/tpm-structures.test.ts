import {createHash, verify} from 'node:crypto'

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {decodeEvidence, encodeEvidence} from '../../../../src/fl/attest/evidence.js'
import {
  parseQuoteAttest,
  parseTpm2bPublic,
  parseTpmtSignature,
  publicKeyOf,
  qualifiedName,
  TPM_ALG,
  TPM_RH_ENDORSEMENT,
  TpmParseError,
  tpmName,
  u32be,
} from '../../../../src/fl/attest/tpm-structures.js'
import {
  SWTPM_AK_NAME,
  SWTPM_AK_PUBLIC,
  SWTPM_AK_QUALIFIED_NAME,
  SWTPM_EK_NAME,
  SWTPM_EK_PUBLIC,
  SWTPM_EK_QUALIFIED_NAME,
  SWTPM_QUOTE_ATTEST,
  SWTPM_QUOTE_QUALIFYING_DATA,
  SWTPM_QUOTE_SIGNATURE,
} from './vectors.js'

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('TPM structures from swtpm', () => {
  it('parses the RSA EK and computes its name and qualified name as the TPM does', () => {
    const ek = parseTpm2bPublic(bytes(SWTPM_EK_PUBLIC))
    expect(ek.type).toBe('rsa')
    expect(ek.nameAlg).toBe(TPM_ALG.SHA256)
    expect(ek.attributes).toBe(0x300b2)
    expect(ek.symmetric).toEqual({algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB})
    if (ek.type === 'rsa') expect(ek.keyBits).toBe(2048)
    expect(hex(tpmName(ek))).toBe(SWTPM_EK_NAME)
    expect(hex(qualifiedName(ek.nameAlg, u32be(TPM_RH_ENDORSEMENT), tpmName(ek)))).toBe(SWTPM_EK_QUALIFIED_NAME)
    expect(publicKeyOf(ek).asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('parses the AK (restricted ECDSA P-256) and its name; its qualified name chains to the EK', () => {
    const ak = parseTpm2bPublic(bytes(SWTPM_AK_PUBLIC))
    expect(ak.type).toBe('ecc')
    expect(ak.scheme).toBe(TPM_ALG.ECDSA)
    expect(ak.schemeHash).toBe(TPM_ALG.SHA256)
    expect(hex(tpmName(ak))).toBe(SWTPM_AK_NAME)
    expect(hex(qualifiedName(ak.nameAlg, bytes(SWTPM_EK_QUALIFIED_NAME), tpmName(ak)))).toBe(SWTPM_AK_QUALIFIED_NAME)
  })

  it('parses the quote: magic, type, signer, nonce, clock, PCR selection and digest; the AK signature verifies', () => {
    const quote = parseQuoteAttest(bytes(SWTPM_QUOTE_ATTEST))
    expect(hex(quote.qualifiedSigner)).toBe(SWTPM_AK_QUALIFIED_NAME)
    expect(hex(quote.extraData)).toBe(SWTPM_QUOTE_QUALIFYING_DATA)
    expect(quote.clock).toBe(0x2e27n)
    expect([quote.resetCount, quote.restartCount, quote.safe]).toEqual([2, 0, true])
    expect(quote.pcrSelections).toEqual([{hash: TPM_ALG.SHA256, pcrs: [0, 1, 2, 7]}])
    expect(hex(quote.pcrDigest)).toBe(createHash('sha256').update(new Uint8Array(4 * 32)).digest('hex'))

    const sig = parseTpmtSignature(bytes(SWTPM_QUOTE_SIGNATURE))
    expect(sig.algorithm).toBe(TPM_ALG.ECDSA)
    const key = publicKeyOf(parseTpm2bPublic(bytes(SWTPM_AK_PUBLIC)))
    const raw = Buffer.concat([Buffer.alloc(32 - sig.r!.length), sig.r!, Buffer.alloc(32 - sig.s!.length), sig.s!])
    expect(verify('sha256', bytes(SWTPM_QUOTE_ATTEST), {key, dsaEncoding: 'ieee-p1363'}, raw)).toBe(true)
    const tampered = bytes(SWTPM_QUOTE_ATTEST)
    tampered[50]! ^= 1
    expect(verify('sha256', tampered, {key, dsaEncoding: 'ieee-p1363'}, raw)).toBe(false)
  })

  it('refuses every truncation and trailing bytes with TpmParseError', () => {
    for (const [vector, parse] of [
      [SWTPM_QUOTE_ATTEST, parseQuoteAttest],
      [SWTPM_QUOTE_SIGNATURE, parseTpmtSignature],
      [SWTPM_AK_PUBLIC, parseTpm2bPublic],
      [SWTPM_EK_PUBLIC, parseTpm2bPublic],
    ] as const) {
      const full = bytes(vector)
      for (let n = 0; n < full.length; n++) expect(() => parse(full.subarray(0, n)), `${n} bytes`).toThrow(TpmParseError)
      expect(() => parse(Uint8Array.from([...full, 0]))).toThrow(TpmParseError)
    }
  })

  it('refuses an attestation that is not a quote, or not from a TPM', () => {
    const notQuote = bytes(SWTPM_QUOTE_ATTEST)
    notQuote[5] = 0x17 // TPM_ST_ATTEST_CERTIFY
    expect(() => parseQuoteAttest(notQuote)).toThrow(/not a quote/)
    const notTpm = bytes(SWTPM_QUOTE_ATTEST)
    notTpm[0] = 0
    expect(() => parseQuoteAttest(notTpm)).toThrow(/magic/)
  })
})

describe('evidence encoding', () => {
  const evidence = {attest: bytes(SWTPM_QUOTE_ATTEST), signature: bytes(SWTPM_QUOTE_SIGNATURE), pcrs: [0, 1, 2, 7].map((index) => ({index, value: new Uint8Array(32).fill(index)}))}

  it('round-trips, PCRs in ascending order', () => {
    const encoded = encodeEvidence({...evidence, pcrs: [...evidence.pcrs].reverse()})
    expect(encoded[0]).toBe(1)
    expect(encoded.length).toBe(1 + 2 + evidence.attest.length + 2 + evidence.signature.length + 1 + 4 * 33)
    const decoded = decodeEvidence(encoded)
    expect(hex(decoded.attest)).toBe(SWTPM_QUOTE_ATTEST)
    expect(hex(decoded.signature)).toBe(SWTPM_QUOTE_SIGNATURE)
    expect(decoded.pcrs.map((p) => p.index)).toEqual([0, 1, 2, 7])
    expect(decoded.pcrs[3]!.value).toEqual(new Uint8Array(32).fill(7))
  })

  it('refuses another version, unordered or duplicate PCRs, truncation and trailing bytes', () => {
    const encoded = encodeEvidence(evidence)
    expect(() => decodeEvidence(Uint8Array.from([2, ...encoded.subarray(1)]))).toThrow(/version 2/)
    const swapped = Uint8Array.from(encoded)
    const firstPcr = encoded.length - 4 * 33
    swapped[firstPcr] = 9
    expect(() => decodeEvidence(swapped)).toThrow(/ascending/)
    for (let n = 0; n < encoded.length; n++) expect(() => decodeEvidence(encoded.subarray(0, n))).toThrow(TpmParseError)
    expect(() => decodeEvidence(Uint8Array.from([...encoded, 0]))).toThrow(TpmParseError)
  })

  it('hostile bytes only ever raise TpmParseError', () => {
    const encoded = encodeEvidence(evidence)
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 600}), fc.nat(encoded.length - 1), fc.integer({min: 1, max: 255}), (random, at, flip) => {
        const mutated = Uint8Array.from(encoded)
        mutated[at]! ^= flip
        for (const input of [random, mutated]) {
          for (const parse of [decodeEvidence, parseQuoteAttest, parseTpm2bPublic, parseTpmtSignature]) {
            try {
              parse(input)
            } catch (err) {
              expect(err).toBeInstanceOf(TpmParseError)
            }
          }
        }
      }),
      {numRuns: 300, seed: Number(process.env.FC_SEED ?? 15)},
    )
  })
})
