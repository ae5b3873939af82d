import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'

import {writeJsonAtomic} from './atomic-write.js'
import type {Telemetry} from './telemetry.js'

/**
 * API keys with scopes. A key is `xai_<id>_<secret>`; a node stores only its id, scopes, rate
 * limit and the SHA-256 of the whole key (`keys/api-keys.json` in its home), so the file gives
 * nobody a usable key. Scopes nest: admin includes write, write includes read.
 */
export const API_SCOPES = ['read', 'write', 'admin'] as const
export type ApiScope = (typeof API_SCOPES)[number]

/** Requests per minute a key may make unless it says otherwise. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600

export interface StoredApiKey {
  id: string
  name: string
  scopes: ApiScope[]
  /** sha256 of the whole key, hex. */
  sha256: string
  /** Requests per minute (a token bucket of that size, refilled evenly). */
  rateLimitPerMinute: number
  createdAt: string
  revokedAt?: string
}

export interface ApiKeyFile {
  version: 1
  keys: StoredApiKey[]
}

const KEY_PATTERN = /^xai_([0-9a-f]{8})_([A-Za-z0-9_-]{32,64})$/

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** A new key and the record a node stores for it; the key itself is shown once and kept nowhere. */
export function newApiKey(options: {name: string; scopes: ApiScope[]; rateLimitPerMinute?: number; now?: Date}): {key: string; record: StoredApiKey} {
  const id = randomBytes(4).toString('hex')
  const key = `xai_${id}_${randomBytes(32).toString('base64url')}`
  const record: StoredApiKey = {
    id,
    name: options.name,
    scopes: [...new Set(options.scopes)],
    sha256: hashApiKey(key),
    rateLimitPerMinute: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    createdAt: (options.now ?? new Date()).toISOString(),
  }
  return {key, record}
}

export function scopeAllows(has: readonly ApiScope[], needs: ApiScope): boolean {
  const rank = (s: ApiScope): number => API_SCOPES.indexOf(s)
  return has.some((s) => rank(s) >= rank(needs))
}

/** Reads a key file; a missing file is an empty one. Anything malformed is refused with the reason. */
export async function readApiKeyFile(path: string): Promise<ApiKeyFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {version: 1, keys: []}
    throw err
  }
  const value = JSON.parse(text) as Partial<ApiKeyFile>
  if (value.version !== 1 || !Array.isArray(value.keys)) throw new Error(`${path} is not an API key file (version 1)`)
  const keys = value.keys.filter(
    (k): k is StoredApiKey =>
      typeof k?.id === 'string' && /^[0-9a-f]{8}$/.test(k.id) && typeof k.sha256 === 'string' && /^[0-9a-f]{64}$/.test(k.sha256) && Array.isArray(k.scopes) && k.scopes.every((s) => (API_SCOPES as readonly string[]).includes(s)),
  )
  return {version: 1, keys}
}

export async function writeApiKeyFile(path: string, file: ApiKeyFile): Promise<void> {
  await writeJsonAtomic(path, file)
}

/** Why a request was refused: 401 (no or bad key), 403 (key lacks the scope), 429 (rate limit). */
export type ApiAuthResult =
  | {ok: true; keyId: string; name: string}
  | {ok: false; status: 401 | 403 | 429; reason: string; hint: string; retryAfterSeconds?: number}

/** A key held in memory only (the node's legacy static API key, its admin token). */
export interface StaticApiKey {
  id: string
  name: string
  key: string
  scopes: ApiScope[]
  rateLimitPerMinute?: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * Checks request credentials against a node's keys: the hashed keys of its key file (re-read
 * when the file changes, so `xai devnet key create|revoke` takes effect without a restart) and
 * static keys. Every refusal is a security event (api-unauthorized, api-rate-limited).
 */
