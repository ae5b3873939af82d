import {join} from 'node:path'

import type {Chain} from '../chain/chain.js'
import {decodeTransaction} from '../chain/chain.js'
import type {Genesis} from '../chain/genesis.js'
import type {Mempool} from '../chain/mempool.js'
import {ConsensusEngine} from '../consensus/engine.js'
import {type NodeKeys, loadNodeKeys} from './node-home.js'
import {adminMethods, consensusMethods} from '../rpc/methods/consensus.js'
import {TxGossip} from '../consensus/tx-gossip.js'
import type {ValidatorAddress} from '../consensus/types.js'
import {ValidatorSet} from '../consensus/validator-set.js'
import {XaiError} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {type P2PHost, createP2PHost} from '../p2p/host.js'
import {refusedCheatMethods} from '../rpc/methods/anvil.js'
import {stateDumpMethods} from '../rpc/methods/state-dump.js'
import {type RpcServerOptions, createRpcServer} from '../rpc/server.js'
import {startHeapGovernor} from './heap-governor.js'
import {registerConsensusMetrics} from './metrics.js'
import type {ApiKeyAuthorizer} from '../util/api-keys.js'
import type {Telemetry} from '../util/telemetry.js'
import type {NodeOptions} from './node-options.js'
import {moduleHostOf} from '../modules/host/host-of.js'

export interface ConsensusNodeParts {
  options: NodeOptions
  genesis: Genesis
  chain: Chain
  mempool: Mempool
  logger: Logger
  rpcOptions: Omit<RpcServerOptions, 'extraMethods'>
  /** Close functions, run in reverse order when the node closes. */
  closers: (() => Promise<void>)[]
  p2p: StartedP2P
  telemetry: Telemetry
  auth: ApiKeyAuthorizer
}

export interface StartedP2P {
  host: P2PHost
  keys: NodeKeys
}

/** The node's keys and its libp2p host, listening and dialing its peers. */
export async function startP2P(options: NodeOptions, genesis: Genesis, logger: Logger, telemetry?: Telemetry): Promise<StartedP2P> {
  const p2p = options.p2p
  if (!p2p) {
    throw new XaiError('NODE_P2P_REQUIRED', 'This genesis names validators: the node needs peer-to-peer settings.', {
      hint: 'Start it with --p2p-port and --peers (xai devnet up does this for you).',
    })
  }
  const keys = await loadNodeKeys(options.home)
  const host = await createP2PHost({
    identitySeed: keys.p2pSeed,
    listenHost: p2p.host ?? '127.0.0.1',
    port: p2p.port,
    peers: p2p.peers,
    networkId: String(genesis.config.chainId),
    logger,
    telemetry,
  })
  return {host, keys}
}

/**
 * The consensus half of a node: keys, libp2p, the Tendermint engine, transaction gossip, and the
 * JSON-RPC server with the xai_* methods. Used when the genesis names validators.
 */
export async function startConsensusNode(parts: ConsensusNodeParts): Promise<{rpcUrl: string; wsUrl: string; consensus: ConsensusEngine; p2pAddrs: string[]}> {
  const {options, genesis, chain, mempool, logger, closers, telemetry, auth} = parts
  const {host, keys} = parts.p2p
  const p2p = options.p2p!
  const validators = new ValidatorSet((genesis.validators ?? []).map((v) => ({address: v.address.toLowerCase() as ValidatorAddress, power: v.power})))
  // With native modules governance can change the set, so a validator key outside the genesis set
  // is kept: the node votes from the height its address joins.
  const changeable = chain.modules !== undefined
  if (keys.validator && !validators.has(keys.validator.address)) {
    logger.warn(`this node's validator key is not in the genesis validator set; it follows without voting${changeable ? ' until governance adds it' : ''}`, {address: keys.validator.address})
  }
  const moduleHost = moduleHostOf(chain)
  const engine = new ConsensusEngine({
    chain,
    mempool,
    validators,
    ...(moduleHost
      ? {
          validatorsAtHead: async () => {
            const sm = chain.createStateManager()
            await sm.setStateRoot(chain.head.header.stateRoot)
            return (await moduleHost.validators(sm as never)).map((v) => ({address: v.address as ValidatorAddress, power: v.power}))
          },
        }
      : {}),
    telemetry,
    key: keys.validator && (changeable || validators.has(keys.validator.address)) ? keys.validator : undefined,
    host,
    walDir: join(options.home, 'wal'),
    blockTime: options.blockTime,
    emptyBlocks: p2p.emptyBlocks ?? true,
    doubleSign: p2p.doubleSign,
    ...(p2p.clockSkewMs ? {now: () => Date.now() + p2p.clockSkewMs!} : {}),
    logger,
  })
  const gossip = new TxGossip(mempool, host, (raw) => decodeTransaction(chain, raw), logger, chain.common.customCrypto.keccak256, telemetry)
  let rpcUrl = ''
  registerConsensusMetrics(telemetry, {engine, host})
  // The admin token in keys/admin.token stays valid on POST /admin, as an admin-scoped key.
  auth.addStaticKey({id: 'admin-token', name: 'node admin token (keys/admin.token)', key: keys.adminToken, scopes: ['admin']})
  const rpc = await createRpcServer({
    ...parts.rpcOptions,
    peerCount: () => host.peers().length,
    extraMethods: {
      ...consensusMethods({chain, mempool, engine, host, clientVersion: parts.rpcOptions.clientVersion, index: p2p.index, rpcUrl: () => rpcUrl}),
      // Cheat methods (evm_mine, evm_snapshot, anvil_setBalance, …) are refused with the reason.
      ...refusedCheatMethods(),
      // anvil_dumpState reads the agreed state; anvil_loadState is refused with the reason.
      ...stateDumpMethods({chain, logger}),
    },
    admin: {methods: adminMethods(host)},
  })
  rpcUrl = rpc.url
  closers.push(() => rpc.close())
  gossip.start()
  closers.push(async () => gossip.close())
  await engine.start()
  closers.push(() => engine.close())
  const stopGovernor = startHeapGovernor(chain, {logger})
  closers.push(async () => stopGovernor())
  logger.info('consensus node ready', {validator: engine.address, peerId: host.peerId, p2pAddrs: host.listenAddrs, validators: validators.validators.length})
  return {rpcUrl: rpc.url, wsUrl: rpc.wsUrl, consensus: engine, p2pAddrs: host.listenAddrs}
}
