/** What `xai conformance` reports: groups of named checks, each passed, failed or skipped with a reason. */

export type GroupStatus = 'pass' | 'fail' | 'skip'

export interface CheckResult {
  name: string
  ok: boolean
  /** Why it failed (or what it measured). */
  detail?: string
}

export interface GroupResult {
  group: string
  description: string
  status: GroupStatus
  /** Why the group was skipped. */
  reason?: string
  passed: number
  failed: number
  checks: CheckResult[]
  ms: number
}

export interface ConformanceReport {
  rpcUrl: string
  chainId: number | null
  clientVersion: string | null
  /** Whether the node answers the xai_* methods. */
  xai: boolean
  ok: boolean
  groups: GroupResult[]
}

/** Skips a group: thrown by a group's body before or while it runs. */
export class SkipGroup extends Error {}

/** Collects the checks of one group. A check that throws fails with the error's message. */
export class Checks {
  readonly results: CheckResult[] = []

  async check(name: string, fn: () => Promise<string | void> | string | void): Promise<boolean> {
    try {
      const detail = await fn()
      this.results.push({name, ok: true, ...(detail ? {detail} : {})})
      return true
    } catch (err) {
      if (err instanceof SkipGroup) throw err
      this.results.push({name, ok: false, detail: err instanceof Error ? err.message : String(err)})
      return false
    }
  }
}

export async function runGroup(group: string, description: string, body: (checks: Checks) => Promise<void>): Promise<GroupResult> {
  const started = performance.now()
  const checks = new Checks()
  let skipped: string | undefined
  try {
    await body(checks)
  } catch (err) {
    if (err instanceof SkipGroup) skipped = err.message
    else checks.results.push({name: 'group ran to the end', ok: false, detail: err instanceof Error ? err.message : String(err)})
  }
  const failed = checks.results.filter((c) => !c.ok).length
  return {
    group,
    description,
    status: skipped !== undefined && checks.results.length === 0 ? 'skip' : failed > 0 ? 'fail' : skipped !== undefined ? 'skip' : 'pass',
    ...(skipped !== undefined ? {reason: skipped} : {}),
    passed: checks.results.length - failed,
    failed,
    checks: checks.results,
    ms: Math.round(performance.now() - started),
  }
}

/** Throws with `message` unless `condition` holds. */
export function expectThat(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message)
}

/** The human table: one row per group, then every failed check. */
export function formatConformanceReport(report: ConformanceReport): string {
  const rows = report.groups.map((g) => [g.group, g.status.toUpperCase(), `${g.passed}/${g.passed + g.failed}`, `${g.ms} ms`, g.reason ?? g.description])
  const header = ['group', 'result', 'checks', 'time', 'notes']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  const out = [
    `${report.rpcUrl}: chain ${report.chainId ?? '?'}, ${report.clientVersion ?? 'unknown client'}${report.xai ? ' (XAI node)' : ''}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ]
  const failures = report.groups.flatMap((g) => g.checks.filter((c) => !c.ok).map((c) => `  ✖ ${g.group}: ${c.name}: ${c.detail ?? 'failed'}`))
  if (failures.length > 0) out.push('', 'Failed checks:', ...failures)
  out.push('', report.ok ? 'conformance: every group passed or was skipped' : `conformance: ${report.groups.filter((g) => g.status === 'fail').length} group(s) failed`)
  return `${out.join('\n')}\n`
}
