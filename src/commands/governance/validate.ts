import {Args} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type ValidateProposalResult, validateProposalFile} from '../../governance/validate-proposal.js'

export default class GovernanceValidate extends XaiCommand<ValidateProposalResult> {
  static override summary = 'Check a proposal file: print its kind, hash and what it would do.'
  static override description = `Parses and validates the file as \`xai governance propose\` does before it submits: YAML syntax, the fields of its kind, value types, the document sections, and placeholders left from the template. Each problem is printed with its line; an invalid file exits with code 2.

The hash is keccak256 of the proposal's canonical JSON (sorted keys, normalised values): comments, key order, quoting and whitespace do not change it.`

  static override examples = [
    {description: 'Check a draft', command: '<%= config.bin %> <%= command.id %> proposal-parameter-change.yaml'},
    {description: 'The normalised proposal and its hash as JSON', command: '<%= config.bin %> <%= command.id %> proposal.yaml --json'},
  ]

  static override args = {
    file: Args.string({description: 'Proposal file (YAML)', required: true}),
  }

  async run(): Promise<ValidateProposalResult> {
    const {args} = await this.parse(GovernanceValidate)
    const result = await validateProposalFile(args.file, process.cwd())
    if (!this.jsonEnabled()) {
      process.stdout.write(`${[`kind     ${result.kind}`, `title    ${result.title}`, `hash     ${result.hash}`, ...result.actions.map((a, i) => `${i === 0 ? 'action   ' : '         '}${a}`)].join('\n')}\n`)
      this.note('✔ valid')
    }
    return result
  }
}
