import {formatEther} from 'viem'

import type {ProposalDetails, ProposalEvent, ProposalInfo, TallySummary} from '../client/governance-client.js'
import {stage} from '../client/proposal-stage.js'
import type {ModuleInfo} from '../client/registry-client.js'

export {stage}

/** The human forms of governance and module results (the commands print them on stdout). */

/** Wei as ether for people (`1,234.5 ETH`, at most 6 decimals); amounts below a micro-ether in wei. */
export function ether(wei: string | bigint): string {
  const amount = BigInt(wei)
  if (amount !== 0n && amount < 10n ** 12n) return `${amount} wei`
  const [whole = '0', fraction = ''] = formatEther(amount).split('.')
  const decimals = fraction.slice(0, 6).replace(/0+$/, '')
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${decimals ? `.${decimals}` : ''} ETH`
}

/** A percentage with two decimals: `33.40 %`. */
export function pct(value: number): string {
  return `${value.toFixed(2)} %`
}

/** Basis points as a percentage: 3340 → `33.40 %`. */
export function bps(value: number | bigint): string {
  return pct(Number(value) / 100)
}

/** One line per proposal: id, state, kind, title, and where it stands. */
export function formatProposalList(proposals: readonly ProposalInfo[], head: number): string {
  if (proposals.length === 0) return 'No proposals.\n'
  const rows = proposals.map((p) => [`#${p.id}`, p.state, p.kind, p.title, stage(p, head)])
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  return `${rows.map((r) => [r[0]!.padEnd(widths[0]!), r[1]!.padEnd(widths[1]!), r[2]!.padEnd(widths[2]!), r[3], `(${r[4]})`].join('  ')).join('\n')}\n`
}

/** The tally against what quorum, threshold and veto need. */
export function formatTally(summary: TallySummary, options: {final?: boolean} = {}): string[] {
  const line = (name: string, value: string, share: number) => `  ${name.padEnd(8)} ${ether(value).padStart(22)}  ${pct(share).padStart(8)}`
  const mark = (ok: boolean) => (ok ? '✔' : '✖')
  const outcome: Record<TallySummary['outcome'], string> = {
    passed: 'passes',
    'no-quorum': 'fails: no quorum',
    'below-threshold': 'fails: not enough yes',
    vetoed: 'is vetoed',
  }
  return [
    'Tally (share of the votes cast)',
    line('yes', summary.yes, summary.percent.yes),
    line('no', summary.no, summary.percent.no),
    line('abstain', summary.abstain, summary.percent.abstain),
    line('veto', summary.veto, summary.percent.veto),
    `  cast     ${ether(summary.cast).padStart(22)}  ${pct(summary.quorum.turnout).padStart(8)} of ${ether(summary.totalPower)} voting power`,
    `  ${mark(summary.quorum.reached)} quorum      ${bps(summary.quorum.bps)} of the voting power must vote (${ether(summary.quorum.required)}); ${pct(summary.quorum.turnout)} did`,
    `  ${mark(summary.threshold.met)} threshold   yes must be more than ${bps(summary.threshold.bps)} of yes + no + veto; it is ${pct(summary.threshold.yesShare)}`,
    `  ${summary.vetoThreshold.vetoed ? '✖' : '✔'} veto        vetoed at ${bps(summary.vetoThreshold.bps)} of the votes cast; veto is ${pct(summary.vetoThreshold.vetoShare)}`,
    `  → with these votes the proposal ${options.final ? outcome[summary.outcome].replace(/^passes$/, 'passed').replace(/^fails/, 'failed').replace(/^is vetoed$/, 'was vetoed') : outcome[summary.outcome]}`,
  ]
}

