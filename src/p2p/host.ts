// Must stay the first import: libp2p 3 calls Promise.withResolvers, which Node 20 lacks.
import './polyfill.js'

import {EventEmitter} from 'node:events'
import {isIP} from 'node:net'

import type {GossipSub} from '@libp2p/gossipsub'
import type {Identify} from '@libp2p/identify'
import type {Connection, ConnectionGater, Libp2p, PeerId, PrivateKey, Stream} from '@libp2p/interface'
import type {Multiaddr} from '@multiformats/multiaddr'

import {errorMessage, isXaiError} from '../util/errors.js'
import {Telemetry} from '../util/telemetry.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {
  invalidP2POptions,
  messageTooLarge,
  p2pClosed,
  p2pDisconnected,
  p2pPortInUse,
  p2pStartFailed,
  peerNotConnected,
  requestFailed,
  requestTimeout,
} from './errors.js'
import {Redialer, type RedialTarget} from './redialer.js'
import {
  DEFAULT_MAX_CHUNKS,
  DEFAULT_MAX_RESPONSE_BYTES,
  MAX_REQUEST_BYTES,
  type RequestHandler,
  sendRequest,
  serveRequest,
} from './request-response.js'

/** The gossip topics a validator node uses. */
export type Topic = 'tx' | 'consensus' | 'evidence'
export const TOPICS: readonly Topic[] = ['tx', 'consensus', 'evidence']

/**
 * Largest gossip payload: 4 MiB less 64 KiB. gossipsub 17 frames each RPC with it-length-prefixed's
 * fixed 4 MiB limit (not configurable on the sending side), and the RPC around a message (topic,
 * author, seqno, signature, piggybacked control) needs room. publish refuses more; receivers drop more.
 */
export const MAX_GOSSIP_BYTES = 4 * 1024 * 1024 - 64 * 1024
/** Default bound on a request/response exchange. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

export interface P2PHostOptions {
  /** 32-byte seed; the libp2p identity is the Ed25519 key derived from it (deterministic). */
  identitySeed: Uint8Array
  /** Interface to listen on, e.g. '127.0.0.1' or '0.0.0.0' (IPv6 literals work too). */
  listenHost: string
  /** TCP port; 0 = any. */
  port: number
  /** Multiaddrs of peers to dial and keep dialing (with /p2p/<peerId>), e.g. /ip4/127.0.0.1/tcp/26001/p2p/12D3... */
  peers: string[]
  /** Chain id, folded into topic names and protocol ids so two devnets never mix. */
  networkId: string
  logger?: Logger
  /** Where a misbehaving peer is reported (bad-peer security events). */
  telemetry?: Telemetry
}

/** One connected peer. */
export interface PeerSummary {
  peerId: string
  /** Remote addresses of the open connections to it. */
  addrs: string[]
  /** Direction of the first open connection. */
  direction: 'inbound' | 'outbound'
  /** Round trip measured by libp2p's connection monitor (every 5 s), once there is one. */
  latencyMs?: number
}

export interface RequestOptions {
  /** Rejects after this long (default 10 s). */
  timeoutMs?: number
  /** Most response chunks accepted (default 4096). */
  maxChunks?: number
  /** Most response bytes accepted, all chunks together (default 64 MiB). */
  maxBytes?: number
}

export type P2PHostEvent = 'peer:connect' | 'peer:disconnect'

/** The transport of a validator node: gossip, request/response and peer management over libp2p. */
export interface P2PHost {
  readonly peerId: string
  /** Full multiaddrs with /p2p/<id>. */
  readonly listenAddrs: string[]
  /** Gossips `data` to every subscribed peer (not to self). Never throws for "no peers"; logs instead. Throws for a payload over MAX_GOSSIP_BYTES. */
  publish(topic: Topic, data: Uint8Array): Promise<void>
  /** Calls `handler` with each message on `topic` from another peer; `from` is the signing author's peer id. */
  subscribe(topic: Topic, handler: (data: Uint8Array, from: string) => void): void
  /** Request/response: register (or replace) the handler for `protocol`, a short name such as 'sync'. The response is a list of byte chunks, each length-prefixed on the wire. */
  handle(protocol: string, handler: RequestHandler): void
  /** Sends `request` to a connected peer and returns the response chunks; rejects after timeoutMs (default 10 s), on a closed/refused stream, a remote handler error, or a response over the limits. */
  request(peerId: string, protocol: string, request: Uint8Array, options?: RequestOptions): Promise<Uint8Array[]>
  peers(): PeerSummary[]
  /** How many connected peers are subscribed to `topic` (a message published now reaches them). */
  topicPeers(topic: Topic): number
  /** Fault injection: close every connection and refuse (connection gater) all inbound and outbound connections until reconnect(). */
  disconnect(): Promise<void>
  /** Accept connections again and redial the configured peers now; resolves once each had one dial attempt. */
  reconnect(): Promise<void>
  /** False between disconnect() and reconnect(), and after close(). */
  readonly connected: boolean
  on(event: P2PHostEvent, listener: (peerId: string) => void): void
  /** Stops everything (listener, connections, timers); idempotent. */
  close(): Promise<void>
}

