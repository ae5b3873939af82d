import {stat} from 'node:fs/promises'

import {Args, Flags} from '@oclif/core'

import {userDefaultNetwork} from '../../cli/chain-target.js'
import {devnetsRoot} from '../../cli/devnet-flags.js'
import {createTaskList, taskListOutput} from '../../cli/task-list.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {DEPLOY_STEPS, type DeployContractResult, type DeployEvent, type DeployStep, deployContract} from '../../contracts/deploy-contract.js'
import {locateDevnet} from '../../devnet/devnet-folder.js'
import {type ResolvedNetwork, resolveNetwork} from '../../contracts/network.js'
import {type Project, findDeployProject} from '../../contracts/project.js'
import {resolveSigner} from '../../contracts/signer.js'

/** Flags shared by `contract deploy|call|send`: the project, the chain and the signer. */
export const chainFlags = {
  project: Flags.string({description: 'Project folder [default: the nearest folder up from here with xai.config.json, foundry.toml or hardhat.config.*]', env: 'XAI_PROJECT'}),
  artifacts: Flags.string({description: "Read artifacts from this folder (Foundry out/, Hardhat artifacts/ or xai's) instead of compiling; a Foundry or Hardhat project uses its own without this flag", env: 'XAI_ARTIFACTS'}),
  network: Flags.string({char: 'n', description: 'A network of xai.config.json [default: its defaultNetwork]', env: 'XAI_NETWORK'}),
  'rpc-url': Flags.string({description: 'JSON-RPC endpoint (beats --network)', env: 'XAI_RPC_URL'}),
  dir: Flags.string({description: 'Folder holding devnets/, for devnet networks [default: ./.xai]', env: 'XAI_HOME'}),
}
/** The `<contract> <function>` arguments of call and send. */
export const targetArgs = {
  contract: Args.string({description: 'Contract name, or an address (with --abi)', required: true}),
  function: Args.string({description: 'Function name or signature', required: true}),
}

/** --abi for call and send. */
export const abiFlag = {abi: Flags.string({description: 'The artifact whose ABI to use (needed with an address)', env: 'XAI_CONTRACT_ABI'})}

export const signerFlags = {
  'private-key': Flags.string({description: 'Private key of the sender (0x…)', env: 'XAI_PRIVATE_KEY', exclusive: ['account']}),
  account: Flags.integer({char: 'a', description: 'Dev account i of the test mnemonic (0..9) [default: 0]', env: 'XAI_ACCOUNT', min: 0, max: 9}),
}

/** The project and the network the flags name, resolved once here. */
export async function resolveChainContext(flags: {project?: string; artifacts?: string; network?: string; 'rpc-url'?: string; dir?: string}): Promise<{project: Project; network: ResolvedNetwork}> {
  const project = await findDeployProject(process.cwd(), {project: flags.project, artifacts: flags.artifacts})
  const home = devnetsRoot(flags.dir)
  // A project's xai.config.json names its networks; without one, the user setting `network` is the default.
  const fallback = userDefaultNetwork()
  if (fallback && flags['rpc-url'] === undefined && flags.network === undefined && !(await hasConfigFile(project.configPath))) {
    if (fallback.rpcUrl) return {project, network: await resolveNetwork({rpcUrl: fallback.rpcUrl, home, locateDevnet})}
    return {project, network: await resolveNetwork({config: {networks: {[fallback.devnet!]: {devnet: fallback.devnet!}}, defaultNetwork: fallback.devnet!}, home, locateDevnet})}
  }
  const network = await resolveNetwork({config: project.config, rpcUrl: flags['rpc-url'], network: flags.network, home, locateDevnet})
  return {project, network}
}

async function hasConfigFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false)
}

const DEPLOY_TITLES: Record<DeployStep, string> = {compile: 'Compile', simulate: 'Simulate', send: 'Sign and send', receipt: 'Wait for the receipt', record: 'Record in the journal'}

