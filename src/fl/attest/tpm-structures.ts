import {createHash, createPublicKey, type KeyObject} from 'node:crypto'

/**
 * The few TPM 2.0 structures attestation reads (TPM 2.0 Library, Part 2: Structures), parsed from
 * the big-endian wire form tpm2-tools writes. Every parser takes hostile bytes: it checks each
 * length against what is left and throws {@link TpmParseError} with the field it could not read,
 * never reads past the end, and refuses trailing bytes.
 */

export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAPSS: 0x0016,
  ECDSA: 0x0018,
  ECDAA: 0x001a,
  ECC: 0x0023,
  CFB: 0x0043,
} as const

/** TPM_GENERATED_VALUE: the first field of every structure the TPM signs. */
export const TPM_GENERATED_VALUE = 0xff544347
export const TPM_ST_ATTEST_QUOTE = 0x8018
/** TPM_RH_ENDORSEMENT: the qualified name of the endorsement hierarchy is its handle. */
export const TPM_RH_ENDORSEMENT = 0x4000000b

export const TPMA_OBJECT = {
  fixedTPM: 0x2,
  fixedParent: 0x10,
  sensitiveDataOrigin: 0x20,
  userWithAuth: 0x40,
  adminWithPolicy: 0x80,
  restricted: 0x10000,
  decrypt: 0x20000,
  sign: 0x40000,
} as const

const HASHES: Record<number, {name: string; size: number}> = {
  [TPM_ALG.SHA1]: {name: 'sha1', size: 20},
  [TPM_ALG.SHA256]: {name: 'sha256', size: 32},
  [TPM_ALG.SHA384]: {name: 'sha384', size: 48},
  [TPM_ALG.SHA512]: {name: 'sha512', size: 64},
}

const CURVES: Record<number, {jwk: string; size: number}> = {
  0x0003: {jwk: 'P-256', size: 32},
  0x0004: {jwk: 'P-384', size: 48},
  0x0005: {jwk: 'P-521', size: 66},
}

export class TpmParseError extends Error {
  override name = 'TpmParseError'
}

/** node:crypto's name and the digest size of a TPM hash algorithm; throws for any other. */
export function hashOf(alg: number): {name: string; size: number} {
  const hash = HASHES[alg]
  if (!hash) throw new TpmParseError(`unsupported hash algorithm 0x${alg.toString(16)}`)
  return hash
}

/** A cursor over big-endian TPM bytes. */
export class TpmReader {
  private offset = 0
  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.offset
  }

  private take(n: number, what: string): Uint8Array {
    if (n > this.remaining) throw new TpmParseError(`truncated ${what}: needs ${n} bytes, ${this.remaining} left`)
    const out = this.data.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  u8(what: string): number {
    return this.take(1, what)[0]!
  }

  u16(what: string): number {
    const b = this.take(2, what)
    return (b[0]! << 8) | b[1]!
  }

  u32(what: string): number {
    const b = this.take(4, what)
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
  }

  u64(what: string): bigint {
    const hi = BigInt(this.u32(what))
    return (hi << 32n) | BigInt(this.u32(what))
  }

  bytes(n: number, what: string): Uint8Array {
    return this.take(n, what)
  }

  /** A TPM2B: u16 size, then that many bytes. */
  sized(what: string, max = 0xffff): Uint8Array {
    const size = this.u16(`${what} size`)
    if (size > max) throw new TpmParseError(`${what} is ${size} bytes, at most ${max} allowed`)
    return this.take(size, what)
  }

  end(what: string): void {
    if (this.remaining !== 0) throw new TpmParseError(`${this.remaining} unexpected bytes after ${what}`)
  }
}

export function u16be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff)
}

export function u32be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** TPM2B_*: u16 size ‖ bytes. */
export function sized(bytes: Uint8Array): Uint8Array {
  return concatBytes(u16be(bytes.length), bytes)
}

export interface SymmetricDef {
  /** TPM_ALG_NULL, or a block cipher (AES). */
  algorithm: number
  keyBits: number
  mode: number
}

