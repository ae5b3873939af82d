import {mkdir, readFile, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {Counter, Gauge, Histogram} from 'prom-client'

import {writeFileAtomic} from '../util/atomic-write.js'
import {errorMessage} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import type {Telemetry} from '../util/telemetry.js'
import {WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, signWebhook} from '../util/webhook-signature.js'

export interface WebhookSenderOptions {
  url: string
  /** The shared secret deliveries are signed with (HMAC-SHA256). */
  secret: string
  /** Folder of the on-disk queue (one file per undelivered event). */
  queueDir: string
  /** Added to every delivered body as `source` (node index, chain id, …). */
  source?: Record<string, unknown>
  /** Most undelivered events kept; past it the oldest is dropped (default 10,000). */
  maxQueue?: number
  /** One attempt's time limit (default 10 s). */
  timeoutMs?: number
  /** First retry delay; it doubles per failed attempt up to maxBackoffMs (defaults 1 s and 30 s). */
  minBackoffMs?: number
  maxBackoffMs?: number
  logger?: Logger
  telemetry?: Telemetry
}

/** Something webhooks deliver: an id for de-duplication and a type, plus its own fields. */
export interface WebhookEvent {
  id: string
  type: string
  [field: string]: unknown
}

interface Queued {
  seq: number
  id: string
  body: string
  enqueuedAt: number
  /** Resolves once the event's queue file is written. */
  written: Promise<void>
}

const FILE = /^(\d{12})-([A-Za-z0-9._-]{1,200})\.json$/

/**
 * Delivers events to one URL as signed JSON POSTs, in order, at least once. Every event is
 * written to the queue folder before it is sent and removed only after a 2xx answer, so a
 * receiver that is down loses nothing, across node restarts too (the queue is read back at
 * start). A failed attempt is retried after a delay that doubles up to a ceiling. The queue is
 * bounded: past `maxQueue` the oldest event is dropped (counted and logged).
 */
export class WebhookSender {
  private readonly queue: Queued[] = []
  private nextSeq = 1
  private closed = false
  private wake?: () => void
  private loop?: Promise<void>
  private inflight?: AbortController
  private readonly removing = new Set<Promise<unknown>>()
  private readonly logger: Logger
  private readonly metrics?: {deliveries: Counter<'result'>; dropped: Counter; latency: Histogram}

  private constructor(private readonly options: WebhookSenderOptions) {
    this.logger = options.logger ?? silentLogger
    const registry = options.telemetry?.registry
    if (registry) {
      const registers = [registry]
      const queue = this.queue
      new Gauge({
        name: 'xai_webhook_queue_events',
        help: 'Events waiting for delivery to the webhook',
        registers,
        collect() {
          this.set(queue.length)
        },
      })
      this.metrics = {
        deliveries: new Counter({name: 'xai_webhook_deliveries_total', help: 'Webhook delivery attempts by result (ok, failed)', labelNames: ['result'], registers}),
        dropped: new Counter({name: 'xai_webhook_dropped_total', help: 'Undelivered webhook events dropped because the queue was full', registers}),
        latency: new Histogram({name: 'xai_webhook_delivery_seconds', help: 'Time from an event entering the webhook queue to its acknowledged delivery', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300], registers}),
      }
      this.metrics.deliveries.inc({result: 'ok'}, 0)
      this.metrics.deliveries.inc({result: 'failed'}, 0)
    }
  }

  /** Opens the queue folder, reads back what an earlier run left undelivered, and starts sending. */
  static async create(options: WebhookSenderOptions): Promise<WebhookSender> {
    const sender = new WebhookSender(options)
    await mkdir(options.queueDir, {recursive: true, mode: 0o700})
    const names = (await readdir(options.queueDir)).filter((name) => FILE.test(name)).sort()
    for (const name of names) {
      const [, seq, id] = FILE.exec(name)!
      try {
        const stored = JSON.parse(await readFile(join(options.queueDir, name), 'utf8')) as {body?: unknown; enqueuedAt?: unknown}
        if (typeof stored.body !== 'string') throw new Error('no body')
        sender.queue.push({seq: Number(seq), id: id!, body: stored.body, enqueuedAt: Number(stored.enqueuedAt) || Date.now(), written: Promise.resolve()})
        sender.nextSeq = Number(seq) + 1
      } catch (err) {
        sender.logger.warn('dropping an unreadable webhook queue file', {file: name, error: errorMessage(err)})
        await rm(join(options.queueDir, name), {force: true})
      }
    }
    if (sender.queue.length > 0) sender.logger.info('webhook queue resumed', {events: sender.queue.length})
    sender.trim()
    sender.loop = sender.run()
    return sender
  }

  /** Undelivered events (the one being sent included). */
  get pending(): number {
    return this.queue.length
  }

  /** Queues an event (written to disk at once) for delivery. */
  enqueue(event: WebhookEvent): void {
    if (this.closed) return
    const body = JSON.stringify({...event, ...(this.options.source ? {source: this.options.source} : {})})
    const seq = this.nextSeq++
    const id = event.id.replaceAll(/[^A-Za-z0-9._-]/g, '_').slice(0, 200)
    const enqueuedAt = Date.now()
    const written = writeFileAtomic(this.file(seq, id), JSON.stringify({body, enqueuedAt}), {mode: 0o600}).catch((err) => {
      this.logger.error('webhook queue write failed', {event: event.id, error: errorMessage(err)})
    })
    this.queue.push({seq, id, body, enqueuedAt, written})
    this.trim()
    this.wake?.()
  }

  /** Stops sending; what is undelivered stays on disk for the next start. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.inflight?.abort()
    this.wake?.()
    await this.loop
    await Promise.all([...this.queue.map((q) => q.written), ...this.removing])
  }

  private file(seq: number, id: string): string {
    return join(this.options.queueDir, `${String(seq).padStart(12, '0')}-${id}.json`)
  }

  /** Drops the oldest events past the bound (never the one being sent). */
  private trim(): void {
    const max = this.options.maxQueue ?? 10_000
    while (this.queue.length > max) {
      const index = this.inflight && this.queue.length > 1 ? 1 : 0
      const [dropped] = this.queue.splice(index, 1)
      this.metrics?.dropped.inc()
      this.logger.warn('webhook queue full; dropped the oldest undelivered event', {event: dropped!.id, max})
      void dropped!.written.then(() => rm(this.file(dropped!.seq, dropped!.id), {force: true}))
    }
  }

  private async run(): Promise<void> {
    let failures = 0
    while (!this.closed) {
      const head = this.queue[0]
      if (!head) {
        await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = undefined
        continue
      }
      const delivered = await this.attempt(head)
      if (this.closed) return
      if (delivered) {
        failures = 0
        this.metrics?.latency.observe((Date.now() - head.enqueuedAt) / 1000)
        if (this.queue[0] === head) this.queue.shift()
        // The next delivery does not wait for the disk: the file goes once it is written (a crash
        // before that re-sends the event after the restart, which at-least-once allows).
        const removal: Promise<unknown> = head.written.then(() => rm(this.file(head.seq, head.id), {force: true})).catch(() => undefined)
        this.removing.add(removal)
        void removal.finally(() => this.removing.delete(removal))
        continue
      }
      failures++
      const min = this.options.minBackoffMs ?? 1_000
      const max = this.options.maxBackoffMs ?? 30_000
      const delay = Math.min(max, min * 2 ** Math.min(failures - 1, 20))
      // A little jitter, so several nodes sending to one receiver do not retry in lockstep.
      await this.sleep(delay * (0.8 + Math.random() * 0.4))
    }
  }

  private async attempt(item: Queued): Promise<boolean> {
    const controller = new AbortController()
    this.inflight = controller
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? 10_000)
    try {
      const timestamp = Math.floor(Date.now() / 1000)
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.options.secret, item.body, timestamp),
          [WEBHOOK_EVENT_ID_HEADER]: item.id,
          'user-agent': 'xai-webhook/1',
        },
        body: item.body,
        signal: controller.signal,
      })
      await response.arrayBuffer().catch(() => undefined)
      if (response.ok) {
        this.metrics?.deliveries.inc({result: 'ok'})
        return true
      }
      this.metrics?.deliveries.inc({result: 'failed'})
      this.logger.warn('webhook delivery refused; will retry', {event: item.id, status: response.status})
      return false
    } catch (err) {
      if (this.closed) return false
      this.metrics?.deliveries.inc({result: 'failed'})
      this.logger.warn('webhook delivery failed; will retry', {event: item.id, error: errorMessage(err)})
      return false
    } finally {
      clearTimeout(timer)
      this.inflight = undefined
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined
        resolve()
      }, ms)
      // close() ends the wait early.
      this.wake = () => {
        if (!this.closed) return
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