type Services = {identify: Identify; pubsub: GossipSub}

const NETWORK_ID = /^[A-Za-z0-9._-]{1,64}$/
/** How often the pubsub streams of connected peers are checked. */
const GOSSIP_CHECK_MS = 2_000
/** Consecutive checks a connected peer may lack its pubsub streams before it is hung up on and redialed. */
const GOSSIP_CHECK_MISSES = 3
const PROTOCOL_NAME = /^[A-Za-z0-9._-]{1,64}$/

/** The gossipsub topic name of `topic` on network `networkId`. */
export function topicName(networkId: string, topic: Topic): string {
  return `/xai/${networkId}/${topic}/1`
}

/** The libp2p protocol id of request/response protocol `name` on network `networkId`. */
export function protocolId(networkId: string, name: string): string {
  return `/xai/${networkId}/req/${name}/1`
}

/**
 * The peer id (string, 12D3Koo...) that createP2PHost derives from this seed — pure, cheap, no
 * libp2p startup; used by the devnet to write peer lists before processes start.
 */
export async function peerIdFromSeed(seed: Uint8Array): Promise<string> {
  const {privateKey, peerIdFromPrivateKey} = await loadIdentity(seed)
  return peerIdFromPrivateKey(privateKey).toString()
}

async function loadIdentity(seed: Uint8Array): Promise<{privateKey: PrivateKey; peerIdFromPrivateKey: (key: PrivateKey) => PeerId}> {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw invalidP2POptions(`The identity seed must be 32 bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`)
  }
  const [{generateKeyPairFromSeed}, {peerIdFromPrivateKey}] = await Promise.all([import('@libp2p/crypto/keys'), import('@libp2p/peer-id')])
  const privateKey = await generateKeyPairFromSeed('Ed25519', seed)
  return {privateKey, peerIdFromPrivateKey}
}

/**
 * Starts a libp2p node (TCP + noise + yamux, identify, gossipsub) listening on
 * `listenHost:port`, and keeps dialing `peers`. libp2p is loaded here, on first use, so that
 * importing this module costs nothing.
 *
 * @example
 * const host = await createP2PHost({identitySeed, listenHost: '127.0.0.1', port: 26001, peers: [], networkId: 'xai-devnet'})
 * host.subscribe('tx', (data, from) => mempool.add(data))
 * await host.publish('tx', rawTx)
 */
