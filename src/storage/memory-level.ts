import type {Bytes, KeyValueStore, WriteOp} from './key-value-store.js'

const hex = (key: Bytes): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')

/** An in-memory key-value store (a Map keyed by hex), for tests and throwaway chains. */
export class MemoryLevel implements KeyValueStore {
  private readonly map = new Map<string, Bytes>()

  async get(key: Bytes): Promise<Bytes | undefined> {
    return this.map.get(hex(key))
  }

  async getMany(keys: Bytes[]): Promise<(Bytes | undefined)[]> {
    return keys.map((key) => this.map.get(hex(key)))
  }

  async batch(ops: WriteOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(hex(op.key), op.value)
      else this.map.delete(hex(op.key))
    }
  }

  async close(): Promise<void> {}
}
