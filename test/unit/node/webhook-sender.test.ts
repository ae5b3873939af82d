import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {WebhookSender} from '../../../src/node/webhook-sender.js'
import {Telemetry} from '../../../src/util/telemetry.js'
import {verifyWebhook} from '../../../src/util/webhook-signature.js'

const secret = 'unit-test-secret-0123456789'

interface Delivery {
  id: string
  headers: http.IncomingHttpHeaders
  body: string
}

/** A receiver answering with `status()` for each request, recording what it got. */
async function receiver(status: () => number): Promise<{url: string; got: Delivery[]; close(): Promise<void>}> {
  const got: Delivery[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const code = status()
      if (code < 300) got.push({id: (JSON.parse(body) as {id: string}).id, headers: req.headers, body})
      res.writeHead(code)
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise<void>((r) => {
      server.close(() => r())
      server.closeAllConnections()
    }),
  }
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function queueDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xai-webhook-'))
  cleanup.push(() => rm(dir, {recursive: true, force: true}))
  return join(dir, 'queue')
}

describe('WebhookSender', () => {
  it('delivers signed JSON in order, with the event id in a header and the body', async () => {
    const rx = await receiver(() => 200)
    cleanup.push(rx.close)
    const telemetry = new Telemetry({defaultMetrics: false})
    const sender = await WebhookSender.create({url: rx.url, secret, queueDir: await queueDir(), source: {node: 2}, telemetry})
    cleanup.push(() => sender.close())
    for (let i = 0; i < 5; i++) sender.enqueue({id: `e${i}`, type: 'security', kind: 'bad-peer'})
    await until(() => rx.got.length === 5)
    expect(rx.got.map((d) => d.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4'])
    for (const d of rx.got) {
      expect(verifyWebhook({secret, header: d.headers['x-xai-signature'] as string, body: d.body}).ok).toBe(true)
      expect(d.headers['x-xai-event-id']).toBe(d.id)
      expect(JSON.parse(d.body)).toMatchObject({type: 'security', source: {node: 2}})
    }
    await until(() => sender.pending === 0)
    expect(await telemetry.metrics()).toContain('xai_webhook_deliveries_total{result="ok"} 5')
  })

  it('retries a failing receiver with backoff and loses nothing', async () => {
    let calls = 0
    const rx = await receiver(() => (++calls <= 3 ? 503 : 200))
    cleanup.push(rx.close)
    const sender = await WebhookSender.create({url: rx.url, secret, queueDir: await queueDir(), minBackoffMs: 20, maxBackoffMs: 100})
    cleanup.push(() => sender.close())
    sender.enqueue({id: 'a', type: 'governance'})
    sender.enqueue({id: 'b', type: 'governance'})
    await until(() => rx.got.length === 2)
    expect(rx.got.map((d) => d.id)).toEqual(['a', 'b'])
    expect(calls).toBe(5)
  })

  it('keeps undelivered events on disk across a restart and sends them when the receiver is back', async () => {
    const dir = await queueDir()
    let up = false
    const rx = await receiver(() => (up ? 200 : 500))
    cleanup.push(rx.close)
    const first = await WebhookSender.create({url: rx.url, secret, queueDir: dir, minBackoffMs: 20, maxBackoffMs: 50})
    first.enqueue({id: 'x1', type: 'security'})
    first.enqueue({id: 'x2', type: 'security'})
    await new Promise((r) => setTimeout(r, 100))
    await first.close()
    expect((await readdir(dir)).filter((n) => !n.startsWith('.'))).toHaveLength(2)
    up = true
    const second = await WebhookSender.create({url: rx.url, secret, queueDir: dir, minBackoffMs: 20, maxBackoffMs: 50})
    cleanup.push(() => second.close())
    expect(second.pending).toBe(2)
    second.enqueue({id: 'x3', type: 'security'})
    await until(() => rx.got.length === 3)
    expect(rx.got.map((d) => d.id)).toEqual(['x1', 'x2', 'x3'])
    await until(() => second.pending === 0)
    await new Promise((r) => setTimeout(r, 50))
    expect(await readdir(dir)).toEqual([])
  })

  it('bounds the queue: past maxQueue the oldest undelivered events are dropped and counted', async () => {
    const rx = await receiver(() => 500)
    cleanup.push(rx.close)
    const dir = await queueDir()
    const telemetry = new Telemetry({defaultMetrics: false})
    const sender = await WebhookSender.create({url: rx.url, secret, queueDir: dir, maxQueue: 3, minBackoffMs: 1_000, telemetry})
    cleanup.push(() => sender.close())
    for (let i = 0; i < 6; i++) sender.enqueue({id: `q${i}`, type: 'security'})
    expect(sender.pending).toBe(3)
    expect(await telemetry.metrics()).toContain('xai_webhook_dropped_total 3')
    // The dropped events' files go too (once written); the kept three stay, oldest dropped.
    let names: string[] = []
    const end = Date.now() + 10_000
    while (Date.now() < end) {
      names = (await readdir(dir)).filter((n) => !n.startsWith('.'))
      if (names.length === 3) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(names.map((n) => n.replace(/^\d+-/, ''))).toEqual(['q3.json', 'q4.json', 'q5.json'])
  })
})
