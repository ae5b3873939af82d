import type {TypedTransaction} from '@ethereumjs/tx'
import {Address} from '@ethereumjs/util'
import {keccak_256} from '@noble/hashes/sha3.js'

/** Transactions whose encoding and hash are pinned (not yet sealed). */
const pinned = new WeakSet<TypedTransaction>()

/** The chain's Keccak-256 (the native binding when it loaded), as the transaction's Common has it. */
function keccakOf(tx: TypedTransaction): (msg: Uint8Array) => Uint8Array {
  return tx.common.customCrypto.keccak256 ?? keccak_256
}

/**
 * Encodes the transaction once and pins that encoding and its hash on it; returns the hash.
 * ethereumjs encodes the transaction again for every `serialize()` and every `hash()` of an
 * unfrozen transaction; admission needs the hash before it knows the signature is good (to refuse
 * a duplicate without recovering its sender), and sealing needs both again.
 */
export function pinEncoding(tx: TypedTransaction): Uint8Array {
  if (Object.isFrozen(tx) || pinned.has(tx)) return tx.hash()
  const encoded = tx.serialize()
  const hash = keccakOf(tx)(encoded)
  tx.serialize = () => encoded
  tx.hash = () => hash
  pinned.add(tx)
  return hash
}

/**
 * Recovers the sender once (or takes the one already known) and pins it, the encoding and the
 * hash on the transaction, then freezes it. ethereumjs caches only the public key and hashes it
 * into an address on every `getSenderAddress()` call, which runTx makes several times per
 * transaction; and it RLP-encodes the transaction again for every `serialize()` (gossip, the
 * transactions root, the block's encoding, the stored record). The address is keccak256 of the
 * recovered public key with the chain's Keccak (ethereumjs' `publicToAddress` always uses the
 * pure-JS one).
 * Throws if the signature does not recover.
 */
export function sealTransaction<T extends TypedTransaction>(tx: T, sender?: Address): T {
  if (Object.isFrozen(tx)) return tx
  pinEncoding(tx)
  const address = sender ?? senderOf(tx)
  tx.getSenderAddress = () => address
  Object.freeze(tx)
  return tx
}

function senderOf(tx: TypedTransaction): Address {
  const publicKey = tx.getSenderPublicKey()
  if (publicKey.length !== 64) return tx.getSenderAddress()
  return new Address(keccakOf(tx)(publicKey).subarray(12))
}
