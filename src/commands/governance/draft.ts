import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type DraftProposalResult, draftProposal} from '../../governance/draft-proposal.js'
import {PROPOSAL_KINDS, PROPOSAL_KIND_DESCRIPTIONS} from '../../governance/proposal.js'

export default class GovernanceDraft extends XaiCommand<DraftProposalResult> {
  static override summary = 'Write a proposal file of a kind from its template, to fill in and submit.'
  static override description = `Kinds:
${PROPOSAL_KINDS.map((kind) => `  ${kind.padEnd(18)}${PROPOSAL_KIND_DESCRIPTIONS[kind]}`).join('\n')}

The file is YAML with comments: a title, a summary, the fields of the kind and, for every kind but text, a risk analysis, a dependency diff and migration steps. Replace each <<PLACEHOLDER>>, then check the file with \`xai governance validate\`. An existing file is never replaced without --force.`

  static override examples = [
    {description: 'A proposal to change the block gas limit', command: '<%= config.bin %> <%= command.id %> parameter-change --title "Raise the block gas limit to 60M"'},
    {description: 'Activate a module, into a chosen file', command: '<%= config.bin %> <%= command.id %> module-activate --out proposals/activate-guard.yaml'},
    {description: 'Start over on a draft', command: '<%= config.bin %> <%= command.id %> text --out idea.yaml --force'},
  ]

  static override args = {
    kind: Args.string({description: `Proposal kind: ${PROPOSAL_KINDS.join(', ')}`, required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', description: 'File to write [default: proposal-<kind>.yaml]', env: 'XAI_GOVERNANCE_OUT'}),
    title: Flags.string({description: 'Fill in the title', env: 'XAI_GOVERNANCE_TITLE'}),
    force: Flags.boolean({description: 'Replace the file if it exists', default: false, env: 'XAI_GOVERNANCE_FORCE'}),
  }

  async run(): Promise<DraftProposalResult> {
    const {args, flags} = await this.parse(GovernanceDraft)
    const result = await draftProposal({kind: args.kind, out: flags.out, cwd: process.cwd(), title: flags.title, force: flags.force})
    if (!this.jsonEnabled()) {
      process.stdout.write(`${result.path}\n`)
      if (result.placeholders.length > 0) this.note(`Fill in ${result.placeholders.join(', ')}, then: xai governance validate ${flags.out ?? `proposal-${result.kind}.yaml`}`)
    }
    return result
  }
}