export async function createP2PHost(options: P2PHostOptions): Promise<P2PHost> {
  const logger = options.logger ?? silentLogger
  const telemetry = options.telemetry ?? new Telemetry({logger, defaultMetrics: false})
  validateOptions(options)
  const {privateKey, peerIdFromPrivateKey} = await loadIdentity(options.identitySeed)
  const selfId = peerIdFromPrivateKey(privateKey).toString()

  const [libp2pModule, tcpModule, noiseModule, yamuxModule, identifyModule, gossipsubModule, multiaddrModule, peerIdModule] = await Promise.all([
    import('libp2p'),
    import('@libp2p/tcp'),
    import('@chainsafe/libp2p-noise'),
    import('@chainsafe/libp2p-yamux'),
    import('@libp2p/identify'),
    import('@libp2p/gossipsub'),
    import('@multiformats/multiaddr'),
    import('@libp2p/peer-id'),
  ])

  const targets = parsePeers(options.peers, multiaddrModule.multiaddr).filter((t) => t.peerId !== selfId)
  const topicNames = new Map(TOPICS.map((topic) => [topicName(options.networkId, topic), topic]))

  // The fault-injection gate: while closed, every stage of every connection is refused.
  const gate = {closed: false}
  const deny = (): boolean => gate.closed
  const connectionGater: ConnectionGater = {
    denyDialPeer: deny,
    denyDialMultiaddr: deny,
    denyInboundConnection: deny,
    denyOutboundConnection: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny,
  }

  const family = isIP(options.listenHost) === 6 ? 'ip6' : 'ip4'
  let node: Libp2p<Services>
  try {
    node = await libp2pModule.createLibp2p<Services>({
      privateKey,
      addresses: {listen: [`/${family}/${options.listenHost}/tcp/${options.port}`]},
      transports: [tcpModule.tcp()],
      // The prologue is hashed into the handshake: nodes of different networks cannot connect.
      connectionEncrypters: [noiseModule.noise({prologueBytes: new TextEncoder().encode(`xai/${options.networkId}`)})],
      streamMuxers: [yamuxModule.yamux()],
      connectionGater,
      connectionManager: {
        dialTimeout: 5_000,
        // A devnet's nodes all connect from one IP: the default of 5 inbound connections per
        // host per second refuses some of them at startup.
        inboundConnectionThreshold: 100,
        maxIncomingPendingConnections: 64,
      },
      // RTT for peers(); a slow ping on a busy 2-core machine must not cut a connection.
      connectionMonitor: {pingInterval: 5_000, abortConnectionOnPingFailure: false},
      services: {
        identify: identifyModule.identify(),
        pubsub: gossipsubModule.gossipsub({
          emitSelf: false,
          // Publish straight to every subscribed peer instead of waiting for the mesh heartbeat.
          floodPublish: true,
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          fallbackToFloodsub: false,
          // Signed by the author; the message id is author + sequence number, so identical
          // payloads from different peers stay distinct messages.
          globalSignaturePolicy: 'StrictSign',
          allowedTopics: [...topicNames.keys()],
          // Mesh sizes for 4–10 fully connected nodes.
          D: 4,
          Dlo: 3,
          Dhi: 8,
          Dout: 1,
          Dscore: 2,
          Dlazy: 4,
          heartbeatInterval: 700,
          // maxInboundDataLength stays at the 4 MiB RPC-frame default: senders cannot exceed it
          // anyway. The per-message limit is publish()'s check and the topic validator in init().
          // A small permissioned set sharing one IP: scoring must never graylist a validator.
          scoreParams: {IPColocationFactorWeight: 0},
          scoreThresholds: {gossipThreshold: -1_000, publishThreshold: -2_000, graylistThreshold: -4_000},
        }),
      },
    })
  } catch (err) {
    if (hasErrorCode(err, 'EADDRINUSE')) throw p2pPortInUse(options.listenHost, options.port, err)
    throw p2pStartFailed(err, {listenHost: options.listenHost, port: options.port})
  }

  const host = new Libp2pHost(node, {
    networkId: options.networkId,
    logger,
    telemetry,
    targets,
    gate,
    topicNames,
    peerIdFromString: peerIdModule.peerIdFromString,
    multiaddr: multiaddrModule.multiaddr,
    validation: gossipsubModule.TopicValidatorResult,
  })
  await host.init()
  return host
}

interface HostDeps {
  networkId: string
  logger: Logger
  telemetry: Telemetry
  targets: RedialTarget[]
  gate: {closed: boolean}
  topicNames: Map<string, Topic>
  peerIdFromString: (id: string) => PeerId
  multiaddr: (addr: string) => Multiaddr
  validation: typeof import('@libp2p/gossipsub').TopicValidatorResult
}

class Libp2pHost implements P2PHost {
  readonly peerId: string
  private readonly logger: Logger
  private readonly events = new EventEmitter<{'peer:connect': [string]; 'peer:disconnect': [string]}>()
  private readonly subscribers = new Map<Topic, Set<(data: Uint8Array, from: string) => void>>()
  private readonly handlers = new Map<string, RequestHandler>()
  private readonly inflight = new Set<AbortController>()
  private readonly redialer: Redialer
  /** Connected peers found without pubsub streams, and in how many checks in a row. */
  private readonly gossipMisses = new Map<string, number>()
  private gossipCheck?: NodeJS.Timeout
  private closing?: Promise<void>

  constructor(
    private readonly node: Libp2p<Services>,
    private readonly deps: HostDeps,
  ) {
    this.peerId = node.peerId.toString()
    this.logger = deps.logger
    this.redialer = new Redialer({
      targets: deps.targets,
      logger: deps.logger,
      isConnected: (peerId) => this.isConnectedTo(peerId),
      dial: async (target, signal) => {
        try {
          await node.dial(deps.multiaddr(target.addr), {signal})
        } catch (err) {
          // A noise prologue mismatch (another network id) shows up as a failed decryption.
          if (/handshake/i.test(errorMessage(err))) throw new Error(`${errorMessage(err)} (is the peer on another network id?)`, {cause: err})
          throw err
        }
      },
    })
  }

