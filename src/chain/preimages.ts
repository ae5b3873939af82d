import type {MerklePatriciaTrie} from '@ethereumjs/mpt'
import {bytesToUnprefixedHex} from '@ethereumjs/util'

import type {Bytes, KeyValueStore, WriteOp} from '../storage/database.js'

const P_PREIMAGE = 0x6b // 'k' + keccak256(key) → key (an address or a storage slot)
/** How many keys already written are remembered, so a hot account is not written again every block. */
const KNOWN_LIMIT = 200_000

function preimageKey(hash: Bytes): Bytes {
  const out = new Uint8Array(hash.length + 1)
  out[0] = P_PREIMAGE
  out.set(hash, 1)
  return out
}

/**
 * The preimages of the state's hashed trie keys: the state trie is keyed by keccak256(address) and
 * every storage trie by keccak256(slot), so the addresses and slots a state holds cannot be read
 * back from the trie alone. Every key the block-building state manager writes to a trie is noted
 * here and written beside the block's trie nodes (`k` + hash → key) in the same batch, which is
 * what anvil_dumpState reads to name the accounts and slots it finds.
 */
export class Preimages {
  private pending = new Map<string, Bytes>()
  private known = new Set<string>()

  constructor(
    private readonly store: KeyValueStore,
    private readonly keccak: (data: Uint8Array) => Uint8Array,
  ) {}

  /** Notes a key written to a trie: 20 bytes (an address) or 32 (a storage slot). */
  note(key: Uint8Array): void {
    if (key.length !== 20 && key.length !== 32) return
    const hex = bytesToUnprefixedHex(key)
    if (this.known.has(hex) || this.pending.has(hex)) return
    this.pending.set(hex, key.slice())
  }

  /** Moves the keys noted since the last drain into `ops` (written with the block) and forgets them. */
  drainInto(ops: WriteOp[]): number {
    const n = this.pending.size
    if (this.known.size + n > KNOWN_LIMIT) this.known.clear()
    for (const [hex, key] of this.pending) {
      ops.push({type: 'put', key: preimageKey(this.keccak(key)), value: key})
      this.known.add(hex)
    }
    this.pending = new Map()
    return n
  }

  /** The key whose keccak256 is `hash`, if the chain ever wrote it to a trie. */
  get(hash: Bytes): Promise<Bytes | undefined> {
    return this.store.get(preimageKey(hash))
  }

  /**
   * Makes `trie` (and every copy of it, which is how a state manager makes storage tries) note the
   * keys written to it. Only `put` of a non-empty value is noted: deleting needs no preimage.
   */
  watch(trie: MerklePatriciaTrie): MerklePatriciaTrie {
    const put = trie.put.bind(trie)
    trie.put = (key: Uint8Array, value: Uint8Array | null, skipKeyTransform = false): Promise<void> => {
      if (!skipKeyTransform && value !== null && value.length > 0) this.note(key)
      return put(key, value, skipKeyTransform)
    }
    const shallowCopy = trie.shallowCopy.bind(trie)
    trie.shallowCopy = (...args: Parameters<MerklePatriciaTrie['shallowCopy']>) => this.watch(shallowCopy(...args))
    return trie
  }
}
