import {Flags} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {type WatchSnapshot, readProposalsSnapshot, watchProposals} from '../../client/watch-proposals.js'

export default class GovernanceWatch extends XaiCommand<WatchSnapshot> {
  static override summary = 'Watch the open proposals live: tallies against quorum and threshold, and blocks left.'
  static override description = `A live view (on a terminal) of the proposals still voting or queued, and those that ended in the last 20 blocks: each one's tally as bars against the quorum, the outcome it would have if voting ended now, and the blocks left until voting ends or it executes. Redraws every --interval ms until Ctrl-C. With --json, or when the output is not a terminal, prints the current snapshot once and exits.`

  static override examples = [
    {description: 'Watch the default devnet', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The open proposals and their blocks left, once, for scripts', command: "<%= config.bin %> <%= command.id %> --json | jq '.proposals[] | {id, state, blocksLeft}'"},
  ]

  static override flags = {
    ...chainTargetFlags,
    interval: Flags.integer({description: 'Milliseconds between refreshes', default: 1000, min: 100, env: 'XAI_GOVERNANCE_INTERVAL'}),
  }

  async run(): Promise<WatchSnapshot> {
    const {flags} = await this.parse(GovernanceWatch)
    const network = await resolveChainTarget(flags)
    const client = createChainClient(network)
    const first = await readProposalsSnapshot(client)
    if (this.jsonEnabled() || process.stderr.isTTY !== true) {
      if (!this.jsonEnabled()) process.stdout.write(formatSnapshot(first))
      return first
    }
    const [{followLiveView}, {GovernanceWatch: View}] = await Promise.all([import('../../cli/live-view.js'), import('../../cli/governance-watch-view.js')])
    const last = await followLiveView(View, watchProposals(client, {intervalMs: flags.interval, signal: this.signal, initial: first}), {
      initial: {snapshot: first},
      props: ({snapshot, error}) => ({snapshot, error: error === null ? undefined : `Cannot read the chain: ${error} (retrying)`}),
      signal: this.signal,
    })
    return last?.snapshot ?? first
  }
}

/** The snapshot as text, one proposal per line (for a pipe). */
export function formatSnapshot(snapshot: WatchSnapshot): string {
  const lines = [`block ${snapshot.head}`]
  if (snapshot.proposals.length === 0) lines.push('no open proposals')
  for (const p of snapshot.proposals) {
    lines.push(`#${p.id} ${p.state.padEnd(8)} ${p.title} — ${p.stage}; yes ${p.tally.percent.yes.toFixed(1)} %, turnout ${p.tally.quorum.turnout.toFixed(1)} % (quorum ${(p.tally.quorum.bps / 100).toFixed(2)} %) → ${p.tally.outcome}`)
  }
  return `${lines.join('\n')}\n`
}
