import {describe, expect, it} from 'vitest'

import {createJsonLogger} from '../../../src/util/logger.js'
import {SECURITY_EVENT_KINDS, Telemetry} from '../../../src/util/telemetry.js'

describe('Telemetry', () => {
  it('counts, logs and hands out a security event in one call', async () => {
    const lines: string[] = []
    const telemetry = new Telemetry({logger: createJsonLogger((line) => lines.push(line)), defaultMetrics: false})
    const seen: string[] = []
    const stop = telemetry.onSecurityEvent((event) => seen.push(`${event.kind}:${event.id}`))
    const event = telemetry.security('guard-reject', 'transaction rejected by module withdrawal-guard', {module: 'withdrawal-guard'})
    stop()
    telemetry.security('guard-reject', 'again', {})
    expect(seen).toEqual([`guard-reject:${event.id}`])
    expect(event).toMatchObject({type: 'security', kind: 'guard-reject', details: {module: 'withdrawal-guard'}})
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(logged[0]).toMatchObject({level: 'warn', msg: 'transaction rejected by module withdrawal-guard', event: 'security', kind: 'guard-reject', eventId: event.id})
    const text = await telemetry.metrics()
    expect(text).toContain('xai_security_events_total{kind="guard-reject"} 2')
  })

  it('exposes every kind from zero, so a rate() alert works before the first event', async () => {
    const text = await new Telemetry({defaultMetrics: false}).metrics()
    for (const kind of SECURITY_EVENT_KINDS) expect(text).toContain(`xai_security_events_total{kind="${kind}"} 0`)
    expect(text).toContain('# TYPE xai_security_events_total counter')
  })

  it('keeps one registry per instance (two nodes in one process do not share counts)', async () => {
    const a = new Telemetry()
    const b = new Telemetry()
    a.security('bad-peer', 'x')
    expect(await a.metrics()).toContain('xai_security_events_total{kind="bad-peer"} 1')
    expect(await b.metrics()).toContain('xai_security_events_total{kind="bad-peer"} 0')
    // prom-client's default process metrics are in each, less the gauges it names like counters.
    expect(await b.metrics()).toContain('process_cpu_seconds_total')
    expect(await b.metrics()).not.toContain('nodejs_active_handles_total')
  })

  it('reads a component counter at scrape time as a counter, restarting when the source does', async () => {
    const telemetry = new Telemetry({defaultMetrics: false})
    let value = 3
    telemetry.counter('xai_test_things_total', 'Things', () => value)
    expect(await telemetry.metrics()).toMatch(/^xai_test_things_total 3$/m)
    value = 5
    expect(await telemetry.metrics()).toMatch(/^xai_test_things_total 5$/m)
    value = 1
    expect(await telemetry.metrics()).toMatch(/^xai_test_things_total 1$/m)
  })

  it('reads labelled gauges at scrape time, dropping labels that went away', async () => {
    const telemetry = new Telemetry({defaultMetrics: false})
    let states: Record<string, number> = {Active: 1, Executed: 2}
    telemetry.labelledGauge('xai_test_proposals', 'Proposals', 'state', () => states)
    expect(await telemetry.metrics()).toContain('xai_test_proposals{state="Executed"} 2')
    states = {Active: 0}
    const text = await telemetry.metrics()
    expect(text).toContain('xai_test_proposals{state="Active"} 0')
    expect(text).not.toContain('state="Executed"')
  })

  it('keeps serving when a listener throws', () => {
    const telemetry = new Telemetry({defaultMetrics: false})
    telemetry.onSecurityEvent(() => {
      throw new Error('boom')
    })
    expect(() => telemetry.security('bad-peer', 'x')).not.toThrow()
  })
})
