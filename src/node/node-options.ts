import type {NodeRestOptions} from '../rest/node-rest.js'
import type {Logger} from '../util/logger.js'

/** Milliseconds between blocks when nothing says otherwise (`xai node start`, a new devnet). */
export const DEFAULT_BLOCK_TIME_MS = 1_000

/** What `createNode` takes (src/node/node.ts); the consensus half (consensus-node.ts) reads the same. */
export interface NodeOptions {
  /** The node folder: holds db/ and, unless genesisPath says otherwise, genesis.json. */
  home: string
  genesisPath?: string
  rpcHost?: string
  rpcPort: number
  /** Milliseconds between blocks; 0 = automine (one block per transaction as it arrives). */
  blockTime: number
  /**
   * Accounts whose keys the node holds: eth_accounts lists them and eth_sendTransaction /
   * eth_sign / personal_sign / eth_signTypedData_v4 sign with them (a devnet's dev accounts).
   */
  unlockedAccounts?: {address: `0x${string}`; privateKey: `0x${string}`}[]
  logger?: Logger
  /** The REST surface's API key (writes need it) and the contracts project requests may name. */
  rest?: NodeRestOptions
  /**
   * Peer-to-peer settings, used when the genesis names validators (the chain is then decided by
   * Tendermint consensus among them; the node's keys are read from home/keys/).
   */
  p2p?: NodeP2POptions
  /** POST every security event and governance state change, signed, to this URL. */
  webhook?: NodeWebhookOptions
  /** REST reads (not /health, /openapi.json) need a read-scoped API key too. */
  restReadAuth?: boolean
}

export interface NodeWebhookOptions {
  url: string
  /** The HMAC-SHA256 secret deliveries are signed with. */
  secret: string
  /** The on-disk queue (default <home>/webhooks/queue). */
  queueDir?: string
  maxQueue?: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface NodeP2POptions {
  host?: string
  port: number
  /** Multiaddrs (with /p2p/<peer id>) of peers to keep connected to. */
  peers: string[]
  /** Make blocks without transactions (default true). */
  emptyBlocks?: boolean
  /** Test only: sign a conflicting second vote for each vote. */
  doubleSign?: boolean
  /** Test only: milliseconds added to the clock consensus reads (block timestamps included). */
  clockSkewMs?: number
  /** The node's index in its devnet, reported by xai_nodeInfo. */
  index?: number
}
