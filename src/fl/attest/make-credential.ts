import {constants, createCipheriv, createECDH, createHash, createHmac, publicEncrypt, randomBytes} from 'node:crypto'

import type {CredentialChallenge} from '../attestation-port.js'
import {concatBytes, hashOf, publicKeyOf, TPM_ALG, TpmParseError, type TpmPublic, u32be, sized} from './tpm-structures.js'

/**
 * TPM2_MakeCredential computed without a TPM (TPM 2.0 Library Part 1 §24 "Credential Protection",
 * Part 3 §12.6): only the holder of the EK's private key can recover `credential`, and the TPM
 * releases it only when the object named `objectName` is loaded beside that EK.
 *
 * - A seed is shared with the EK: RSA-OAEP to the EK with label "IDENTITY\0" (RSA EK), or an
 *   ephemeral ECDH key and KDFe (ECC EK).
 * - symKey = KDFa(seed, "STORAGE", objectName); encIdentity = AES-CFB(symKey, IV 0, TPM2B(credential)).
 * - hmacKey = KDFa(seed, "INTEGRITY"); outerHMAC = HMAC(hmacKey, encIdentity ‖ objectName).
 * - credentialBlob = TPM2B_ID_OBJECT(TPM2B(outerHMAC) ‖ encIdentity); encryptedSecret = TPM2B_ENCRYPTED_SECRET.
 */
export function makeCredential(ek: TpmPublic, objectName: Uint8Array, credential: Uint8Array, seedFor: (ek: TpmPublic) => {seed: Uint8Array; secret: Uint8Array} = shareSeed): CredentialChallenge {
  const hash = hashOf(ek.nameAlg)
  if (credential.length > hash.size) throw new TpmParseError(`a credential holds at most ${hash.size} bytes`)
  if (ek.symmetric.algorithm !== TPM_ALG.AES || ek.symmetric.mode !== TPM_ALG.CFB) throw new TpmParseError('the EK does not use AES-CFB as its symmetric algorithm')
  const {seed, secret} = seedFor(ek)
  const symKey = kdfa(ek.nameAlg, seed, 'STORAGE', objectName, new Uint8Array(0), ek.symmetric.keyBits)
  const cipher = createCipheriv(`aes-${ek.symmetric.keyBits}-cfb`, symKey, Buffer.alloc(16))
  const encIdentity = concatBytes(cipher.update(sized(credential)), cipher.final())
  const hmacKey = kdfa(ek.nameAlg, seed, 'INTEGRITY', new Uint8Array(0), new Uint8Array(0), hash.size * 8)
  const outerHmac = createHmac(hash.name, hmacKey).update(encIdentity).update(objectName).digest()
  return {credentialBlob: sized(concatBytes(sized(outerHmac), encIdentity)), encryptedSecret: sized(secret)}
}

/** A fresh seed and its encryption to the EK. */
export function shareSeed(ek: TpmPublic): {seed: Uint8Array; secret: Uint8Array} {
  const hash = hashOf(ek.nameAlg)
  if (ek.type === 'rsa') {
    const seed = randomBytes(hash.size)
    const secret = publicEncrypt({key: publicKeyOf(ek), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash.name, oaepLabel: Buffer.from('IDENTITY\0', 'latin1')}, seed)
    return {seed, secret}
  }
  const curve = ({0x0003: 'prime256v1', 0x0004: 'secp384r1', 0x0005: 'secp521r1'} as Record<number, string>)[ek.curveId]
  if (!curve) throw new TpmParseError(`unsupported ECC curve 0x${ek.curveId.toString(16)}`)
  const ecdh = createECDH(curve)
  ecdh.generateKeys()
  const ekPoint = concatBytes(Uint8Array.of(4), ek.x, ek.y)
  const z = ecdh.computeSecret(ekPoint)
  const ephemeral = ecdh.getPublicKey()
  const size = (ephemeral.length - 1) / 2
  const ephX = ephemeral.subarray(1, 1 + size)
  const ephY = ephemeral.subarray(1 + size)
  const seed = kdfe(ek.nameAlg, z, 'IDENTITY', ephX, ek.x, hash.size * 8)
  return {seed, secret: concatBytes(sized(ephX), sized(ephY))}
}

/** KDFa (Part 1 §11.4.10.2): SP 800-108 counter mode with HMAC; the label's terminating zero is hashed. */
export function kdfa(hashAlg: number, key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Uint8Array {
  const hash = hashOf(hashAlg)
  const bytes = Math.ceil(bits / 8)
  const out: Uint8Array[] = []
  for (let i = 1, have = 0; have < bytes; i++, have += hash.size) {
    out.push(createHmac(hash.name, key).update(u32be(i)).update(label, 'latin1').update(Uint8Array.of(0)).update(contextU).update(contextV).update(u32be(bits)).digest())
  }
  const result = concatBytes(...out).subarray(0, bytes)
  if (bits % 8 !== 0) result[0]! &= (1 << (bits % 8)) - 1
  return result
}

/** KDFe (Part 1 §11.4.10.3): SP 800-56A concatenation KDF over the ECDH x-coordinate. */
export function kdfe(hashAlg: number, z: Uint8Array, label: string, partyU: Uint8Array, partyV: Uint8Array, bits: number): Uint8Array {
  const hash = hashOf(hashAlg)
  const bytes = Math.ceil(bits / 8)
  const out: Uint8Array[] = []
  for (let i = 1, have = 0; have < bytes; i++, have += hash.size) {
    out.push(createHash(hash.name).update(u32be(i)).update(z).update(label, 'latin1').update(Uint8Array.of(0)).update(partyU).update(partyV).digest())
  }
  return concatBytes(...out).subarray(0, bytes)
}
