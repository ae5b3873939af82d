import {Args} from '@oclif/core'
import {bytesToHex} from 'viem'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {ExitCode, XaiError} from '../../util/errors.js'
import {readProposal} from '../../client/governance-client.js'
import {GovernanceErrorCode} from '../../governance/errors.js'
import {type Proposal, canonicalProposal, describeProposal} from '../../governance/proposal.js'
import {prepareProposal} from '../../client/propose-file.js'
import {parseProposalId} from './show.js'

interface WireEntry {
  id: string
  address: string
  current: {codeHash: string; version: string; from: string}
  next?: {codeHash: string; version: string; from: string}
  deactivateAt?: string
  params: Record<string, unknown>
}

interface WireSnapshot {
  modules: WireEntry[]
  chain: Record<string, string | undefined>
  flags: Record<string, boolean>
}

interface WireSimulation {
  ok: boolean
  error?: string
  height: string
  before: WireSnapshot
  after?: WireSnapshot
  storage: {address: string; slot: string; before: string; value: string}[]
  balances: {address: string; before: string; value: string}[]
}

export interface GovernanceSimulateResult {
  /** The proposal file, or the id of a submitted proposal. */
  source: string
  kind: Proposal['kind']
  title: string
  actions: string[]
  /** The block it was simulated in (the next one). */
  height: number
  ok: boolean
  error?: string
  /** What changes, as `what: before → after` lines. */
  changes: string[]
  storage: {address: string; slot: string; before: string; after: string}[]
  balances: {address: string; before: string; after: string}[]
}

export default class GovernanceSimulate extends XaiCommand<GovernanceSimulateResult> {
  static override summary = 'Execute a proposal against a copy of the current state and show what it would change.'
  static override description = `Runs what the proposal does when it executes (the same code governance runs in endBlock) on a copy of the head state of the chain, as if in the next block, and writes nothing. Shows the changes to modules, chain parameters and feature flags, every storage word and balance that would change, or the reason it would fail (it would then be marked Failed and change nothing). Takes a proposal file (validated first) or the id of a submitted proposal. A user module's activation or upgrade needs its source in the registry: \`xai governance propose\` uploads it.`

  static override examples = [
    {description: 'What a parameter change would do', command: '<%= config.bin %> <%= command.id %> proposal-parameter-change.yaml'},
    {description: 'Whether submitted proposal 3 would still execute now', command: '<%= config.bin %> <%= command.id %> 3 --json | jq .ok'},
  ]

  static override args = {
    proposal: Args.string({description: 'A proposal file, or the id of a submitted proposal', required: true}),
  }

  static override flags = {...chainTargetFlags}

  async run(): Promise<GovernanceSimulateResult> {
    const {args, flags} = await this.parse(GovernanceSimulate)
    const network = await resolveChainTarget(flags)
    const client = createChainClient(network)
    const byId = /^\d+$/.test(args.proposal.trim())
    const proposal = byId ? (await readProposal(client, parseProposalId(args.proposal))).proposal : (await prepareProposal({file: args.proposal, cwd: process.cwd()})).proposal
    let wire: WireSimulation
    try {
      wire = (await client.request({method: 'xai_simulateProposal' as never, params: [bytesToHex(canonicalProposal(proposal))] as never})) as WireSimulation
    } catch (err) {
      throw new XaiError(GovernanceErrorCode.rejected, `The node could not simulate the proposal: ${(err as Error).message}`, {exitCode: ExitCode.environment, cause: err, hint: 'Simulation needs a node that runs native modules (an xai devnet).'})
    }
    const result: GovernanceSimulateResult = {
      source: byId ? `proposal ${args.proposal.trim()}` : args.proposal,
      kind: proposal.kind,
      title: proposal.title,
      actions: describeProposal(proposal),
      height: Number(BigInt(wire.height)),
      ok: wire.ok,
      ...(wire.error ? {error: wire.error} : {}),
      changes: wire.after ? registryChanges(wire.before, wire.after) : [],
      storage: wire.storage.map((w) => ({address: w.address, slot: w.slot, before: w.before, after: w.value})),
      balances: wire.balances.map((w) => ({address: w.address, before: BigInt(w.before).toString(), after: BigInt(w.value).toString()})),
    }
    if (!this.jsonEnabled()) process.stdout.write(formatSimulation(result))
    return result
  }
}

/** `what: before → after` for every difference between two registry snapshots. */
export function registryChanges(before: WireSnapshot, after: WireSnapshot): string[] {
  const lines: string[] = []
  const param = (s: WireSnapshot, name: string) => (s.chain[name] === undefined ? 'the genesis value' : BigInt(s.chain[name]).toString())
  for (const name of new Set([...Object.keys(before.chain), ...Object.keys(after.chain)])) {
    if (param(before, name) !== param(after, name)) lines.push(`chain.${name}: ${param(before, name)} → ${param(after, name)}`)
  }
  const describe = (entry?: WireEntry): string => {
    if (!entry) return 'absent'
    const parts = [`${entry.current.version} from block ${BigInt(entry.current.from)}`]
    if (entry.next) parts.push(`then ${entry.next.version} from block ${BigInt(entry.next.from)}`)
    if (entry.deactivateAt) parts.push(`off from block ${BigInt(entry.deactivateAt)}`)
    return parts.join(', ')
  }
  const ids = new Set([...before.modules, ...after.modules].map((entry) => entry.id))
  for (const id of ids) {
    const a = before.modules.find((entry) => entry.id === id)
    const b = after.modules.find((entry) => entry.id === id)
    if (describe(a) !== describe(b)) lines.push(`module ${id}: ${describe(a)} → ${describe(b)}`)
    const keys = new Set([...Object.keys(a?.params ?? {}), ...Object.keys(b?.params ?? {})])
    for (const key of keys) {
      const from = JSON.stringify(a?.params[key] ?? null)
      const to = JSON.stringify(b?.params[key] ?? null)
      if (from !== to) lines.push(`${id}.${key}: ${from} → ${to}`)
    }
  }
  for (const name of new Set([...Object.keys(before.flags), ...Object.keys(after.flags)])) {
    if (before.flags[name] !== after.flags[name]) lines.push(`flag ${name}: ${before.flags[name] ?? 'unset'} → ${after.flags[name]}`)
  }
  return lines
}

function formatSimulation(result: GovernanceSimulateResult): string {
  const lines = [`${result.source}: ${result.title} (${result.kind}), simulated in block ${result.height}`]
  for (const action of result.actions) lines.push(`  does: ${action}`)
  if (!result.ok) {
    lines.push(`  ✖ would fail: ${result.error}`, '    (it would be marked Failed and change nothing)')
    return `${lines.join('\n')}\n`
  }
  if (result.changes.length === 0 && result.balances.length === 0) lines.push('  changes nothing on chain')
  for (const change of result.changes) lines.push(`  ${change}`)
  for (const balance of result.balances) lines.push(`  balance ${balance.address}: ${balance.before} → ${balance.after} wei`)
  lines.push(`  ${result.storage.length} storage word${result.storage.length === 1 ? '' : 's'} change (--json lists them)`)
  return `${lines.join('\n')}\n`
}
