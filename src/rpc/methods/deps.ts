import type {Chain} from '../../chain/chain.js'
import type {Mempool} from '../../chain/mempool.js'
import type {Logger} from '../../util/logger.js'
import type {FilterManager} from '../filters.js'
import type {RpcLimits} from '../limits.js'
import type {ChainState} from '../state.js'

/** What the method families are built from. */
export interface RpcDeps {
  chain: Chain
  mempool: Mempool
  state: ChainState
  filters: FilterManager
  limits: RpcLimits
  logger: Logger
  clientVersion: string
  /** Connected peers, for net_peerCount (0 when the node has no p2p layer). */
  peerCount: () => number
}

/** The tip eth_maxPriorityFeePerGas suggests and eth_gasPrice adds to the next base fee: 1 gwei. */
export const SUGGESTED_PRIORITY_FEE = 1_000_000_000n
