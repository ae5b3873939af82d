import {Args} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {ether} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {resolveSigner} from '../../contracts/signer.js'
import {XaiError} from '../../util/errors.js'
import {type VoteResult, parseVoteOption, voteOnProposal} from '../../client/governance-client.js'
import {GovernanceErrorCode} from '../../governance/errors.js'
import {VOTE_OPTIONS} from '../../governance/lifecycle.js'
import {keySender} from '../../client/module-tx.js'
import {signerFlags} from '../contract/deploy.js'
import {parseProposalId} from './show.js'

export default class GovernanceVote extends XaiCommand<VoteResult> {
  static override summary = 'Vote yes, no, abstain or veto on a proposal.'
  static override description = `The vote's weight is the voter's native balance at the proposal's snapshot block (the block before it was submitted). One vote per address per proposal, and it is final.

The vote is simulated first: when the governance module refuses it (voting has ended, the address already voted or had no balance at the snapshot, no such proposal) nothing is sent and the command exits with code 4 and the module's reason. Otherwise it is signed (--private-key, or dev account --account i, default 0), sent, and the weight counted is printed once it is mined.`

  static override examples = [
    {description: 'Vote yes on proposal 1 as dev account 0', command: '<%= config.bin %> <%= command.id %> 1 yes'},
    {description: 'Veto as dev account 4', command: '<%= config.bin %> <%= command.id %> 1 veto --account 4'},
    {description: 'The weight counted, for scripts', command: '<%= config.bin %> <%= command.id %> 2 no --json | jq -r .weight'},
  ]

  static override args = {
    id: Args.string({description: 'Proposal id', required: true}),
    support: Args.string({description: 'yes, no, abstain or veto', required: true, options: [...VOTE_OPTIONS]}),
  }

  static override flags = {
    ...chainTargetFlags,
    ...signerFlags,
  }

  async run(): Promise<VoteResult> {
    const {args, flags} = await this.parse(GovernanceVote)
    const id = parseProposalId(args.id)
    const support = parseVoteOption(args.support)
    if (!support) throw new XaiError(GovernanceErrorCode.invalidVote, `Unknown vote "${args.support}"`, {hint: `Vote ${VOTE_OPTIONS.join(', ')}.`})
    const network = await resolveChainTarget(flags)
    const signer = resolveSigner({privateKey: flags['private-key'], account: flags.account})
    const client = createChainClient(network)
    const result = await voteOnProposal(client, keySender(client, signer, network.chainId), {
      id,
      support,
      onEvent: (event) => this.note(`✔ ${event.type === 'simulated' ? 'Simulated' : event.type === 'sent' ? 'Sent' : 'Mined'}: ${event.detail}`),
    })
    if (!this.jsonEnabled()) {
      process.stdout.write(`Voted ${result.support} on proposal #${result.id} with ${ether(result.weight)} (${result.weight} wei)\n  voter  ${result.voter}\n  tx     ${result.txHash}\n  block  ${result.blockNumber}\n`)
    }
    return result
  }
}
