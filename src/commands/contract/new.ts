import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type NewContractResult, newContract} from '../../contracts/new-contract.js'
import {findProject, openProject} from '../../contracts/project.js'
import {CONTRACT_TEMPLATES, CONTRACT_TEMPLATE_IDS} from '../../contracts/templates.js'

export default class ContractNew extends XaiCommand<NewContractResult> {
  static override summary = 'Add a contract from a template: contracts/<Name>.sol and test/<Name>.test.ts.'
  static override description = `Templates (Solidity ^0.8.24, self-contained; shared base contracts go to contracts/xai/):
${CONTRACT_TEMPLATE_IDS.map((id) => `  ${id.padEnd(15)}${CONTRACT_TEMPLATES[id].description}`).join('\n')}

NAME must be a Solidity identifier (letters, digits, "_"; not a keyword) that no source of the project declares yet.`

  static override examples = [
    {description: 'An ERC-20 token named Token', command: '<%= config.bin %> <%= command.id %> Token --template erc20'},
    {description: 'A governance token with checkpointed votes', command: '<%= config.bin %> <%= command.id %> Gov --template governor-token'},
    {description: 'A signature verifier, then compile', command: '<%= config.bin %> <%= command.id %> Verifier --template verifier && <%= config.bin %> contract compile'},
    {description: 'In a project elsewhere', command: '<%= config.bin %> <%= command.id %> Badge --template erc721 --project ../my-contracts'},
  ]

  static override args = {
    name: Args.string({description: 'Contract name (a Solidity identifier, e.g. MyToken)', required: true}),
  }

  static override flags = {
    template: Flags.string({char: 't', description: 'Template to start from', options: CONTRACT_TEMPLATE_IDS, default: 'counter', env: 'XAI_CONTRACT_TEMPLATE'}),
    project: Flags.string({description: 'Project folder [default: the nearest folder up from here with xai.config.json]', env: 'XAI_PROJECT'}),
  }

  async run(): Promise<NewContractResult> {
    const {args, flags} = await this.parse(ContractNew)
    const project = flags.project ? await openProject(flags.project) : await findProject(process.cwd())
    const result = await newContract(project, {name: args.name, template: flags.template})
    if (!this.jsonEnabled()) {
      process.stdout.write(`${result.created.map((file) => `  created  ${file}`).join('\n')}\n`)
      this.note(`Next: xai contract compile`)
    }
    return result
  }
}
