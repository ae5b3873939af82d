import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {ApiKeyAuthorizer, hashApiKey, newApiKey, readApiKeyFile, writeApiKeyFile} from '../../../src/util/api-keys.js'
import {Telemetry} from '../../../src/util/telemetry.js'

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, {recursive: true, force: true})
})

async function keyFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xai-keys-'))
  dirs.push(dir)
  return join(dir, 'api-keys.json')
}

describe('API keys', () => {
  it('stores only the hash: the file holds no usable key', async () => {
    const file = await keyFile()
    const {key, record} = newApiKey({name: 'ci', scopes: ['write']})
    await writeApiKeyFile(file, {version: 1, keys: [record]})
    const text = await readFile(file, 'utf8')
    expect(text).not.toContain(key.split('_')[2])
    expect(record.sha256).toBe(hashApiKey(key))
    expect((await readApiKeyFile(file)).keys).toHaveLength(1)
  })

  it('checks scopes (admin ⊇ write ⊇ read), revocation, and raises api-unauthorized for every refusal', async () => {
    const file = await keyFile()
    const read = newApiKey({name: 'r', scopes: ['read']})
    const write = newApiKey({name: 'w', scopes: ['write']})
    const admin = newApiKey({name: 'a', scopes: ['admin']})
    await writeApiKeyFile(file, {version: 1, keys: [read.record, write.record, admin.record]})
    const telemetry = new Telemetry({defaultMetrics: false})
    const kinds: string[] = []
    telemetry.onSecurityEvent((e) => kinds.push(e.kind))
    const auth = new ApiKeyAuthorizer({file, telemetry, reloadMs: 0})
    const at = {route: 'POST /x'}
    expect(await auth.authorize(read.key, 'read', at)).toMatchObject({ok: true, keyId: read.record.id})
    expect(await auth.authorize(read.key, 'write', at)).toMatchObject({ok: false, status: 403})
    expect(await auth.authorize(write.key, 'write', at)).toMatchObject({ok: true})
    expect(await auth.authorize(write.key, 'admin', at)).toMatchObject({ok: false, status: 403})
    expect(await auth.authorize(admin.key, 'admin', at)).toMatchObject({ok: true})
    expect(await auth.authorize(admin.key, 'write', at)).toMatchObject({ok: true})
    expect(await auth.authorize(undefined, 'read', at)).toMatchObject({ok: false, status: 401})
    // A key with the right id and a wrong secret, and a malformed key.
    expect(await auth.authorize(`${write.key.slice(0, -4)}AAAA`, 'write', at)).toMatchObject({ok: false, status: 401})
    expect(await auth.authorize('not a key', 'write', at)).toMatchObject({ok: false, status: 401})
    // Revoked: refused from the next read of the file on.
    await writeApiKeyFile(file, {version: 1, keys: [read.record, {...write.record, revokedAt: new Date().toISOString()}, admin.record]})
    expect(await auth.authorize(write.key, 'write', at)).toMatchObject({ok: false, status: 401})
    expect(kinds).toEqual(['api-unauthorized', 'api-unauthorized', 'api-unauthorized', 'api-unauthorized', 'api-unauthorized', 'api-unauthorized'])
    expect(await telemetry.metrics()).toContain('xai_security_events_total{kind="api-unauthorized"} 6')
  })

  it('rate-limits per key with a token bucket and says when to retry (api-rate-limited)', async () => {
    let now = 1_000_000
    const file = await keyFile()
    const slow = newApiKey({name: 'slow', scopes: ['write'], rateLimitPerMinute: 2})
    const other = newApiKey({name: 'other', scopes: ['write'], rateLimitPerMinute: 2})
    await writeApiKeyFile(file, {version: 1, keys: [slow.record, other.record]})
    const telemetry = new Telemetry({defaultMetrics: false})
    const auth = new ApiKeyAuthorizer({file, telemetry, now: () => now, reloadMs: 0})
    const at = {route: 'POST /x'}
    expect((await auth.authorize(slow.key, 'write', at)).ok).toBe(true)
    expect((await auth.authorize(slow.key, 'write', at)).ok).toBe(true)
    const limited = await auth.authorize(slow.key, 'write', at)
    expect(limited).toMatchObject({ok: false, status: 429, retryAfterSeconds: 30})
    // Another key has its own bucket.
    expect((await auth.authorize(other.key, 'write', at)).ok).toBe(true)
    now += 30_000
    expect((await auth.authorize(slow.key, 'write', at)).ok).toBe(true)
    expect(await telemetry.metrics()).toContain('xai_security_events_total{kind="api-rate-limited"} 1')
  })

  it('accepts static keys (the devnet key, the admin token) with their scopes', async () => {
    const auth = new ApiKeyAuthorizer({staticKeys: [{id: 'api-key', name: 'devnet', key: 'k'.repeat(32), scopes: ['write']}]})
    auth.addStaticKey({id: 'admin-token', name: 'admin', key: 't'.repeat(32), scopes: ['admin']})
    expect((await auth.authorize('k'.repeat(32), 'write', {route: 'x'})).ok).toBe(true)
    expect((await auth.authorize('k'.repeat(32), 'admin', {route: 'x'})).ok).toBe(false)
    expect((await auth.authorize('t'.repeat(32), 'admin', {route: 'x'})).ok).toBe(true)
    expect(ApiKeyAuthorizer.credential({authorization: 'Bearer abc'})).toBe('abc')
    expect(ApiKeyAuthorizer.credential({'x-api-key': 'def', authorization: 'Bearer abc'})).toBe('def')
  })
})
