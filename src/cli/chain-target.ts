import {Flags} from '@oclif/core'

import {type ResolvedNetwork, resolveNetwork} from '../contracts/network.js'
import {findProject, openProject} from '../contracts/project.js'
import {DEFAULT_DEVNET_NAME, locateDevnet} from '../devnet/devnet-folder.js'
import {isXaiError} from '../util/errors.js'
import {devnetsRoot} from './devnet-flags.js'

/**
 * Which chain the governance and module commands talk to. They need no contracts project:
 * `--rpc-url` beats `--network` (a network of the project's xai.config.json) beats the project's
 * default network; outside a project, the devnet `--devnet` (default "default") under `--dir`.
 */
export const chainTargetFlags = {
  'rpc-url': Flags.string({description: 'JSON-RPC endpoint (beats --network and --devnet)', env: 'XAI_RPC_URL'}),
  network: Flags.string({char: 'n', description: 'A network of the contracts project here (xai.config.json) [default: its defaultNetwork]', env: 'XAI_NETWORK'}),
  project: Flags.string({description: 'Contracts project whose networks to use [default: the nearest folder up from here with xai.config.json]', env: 'XAI_PROJECT'}),
  devnet: Flags.string({description: 'Devnet to use outside a contracts project', default: DEFAULT_DEVNET_NAME, env: 'XAI_DEVNET'}),
  dir: Flags.string({description: 'Folder holding devnets/ [default: ./.xai]', env: 'XAI_HOME'}),
}

export interface ChainTargetFlags {
  'rpc-url'?: string
  network?: string
  project?: string
  devnet?: string
  dir?: string
}

/**
 * The user setting `network` (XAI_DEFAULT_NETWORK): a JSON-RPC URL or a devnet name, the default
 * where no project's xai.config.json names one.
 */
export function userDefaultNetwork(env: NodeJS.ProcessEnv = process.env): {rpcUrl?: string; devnet?: string} | undefined {
  const value = env.XAI_DEFAULT_NETWORK
  if (value === undefined || value === '') return undefined
  return /^(https?|wss?):\/\//.test(value) ? {rpcUrl: value} : {devnet: value}
}

/** The network the flags name, resolved once here; the chain id comes from the node. */
export async function resolveChainTarget(flags: ChainTargetFlags, cwd = process.cwd()): Promise<ResolvedNetwork> {
  const home = devnetsRoot(flags.dir)
  if (flags['rpc-url']) return resolveNetwork({rpcUrl: flags['rpc-url'], home, locateDevnet})
  const project = flags.project ? await openProject(flags.project) : await findProject(cwd).catch((err: unknown) => {
    if (isXaiError(err) && err.code === 'CONTRACT_PROJECT_NOT_FOUND') return undefined
    throw err
  })
  if (project) return resolveNetwork({config: project.config, network: flags.network, home, locateDevnet})
  const fallback = userDefaultNetwork()
  if (fallback?.rpcUrl && flags.network === undefined) return resolveNetwork({rpcUrl: fallback.rpcUrl, home, locateDevnet})
  const devnet = flags.devnet ?? fallback?.devnet ?? DEFAULT_DEVNET_NAME
  return resolveNetwork({config: {networks: {[devnet]: {devnet}}, defaultNetwork: devnet}, network: flags.network, home, locateDevnet})
}

/**
 * `--chain <devnet name | JSON-RPC URL>` of the fl commands: a URL as it is, a name as that devnet
 * (under `dir`, as `--devnet` does); the chain id comes from the node.
 */
export async function resolveChainArg(chain: string, dir: string | undefined): Promise<ResolvedNetwork> {
  const home = devnetsRoot(dir)
  if (/^(https?|wss?):\/\//.test(chain)) return resolveNetwork({rpcUrl: chain, home, locateDevnet})
  return resolveNetwork({config: {networks: {[chain]: {devnet: chain}}, defaultNetwork: chain}, home, locateDevnet})
}
