export type Bytes = Uint8Array

/** A put or delete in one atomic write. */
export type WriteOp = {type: 'put'; key: Bytes; value: Bytes} | {type: 'del'; key: Bytes}

/** What the node needs of a key-value store: reads, and atomic batches. */
export interface KeyValueStore {
  get(key: Bytes): Promise<Bytes | undefined>
  getMany(keys: Bytes[]): Promise<(Bytes | undefined)[]>
  batch(ops: WriteOp[]): Promise<void>
  close(): Promise<void>
}