export default class ContractDeploy extends XaiCommand<DeployContractResult> {
  static override summary = 'Deploy a compiled contract, recorded in a per-chain journal so that re-running is safe.'
  static override description = `Compiles (incrementally), simulates the deployment (a revert is decoded), signs it, records the signed transaction in .xai/deployments/<chainId>/<Name>.json, sends it and waits for the receipt.

Re-running with the same bytecode and constructor arguments prints the existing address; a deployment interrupted after sending is resumed (the recorded transaction is re-broadcast, never signed again); changed bytecode or arguments deploy a new instance and keep the history; --force always deploys a new one.

Constructor arguments follow the contract name (or go in --args): integers decimal or 0x-hex, addresses, true/false, 0x-hex bytes, strings, arrays and tuples as JSON.`

  static override examples = [
    {description: 'Deploy an ERC-20 to the default network', command: '<%= config.bin %> <%= command.id %> Token MyToken MTK 1000000'},
    {description: 'To any JSON-RPC endpoint, as dev account 1', command: '<%= config.bin %> <%= command.id %> Token --args MyToken MTK 1000 --rpc-url http://127.0.0.1:8545 --account 1'},
    {description: 'The address, for scripts', command: "<%= config.bin %> <%= command.id %> Counter --json | jq -r .address"},
    {description: 'A second instance', command: '<%= config.bin %> <%= command.id %> Counter --force'},
    {description: 'In a Foundry project (after forge build): artifacts from out/', command: '<%= config.bin %> <%= command.id %> Counter --rpc-url http://127.0.0.1:8545'},
    {description: 'Artifacts from any folder', command: '<%= config.bin %> <%= command.id %> Counter --artifacts ../hardhat-app/artifacts'},
  ]

  static override strict = false
  static override args = {
    name: Args.string({description: 'Contract name (or sourceName:Name)', required: true}),
  }

  static override flags = {
    ...chainFlags,
    ...signerFlags,
    args: Flags.string({description: 'Constructor arguments (repeat the flag, or list them after the name)', multiple: true}),
    force: Flags.boolean({char: 'f', description: 'Deploy a new instance even if this bytecode and args are deployed', default: false, env: 'XAI_FORCE'}),
  }

  async run(): Promise<DeployContractResult> {
    const {args, argv, flags} = await this.parse(ContractDeploy)
    const ctorArgs = [...(argv as string[]).slice(1), ...(flags.args ?? [])]
    const {project, network} = await resolveChainContext(flags)
    const signer = resolveSigner({privateKey: flags['private-key'], account: flags.account})
    const json = this.jsonEnabled()
    // A list on a terminal; otherwise one line per finished step (✔ done, ↓ skipped).
    const progress = createTaskList<DeployEvent>({
      output: taskListOutput(json),
      steps: DEPLOY_STEPS.map((step) => ({id: step, title: DEPLOY_TITLES[step]})),
      updates: (event) => ({type: event.type, id: event.step, title: event.title}),
    })
    const result = await progress.run(() => deployContract(project, {contract: args.name, args: ctorArgs, network, signer, force: flags.force, onEvent: progress.onEvent}))
    if (!json) process.stdout.write(formatDeployResult(result))
    return result
  }
}

export function formatDeployResult(result: DeployContractResult): string {
  const where = `chain ${result.chainId}${result.network ? ` (${result.network})` : ''}`
  const head =
    result.status === 'existing'
      ? `${result.contract} is already deployed on ${where}; nothing sent (--force deploys another).`
      : `${result.contract} ${result.status === 'resumed' ? 'deployed (resumed the interrupted deployment)' : 'deployed'} on ${where}.`
  return `${head}
  address   ${result.address}
  tx        ${result.txHash}
  block     ${result.blockNumber}
  gas used  ${result.gasUsed}
  from      ${result.from} (nonce ${result.nonce})
  journal   ${result.journal}
`
}
