import {mkdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {Chain} from '../chain/chain.js'
import {assertGenesis, type Genesis} from '../chain/genesis.js'
import {Mempool} from '../chain/mempool.js'
import {DevControls} from '../chain/dev-controls.js'
import {BlockProducer} from '../chain/producer.js'
import type {ConsensusEngine} from '../consensus/engine.js'
import {XaiError} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {genesisHasModules} from '../modules/host/genesis-modules.js'
import type {Dispatcher} from '../rpc/dispatcher.js'
import {type NodeRestOptions, createNodeRest} from '../rest/node-rest.js'
import {anvilMethods} from '../rpc/methods/anvil.js'
import {stateDumpMethods} from '../rpc/methods/state-dump.js'
import {createRpcServer, type RpcServer} from '../rpc/server.js'
import {startHeapGovernor} from './heap-governor.js'
import {registerNodeMetrics} from './metrics.js'
import {watchChainEvents} from './chain-events.js'
import {nodeHomePaths} from './node-home.js'
import {WebhookSender} from './webhook-sender.js'
import {ApiKeyAuthorizer} from '../util/api-keys.js'
import {Telemetry} from '../util/telemetry.js'
import {openLevelStore, type KeyValueStore} from '../storage/database.js'
import type {NodeOptions} from './node-options.js'

export const CLIENT_VERSION = 'xai/v0.1.0'

export type {NodeOptions, NodeP2POptions} from './node-options.js'

export interface XaiNode {
  rpcUrl: string
  wsUrl: string
  chain: Chain
  mempool: Mempool
  /** The single-node block producer (absent on a consensus chain). */
  producer?: BlockProducer
  /** The consensus engine (on a chain with validators). */
  consensus?: ConsensusEngine
  /** The libp2p multiaddrs this node listens on (consensus chains). */
  p2pAddrs: string[]
  /** This node's metrics registry and security events. */
  telemetry: Telemetry
  /** The webhook sender, when the node has a webhook. */
  webhook?: WebhookSender
  close(): Promise<void>
}

/**
 * The composition root of a node: storage → chain (execution) → mempool → block production →
 * JSON-RPC. Built in that order, closed in reverse. Resolves once the RPC port is bound.
 */
export async function createNode(options: NodeOptions): Promise<XaiNode> {
  const logger = options.logger ?? silentLogger
  const genesis = await readGenesis(options.genesisPath ?? join(options.home, 'genesis.json'))
  await mkdir(join(options.home, 'db'), {recursive: true})
  const closers: (() => Promise<void>)[] = []
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch((err) => logger.error('close failed', {error: String(err)}))
    closers.length = 0
  }
  // One registry per node (several nodes share a process in tests): prom-client's defaults, the
  // node's metrics, and xai_security_events_total, whose events also go to the webhook.
  const telemetry = new Telemetry({logger})
  const paths = nodeHomePaths(options.home)
  const auth = new ApiKeyAuthorizer({
    file: paths.apiKeys,
    staticKeys: options.rest?.apiKey ? [{id: 'api-key', name: 'devnet API key (--api-key-file)', key: options.rest.apiKey, scopes: ['write']}] : [],
    telemetry,
  })
  try {
    let webhook: WebhookSender | undefined
    if (options.webhook) {
      webhook = await WebhookSender.create({
        ...options.webhook,
        queueDir: options.webhook.queueDir ?? paths.webhookQueue,
        source: {chainId: genesis.config.chainId, ...(options.p2p?.index !== undefined ? {node: options.p2p.index} : {})},
        logger,
        telemetry,
      })
      const sender = webhook
      closers.push(() => sender.close())
      const stop = telemetry.onSecurityEvent((event) => sender.enqueue({...event}))
      closers.push(async () => void stop())
      logger.info('webhook on', {url: redactUrl(options.webhook.url), pending: sender.pending})
    }
    // A chain with validators: start the peer-to-peer host first, so that connecting to peers
    // overlaps opening the database and the chain.
    const consensus = genesis.validators && genesis.validators.length > 0 ? import('./consensus-node.js').then((m) => m.startP2P(options, genesis, logger, telemetry)) : undefined
    consensus?.then(
      (p2p) => closers.push(() => p2p.host.close()),
      () => undefined,
    )
    const store: KeyValueStore = await openLevelStore(join(options.home, 'db'))
    closers.push(() => store.close())
    const modules = genesisHasModules(genesis) ? (await import('../modules/host/create-host.js')).createModuleHost : undefined
    const chain = await Chain.create({store, genesis, logger, ...(modules ? {modules: (c: Chain) => modules(c, logger)} : {})})
    closers.push(() => chain.close())
    logger.info('chain ready', {chainId: chain.chainId, height: chain.head.header.number, nativeCrypto: chain.nativeCrypto})
    const mempool = new Mempool(chain, {logger, telemetry})
    registerNodeMetrics(telemetry, {chain, mempool})
    if (chain.modules) {
      const sender = webhook
      const stopEvents = watchChainEvents(chain, {telemetry, logger, ...(sender ? {onGovernance: (event) => sender.enqueue({...event})} : {})})
      closers.push(async () => stopEvents())
    }
    const rpcOptions = {
      host: options.rpcHost ?? '127.0.0.1',
      port: options.rpcPort,
      chain,
      mempool,
      logger,
      clientVersion: CLIENT_VERSION,
      accounts: options.unlockedAccounts,
      telemetry,
      auth,
      metrics: () => telemetry.metrics(),
      routes: ({dispatcher, maxBodyBytes, headers}: {dispatcher: Dispatcher; maxBodyBytes: number; headers: Record<string, string>}) =>
        createNodeRest({...options.rest, auth, readAuth: options.restReadAuth, chain, dispatcher, logger, maxBodyBytes, headers, version: CLIENT_VERSION}),
    }
    if (genesis.validators && genesis.validators.length > 0) {
      const {startConsensusNode} = await import('./consensus-node.js')
      const p2p = await consensus!
      const started = await startConsensusNode({options, genesis, chain, mempool, logger, rpcOptions, closers, p2p, telemetry, auth})
      return {...started, chain, mempool, telemetry, ...(webhook ? {webhook} : {}), close: (() => {
        let closing: Promise<void> | undefined
        return () => (closing ??= closeAll())
      })()}
    }
    const producer = new BlockProducer({chain, mempool, blockTime: options.blockTime, logger, telemetry})
    // Automine answers a sent transaction once it is mined, as anvil does, so a client's first
    // receipt lookup finds it (the producer answers at once in the other mining modes).
    mempool.settle = (hash) => producer.whenSettled(hash)
    const dev = new DevControls(chain, mempool, producer)
    const rpc: RpcServer = await createRpcServer({
      ...rpcOptions,
      impersonated: (address) => dev.isImpersonated(address),
      // anvil's and Hardhat's cheat methods (evm_mine, evm_snapshot, anvil_setBalance, …).
      extraMethods: {...anvilMethods(dev), ...stateDumpMethods({chain, dev, logger})},
    })
    closers.push(() => rpc.close())
    producer.start()
    closers.push(() => producer.close())
    const stopGovernor = startHeapGovernor(chain, {logger})
    closers.push(async () => stopGovernor())
    let closing: Promise<void> | undefined
    return {
      rpcUrl: rpc.url,
      wsUrl: rpc.wsUrl,
      chain,
      mempool,
      producer,
      p2pAddrs: [],
      telemetry,
      ...(webhook ? {webhook} : {}),
      close: () => (closing ??= closeAll()),
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}

async function readGenesis(path: string): Promise<Genesis> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new XaiError('GENESIS_MISSING', `No genesis document at ${path}.`, {
      hint: 'Start nodes through `xai devnet up`, which writes it, or pass --genesis.',
      cause: err,
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new XaiError('GENESIS_INVALID', `${path} is not valid JSON.`, {
      hint: 'Recreate the devnet (xai devnet reset) or fix genesis.json.',
      cause: err,
    })
  }
  assertGenesis(value)
  return value
}

/** A URL for the log, without credentials or query (a webhook URL may carry a token). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '(invalid URL)'
  }
}
