import {readFile} from 'node:fs/promises'

import {writeJsonAtomic} from '../util/atomic-write.js'

export const COMPILE_CACHE_FORMAT = 'xai-compile-cache-1'

/** What cache/compile.json remembers of one source. */
export interface CompileCacheEntry {
  /** sha256 of the file's content. */
  contentHash: string
  /** The source names it imports, resolved. */
  imports: string[]
  /** sha256 over the file and its transitive imports (name and content hash of each). */
  closureHash: string
  /** The contracts it declares, whose artifacts were written (empty for import-only files). */
  contracts: string[]
  /** The build info the artifacts came from. */
  buildInfo: string | null
}

export interface CompileCache {
  _format: typeof COMPILE_CACHE_FORMAT
  /** solc package version and settings hash: a change of either makes every source stale. */
  solcVersion: string
  settingsHash: string
  sources: Record<string, CompileCacheEntry>
}

/** The cache at `path`, or undefined when it is missing, unreadable or of another format. */
export async function readCompileCache(path: string): Promise<CompileCache | undefined> {
  try {
    const cache = JSON.parse(await readFile(path, 'utf8')) as Partial<CompileCache>
    if (cache._format !== COMPILE_CACHE_FORMAT || typeof cache.sources !== 'object' || cache.sources === null) return undefined
    return cache as CompileCache
  } catch {
    return undefined
  }
}

export async function writeCompileCache(path: string, cache: CompileCache): Promise<void> {
  await writeJsonAtomic(path, cache)
}