/** A proposal in full: what it does, its heights, the tally, the votes and its history. */
export function formatProposal(p: ProposalDetails): string {
  const lines = [
    `Proposal #${p.id}: ${p.title}`,
    `  state       ${p.state} (${stage(p, p.head)})`,
    `  kind        ${p.kind}`,
    ...p.actions.map((a, i) => `  ${i === 0 ? 'action     ' : '           '} ${a}`),
    `  proposer    ${p.proposer}`,
    `  hash        ${p.proposalHash}`,
    `  submitted   block ${p.submitHeight} (voting power as of block ${p.snapshotHeight})`,
    `  voting end  block ${p.votingEndHeight}`,
    ...(p.executableHeight === null ? [] : [`  executes    block ${p.executableHeight} (timelock ${p.params.timelock} block${p.params.timelock === '1' ? '' : 's'})`]),
    ...(p.failureReason === null ? [] : [`  failure     ${p.failureReason}`]),
    `  head        block ${p.head}`,
    '',
    ...formatTally(p.tallySummary, {final: p.state !== 'Active'}),
    '',
    p.votes.length === 0 ? 'Votes: none yet' : `Votes (${p.votes.length})`,
    ...p.votes.map((v) => `  ${v.voter}  ${v.support.padEnd(7)}  ${ether(v.weight)}  (block ${v.blockNumber})`),
  ]
  if (p.history.length > 0) {
    lines.push('', 'History')
    for (const e of p.history) lines.push(`  block ${String(e.blockNumber).padStart(6)}  ${e.event}${describeEvent(e)}`)
  }
  return `${lines.join('\n')}\n`
}

function describeEvent(e: ProposalEvent): string {
  const a = e.args
  switch (e.event) {
    case 'ProposalCreated':
      return ` by ${String(a.proposer)}`
    case 'VoteCast':
      return ` ${String(a.support)} by ${String(a.voter)} (${ether(String(a.weight))})`
    case 'ProposalQueued':
      return ` (executes in block ${String(a.etaBlock)})`
    case 'ProposalDefeated':
    case 'ProposalFailed':
      return `: ${String(a.reason)}`
    default:
      return ''
  }
}

/** One line per module. */
export function formatModuleList(modules: readonly ModuleInfo[]): string {
  const rows = modules.map((m) => [m.id, m.runningVersion ?? '-', m.builtin ? 'built-in' : 'user', m.address, moduleStatus(m)])
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  return `${rows.map((r) => r.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ')).join('\n')}\n`
}

/** Whether the module runs, and what is scheduled. */
export function moduleStatus(m: Pick<ModuleInfo, 'runningVersion' | 'version' | 'activeFrom' | 'next' | 'deactivateAt'>): string {
  const parts = [m.runningVersion === null ? (m.deactivateAt !== null ? 'deactivated' : `active from block ${m.activeFrom}`) : 'active']
  if (m.next) parts.push(`${m.next.version} from block ${m.next.from}`)
  if (m.deactivateAt !== null && m.runningVersion !== null) parts.push(`stops at block ${m.deactivateAt}`)
  return parts.join('; ')
}

/** A module's registry entry. */
export function formatModule(m: ModuleInfo): string {
  const params = m.effectiveParams ?? m.params
  const keys = Object.keys(params).sort()
  const lines = [
    `Module ${m.id}${m.builtin ? ' (built-in)' : ''}`,
    `  address       ${m.address}`,
    `  version       ${m.version}`,
    `  code hash     ${m.codeHash}`,
    `  active from   block ${m.activeFrom}`,
    `  status        ${moduleStatus(m)}`,
    `  next version  ${m.next ? `${m.next.version} (code ${m.next.codeHash}) from block ${m.next.from}` : 'none'}`,
    `  deactivation  ${m.deactivateAt === null ? 'none' : `block ${m.deactivateAt}`}`,
    keys.length === 0 ? '  params        none' : '  params',
    ...keys.map((key) => `    ${key} = ${paramText(params[key])}${key in m.params ? '' : '  (default)'}`),
  ]
  return `${lines.join('\n')}\n`
}

/** A parameter value for people: integers (decimal strings) bare, anything else as JSON. */
function paramText(value: unknown): string {
  return typeof value === 'string' && /^-?\d+$/.test(value) ? value : JSON.stringify(value)
}
