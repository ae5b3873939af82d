// Summaries, xai/anvil ratios, the pass/fail targets, and the human table.
import type {CallScenarioResult, NodeCpu, ScenarioResult, TxScenarioResult} from './scenarios.js'
import {median, MiB, round} from './stats.js'

export interface RunRecord {
  target: string
  scenario: string
  ok: boolean
  error?: string
  startupMs?: number
  chainId?: number
  /** Kernel high-water mark (VmHWM) of the main node process at the end of the run. */
  peakRssBytes?: number
  /** Peak of the summed VmRSS over the target's process tree, sampled every 100 ms. */
  peakTreeRssBytes?: number
  result?: ScenarioResult
}

export interface TargetSummary {
  transfersTps?: number
  transfersP50Ms?: number
  transfersP95Ms?: number
  /** CPU per transaction of the busiest node process (all nodes in transfersNodeCpu), µs. */
  transfersCpuUsPerTx?: number
  transfersNodeCpu?: NodeCpu[]
  erc20Tps?: number
  erc20P50Ms?: number
  erc20P95Ms?: number
  erc20CpuUsPerTx?: number
  erc20NodeCpu?: NodeCpu[]
  callsPerSec?: number
  callsP50Ms?: number
  callsP95Ms?: number
  /** The calls-cached scenario: 10 request bodies repeated (not scored: a cache answers most). */
  cachedCallsPerSec?: number
  cachedCallsP50Ms?: number
  /** Send → inclusion at 20 tx/s (the latency scenario). */
  steadyP50Ms?: number
  steadyP95Ms?: number
  /** Median over all fresh starts of this target in the run. */
  startupMs?: number
  startupMaxMs?: number
  starts: number
  /** Max VmHWM over all runs, MiB. */
  peakRssMiB?: number
  peakTreeRssMiB?: number
  errors: string[]
}

type MetricKey = Exclude<keyof TargetSummary, 'starts' | 'errors' | 'startupMaxMs' | 'peakTreeRssMiB' | 'transfersNodeCpu' | 'erc20NodeCpu'>

export interface Check {
  metric: string
  target: string
  value?: number
  pass: boolean | null
}

interface MetricDef {
  key: MetricKey
  label: string
  unit: string
  digits: number
  /** Issue target for xai, as ratio vs anvil (higher is better) or absolute bound. */
  goal?: {kind: 'ratio'; min: number} | {kind: 'max'; value: number; strict: boolean}
  /** A row shown only when some target has a figure (a scenario run only on request). */
  optional?: boolean
}

const METRICS: MetricDef[] = [
  {key: 'transfersTps', label: 'ETH transfers', unit: 'tx/s', digits: 1, goal: {kind: 'ratio', min: 0.7}},
  {key: 'transfersP50Ms', label: '  latency p50', unit: 'ms', digits: 0},
  {key: 'transfersP95Ms', label: '  latency p95', unit: 'ms', digits: 0},
  {key: 'transfersCpuUsPerTx', label: '  CPU per tx, busiest node', unit: 'µs', digits: 0, goal: {kind: 'max', value: 250, strict: false}},
  {key: 'erc20Tps', label: 'ERC-20 transfers', unit: 'tx/s', digits: 1, goal: {kind: 'ratio', min: 0.7}},
  {key: 'erc20P50Ms', label: '  latency p50', unit: 'ms', digits: 0},
  {key: 'erc20P95Ms', label: '  latency p95', unit: 'ms', digits: 0},
  {key: 'erc20CpuUsPerTx', label: '  CPU per tx, busiest node', unit: 'µs', digits: 0, goal: {kind: 'max', value: 500, strict: false}},
  {key: 'callsPerSec', label: 'eth_call balanceOf (distinct)', unit: 'calls/s', digits: 0, goal: {kind: 'ratio', min: 1.0}},
  {key: 'callsP50Ms', label: '  latency p50', unit: 'ms', digits: 1},
  {key: 'callsP95Ms', label: '  latency p95', unit: 'ms', digits: 1},
  {key: 'cachedCallsPerSec', label: 'eth_call, 10 bodies repeated', unit: 'calls/s', digits: 0, optional: true},
  {key: 'cachedCallsP50Ms', label: '  latency p50', unit: 'ms', digits: 1, optional: true},
  {key: 'steadyP50Ms', label: 'latency at 20 tx/s p50', unit: 'ms', digits: 0, goal: {kind: 'max', value: 1000, strict: false}},
  {key: 'steadyP95Ms', label: '  latency p95', unit: 'ms', digits: 0},
  {key: 'startupMs', label: 'startup (median)', unit: 'ms', digits: 0, goal: {kind: 'max', value: 1500, strict: true}},
  {key: 'peakRssMiB', label: 'peak RSS (VmHWM)', unit: 'MiB', digits: 1, goal: {kind: 'max', value: 150, strict: false}},
]

function cpuFigures(prefix: 'transfers' | 'erc20', result: TxScenarioResult): Partial<TargetSummary> {
  const nodes = result.nodeCpu ?? []
  if (nodes.length === 0) return {}
  return {[`${prefix}CpuUsPerTx`]: Math.max(...nodes.map((n) => n.cpuUsPerTx)), [`${prefix}NodeCpu`]: nodes}
}

/** One line per node: CPU per transaction, and how many of the load's blocks and transactions it proposed. */
export function nodeCpuLines(summary: Record<string, TargetSummary>, targets: string[]): string[] {
  const out: string[] = []
  for (const t of targets) {
    for (const [label, nodes] of [['ETH transfers', summary[t]?.transfersNodeCpu], ['ERC-20 transfers', summary[t]?.erc20NodeCpu]] as const) {
      if (!nodes || nodes.length < 2) continue
      out.push(`${t}, ${label}: CPU per tx per node (timed window)`)
      nodes.forEach((n, i) => {
        const role = n.proposedBlocks > 0 ? `proposed ${n.proposedBlocks} block(s), ${n.proposedTxs} txs` : 'proposed none'
        out.push(`  node ${i}${i === 0 ? ' (RPC target)' : ''}: ${fmt(n.cpuUsPerTx, 0)} µs/tx (${fmt(n.cpuMs, 0)} ms CPU), ${role}`)
      })
    }
  }
  return out
}

