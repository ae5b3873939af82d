import {ClassicLevel} from 'classic-level'
import type {Bytes, KeyValueStore} from './key-value-store.js'
import {MemoryLevel} from './memory-level.js'

import {ExitCode, XaiError} from '../util/errors.js'

export type {Bytes, KeyValueStore, WriteOp} from './key-value-store.js'

/** A LevelDB store on disk (classic-level). */
export async function openLevelStore(path: string): Promise<KeyValueStore> {
  const db = new ClassicLevel<Bytes, Bytes>(path, {keyEncoding: 'view', valueEncoding: 'view'})
  try {
    await db.open()
  } catch (err) {
    const locked = /lock/i.test(String((err as {cause?: unknown}).cause ?? err))
    throw new XaiError(
      locked ? 'STORAGE_LOCKED' : 'STORAGE_OPEN_FAILED',
      locked ? `The database at ${path} is in use by another process.` : `The database at ${path} could not be opened.`,
      {
        exitCode: ExitCode.environment,
        hint: locked ? 'Stop the node that uses it first (xai devnet down).' : 'Check the folder, or reset the devnet (xai devnet reset).',
        cause: err,
      },
    )
  }
  return {
    get: (key) => db.get(key),
    getMany: (keys) => db.getMany(keys),
    batch: (ops) => db.batch(ops),
    close: () => db.close(),
  }
}

/** An in-memory store with the same semantics, for tests and throwaway chains. */
export function openMemoryStore(): KeyValueStore {
  return new MemoryLevel()
}
