import type {TypedTransaction} from '@ethereumjs/tx'
import type {Address} from '@ethereumjs/util'

/**
 * Recovers the sender once (or takes the one already known) and pins it, the encoding and the
 * hash on the transaction, then freezes it. ethereumjs caches only the public key and hashes it
 * into an address on every `getSenderAddress()` call, which runTx makes several times per
 * transaction; and it RLP-encodes the transaction again for every `serialize()` (gossip, the
 * transactions root, the block's encoding, the stored record).
 * Throws if the signature does not recover.
 */
export function sealTransaction<T extends TypedTransaction>(tx: T, sender?: Address): T {
  if (Object.isFrozen(tx)) return tx
  const address = sender ?? tx.getSenderAddress()
  const encoded = tx.serialize()
  tx.serialize = () => encoded
  const hash = tx.hash()
  tx.getSenderAddress = () => address
  tx.hash = () => hash
  Object.freeze(tx)
  return tx
}
