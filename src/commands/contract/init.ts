import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type InitProjectResult, initProject} from '../../contracts/init-project.js'

export default class ContractInit extends XaiCommand<InitProjectResult> {
  static override summary = 'Create a contracts project: xai.config.json, contracts/Counter.sol and its test.'
  static override description = `Writes, in DIR (default: the current folder, created when missing): xai.config.json (solc optimizer and EVM version, networks — "local" is the default devnet), a .gitignore for artifacts/ and cache/, contracts/Counter.sol with test/Counter.test.ts, and package.json, tsconfig.json, vitest.config.ts and test/helpers/xai.ts for the TypeScript tests (vitest + viem; they deploy to the devnet at XAI_RPC_URL, default http://127.0.0.1:8545).

Refuses a folder that already has xai.config.json; --force rewrites the template's files there and leaves every other file alone. Without --force, template files that already exist (a package.json, say) are kept as they are.`

  static override examples = [
    {description: 'A project in the current folder', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A project in a new folder, then compile it', command: '<%= config.bin %> <%= command.id %> my-contracts && cd my-contracts && <%= config.bin %> contract compile'},
    {description: 'Restore the template files of an existing project', command: '<%= config.bin %> <%= command.id %> --force'},
    {description: 'The files written, for scripts', command: "<%= config.bin %> <%= command.id %> my-contracts --json | jq -r '.created[]'"},
  ]

  static override args = {
    dir: Args.string({description: 'Folder of the project (created when missing)', default: '.'}),
  }

  static override flags = {
    force: Flags.boolean({description: 'Rewrite the template files in a folder that already has xai.config.json', default: false, env: 'XAI_FORCE'}),
  }

  async run(): Promise<InitProjectResult> {
    const {args, flags} = await this.parse(ContractInit)
    const result = await initProject({dir: resolve(process.cwd(), args.dir), force: flags.force})
    if (!this.jsonEnabled()) {
      const lines = [
        `Contracts project in ${result.root}`,
        ...result.created.map((file) => `  created      ${file}`),
        ...result.overwritten.map((file) => `  overwritten  ${file}`),
        ...result.kept.map((file) => `  kept         ${file}`),
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
      const cd = resolve(process.cwd()) === result.root ? '' : `cd ${args.dir} && `
      this.note(`Next: ${cd}xai contract compile   (add contracts with: xai contract new MyToken --template erc20)`)
    }
    return result
  }
}