  /** Wires events and starts dialing the configured peers (without waiting for them). */
  async init(): Promise<void> {
    const {node, logger} = this
    node.addEventListener('peer:connect', (evt) => {
      const peer = evt.detail.toString()
      logger.info('p2p peer connected', {peer})
      this.emit('peer:connect', peer)
    })
    node.addEventListener('peer:disconnect', (evt) => {
      const peer = evt.detail.toString()
      logger.info('p2p peer disconnected', {peer})
      this.emit('peer:disconnect', peer)
      this.redialer.onDisconnect(peer)
    })
    node.addEventListener('connection:open', (evt) => {
      // A dial that passed the gater just before disconnect() must not survive it.
      if (!this.deps.gate.closed) return
      logger.debug('p2p connection opened while disconnected, aborted', {peer: evt.detail.remotePeer.toString(), direction: evt.detail.direction})
      evt.detail.abort(new Error('P2P host is disconnected'))
    })
    node.services.pubsub.addEventListener('message', (evt) => {
      const msg = evt.detail
      const topic = this.deps.topicNames.get(msg.topic)
      if (topic === undefined) return
      const from = msg.type === 'signed' ? msg.from.toString() : ''
      // gossipsub hands out Buffers; subscribers get a plain Uint8Array view of the same bytes.
      const data = new Uint8Array(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength)
      for (const handler of this.subscribers.get(topic) ?? []) this.deliver(handler, topic, data, from)
    })
    const {validation} = this.deps
    for (const [name, topic] of this.deps.topicNames) {
      node.services.pubsub.topicValidators.set(name, (peer, msg) => {
        if (msg.data.length <= MAX_GOSSIP_BYTES) return validation.Accept
        this.deps.telemetry.security('bad-peer', 'p2p gossip message over the size limit dropped', {topic, peer: peer.toString(), size: msg.data.length})
        return validation.Reject
      })
    }
    logger.info('p2p host started', {peerId: this.peerId, listenAddrs: this.listenAddrs, peers: this.deps.targets.length})
    void this.redialer.start()
    this.gossipCheck = setInterval(() => this.checkGossipStreams(), GOSSIP_CHECK_MS)
    this.gossipCheck.unref()
  }

  /**
   * gossipsub opens its stream to a peer only when the peer connects, and forgets the peer when
   * reading from it fails: a stream reset while the connection stays up (or a duplicate
   * connection closed under the stream) leaves a connected peer that gossip never reaches again.
   * A peer found so in GOSSIP_CHECK_MISSES checks in a row is hung up on; the side configured
   * with it redials, and the new connection opens new streams.
   */
  private checkGossipStreams(): void {
    // Public fields of gossipsub's implementation, outside its exported interface: without them
    // (another version) there is nothing to check.
    const {peers, streamsOutbound} = this.node.services.pubsub as unknown as {peers?: Map<string, unknown>; streamsOutbound?: Map<string, unknown>}
    if (!(peers instanceof Map && streamsOutbound instanceof Map)) return
    const connected = new Set<string>()
    for (const connection of this.node.getConnections()) if (connection.status === 'open') connected.add(connection.remotePeer.toString())
    for (const peer of this.gossipMisses.keys()) if (!connected.has(peer)) this.gossipMisses.delete(peer)
    for (const peer of connected) {
      if (peers.has(peer) && streamsOutbound.has(peer)) {
        this.gossipMisses.delete(peer)
        continue
      }
      const misses = (this.gossipMisses.get(peer) ?? 0) + 1
      if (misses < GOSSIP_CHECK_MISSES) {
        this.gossipMisses.set(peer, misses)
        continue
      }
      this.gossipMisses.delete(peer)
      this.logger.warn('p2p gossip stream to a connected peer lost; reconnecting', {peer})
      this.node.hangUp(this.deps.peerIdFromString(peer)).catch((err: unknown) => {
        this.logger.warn('p2p hang-up failed', {peer, error: errorMessage(err)})
      })
    }
  }

  get listenAddrs(): string[] {
    return this.node.getMultiaddrs().map((ma) => ma.toString())
  }

  get connected(): boolean {
    return !this.deps.gate.closed && this.closing === undefined
  }

