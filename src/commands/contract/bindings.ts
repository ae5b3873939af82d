import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type GenerateBindingsResult, generateBindings} from '../../contracts/generate-bindings.js'
import {findProject, openProject} from '../../contracts/project.js'

export default class ContractBindings extends XaiCommand<GenerateBindingsResult> {
  static override summary = 'Generate typed TypeScript bindings for viem from the compiled contracts and their deployments.'
  static override description = `Writes, in the output folder (default: bindings/ of the project):
- <Name>.ts for each compiled contract: <name>Abi (the ABI, as const), <name>Bytecode (deployable contracts only) and get<Name>(client, at?), which returns viem's getContract typed by the ABI;
- addresses.ts: the address book, chain id → contract → address of its newest successful deployment (from .xai/deployments/), and the ChainId type;
- index.ts, re-exporting everything.

get<Name>(client, at?) takes a public or wallet client (or {public, wallet}) and finds the address in the address book for the client's chain, or for {chainId}, unless an address is given. Argument and return types of .read/.write/.simulate are inferred from the ABI: a wrong one is a compile error. The files import from 'viem' only and compile under strict TypeScript with module NodeNext.

Bindings are generated from the artifacts as they are: run \`xai contract compile\` first after changing a source (and this command again after a deploy). Files whose content would not change are not rewritten; generated files of contracts that no longer exist are removed. Files in the folder that xai did not generate are never touched.

When two sources declare contracts of the same name, their bindings are prefixed with the folders and file of the source until they differ (contracts/Token.sol:Token and contracts/lib/Token.sol:Token → Contracts_Token and Lib_Token).`

  static override examples = [
    {description: 'Bindings in bindings/ of the project', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Compile, deploy, then regenerate into an app', command: '<%= config.bin %> contract compile && <%= config.bin %> contract deploy Token MyToken MTK 1000 && <%= config.bin %> <%= command.id %> --out ../app/src/contracts'},
    {description: 'The files written, for scripts', command: "<%= config.bin %> <%= command.id %> --json | jq -r '.written[]'"},
    {description: 'From a project elsewhere, into this folder', command: '<%= config.bin %> <%= command.id %> --project ../my-contracts --out src/contracts'},
  ]

  static override flags = {
    out: Flags.string({char: 'o', description: 'Output folder, relative to the current folder [default: bindings/ of the project]', env: 'XAI_BINDINGS_OUT'}),
    project: Flags.string({description: 'Project folder [default: the nearest folder up from here with xai.config.json]', env: 'XAI_PROJECT'}),
  }

  async run(): Promise<GenerateBindingsResult> {
    const {flags} = await this.parse(ContractBindings)
    const project = flags.project ? await openProject(flags.project) : await findProject(process.cwd())
    const result = await generateBindings(project, {out: flags.out === undefined ? undefined : resolve(process.cwd(), flags.out)})
    if (!this.jsonEnabled()) {
      process.stdout.write(formatBindingsResult(result))
      for (const {journal, reason} of result.skipped) this.note(`Not in the address book: ${journal} (${reason})`)
    }
    return result
  }
}

/** The human summary: which files changed, and where each contract is deployed. */
export function formatBindingsResult(result: GenerateBindingsResult): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  const chains = Object.keys(result.addresses)
  const lines = [
    `Bindings for ${plural(result.contracts.length, 'contract')} in ${result.out}/ (address book: ${chains.length === 0 ? 'no deployments' : `${chains.length === 1 ? 'chain' : 'chains'} ${chains.join(', ')}`})`,
    ...result.written.map((file) => `  written    ${file}`),
    ...result.removed.map((file) => `  removed    ${file}`),
  ]
  if (result.unchanged.length > 0) lines.push(`  ${plural(result.unchanged.length, 'file')} unchanged`)
  return `${lines.join('\n')}\n`
}
