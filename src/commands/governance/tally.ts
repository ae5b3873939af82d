import {Args} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {formatTally, stage} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {type TallySummary, readGovernanceParams, readProposal, tallySummary} from '../../client/governance-client.js'
import type {ProposalState} from '../../governance/lifecycle.js'
import {parseProposalId} from './show.js'

export interface GovernanceTallyResult extends TallySummary {
  id: number
  state: ProposalState
  votingEndHeight: number
  /** The block the tally was read at. */
  head: number
}

export default class GovernanceTally extends XaiCommand<GovernanceTallyResult> {
  static override summary = 'Show where the votes on a proposal stand against quorum, threshold and veto.'
  static override description = `Voting power counted for yes, no, abstain and veto with their shares, the turnout against the quorum, yes against the threshold (abstain excluded) and veto against the veto threshold, and what the outcome is with these votes (final once voting has ended).`

  static override examples = [
    {description: 'Proposal 1', command: '<%= config.bin %> <%= command.id %> 1'},
    {description: 'Whether it would pass now', command: "<%= config.bin %> <%= command.id %> 1 --json | jq -r .outcome"},
  ]

  static override args = {
    id: Args.string({description: 'Proposal id', required: true}),
  }

  static override flags = {...chainTargetFlags}

  async run(): Promise<GovernanceTallyResult> {
    const {args, flags} = await this.parse(GovernanceTally)
    const id = parseProposalId(args.id)
    const network = await resolveChainTarget(flags)
    const client = createChainClient(network)
    const head = await client.getBlockNumber()
    const [info, params] = await Promise.all([readProposal(client, id, {blockNumber: head}), readGovernanceParams(client, {blockNumber: head})])
    const summary = tallySummary(info.tally, params)
    if (!this.jsonEnabled()) {
      process.stdout.write(`Proposal #${info.id}: ${info.title}\n  ${info.state} (${stage(info, Number(head))})\n${formatTally(summary, {final: info.state !== 'Active'}).join('\n')}\n`)
    }
    return {id: info.id, state: info.state, votingEndHeight: info.votingEndHeight, head: Number(head), ...summary}
  }
}