  async publish(topic: Topic, data: Uint8Array): Promise<void> {
    assertTopic(topic)
    if (data.length > MAX_GOSSIP_BYTES) throw messageTooLarge(data.length, MAX_GOSSIP_BYTES)
    if (this.closing !== undefined) {
      this.logger.warn('p2p publish after close dropped', {topic})
      return
    }
    try {
      const {recipients} = await this.node.services.pubsub.publish(topicName(this.deps.networkId, topic), data)
      if (recipients.length === 0) this.logger.debug('p2p publish reached no peers', {topic, size: data.length})
    } catch (err) {
      this.logger.warn('p2p publish failed', {topic, size: data.length, error: errorMessage(err)})
    }
  }

  subscribe(topic: Topic, handler: (data: Uint8Array, from: string) => void): void {
    assertTopic(topic)
    if (this.closing !== undefined) throw p2pClosed()
    let handlers = this.subscribers.get(topic)
    if (handlers === undefined) {
      handlers = new Set()
      this.subscribers.set(topic, handlers)
      this.node.services.pubsub.subscribe(topicName(this.deps.networkId, topic))
    }
    handlers.add(handler)
  }

  handle(protocol: string, handler: RequestHandler): void {
    assertProtocolName(protocol)
    if (this.closing !== undefined) throw p2pClosed()
    const registered = this.handlers.has(protocol)
    this.handlers.set(protocol, handler)
    if (registered) return
    const onStream = (stream: Stream, connection: Connection): void => {
      const current = this.handlers.get(protocol)
      if (current === undefined) {
        stream.abort(new Error('no handler'))
        return
      }
      void serveRequest(stream, {from: connection.remotePeer.toString(), protocol, handler: current, logger: this.logger})
    }
    this.node.handle(protocolId(this.deps.networkId, protocol), onStream, {maxInboundStreams: 64, maxOutboundStreams: 64}).catch((err: unknown) => {
      this.logger.error('p2p protocol registration failed', {protocol, error: errorMessage(err)})
    })
  }

