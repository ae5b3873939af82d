import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type ContractTestResult, runContractTests} from '../../devnet/contract-test.js'
import {findProject, openProject} from '../../contracts/project.js'

export default class ContractTest extends XaiCommand<ContractTestResult> {
  static override summary = "Compile, start a throwaway devnet, run the project's tests against it, stop it."
  static override description = `Compiles (incrementally), starts a devnet in a temporary folder on free ports (one node making one block per transaction; --nodes N starts N validators that decide blocks by Tendermint BFT), runs \`vitest run\` in the project (the project's own vitest from node_modules, else the one xai ships) and stops the nodes by PID and deletes the folder, also when the tests fail or on Ctrl-C. Exits with vitest's exit code.

The tests get: XAI_RPC_URL (node 0), XAI_RPC_URLS (every node, comma-separated), XAI_WS_URL, XAI_CHAIN_ID, XAI_PRIVATE_KEYS and XAI_ACCOUNTS (the ten funded dev accounts, comma-separated). Arguments after -- go to vitest.`

  static override examples = [
    {description: 'Run every test on one node', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The same tests under BFT consensus among four validators', command: '<%= config.bin %> <%= command.id %> --nodes 4'},
    {description: 'Only the Token tests, with vitest flags', command: '<%= config.bin %> <%= command.id %> -- test/Token.test.ts --reporter verbose'},
    {description: 'A summary for CI (vitest output goes to stderr)', command: '<%= config.bin %> <%= command.id %> --json | jq .exitCode'},
  ]

  static override strict = false

  static override flags = {
    nodes: Flags.integer({description: 'Validators of the throwaway devnet', default: 1, min: 1, max: 16, env: 'XAI_NODES'}),
    project: Flags.string({description: 'Project folder [default: the nearest folder up from here with xai.config.json]', env: 'XAI_PROJECT'}),
  }

  async run(): Promise<ContractTestResult> {
    const {argv, flags} = await this.parse(ContractTest)
    const project = flags.project ? await openProject(flags.project) : await findProject(process.cwd())
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      const result = await runContractTests(project, {
        nodes: flags.nodes,
        vitestArgs: argv as string[],
        execPath: process.execPath,
        output: this.jsonEnabled() ? 'stderr' : 'inherit',
        signal: this.signal,
        onEvent: (event) => {
          if (event.type === 'devnet-started') this.note(`Devnet: ${event.nodes} node${event.nodes === 1 ? '' : 's'}, chain ${event.chainId}, ${event.rpcUrl}`)
          if (event.type === 'devnet-stopped') this.note(`Devnet stopped (${event.stopped} node${event.stopped === 1 ? '' : 's'}).`)
        },
      })
      process.exitCode = result.exitCode
      return result
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}
