import {rpcRequest} from '../util/rpc-client.js'
import {XaiError, errorMessage} from '../util/errors.js'
import type {XaiConfig} from './config.js'
import {ContractsErrorCode} from './errors.js'

export interface ResolveNetworkOptions {
  /** The project's config (its networks and defaultNetwork); none outside a project. */
  config?: Pick<XaiConfig, 'networks' | 'defaultNetwork'>
  /** --rpc-url: beats everything. */
  rpcUrl?: string
  /** --network: a name from config.networks. */
  network?: string
  /** The xai home holding devnets/ (for `{devnet: name}` networks). */
  home: string
  /** Timeout of the eth_chainId probe (default 5 s). */
  timeoutMs?: number
  /**
   * Finds a local devnet by name (the devnet orchestrator's folder format is not this layer's):
   * its node 0's JSON-RPC URL, or undefined when it does not exist, and the file looked at.
   */
  locateDevnet?: (name: string, home: string) => Promise<{rpcUrl: string | undefined; record: string}>
}

/** Where commands send their JSON-RPC, and the chain it serves. */
export interface ResolvedNetwork {
  /** The network's name in the config, or null for a bare --rpc-url. */
  name: string | null
  rpcUrl: string
  chainId: number
  /** The devnet behind it, when it is one. */
  devnet: string | null
}

/**
 * Resolves the target chain: `rpcUrl` beats `network` beats the config's `defaultNetwork`; a
 * `{devnet: name}` network is that devnet's node-0 RPC URL (from devnet.json under `home`). The
 * chain id comes from eth_chainId, so an unreachable endpoint fails here, with a hint.
 *
 * @example
 * const {rpcUrl, chainId} = await resolveNetwork({config: project.config, home: '/repo/.xai'})
 */
export async function resolveNetwork(options: ResolveNetworkOptions): Promise<ResolvedNetwork> {
  const timeoutMs = options.timeoutMs ?? 5_000
  if (options.rpcUrl) {
    assertUrl(options.rpcUrl)
    return {name: null, rpcUrl: options.rpcUrl, chainId: await probeChainId(options.rpcUrl, timeoutMs), devnet: null}
  }
  const networks = options.config?.networks ?? {}
  const name = options.network ?? options.config?.defaultNetwork
  if (name === undefined) {
    throw new XaiError(ContractsErrorCode.unknownNetwork, 'No network to use: not in a contracts project and no --rpc-url', {
      hint: 'Pass --rpc-url http://127.0.0.1:8545, or run inside a project whose xai.config.json has networks.',
    })
  }
  const network = networks[name]
  if (!network) {
    const known = Object.keys(networks)
    throw new XaiError(ContractsErrorCode.unknownNetwork, `Unknown network "${name}"`, {
      hint: known.length > 0 ? `Known networks (xai.config.json): ${known.join(', ')}; or pass --rpc-url.` : 'Add it to "networks" in xai.config.json, or pass --rpc-url.',
      details: {network: name, known},
    })
  }
  if ('rpcUrl' in network) return {name, rpcUrl: network.rpcUrl, chainId: await probeChainId(network.rpcUrl, timeoutMs), devnet: null}

  const devnet = network.devnet
  const upHint = `Start it: xai devnet up${devnet === 'default' ? '' : ` --name ${devnet}`} --detach${options.home ? ` (devnets are looked up in ${options.home}; --dir/XAI_HOME changes that)` : ''}`
  if (!options.locateDevnet) throw new XaiError(ContractsErrorCode.devnetNotRunning, `Network "${name}" is the devnet "${devnet}", and no devnet lookup was given`, {hint: 'Pass --rpc-url.'})
  const {rpcUrl: url, record} = await options.locateDevnet(devnet, options.home)
  if (!url) {
    throw new XaiError(ContractsErrorCode.devnetNotRunning, `Network "${name}" is the devnet "${devnet}", which does not exist (no ${record})`, {
      hint: upHint,
      details: {network: name, devnet, record},
    })
  }
  try {
    return {name, rpcUrl: url, chainId: await fetchChainId(url, timeoutMs), devnet}
  } catch (err) {
    throw new XaiError(ContractsErrorCode.devnetNotRunning, `The devnet "${devnet}" (network "${name}") is not running: ${url} does not answer`, {
      hint: upHint,
      cause: err,
      details: {network: name, devnet, rpcUrl: url},
    })
  }
}

/** Node 0's HTTP JSON-RPC URL of a devnet. */
async function fetchChainId(url: string, timeoutMs: number): Promise<number> {
  const hex = await rpcRequest<string>(url, 'eth_chainId', [], {timeoutMs})
  const id = Number(BigInt(hex))
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`eth_chainId answered ${JSON.stringify(hex)}`)
  return id
}

async function probeChainId(url: string, timeoutMs: number): Promise<number> {
  try {
    return await fetchChainId(url, timeoutMs)
  } catch (err) {
    throw new XaiError(ContractsErrorCode.rpcUnreachable, `Cannot reach the JSON-RPC endpoint ${url}: ${errorMessage(err)}`, {
      hint: 'Check that the node is running and the URL is right (e.g. `xai devnet up --detach`, then `xai devnet status` shows its RPC URL).',
      cause: err,
      details: {rpcUrl: url},
    })
  }
}

function assertUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined as unknown as URL
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) {
    throw new XaiError(ContractsErrorCode.unknownNetwork, `--rpc-url ${url} is not an http(s) URL`, {
      hint: 'e.g. --rpc-url http://127.0.0.1:8545',
    })
  }
}
