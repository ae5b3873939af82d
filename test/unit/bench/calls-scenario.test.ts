import {describe, expect, it} from 'vitest'

import {summarize, table, type RunRecord} from '../../../bench/lib/report.js'
import {DEFAULT_SCENARIOS, holders, SCENARIOS, type CallScenarioResult} from '../../../bench/lib/scenarios.js'

function callResult(callsPerSec: number, distinctRequests: boolean): CallScenarioResult {
  const round = {callsPerSec, elapsedMs: 1000, latencyP50Ms: 10, latencyP95Ms: 20, loadgenCpuPct: 10, loadgenCpuUsPerCall: 30}
  return {kind: 'call', count: 2000, distinctRequests, ...round, rounds: [round]}
}

describe('bench eth_call scenarios', () => {
  it('runs the distinct-request calls by default and the cached ones only on request', () => {
    expect(DEFAULT_SCENARIOS).toContain('calls')
    expect(DEFAULT_SCENARIOS).not.toContain('calls-cached')
    expect(SCENARIOS['calls-cached']).toBeDefined()
    for (const name of DEFAULT_SCENARIOS) expect(SCENARIOS[name]).toBeDefined()
  })

  it('asks about a different holder for every call of a run (warm-up 500 + 5 rounds of 2,000)', () => {
    const all = holders(500 + 5 * 2000)
    expect(new Set(all.map((a) => a.toLowerCase())).size).toBe(all.length)
    for (const a of all.slice(0, 20)) expect(a).toMatch(/^0x[0-9a-f]{40}$/)
    expect(holders(3, 10)).toEqual(all.slice(10, 13))
  })

  it('scores the distinct calls against anvil and shows the cached figure unscored', () => {
    const runs: RunRecord[] = [
      {target: 'xai', scenario: 'calls', ok: true, result: callResult(1500, true)},
      {target: 'anvil', scenario: 'calls', ok: true, result: callResult(3000, true)},
      {target: 'xai', scenario: 'calls-cached', ok: true, result: callResult(9000, false)},
      {target: 'anvil', scenario: 'calls-cached', ok: true, result: callResult(3000, false)},
    ]
    const summary = summarize(runs, ['xai', 'anvil'])
    expect(summary.xai).toMatchObject({callsPerSec: 1500, cachedCallsPerSec: 9000})
    const lines = table(summary, ['xai', 'anvil']).split('\n')
    expect(lines.find((l) => l.startsWith('eth_call balanceOf (distinct)'))).toMatch(/1,500\s+3,000\s+0\.50×\s+≥ 1\.0× anvil\s+FAIL$/)
    expect(lines.find((l) => l.startsWith('eth_call, 10 bodies repeated'))).toMatch(/9,000\s+3,000\s+3\.00×$/)
  })

  it('leaves the cached row out of a run without it', () => {
    const summary = summarize([{target: 'xai', scenario: 'calls', ok: true, result: callResult(1500, true)}], ['xai'])
    expect(table(summary, ['xai'])).not.toContain('10 bodies repeated')
  })
})
