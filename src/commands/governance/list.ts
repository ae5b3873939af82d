import {Flags} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {formatProposalList} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {XaiError} from '../../util/errors.js'
import {type ProposalInfo, listProposals, parseProposalState} from '../../client/governance-client.js'
import {PROPOSAL_STATES} from '../../governance/lifecycle.js'

export interface GovernanceListResult {
  proposals: ProposalInfo[]
  /** The block the list was read at. */
  head: number
}

export default class GovernanceList extends XaiCommand<GovernanceListResult> {
  static override summary = 'List the proposals of the chain, oldest first.'
  static override description = `One line per proposal: id, state, kind, title and where it stands (voting until block N, executes in block N, …). --state keeps one state: ${PROPOSAL_STATES.join(', ')}.`

  static override examples = [
    {description: 'Every proposal', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Those still taking votes', command: '<%= config.bin %> <%= command.id %> --state Active'},
    {description: 'Ids of queued proposals, for scripts', command: "<%= config.bin %> <%= command.id %> --state queued --json | jq '.proposals[].id'"},
  ]

  static override flags = {
    ...chainTargetFlags,
    state: Flags.string({description: `Only proposals in this state (${PROPOSAL_STATES.join(', ')}; any case)`, env: 'XAI_GOVERNANCE_STATE'}),
  }

  async run(): Promise<GovernanceListResult> {
    const {flags} = await this.parse(GovernanceList)
    const state = flags.state === undefined ? undefined : parseProposalState(flags.state)
    if (flags.state !== undefined && state === undefined) {
      throw new XaiError('USAGE', `--state ${flags.state} is not a proposal state`, {hint: `States: ${PROPOSAL_STATES.join(', ')}.`})
    }
    const network = await resolveChainTarget(flags)
    const client = createChainClient(network)
    const head = await client.getBlockNumber()
    const proposals = await listProposals(client, {blockNumber: head, state})
    if (!this.jsonEnabled()) process.stdout.write(formatProposalList(proposals, Number(head)))
    return {proposals, head: Number(head)}
  }
}
