import {randomUUID} from 'node:crypto'

import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'

import {type Logger, silentLogger} from './logger.js'

/**
 * The kinds of security event a node raises, one per event class. `attestation-failed` and
 * `proof-failed` are reserved for federated learning (a node never raises them today).
 */
export const SECURITY_EVENT_KINDS = [
  'duplicate-vote',
  'invalid-block',
  'bad-peer',
  'module-reject',
  'guard-reject',
  'guard-delay',
  'rule-reject',
  'rule-flag',
  'api-unauthorized',
  'api-rate-limited',
  'attestation-failed',
  'proof-failed',
] as const

export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number]

/** One security event as it is logged and sent to webhooks. */
export interface SecurityEvent {
  /** Unique per event (receivers de-duplicate on it: delivery is at least once). */
  id: string
  type: 'security'
  kind: SecurityEventKind
  /** ISO 8601. */
  time: string
  message: string
  details: Record<string, unknown>
}

export type SecurityListener = (event: SecurityEvent) => void

/** Seconds buckets for work that takes milliseconds to seconds (block execution, RPC, rounds). */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Seconds buckets around a block time (intervals between blocks, send to commit). */
const BLOCK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60]

/**
 * A node's metrics and security events. Each node owns one, with its own prom-client registry
 * (several nodes run in one process in tests, so nothing goes to prom-client's global registry).
 * Libraries get it through their options and record into it; the node serves `registry` on
 * GET /metrics.
 *
 * `security()` is the one way to raise a security event: it counts it in
 * `xai_security_events_total{kind}`, logs it as `{"event":"security","kind":…}` and hands it to
 * the listeners (webhooks).
 */
export class Telemetry {
  readonly registry = new Registry()
  readonly securityEvents: Counter<'kind'>
  /** Wall-clock seconds between consecutive blocks this node committed. */
  readonly blockInterval: Histogram
  /** Seconds this node spent executing and sealing a block it produced (proposer / producer). */
  readonly blockExecution: Histogram
  /** Seconds spent re-executing a block another validator made (`source`: proposal or sync). */
  readonly reexecution: Histogram<'source'>
  /** Seconds from a transaction's admission to this node's mempool to the commit of its block. */
  readonly sendToCommit: Histogram
  /** Seconds per JSON-RPC request, by method (only methods the node has: bounded labels). */
  readonly rpcDuration: Histogram<'method'>
  /** Seconds per consensus round, by how it ended (`outcome`: commit, or next-round after a timeout or a later round's quorum). */
  readonly roundDuration: Histogram<'outcome'>
  private readonly listeners = new Set<SecurityListener>()
  private readonly logger: Logger

  constructor(options: {logger?: Logger; defaultMetrics?: boolean; labels?: Record<string, string>} = {}) {
    this.logger = options.logger ?? silentLogger
    if (options.labels) this.registry.setDefaultLabels(options.labels)
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({register: this.registry})
      // prom-client names these three gauges like counters (promtool check metrics refuses them);
      // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources carry the same
      // counts by type.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name)
    }
    const registers = [this.registry]
    this.securityEvents = new Counter({name: 'xai_security_events_total', help: 'Security events raised by this node, by kind', labelNames: ['kind'], registers})
    for (const kind of SECURITY_EVENT_KINDS) this.securityEvents.inc({kind}, 0)
    this.blockInterval = new Histogram({name: 'xai_chain_block_interval_seconds', help: 'Wall-clock time between consecutive blocks committed by this node', buckets: BLOCK_BUCKETS, registers})
    this.blockExecution = new Histogram({name: 'xai_chain_block_execution_seconds', help: 'Time to execute and seal a block this node produced', buckets: SECONDS_BUCKETS, registers})
    this.reexecution = new Histogram({name: 'xai_consensus_reexecution_seconds', help: 'Time to re-execute a block made by another validator, by source (proposal, sync)', labelNames: ['source'], buckets: SECONDS_BUCKETS, registers})
    this.sendToCommit = new Histogram({name: 'xai_tx_send_to_commit_seconds', help: 'Time from a transaction entering this node\'s mempool to the commit of its block', buckets: BLOCK_BUCKETS, registers})
    this.rpcDuration = new Histogram({name: 'xai_rpc_request_duration_seconds', help: 'JSON-RPC request time by method', labelNames: ['method'], buckets: SECONDS_BUCKETS, registers})
    this.roundDuration = new Histogram({name: 'xai_consensus_round_duration_seconds', help: 'Duration of a consensus round, by outcome (commit, next-round)', labelNames: ['outcome'], buckets: [...SECONDS_BUCKETS.slice(4), 60], registers})
    // Known label values start at zero, so their series exist from the first scrape (a node that has
    // not yet re-executed a block still exports the histogram; rate() and alerts see a 0, not a gap).
    for (const source of ['proposal', 'sync']) this.reexecution.zero({source})
    for (const outcome of ['commit', 'next-round']) this.roundDuration.zero({outcome})
  }

  /** Raises a security event: counted, logged, and passed to every listener. Returns it. */
  security(kind: SecurityEventKind, message: string, details: Record<string, unknown> = {}): SecurityEvent {
    const event: SecurityEvent = {id: randomUUID(), type: 'security', kind, time: new Date().toISOString(), message, details}
    this.securityEvents.inc({kind})
    this.logger.warn(message, {event: 'security', kind, eventId: event.id, ...details})
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (err) {
        this.logger.error('security event listener failed', {error: err instanceof Error ? err.message : String(err)})
      }
    }
    return event
  }

  /** Calls `listener` for every later security event; returns the function that stops it. */
  onSecurityEvent(listener: SecurityListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A gauge whose value is read when /metrics is scraped. */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read())
      },
    })
  }

  /** A gauge with labels, read at scrape time as a map of label value → value. */
  labelledGauge(name: string, help: string, label: string, read: () => Record<string, number> | Promise<Record<string, number>>): void {
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      async collect() {
        this.reset()
        for (const [value, count] of Object.entries(await read())) this.set({[label]: value}, count)
      },
    })
  }

  /**
   * A counter kept elsewhere (a component's own running count), read at scrape time. Exposed as
   * a counter; should the source count go back (a restarted component), the counter restarts.
   */
  counter(name: string, help: string, read: () => number | Promise<number>): void {
    let last = 0
    new Counter({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const now = await read()
        if (now < last) {
          this.reset()
          this.inc(now)
        } else {
          this.inc(now - last)
        }
        last = now
      },
    })
  }

  /** The Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

/** Seconds since a `performance.now()` reading. */
export function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1000
}