export type TpmPublic =
  | {type: 'rsa'; nameAlg: number; attributes: number; authPolicy: Uint8Array; symmetric: SymmetricDef; scheme: number; schemeHash: number; keyBits: number; exponent: number; modulus: Uint8Array; area: Uint8Array}
  | {type: 'ecc'; nameAlg: number; attributes: number; authPolicy: Uint8Array; symmetric: SymmetricDef; scheme: number; schemeHash: number; curveId: number; x: Uint8Array; y: Uint8Array; area: Uint8Array}

function readSymmetric(r: TpmReader): SymmetricDef {
  const algorithm = r.u16('symmetric algorithm')
  if (algorithm === TPM_ALG.NULL) return {algorithm, keyBits: 0, mode: 0}
  return {algorithm, keyBits: r.u16('symmetric key bits'), mode: r.u16('symmetric mode')}
}

/** TPMT_PUBLIC (RSA or ECC). `area` keeps its exact bytes, which the object's name hashes. */
export function parseTpmtPublic(area: Uint8Array): TpmPublic {
  const r = new TpmReader(area)
  const type = r.u16('public type')
  const nameAlg = r.u16('name algorithm')
  hashOf(nameAlg)
  const attributes = r.u32('object attributes')
  const authPolicy = r.sized('auth policy', 64)
  const symmetric = readSymmetric(r)
  const scheme = r.u16('scheme')
  let schemeHash: number = TPM_ALG.NULL
  if (scheme !== TPM_ALG.NULL) {
    schemeHash = r.u16('scheme hash')
    if (scheme === TPM_ALG.ECDAA) r.u16('ECDAA count')
  }
  if (type === TPM_ALG.RSA) {
    const keyBits = r.u16('RSA key bits')
    const exponent = r.u32('RSA exponent') || 65537
    const modulus = r.sized('RSA modulus', 512)
    r.end('the public area')
    if (modulus.length * 8 !== keyBits) throw new TpmParseError(`RSA modulus is ${modulus.length * 8} bits, the key says ${keyBits}`)
    return {type: 'rsa', nameAlg, attributes, authPolicy, symmetric, scheme, schemeHash, keyBits, exponent, modulus, area}
  }
  if (type === TPM_ALG.ECC) {
    const curveId = r.u16('ECC curve')
    const kdf = r.u16('ECC KDF scheme')
    if (kdf !== TPM_ALG.NULL) r.u16('ECC KDF hash')
    const x = r.sized('ECC point x', 66)
    const y = r.sized('ECC point y', 66)
    r.end('the public area')
    return {type: 'ecc', nameAlg, attributes, authPolicy, symmetric, scheme, schemeHash, curveId, x, y, area}
  }
  throw new TpmParseError(`unsupported key type 0x${type.toString(16)}`)
}

/** TPM2B_PUBLIC, as `tpm2_readpublic -o` and `tpm2_createak -u` write it. */
export function parseTpm2bPublic(bytes: Uint8Array): TpmPublic {
  const r = new TpmReader(bytes)
  const area = r.sized('public area')
  r.end('TPM2B_PUBLIC')
  return parseTpmtPublic(area)
}

/** The TPM name of an object: nameAlg ‖ H_nameAlg(TPMT_PUBLIC). */
export function tpmName(pub: TpmPublic): Uint8Array {
  return concatBytes(u16be(pub.nameAlg), createHash(hashOf(pub.nameAlg).name).update(pub.area).digest())
}

