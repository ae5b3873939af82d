import type {Chain} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import type {Logger} from '../util/logger.js'
import type {Telemetry} from '../util/telemetry.js'
import type {P2PHost} from '../p2p/host.js'
import type {ValidatorKey} from './keys.js'
import type {TimeoutConfig, ValidatorInfo} from './types.js'
import type {ValidatorSet} from './validator-set.js'

/** What the engine uses of the p2p host: gossip on `consensus` and `evidence`, and `sync` requests. */
export type ConsensusNetwork = Pick<P2PHost, 'publish' | 'subscribe' | 'handle' | 'request' | 'topicPeers'>

export interface ConsensusEngineOptions {
  chain: Chain
  mempool: Mempool
  validators: ValidatorSet
  /**
   * The validator set in the state of the head block (governance changes it), read after every
   * commit: the set for the next height. Undefined or an empty list keeps the current set.
   */
  validatorsAtHead?: () => Promise<readonly ValidatorInfo[] | undefined>
  /** This node's validator key; without one the node follows consensus but never votes. */
  key?: ValidatorKey
  host: ConsensusNetwork
  /** Folder of the write-ahead log. */
  walDir: string
  /** Target milliseconds between commits. */
  blockTime: number
  /** Make blocks without transactions (default true); false waits for a transaction, as CometBFT can. */
  emptyBlocks?: boolean
  timeouts?: TimeoutConfig
  logger?: Logger
  /** Metrics (round duration, block execution, re-execution) and security events. */
  telemetry?: Telemetry
  /** Test only: sign a second, conflicting vote for every vote (to exercise evidence handling). */
  doubleSign?: boolean
  now?: () => number
}

export interface ConsensusStats {
  evidenceCommitted: number
  evidenceSeen: number
  roundsAboveZero: number
  blocksSynced: number
}

/**
 * Round timeouts. The propose timeout only costs time when a proposer is down, so it is long
 * enough for a proposer on a busy laptop to build and send a full block (CometBFT's default is
 * 3 s); votes come quickly once the block is known.
 */
export function consensusTimeouts(blockTime: number): TimeoutConfig {
  return {
    proposeBase: Math.max(3_000, blockTime * 2),
    proposeDelta: 500,
    prevoteBase: 1_000,
    prevoteDelta: 500,
    precommitBase: 1_000,
    precommitDelta: 500,
  }
}