export function summarize(runs: RunRecord[], targets: string[]): Record<string, TargetSummary> {
  const out: Record<string, TargetSummary> = {}
  for (const target of targets) {
    const mine = runs.filter((r) => r.target === target)
    const s: TargetSummary = {starts: 0, errors: mine.filter((r) => !r.ok).map((r) => `${r.scenario}: ${r.error}`)}
    const tx = (name: string) => mine.find((r) => r.ok && r.scenario === name)?.result as TxScenarioResult | undefined
    const transfers = tx('transfers')
    const erc20 = tx('erc20')
    const callResult = (name: string) => mine.find((r) => r.ok && r.scenario === name)?.result as CallScenarioResult | undefined
    const calls = callResult('calls')
    const cached = callResult('calls-cached')
    if (transfers) Object.assign(s, {transfersTps: transfers.tps, transfersP50Ms: transfers.latencyP50Ms, transfersP95Ms: transfers.latencyP95Ms, ...cpuFigures('transfers', transfers)})
    if (erc20) Object.assign(s, {erc20Tps: erc20.tps, erc20P50Ms: erc20.latencyP50Ms, erc20P95Ms: erc20.latencyP95Ms, ...cpuFigures('erc20', erc20)})
    const steady = tx('latency')
    if (steady) Object.assign(s, {steadyP50Ms: steady.latencyP50Ms, steadyP95Ms: steady.latencyP95Ms})
    if (calls) Object.assign(s, {callsPerSec: calls.callsPerSec, callsP50Ms: calls.latencyP50Ms, callsP95Ms: calls.latencyP95Ms})
    if (cached) Object.assign(s, {cachedCallsPerSec: cached.callsPerSec, cachedCallsP50Ms: cached.latencyP50Ms})
    const startups = mine.map((r) => r.startupMs).filter((v): v is number => v !== undefined)
    s.starts = startups.length
    if (startups.length > 0) {
      s.startupMs = median(startups)
      s.startupMaxMs = Math.max(...startups)
    }
    const rss = mine.map((r) => r.peakRssBytes).filter((v): v is number => v !== undefined)
    if (rss.length > 0) s.peakRssMiB = Math.max(...rss) / MiB
    const tree = mine.map((r) => r.peakTreeRssBytes).filter((v): v is number => v !== undefined)
    if (tree.length > 0) s.peakTreeRssMiB = Math.max(...tree) / MiB
    out[target] = s
  }
  return out
}

/** The targets, evaluated for `subject` (xai) against `baseline` (anvil). */
export function checks(summary: Record<string, TargetSummary>, subject = 'xai', baseline = 'anvil'): Check[] {
  const s = summary[subject]
  if (!s) return []
  const b = summary[baseline]
  const out: Check[] = []
  for (const m of METRICS) {
    if (!m.goal) continue
    const value = s[m.key]
    if (m.key === 'startupMs' && subject !== 'xai') {
      // A devnet of several validators: from `xai devnet up` to the first committed block.
      out.push({metric: m.key, target: '< 2000 ms', value, pass: value === undefined ? null : value < 2_000})
      continue
    }
    if (m.goal.kind === 'ratio') {
      const base = b?.[m.key]
      const ratio = value !== undefined && base !== undefined && base > 0 ? value / base : undefined
      out.push({metric: m.key, target: `≥ ${m.goal.min.toFixed(1)}× ${baseline}`, value: ratio, pass: ratio === undefined ? null : ratio >= m.goal.min})
    } else {
      const pass = value === undefined ? null : m.goal.strict ? value < m.goal.value : value <= m.goal.value
      out.push({metric: m.key, target: `${m.goal.strict ? '<' : '≤'} ${m.goal.value} ${m.unit}`, value, pass})
    }
  }
  return out
}

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '—'
  return round(value, digits).toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})
}

export function table(summary: Record<string, TargetSummary>, targets: string[], subject = 'xai', baseline = 'anvil'): string {
  const showRatio = targets.includes(subject) && targets.includes(baseline)
  const checkList = checks(summary, subject, baseline)
  const header = ['metric', 'unit', ...targets, ...(showRatio ? [`${subject}/${baseline}`] : []), ...(targets.includes(subject) ? [`${subject} target`, 'result'] : [])]
  const rows: string[][] = [header]
  for (const m of METRICS) {
    if (m.optional && targets.every((t) => summary[t]?.[m.key] === undefined)) continue
    const row = [m.label, m.unit, ...targets.map((t) => fmt(summary[t]?.[m.key], m.digits))]
    if (showRatio) {
      const a = summary[subject]?.[m.key]
      const b = summary[baseline]?.[m.key]
      row.push(a !== undefined && b !== undefined && b > 0 ? `${fmt(a / b, 2)}×` : '—')
    }
    if (targets.includes(subject)) {
      const c = checkList.find((x) => x.metric === m.key)
      row.push(c ? c.target : '', c ? (c.pass === null ? 'n/a' : c.pass ? 'PASS' : 'FAIL') : '')
    }
    rows.push(row)
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)]
  for (const t of targets) {
    const s = summary[t]
    if (s && s.errors.length > 0) out.push('', `${t} errors:`, ...s.errors.map((e) => `  - ${e.split('\n').join('\n    ')}`))
  }
  return out.join('\n')
}
