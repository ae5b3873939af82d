import {Args} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {formatProposal} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {XaiError} from '../../util/errors.js'
import {type ProposalDetails, readProposalDetails} from '../../client/governance-client.js'

export default class GovernanceShow extends XaiCommand<ProposalDetails> {
  static override summary = "Show a proposal: what it does, its state and heights, the tally, the votes and its history."
  static override description = `Reads the proposal from the governance module (its body decoded), the tally measured against the governance parameters in force (what quorum, threshold and veto need and where the votes stand), every vote cast (VoteCast logs) and its history: ProposalCreated and the votes from the transactions' logs, the tally's outcome and the execution from the block events of governance's endBlock (xai_getBlockEvents).`

  static override examples = [
    {description: 'Proposal 1', command: '<%= config.bin %> <%= command.id %> 1'},
    {description: 'Its state, for scripts', command: '<%= config.bin %> <%= command.id %> 1 --json | jq -r .state'},
    {description: 'Wait until it is executed', command: "until <%= config.bin %> <%= command.id %> 1 --json | jq -e '.state == \"Executed\"' >/dev/null; do sleep 2; done"},
  ]

  static override args = {
    id: Args.string({description: 'Proposal id', required: true}),
  }

  static override flags = {...chainTargetFlags}

  async run(): Promise<ProposalDetails> {
    const {args, flags} = await this.parse(GovernanceShow)
    const id = parseProposalId(args.id)
    const network = await resolveChainTarget(flags)
    const details = await readProposalDetails(createChainClient(network), id)
    if (!this.jsonEnabled()) process.stdout.write(formatProposal(details))
    return details
  }
}

/** A proposal id argument: a positive integer. */
export function parseProposalId(value: string): number {
  const id = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new XaiError('USAGE', `"${value}" is not a proposal id`, {hint: 'Proposal ids are 1, 2, …; `xai governance list` lists them.'})
  }
  return id
}
