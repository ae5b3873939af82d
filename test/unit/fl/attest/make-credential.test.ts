import {constants, createDecipheriv, createECDH, createHmac, createPrivateKey, createPublicKey, privateDecrypt} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {kdfa, kdfe, makeCredential} from '../../../../src/fl/attest/make-credential.js'
import {TPM_ALG, type TpmPublic, TpmReader} from '../../../../src/fl/attest/tpm-structures.js'
import {MAKECREDENTIAL_ECC_KEY, MAKECREDENTIAL_ECC_OUT, MAKECREDENTIAL_NAME, MAKECREDENTIAL_RSA_KEY, MAKECREDENTIAL_RSA_OUT, MAKECREDENTIAL_SECRET} from './vectors.js'

const NAME = Buffer.from(MAKECREDENTIAL_NAME, 'hex')
const SECRET = Buffer.from(MAKECREDENTIAL_SECRET, 'latin1')
const EK_SYMMETRIC = {algorithm: TPM_ALG.AES, keyBits: 128, mode: TPM_ALG.CFB}

/** The EK's public area as the TCG's default EK templates make it, for a key we hold the private half of. */
function ekOf(pem: string): TpmPublic {
  const jwk = createPublicKey(pem).export({format: 'jwk'})
  const common = {nameAlg: TPM_ALG.SHA256, attributes: 0x300b2, authPolicy: new Uint8Array(32), symmetric: EK_SYMMETRIC, scheme: TPM_ALG.NULL, schemeHash: TPM_ALG.NULL, area: new Uint8Array(0)}
  if (jwk.kty === 'RSA') return {...common, type: 'rsa', keyBits: 2048, exponent: 65537, modulus: Buffer.from(jwk.n!, 'base64url')}
  return {...common, type: 'ecc', curveId: 0x0003, x: Buffer.from(jwk.x!, 'base64url'), y: Buffer.from(jwk.y!, 'base64url')}
}

/**
 * TPM2_ActivateCredential in software, for a key we hold (Part 1 §24): recover the seed, check the
 * outer HMAC over encIdentity ‖ name, decrypt the credential. The inverse of MakeCredential.
 */
function activate(pem: string, name: Uint8Array, credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Uint8Array {
  const blob = new TpmReader(credentialBlob).sized('id object')
  const inner = new TpmReader(blob)
  const hmac = inner.sized('hmac')
  const encIdentity = inner.bytes(inner.remaining, 'enc identity')
  const secret = new TpmReader(encryptedSecret).sized('secret')
  const key = createPrivateKey(pem)
  let seed: Uint8Array
  if (key.asymmetricKeyType === 'rsa') {
    seed = privateDecrypt({key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('IDENTITY\0', 'latin1')}, secret)
  } else {
    const r = new TpmReader(secret)
    const x = r.sized('x')
    const y = r.sized('y')
    const ecdh = createECDH('prime256v1')
    ecdh.setPrivateKey(Buffer.from(key.export({format: 'jwk'}).d!, 'base64url'))
    const z = ecdh.computeSecret(Buffer.concat([Buffer.of(4), x, y]))
    seed = kdfe(TPM_ALG.SHA256, z, 'IDENTITY', x, Buffer.from(key.export({format: 'jwk'}).x!, 'base64url'), 256)
  }
  const hmacKey = kdfa(TPM_ALG.SHA256, seed, 'INTEGRITY', new Uint8Array(0), new Uint8Array(0), 256)
  expect(Buffer.from(createHmac('sha256', hmacKey).update(encIdentity).update(name).digest())).toEqual(Buffer.from(hmac))
  const symKey = kdfa(TPM_ALG.SHA256, seed, 'STORAGE', name, new Uint8Array(0), 128)
  const decipher = createDecipheriv('aes-128-cfb', symKey, Buffer.alloc(16))
  const plain = Buffer.concat([decipher.update(encIdentity), decipher.final()])
  return new TpmReader(plain).sized('credential')
}

/** The credential file tpm2_makecredential writes: header, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
function splitCredentialFile(hex: string): {credentialBlob: Uint8Array; encryptedSecret: Uint8Array} {
  const bytes = Buffer.from(hex, 'hex')
  expect(bytes.subarray(0, 8).toString('hex')).toBe('badcc0de00000001')
  const blobSize = bytes.readUInt16BE(8)
  return {credentialBlob: bytes.subarray(8, 10 + blobSize), encryptedSecret: bytes.subarray(10 + blobSize)}
}

describe('MakeCredential', () => {
  for (const [kind, pem, vector] of [
    ['RSA', MAKECREDENTIAL_RSA_KEY, MAKECREDENTIAL_RSA_OUT],
    ['ECC', MAKECREDENTIAL_ECC_KEY, MAKECREDENTIAL_ECC_OUT],
  ] as const) {
    it(`${kind} EK: the KDFs and the unwrapping recover what tpm2_makecredential wrapped`, () => {
      const {credentialBlob, encryptedSecret} = splitCredentialFile(vector)
      expect(Buffer.from(activate(pem, NAME, credentialBlob, encryptedSecret)).toString('latin1')).toBe(MAKECREDENTIAL_SECRET)
    })

    it(`${kind} EK: ours unwraps the same way and has tpm2-tools' layout and sizes`, () => {
      const ours = makeCredential(ekOf(pem), NAME, SECRET)
      const theirs = splitCredentialFile(vector)
      expect(ours.credentialBlob.length).toBe(theirs.credentialBlob.length)
      expect(ours.encryptedSecret.length).toBe(theirs.encryptedSecret.length)
      expect(Buffer.from(activate(pem, NAME, ours.credentialBlob, ours.encryptedSecret))).toEqual(SECRET)
    })

    it(`${kind} EK: a credential made for another name fails the integrity check`, () => {
      const ours = makeCredential(ekOf(pem), NAME, SECRET)
      const other = Buffer.from(NAME)
      other[5]! ^= 1
      expect(() => activate(pem, other, ours.credentialBlob, ours.encryptedSecret)).toThrow()
    })
  }

  it('refuses a credential longer than the name algorithm digest', () => {
    expect(() => makeCredential(ekOf(MAKECREDENTIAL_RSA_KEY), NAME, new Uint8Array(33))).toThrow(/at most 32 bytes/)
  })

  it('KDFa: SP 800-108 counter mode, label with its terminating zero, masked to the bit length', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
    const manual = createHmac('sha256', key).update(Buffer.from('00000001', 'hex')).update('TEST\0').update('u').update('v').update(Buffer.from('00000100', 'hex')).digest()
    expect(Buffer.from(kdfa(TPM_ALG.SHA256, key, 'TEST', Buffer.from('u'), Buffer.from('v'), 256))).toEqual(manual)
    const long = kdfa(TPM_ALG.SHA256, key, 'TEST', new Uint8Array(0), new Uint8Array(0), 300)
    expect(long.length).toBe(38)
    expect(long[0]! >> 4).toBe(0)
  })
})