  async request(peerId: string, protocol: string, request: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array[]> {
    assertProtocolName(protocol)
    if (this.closing !== undefined) throw p2pClosed()
    if (this.deps.gate.closed) throw p2pDisconnected()
    if (request.length > MAX_REQUEST_BYTES) throw invalidP2POptions(`A request is at most ${MAX_REQUEST_BYTES} bytes, got ${request.length}`)
    let remote: PeerId
    try {
      remote = this.deps.peerIdFromString(peerId)
    } catch (err) {
      throw invalidP2POptions(`Not a peer id: ${JSON.stringify(peerId)} (${errorMessage(err)})`, {peerId})
    }
    if (!this.isConnectedTo(peerId)) throw peerNotConnected(peerId)

    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    const limits = {maxChunks: options.maxChunks ?? DEFAULT_MAX_CHUNKS, maxBytes: options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES}
    const abort = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      abort.abort(new Error(`timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    this.inflight.add(abort)
    let stream: Stream | undefined
    try {
      stream = await this.node.dialProtocol(remote, protocolId(this.deps.networkId, protocol), {signal: abort.signal})
      return await sendRequest(stream, request, {peerId, protocol, limits, signal: abort.signal})
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      if (timedOut) throw requestTimeout(peerId, protocol, timeoutMs)
      if (this.closing !== undefined) throw p2pClosed()
      if (isXaiError(err)) throw err
      throw requestFailed(peerId, protocol, err)
    } finally {
      clearTimeout(timer)
      this.inflight.delete(abort)
    }
  }

  topicPeers(topic: Topic): number {
    return this.node.services.pubsub.getSubscribers(topicName(this.deps.networkId, topic)).length
  }

  peers(): PeerSummary[] {
    const byPeer = new Map<string, PeerSummary>()
    for (const connection of this.node.getConnections()) {
      if (connection.status !== 'open') continue
      const peerId = connection.remotePeer.toString()
      const known = byPeer.get(peerId)
      if (known !== undefined) {
        known.addrs.push(connection.remoteAddr.toString())
        if (known.latencyMs === undefined && connection.rtt !== undefined) known.latencyMs = connection.rtt
        continue
      }
      const summary: PeerSummary = {peerId, addrs: [connection.remoteAddr.toString()], direction: connection.direction}
      if (connection.rtt !== undefined) summary.latencyMs = connection.rtt
      byPeer.set(peerId, summary)
    }
    return [...byPeer.values()]
  }

  async disconnect(): Promise<void> {
    if (this.closing !== undefined) return
    this.deps.gate.closed = true
    this.redialer.pause()
    this.logger.info('p2p host disconnected (fault injection)', {peers: this.peers().length})
    const cause = new Error('P2P host disconnected (fault injection)')
    for (const connection of this.node.getConnections()) connection.abort(cause)
    // abort() is immediate, but the connection manager forgets a connection on its close event.
    const deadline = Date.now() + 1_000
    while (this.node.getConnections().length > 0 && Date.now() < deadline) await sleep(10)
  }

  async reconnect(): Promise<void> {
    if (this.closing !== undefined) throw p2pClosed()
    if (!this.deps.gate.closed) return
    this.deps.gate.closed = false
    this.logger.info('p2p host reconnecting', {peers: this.deps.targets.length})
    await this.redialer.start()
  }

  on(event: P2PHostEvent, listener: (peerId: string) => void): void {
    this.events.on(event, listener)
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.gossipCheck)
    this.redialer.close()
    for (const abort of this.inflight) abort.abort(p2pClosed())
    try {
      await this.node.stop()
    } catch (err) {
      this.logger.warn('p2p host stop failed', {error: errorMessage(err)})
    }
    this.events.removeAllListeners()
    this.subscribers.clear()
    this.logger.info('p2p host stopped', {peerId: this.peerId})
  }

  private isConnectedTo(peerId: string): boolean {
    return this.node.getConnections().some((c) => c.status === 'open' && c.remotePeer.toString() === peerId)
  }

  private emit(event: P2PHostEvent, peerId: string): void {
    for (const listener of this.events.listeners(event) as Array<(peerId: string) => void>) {
      try {
        listener(peerId)
      } catch (err) {
        this.logger.error('p2p event listener threw', {event, peer: peerId, error: errorMessage(err)})
      }
    }
  }

  private deliver(handler: (data: Uint8Array, from: string) => void, topic: Topic, data: Uint8Array, from: string): void {
    const report = (err: unknown): void => this.logger.error('p2p gossip handler threw', {topic, peer: from, error: errorMessage(err)})
    try {
      const result: unknown = handler(data, from)
      if (result instanceof Promise) result.catch(report)
    } catch (err) {
      report(err)
    }
  }
}

function validateOptions(options: P2PHostOptions): void {
  if (!NETWORK_ID.test(options.networkId ?? '')) {
    throw invalidP2POptions(`The network id must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(options.networkId)}`)
  }
  if (isIP(options.listenHost ?? '') === 0) throw invalidP2POptions(`The listen host must be an IP address, got ${JSON.stringify(options.listenHost)}`)
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw invalidP2POptions(`The P2P port must be an integer in 0-65535, got ${options.port}`)
  }
  if (!Array.isArray(options.peers)) throw invalidP2POptions('peers must be a list of multiaddrs')
}

function parsePeers(peers: string[], multiaddr: (addr: string) => Multiaddr): RedialTarget[] {
  const targets = new Map<string, RedialTarget>()
  for (const addr of peers) {
    let peerId: string | undefined
    try {
      peerId = multiaddr(addr)
        .getComponents()
        .findLast((c) => c.name === 'p2p')?.value
    } catch (err) {
      throw invalidP2POptions(`Not a multiaddr: ${JSON.stringify(addr)} (${errorMessage(err)})`, {addr})
    }
    if (peerId === undefined) throw invalidP2POptions(`The peer address ${addr} lacks /p2p/<peerId>`, {addr})
    if (!targets.has(peerId)) targets.set(peerId, {peerId, addr})
  }
  return [...targets.values()]
}

function assertTopic(topic: string): asserts topic is Topic {
  if (!(TOPICS as readonly string[]).includes(topic)) throw invalidP2POptions(`Unknown topic ${JSON.stringify(topic)}; expected one of ${TOPICS.join(', ')}`)
}

function assertProtocolName(name: string): void {
  if (!PROTOCOL_NAME.test(name)) throw invalidP2POptions(`A protocol name is 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`)
}

function hasErrorCode(err: unknown, code: string): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if ((e as {code?: unknown}).code === code) return true
    if (errorMessage(e).includes(code)) return true
    const nested = (e as {errors?: unknown}).errors
    if (Array.isArray(nested) && nested.some((inner) => hasErrorCode(inner, code))) return true
    e = (e as {cause?: unknown}).cause
  }
  return false
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
