import {createRequire} from 'node:module'

import {keccak_256} from '@noble/hashes/sha3.js'
import {bytesToHex, hexToBytes} from '@noble/hashes/utils.js'

import type {ValidatorAddress} from './types.js'

type Bytes = Uint8Array

interface Secp256k1Api {
  privateKeyVerify(key: Bytes): boolean
  publicKeyCreate(key: Bytes, compressed?: boolean): Bytes
  ecdsaSign(msg32: Bytes, key: Bytes): {signature: Bytes; recid: number}
  ecdsaRecover(sig: Bytes, recid: number, msg32: Bytes, compressed?: boolean): Bytes
}

/**
 * The `secp256k1` package: its prebuilt native binding where it loads, its pure-JS fallback
 * elsewhere (the package chooses). Signatures are deterministic (RFC 6979), so a validator that
 * signs the same bytes twice produces the same signature.
 */
const secp: Secp256k1Api = createRequire(import.meta.url)('secp256k1') as Secp256k1Api

/** A validator's signing key and the address that identifies it. */
export interface ValidatorKey {
  privateKey: Bytes
  address: ValidatorAddress
}

export function validatorKeyFromPrivate(privateKey: Bytes): ValidatorKey {
  if (privateKey.length !== 32 || !secp.privateKeyVerify(privateKey)) throw new Error('Not a valid secp256k1 private key')
  return {privateKey, address: addressOfPublicKey(secp.publicKeyCreate(privateKey, false))}
}

/**
 * The keys of devnet validator `index`: derived from the chain id, the devnet name and the index,
 * so a devnet's validator set is the same every time it is created.
 */
export function deriveDevnetSeeds(chainId: number, devnet: string, index: number): {validator: Bytes; p2p: Bytes} {
  const text = (purpose: string): Bytes => new TextEncoder().encode(`xai/${purpose}/${chainId}/${devnet}/${index}`)
  return {validator: keccak_256(text('validator')), p2p: keccak_256(text('p2p'))}
}

export function addressOfPublicKey(uncompressed: Bytes): ValidatorAddress {
  return `0x${bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12))}`
}

/** A 65-byte signature: r ‖ s ‖ recovery id. */
export function sign(key: ValidatorKey, digest: Bytes): Bytes {
  const {signature, recid} = secp.ecdsaSign(digest, key.privateKey)
  const out = new Uint8Array(65)
  out.set(signature)
  out[64] = recid
  return out
}

/** The address that signed `digest`, or undefined when the signature is malformed. */
export function recoverSigner(digest: Bytes, signature: Bytes): ValidatorAddress | undefined {
  if (signature.length !== 65 || digest.length !== 32) return undefined
  const recid = signature[64]!
  if (recid > 1) return undefined
  try {
    return addressOfPublicKey(secp.ecdsaRecover(signature.subarray(0, 64), recid, digest, false))
  } catch {
    return undefined
  }
}

export {bytesToHex, hexToBytes, keccak_256}