export class ApiKeyAuthorizer {
  private stored: StoredApiKey[] = []
  private mtimeMs = -1
  private checkedAt = 0
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly options: {file?: string; staticKeys?: StaticApiKey[]; telemetry?: Telemetry; now?: () => number; reloadMs?: number},
  ) {}

  /** Accepts one more in-memory key (the node's admin token, read once its keys are loaded). */
  addStaticKey(key: StaticApiKey): void {
    this.options.staticKeys = [...(this.options.staticKeys ?? []), key]
  }

  /** Whether any key could be accepted (false: the node takes no authenticated requests). */
  async hasKeys(): Promise<boolean> {
    await this.reload()
    return (this.options.staticKeys?.length ?? 0) > 0 || this.stored.some((k) => !k.revokedAt)
  }

  /** The credential of a request: x-api-key, or authorization: Bearer. */
  static credential(headers: Record<string, string | string[] | undefined>): string | undefined {
    const direct = headers['x-api-key']
    if (typeof direct === 'string') return direct
    const auth = headers.authorization
    return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined
  }

  async authorize(credential: string | undefined, scope: ApiScope, request: {route: string; remote?: string}): Promise<ApiAuthResult> {
    await this.reload()
    const refuse = (status: 401 | 403, reason: string, hint: string, keyId?: string): ApiAuthResult => {
      this.options.telemetry?.security('api-unauthorized', `API request refused: ${reason}`, {route: request.route, scope, status, ...(keyId ? {keyId} : {}), ...(request.remote ? {remote: request.remote} : {})})
      return {ok: false, status, reason, hint}
    }
    if (credential === undefined || credential.length === 0) return refuse(401, 'no API key', 'Send a key as the x-api-key header or as authorization: Bearer <key> (xai devnet key create).')
    const match = this.find(credential)
    if (!match) return refuse(401, 'unknown or revoked API key', 'Create a key with xai devnet key create; revoked keys stay refused.')
    if (!scopeAllows(match.scopes, scope)) return refuse(403, `key ${match.id} lacks the ${scope} scope`, `Use a key with the ${scope} scope (xai devnet key create --scope ${scope}).`, match.id)
    const wait = this.take(match.id, match.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE)
    if (wait > 0) {
      const retryAfterSeconds = Math.max(1, Math.ceil(wait))
      this.options.telemetry?.security('api-rate-limited', `API key ${match.id} is over its rate limit`, {route: request.route, keyId: match.id, retryAfterSeconds, ...(request.remote ? {remote: request.remote} : {})})
      return {ok: false, status: 429, reason: `key ${match.id} is over its rate limit (${match.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE} requests per minute)`, hint: `Retry after ${retryAfterSeconds} s.`, retryAfterSeconds}
    }
    return {ok: true, keyId: match.id, name: match.name}
  }

  private find(credential: string): {id: string; name: string; scopes: ApiScope[]; rateLimitPerMinute?: number} | undefined {
    const given = Buffer.from(credential)
    for (const key of this.options.staticKeys ?? []) {
      const expected = Buffer.from(key.key)
      if (given.length === expected.length && timingSafeEqual(given, expected)) return key
    }
    const parsed = KEY_PATTERN.exec(credential)
    if (!parsed) return undefined
    const digest = Buffer.from(hashApiKey(credential), 'hex')
    for (const key of this.stored) {
      if (key.id !== parsed[1] || key.revokedAt) continue
      if (timingSafeEqual(Buffer.from(key.sha256, 'hex'), digest)) return key
    }
    return undefined
  }

  /** Takes one token of the key's bucket; 0 when it had one, else the seconds until it will. */
  private take(id: string, perMinute: number): number {
    const now = (this.options.now ?? Date.now)()
    const rate = perMinute / 60_000 // tokens per ms
    const bucket = this.buckets.get(id) ?? {tokens: perMinute, at: now}
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
    this.buckets.set(id, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return (1 - bucket.tokens) / rate / 1000
  }

  private async reload(): Promise<void> {
    const {file} = this.options
    if (!file) return
    const now = Date.now()
    if (now - this.checkedAt < (this.options.reloadMs ?? 500)) return
    this.checkedAt = now
    const mtimeMs = await stat(file).then(
      (s) => s.mtimeMs,
      () => 0,
    )
    if (mtimeMs === this.mtimeMs) return
    this.mtimeMs = mtimeMs
    try {
      this.stored = (await readApiKeyFile(file)).keys
    } catch {
      // A file being replaced or broken keeps the keys last read; the next change is read again.
    }
  }
}
