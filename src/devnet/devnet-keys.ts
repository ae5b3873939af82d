import {type ApiScope, type StoredApiKey, newApiKey, readApiKeyFile, writeApiKeyFile} from '../util/api-keys.js'
import {XaiError} from '../util/errors.js'
import {nodeHomePaths} from '../node/node-home.js'
import {type DevnetLocation, devnetPaths, requireDevnetRecord} from './devnet-folder.js'

/** A key as listed: everything but its hash. */
export type ApiKeyInfo = Omit<StoredApiKey, 'sha256'>

export interface CreateApiKeyResult {
  /** The key itself: shown once, stored nowhere (the nodes keep its SHA-256). */
  key: string
  info: ApiKeyInfo
  /** Homes of the nodes that now accept it. */
  nodes: number
}

function info(key: StoredApiKey): ApiKeyInfo {
  const {sha256: _hash, ...rest} = key
  return rest
}

/** The key files of every node of a devnet (each node checks requests against its own). */
async function keyFiles(location: DevnetLocation): Promise<string[]> {
  const paths = devnetPaths(location)
  const record = await requireDevnetRecord(paths)
  return record.nodes.map((node) => nodeHomePaths(paths.nodeHome(node.index)).apiKeys)
}

/**
 * Creates an API key with the given scopes and rate limit and stores its hash on every node of the
 * devnet (keys/api-keys.json, re-read by running nodes within a second).
 */
export async function createDevnetApiKey(location: DevnetLocation, options: {name: string; scopes: ApiScope[]; rateLimitPerMinute?: number}): Promise<CreateApiKeyResult> {
  const files = await keyFiles(location)
  const {key, record} = newApiKey(options)
  for (const file of files) {
    const current = await readApiKeyFile(file)
    await writeApiKeyFile(file, {version: 1, keys: [...current.keys, record]})
  }
  return {key, info: info(record), nodes: files.length}
}

/** The keys of a devnet (from node 0's file; every node holds the same), revoked ones included. */
export async function listDevnetApiKeys(location: DevnetLocation): Promise<ApiKeyInfo[]> {
  const [first] = await keyFiles(location)
  return first ? (await readApiKeyFile(first)).keys.map(info) : []
}

/** Revokes a key on every node (kept in the file, marked revoked, so its id is never reused). */
export async function revokeDevnetApiKey(location: DevnetLocation, id: string): Promise<ApiKeyInfo> {
  const files = await keyFiles(location)
  let revoked: StoredApiKey | undefined
  const at = new Date().toISOString()
  for (const file of files) {
    const current = await readApiKeyFile(file)
    const keys = current.keys.map((k) => (k.id === id && !k.revokedAt ? {...k, revokedAt: at} : k))
    const found = keys.find((k) => k.id === id)
    if (found) revoked = found
    await writeApiKeyFile(file, {version: 1, keys})
  }
  if (!revoked) {
    throw new XaiError('API_KEY_NOT_FOUND', `No API key with id ${id} on devnet "${location.name}"`, {hint: 'List the keys with xai devnet key list; the id is the part after xai_ in the key.'})
  }
  return info(revoked)
}