/** The qualified name of a child: nameAlg ‖ H(parent's qualified name ‖ child's name) (Part 1 §16). */
export function qualifiedName(nameAlg: number, parentQualifiedName: Uint8Array, name: Uint8Array): Uint8Array {
  return concatBytes(u16be(nameAlg), createHash(hashOf(nameAlg).name).update(parentQualifiedName).update(name).digest())
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/** The object's public key as a node:crypto key. */
export function publicKeyOf(pub: TpmPublic): KeyObject {
  if (pub.type === 'rsa') {
    let e = pub.exponent
    const exp: number[] = []
    while (e > 0) {
      exp.unshift(e & 0xff)
      e = Math.floor(e / 256)
    }
    return createPublicKey({key: {kty: 'RSA', n: b64url(pub.modulus), e: b64url(Uint8Array.from(exp))}, format: 'jwk'})
  }
  const curve = CURVES[pub.curveId]
  if (!curve) throw new TpmParseError(`unsupported ECC curve 0x${pub.curveId.toString(16)}`)
  if (pub.x.length !== curve.size || pub.y.length !== curve.size) throw new TpmParseError(`ECC point coordinates are not ${curve.size} bytes`)
  return createPublicKey({key: {kty: 'EC', crv: curve.jwk, x: b64url(pub.x), y: b64url(pub.y)}, format: 'jwk'})
}

export interface TpmSignature {
  algorithm: number
  hash: number
  /** ECDSA: r ‖ s, each left-padded to the curve size by the verifier; RSA: the signature. */
  r?: Uint8Array
  s?: Uint8Array
  rsa?: Uint8Array
}

/** TPMT_SIGNATURE (ECDSA, RSASSA or RSAPSS), as `tpm2_quote -s` writes it. */
export function parseTpmtSignature(bytes: Uint8Array): TpmSignature {
  const r = new TpmReader(bytes)
  const algorithm = r.u16('signature algorithm')
  const hash = r.u16('signature hash')
  hashOf(hash)
  let sig: TpmSignature
  if (algorithm === TPM_ALG.ECDSA) sig = {algorithm, hash, r: r.sized('ECDSA r', 66), s: r.sized('ECDSA s', 66)}
  else if (algorithm === TPM_ALG.RSASSA || algorithm === TPM_ALG.RSAPSS) sig = {algorithm, hash, rsa: r.sized('RSA signature', 512)}
  else throw new TpmParseError(`unsupported signature algorithm 0x${algorithm.toString(16)}`)
  r.end('the signature')
  return sig
}

export interface PcrSelection {
  hash: number
  pcrs: number[]
}

export interface TpmsAttestQuote {
  magic: number
  type: number
  qualifiedSigner: Uint8Array
  extraData: Uint8Array
  clock: bigint
  resetCount: number
  restartCount: number
  safe: boolean
  firmwareVersion: bigint
  pcrSelections: PcrSelection[]
  pcrDigest: Uint8Array
}

/** TPMS_ATTEST of a quote (`tpm2_quote -m`). Refuses any other attestation type. */
export function parseQuoteAttest(bytes: Uint8Array): TpmsAttestQuote {
  const r = new TpmReader(bytes)
  const magic = r.u32('magic')
  if (magic !== TPM_GENERATED_VALUE) throw new TpmParseError('not generated by a TPM (bad magic)')
  const type = r.u16('attestation type')
  if (type !== TPM_ST_ATTEST_QUOTE) throw new TpmParseError(`not a quote (type 0x${type.toString(16)})`)
  const qualifiedSigner = r.sized('qualified signer', 66)
  const extraData = r.sized('extra data', 64)
  const clock = r.u64('clock')
  const resetCount = r.u32('reset count')
  const restartCount = r.u32('restart count')
  const safe = r.u8('safe') === 1
  const firmwareVersion = r.u64('firmware version')
  const count = r.u32('PCR selection count')
  if (count > 16) throw new TpmParseError(`${count} PCR selections`)
  const pcrSelections: PcrSelection[] = []
  for (let i = 0; i < count; i++) {
    const hash = r.u16('PCR bank')
    const size = r.u8('PCR select size')
    if (size > 4) throw new TpmParseError(`PCR select of ${size} bytes`)
    const select = r.bytes(size, 'PCR select')
    const pcrs: number[] = []
    for (let byte = 0; byte < size; byte++) for (let bit = 0; bit < 8; bit++) if (select[byte]! & (1 << bit)) pcrs.push(byte * 8 + bit)
    pcrSelections.push({hash, pcrs})
  }
  const pcrDigest = r.sized('PCR digest', 64)
  r.end('the attestation')
  return {magic, type, qualifiedSigner, extraData, clock, resetCount, restartCount, safe, firmwareVersion, pcrSelections, pcrDigest}
}
