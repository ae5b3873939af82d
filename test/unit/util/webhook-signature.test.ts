import {createHmac} from 'node:crypto'

import {describe, expect, it} from 'vitest'

import {signWebhook, verifyWebhook} from '../../../src/util/webhook-signature.js'

const secret = 'whsec-test-0123456789'
const body = '{"id":"e1","type":"security","kind":"bad-peer"}'

describe('webhook signatures', () => {
  it('is HMAC-SHA256 over "timestamp.body", as a receiver computes it with node:crypto alone', () => {
    const header = signWebhook(secret, body, 1_700_000_000)
    const v1 = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex')
    expect(header).toBe(`t=1700000000,v1=${v1}`)
  })

  it('accepts a genuine delivery inside the replay window', () => {
    const header = signWebhook(secret, body, 1_700_000_000)
    expect(verifyWebhook({secret, header, body, nowSeconds: 1_700_000_100})).toEqual({ok: true, timestamp: 1_700_000_000})
  })

  it('refuses a changed body, another secret, an old timestamp, and malformed headers, each with the reason', () => {
    const header = signWebhook(secret, body, 1_700_000_000)
    const now = 1_700_000_000
    expect(verifyWebhook({secret, header, body: body.replace('bad-peer', 'rule-flag'), nowSeconds: now})).toMatchObject({ok: false, reason: /does not match/})
    expect(verifyWebhook({secret: 'other', header, body, nowSeconds: now})).toMatchObject({ok: false, reason: /does not match/})
    expect(verifyWebhook({secret, header, body, nowSeconds: now + 301})).toMatchObject({ok: false, reason: /replay window/})
    expect(verifyWebhook({secret, header, body, nowSeconds: now - 301})).toMatchObject({ok: false, reason: /replay window/})
    expect(verifyWebhook({secret, header: undefined, body})).toMatchObject({ok: false, reason: /no x-xai-signature/})
    expect(verifyWebhook({secret, header: 'v1=abc', body})).toMatchObject({ok: false, reason: /no timestamp/})
    expect(verifyWebhook({secret, header: 't=1700000000', body, nowSeconds: now})).toMatchObject({ok: false, reason: /no v1/})
    // A replayed signature with the timestamp moved forward does not match.
    const moved = header.replace('t=1700000000', 't=1700000500')
    expect(verifyWebhook({secret, header: moved, body, nowSeconds: now + 500})).toMatchObject({ok: false, reason: /does not match/})
  })
})
