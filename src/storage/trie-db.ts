import type {BatchDBOp, DB, EncodingOpts} from '@ethereumjs/util'
import {hexToBytes} from '@ethereumjs/util'

import type {Bytes, KeyValueStore, WriteOp} from './database.js'

const NODE_PREFIX = 0x6e // 'n'

function nodeKey(key: string): Bytes {
  const bytes = hexToBytes(key.startsWith('0x') ? (key as `0x${string}`) : `0x${key}`)
  const out = new Uint8Array(bytes.length + 1)
  out[0] = NODE_PREFIX
  out.set(bytes, 1)
  return out
}

/**
 * The trie's database: reads fall through to the key-value store, writes are held in memory until
 * the block that made them is committed, so a block's state, body, receipts and head pointer land
 * in one atomic batch. Trie nodes are content-addressed and never deleted, which keeps every past
 * state root readable (an archival node).
 */
export class TrieDB implements DB<string, string | Uint8Array> {
  private pending = new Map<string, Uint8Array>()

  constructor(private readonly store: KeyValueStore) {}

  async get(key: string, _opts?: EncodingOpts): Promise<Uint8Array | undefined> {
    return this.pending.get(key) ?? (await this.store.get(nodeKey(key)))
  }

  async put(key: string, value: string | Uint8Array, _opts?: EncodingOpts): Promise<void> {
    this.pending.set(key, typeof value === 'string' ? hexToBytes(`0x${value}`) : value)
  }

  async del(_key: string, _opts?: EncodingOpts): Promise<void> {
    // Archival: nodes stay, whatever the trie asks.
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') await this.put(op.key, op.value)
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}

  /** Moves the held writes into `ops` (to be written with the block) and forgets them. */
  drainInto(ops: WriteOp[]): number {
    const n = this.pending.size
    for (const [key, value] of this.pending) ops.push({type: 'put', key: nodeKey(key), value})
    this.pending = new Map()
    return n
  }

  /** Writes not yet committed, for metrics. */
  get pendingSize(): number {
    return this.pending.size
  }
}
