// docs/monitoring.md, the alert rules and the Grafana dashboard name only metrics that exist, and
// every xai metric a node exposes is documented there.
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {registerConsensusMetrics, registerNodeMetrics} from '../../../src/node/metrics.js'
import {WebhookSender} from '../../../src/node/webhook-sender.js'
import {Telemetry} from '../../../src/util/telemetry.js'
import {createModuleNode} from '../../helpers/module-node.js'

const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8')
const docs = read('docs/monitoring.md')
const documented = new Set([...docs.matchAll(/^\| `(xai_[a-z0-9_]+)` \|/gm)].map((m) => m[1]!))
const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})

/** Metric family names in PromQL text (histogram series reduced to their family). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:xai|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''))
}

async function exposedNames(): Promise<{names: Set<string>; text: string}> {
  const node = await createModuleNode()
  closers.push(() => node.close())
  const telemetry = new Telemetry()
  registerNodeMetrics(telemetry, {chain: node.chain, mempool: node.mempool})
  const engine = {consensusState: () => ({round: 0}), stats: {roundsAboveZero: 0, evidenceCommitted: 0, evidenceSeen: 0, blocksSynced: 0}}
  registerConsensusMetrics(telemetry, {engine: engine as never, host: {peers: () => []} as never})
  const dir = await mkdtemp(join(tmpdir(), 'xai-docs-test-'))
  const sender = await WebhookSender.create({url: 'http://127.0.0.1:9/never', secret: 'x'.repeat(32), queueDir: join(dir, 'queue'), telemetry})
  closers.push(async () => {
    await sender.close()
    await rm(dir, {recursive: true, force: true})
  })
  const text = await telemetry.metrics()
  return {names: new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!)), text}
}

describe('monitoring documentation and assets', () => {
  it('documents every xai metric a node exposes, and nothing it does not', async () => {
    const {names} = await exposedNames()
    const xai = [...names].filter((n) => n.startsWith('xai_')).sort()
    expect(xai.filter((n) => !documented.has(n))).toEqual([])
    expect([...documented].filter((n) => !names.has(n))).toEqual([])
    // prom-client's defaults are there too.
    expect(names.has('process_cpu_seconds_total')).toBe(true)
    expect(names.has('nodejs_eventloop_lag_p99_seconds')).toBe(true)
  }, 60_000)

  it('alert rules and the dashboard query only metrics that exist', async () => {
    const {names} = await exposedNames()
    const known = (name: string): boolean => names.has(name) || name === 'up'
    const rules = parse(read('templates/monitoring/xai-alerts.yml')) as {groups: {name: string; rules: {alert: string; expr: string; labels: {severity: string}; annotations: {summary: string}}[]}[]}
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr))
    expect(exprs.length).toBeGreaterThan(10)
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity)
      expect(rule.annotations.summary.length).toBeGreaterThan(0)
    }
    const dashboard = JSON.parse(read('templates/monitoring/xai-grafana-dashboard.json')) as {panels: {title: string; targets: {expr: string}[]}[]; uid: string}
    expect(dashboard.uid).toBe('xai-devnet')
    const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))
    expect(panelExprs.length).toBeGreaterThan(10)
    for (const expr of [...exprs, ...panelExprs]) {
      for (const name of metricNames(expr)) expect(known(name), `${name} in ${expr}`).toBe(true)
    }
    // Every security event kind has a panel (the by-kind one) and the double-signing alert exists.
    expect(exprs.some((e) => e.includes('kind="duplicate-vote"'))).toBe(true)
  }, 60_000)
})
