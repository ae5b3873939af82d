import type {Chain} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import type {Logger} from '../util/logger.js'
import type {Telemetry} from '../util/telemetry.js'
import {Dispatcher, type MethodTable} from './dispatcher.js'
import {FilterManager} from './filters.js'
import {type RpcLimits, resolveLimits} from './limits.js'
import {type UnlockedAccount, accountMethods} from './methods/accounts.js'
import {debugMethods} from './methods/debug.js'
import type {RpcDeps} from './methods/deps.js'
import {ethMethods} from './methods/eth.js'
import {filterMethods} from './methods/filters.js'
import {moduleMethods} from './methods/modules.js'
import {netMethods} from './methods/net.js'
import {txpoolMethods} from './methods/txpool.js'
import {web3Methods} from './methods/web3.js'
import {ChainState} from './state.js'

export interface RpcApiOptions {
  chain: Chain
  mempool: Mempool
  logger: Logger
  clientVersion: string
  limits?: Partial<RpcLimits>
  /** Connected peers, for net_peerCount (default 0). */
  peerCount?: () => number
  /**
   * Keys the node signs with for eth_sendTransaction / eth_sign / personal_sign /
   * eth_signTypedData_v4, listed by eth_accounts (a devnet's dev accounts, as anvil does).
   * Default none: a node holds no keys.
   */
  accounts?: UnlockedAccount[]
  /** Whether eth_sendTransaction may send from an address without its key (anvil_impersonateAccount). */
  impersonated?: (address: Uint8Array) => boolean
  /** Further methods (e.g. a node's evm_mine); they may override the built-in ones. */
  extraMethods?: MethodTable
  /** Request time per method goes to its xai_rpc_request_duration_seconds. */
  telemetry?: Telemetry
}

/** The transport-free JSON-RPC API of a node: a dispatcher and the services behind it. */
export interface RpcApi {
  dispatcher: Dispatcher
  filters: FilterManager
  state: ChainState
  limits: RpcLimits
  /** Detaches from the chain and mempool events. Idempotent. */
  close(): void
}

export async function createRpcApi(options: RpcApiOptions): Promise<RpcApi> {
  const {chain, mempool, logger} = options
  const limits = resolveLimits(options.limits)
  const state = await ChainState.create(chain, {logger, gasCap: limits.gasCap, callTimeoutMs: limits.callTimeoutMs, traceTimeoutMs: limits.traceTimeoutMs})
  const filters = new FilterManager(chain, mempool, limits, logger)
  const deps: RpcDeps = {
    chain,
    mempool,
    state,
    filters,
    limits,
    logger,
    clientVersion: options.clientVersion,
    peerCount: options.peerCount ?? (() => 0),
  }
  const methods: MethodTable = {
    ...web3Methods(deps),
    ...netMethods(deps),
    ...ethMethods(deps),
    ...accountMethods(deps, options.accounts, options.impersonated),
    ...filterMethods(deps),
    ...txpoolMethods(deps),
    ...debugMethods(deps),
    ...moduleMethods(deps),
    ...options.extraMethods,
  }
  const {telemetry} = options
  const dispatcher = new Dispatcher(methods, {logger, maxBatch: limits.maxBatch, ...(telemetry ? {onTiming: (method: string, seconds: number) => telemetry.rpcDuration.observe({method}, seconds)} : {})})
  let closed = false
  return {
    dispatcher,
    filters,
    state,
    limits,
    close() {
      if (closed) return
      closed = true
      filters.close()
      state.close()
    },
  }
}
