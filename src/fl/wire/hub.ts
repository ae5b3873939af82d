import {randomBytes} from 'node:crypto'
import type {AddressInfo} from 'node:net'

import {sha256} from '@noble/hashes/sha2.js'
import WebSocket, {WebSocketServer} from 'ws'

import {XaiError} from '../../util/errors.js'
import type {AttestationVerifier} from '../attestation-port.js'
import type {UpdateCheck} from '../round-aggregate.js'
import {
  type DownMessage,
  type UpMessage,
  type WireSettings,
  decodeEnrollment,
  FL_PROTOCOL_VERSION,
  FL_SUBPROTOCOL,
  fromB64,
  MAX_FRAME_BYTES,
  parseFrame,
  toB64,
  upSchema,
  verifyHello,
} from './messages.js'

export type AttestMode = 'required' | 'optional' | 'off'

/** A connected child: a client, or an edge with the clients (leaves) beneath it. */
interface Child {
  id: string
  role: 'client' | 'edge'
  publicKey: Uint8Array
  socket: WebSocket
  /** Leaf clients reached through this child (a client: itself). */
  leaves: Map<string, Uint8Array>
  attested: boolean
  /** The answer awaited in the current round. */
  awaiting?: (message: UpMessage) => void
}

export interface Leaf {
  id: string
  publicKey: Uint8Array
  /** The direct child it is reached through (itself for a direct client). */
  via: string
  viaRole: 'client' | 'edge'
}

export interface HubOptions {
  host: string
  port: number
  /** What accepted children are told (an edge's settings come from its parent). */
  settings: () => WireSettings
  attest: AttestMode
  verifier?: AttestationVerifier
  /** Trust on first use: false when `id` is already registered with another key. */
  register(id: string, publicKey: Uint8Array): boolean
  onChange?(): void
  onRefused?(id: string | undefined, reason: string): void
  maxFrameBytes?: number
  /** A connection must finish its hello (and enrollment) within this (default 15 s). */
  helloTimeoutMs?: number
  /** At most this many connections at once (default 10 000). */
  maxConnections?: number
}

export interface HubRoundInput {
  round: number
  /** The broadcast (encodeBroadcast), base64. */
  model: string
  deadlineMs: number
  tasks: {clientId: string; seed: number}[]
}

export interface HubRoundResult {
  /** Direct clients: the update message each sent, or why none came (disconnected, deadline, not-connected). */
  clients: ({clientId: string; message: Uint8Array; loss?: number} | {clientId: string; failed: string})[]
  /** Edges: their aggregate answer, or null when none came; `tasks` the clients asked through them. */
  edges: {id: string; publicKey: Uint8Array; tasks: string[]; answer: Extract<UpMessage, {type: 'aggregate'}> | null; failed?: string}[]
  /** Bytes of the frames sent down. */
  bytesDown: number
}

/**
 * The listening side of the protocol, for `fl serve` and `fl edge`: accepts children (handshake,
 * proof of key, enrollment), keeps the leaf clients reachable through each, sends a round's tasks
 * down and collects the answers until all came or the deadline passed. A child that sends a frame
 * out of protocol is disconnected with the reason; nothing a child sends can stop the hub.
 */
export class Hub {
  private readonly server: WebSocketServer
  private readonly children = new Map<string, Child>()
  private readonly waiters = new Set<() => void>()
  private listening: Promise<string>

  constructor(private readonly options: HubOptions) {
    this.server = new WebSocketServer({
      host: options.host,
      port: options.port,
      maxPayload: options.maxFrameBytes ?? MAX_FRAME_BYTES,
      handleProtocols: (protocols) => (protocols.has(FL_SUBPROTOCOL) ? FL_SUBPROTOCOL : false),
    })
    this.listening = new Promise((resolve, reject) => {
      this.server.once('listening', () => {
        const address = this.server.address() as AddressInfo
        resolve(`ws://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`)
      })
      this.server.once('error', (err) =>
        reject(new XaiError('FL_WIRE_CLOSED', `Cannot listen on ${options.host}:${options.port}: ${err.message}`, {hint: 'Pick another --listen port, or stop what holds it.', cause: err})),
      )
    })
    this.server.on('connection', (socket) => this.accept(socket))
  }

  /** The URL children connect to, once listening. */
  url(): Promise<string> {
    return this.listening
  }

  /** Every leaf client reachable now, in numeric id order (client-2 before client-10). */
  leaves(): Leaf[] {
    const out: Leaf[] = []
    const seen = new Set<string>()
    for (const child of this.children.values()) {
      for (const [id, publicKey] of child.leaves) {
        if (seen.has(id)) continue
        seen.add(id)
        out.push({id, publicKey, via: child.id, viaRole: child.role})
      }
    }
    return out.sort((a, b) => compareIds(a.id, b.id))
  }

  isAttested(id: string): boolean {
    return this.children.get(id)?.attested ?? false
  }

  /** Resolves once at least `n` leaves are reachable. */
  async waitForLeaves(n: number, signal?: AbortSignal): Promise<void> {
    while (this.leaves().length < n) {
      if (signal?.aborted) throw new XaiError('FL_INTERRUPTED', 'Interrupted while waiting for clients')
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        this.waiters.add(done)
        signal?.addEventListener('abort', done, {once: true})
      })
    }
  }

  async runRound(input: HubRoundInput, signal?: AbortSignal): Promise<HubRoundResult> {
    const leaves = new Map(this.leaves().map((leaf) => [leaf.id, leaf]))
    const byChild = new Map<string, {clientId: string; seed: number}[]>()
    const result: HubRoundResult = {clients: [], edges: [], bytesDown: 0}
    for (const task of input.tasks) {
      const leaf = leaves.get(task.clientId)
      if (!leaf) {
        result.clients.push({clientId: task.clientId, failed: 'disconnected'})
        continue
      }
      byChild.set(leaf.via, [...(byChild.get(leaf.via) ?? []), task])
    }
    const answers = [...byChild].map(([childId, tasks]) => {
      const child = this.children.get(childId)!
      const frame = JSON.stringify({type: 'round', round: input.round, model: input.model, deadlineMs: input.deadlineMs, tasks} satisfies DownMessage)
      result.bytesDown += frame.length
      return {
        child,
        tasks,
        answer: new Promise<UpMessage | string>((resolve) => {
          const timer = setTimeout(() => finish('deadline'), input.deadlineMs)
          const onClose = (): void => finish('disconnected')
          const onAbort = (): void => finish('interrupted')
          function finish(answer: UpMessage | string): void {
            clearTimeout(timer)
            child.socket.off('close', onClose)
            signal?.removeEventListener('abort', onAbort)
            child.awaiting = undefined
            resolve(answer)
          }
          child.awaiting = (message) => {
            if (message.type === 'update' && child.role === 'client' && message.round === input.round && message.clientId === child.id) finish(message)
            if (message.type === 'aggregate' && child.role === 'edge' && message.round === input.round) finish(message)
          }
          child.socket.on('close', onClose)
          signal?.addEventListener('abort', onAbort, {once: true})
          if (child.socket.readyState === WebSocket.OPEN) child.socket.send(frame)
          else finish('disconnected')
        }),
      }
    })
    for (const {child, tasks, answer} of answers) {
      const got = await answer
      if (child.role === 'client') {
        if (typeof got === 'string') result.clients.push({clientId: child.id, failed: got})
        else if (got.type === 'update') result.clients.push({clientId: child.id, message: fromB64(got.message), loss: got.loss})
      } else {
        result.edges.push({id: child.id, publicKey: child.publicKey, tasks: tasks.map((t) => t.clientId), answer: typeof got === 'string' || got.type !== 'aggregate' ? null : got, failed: typeof got === 'string' ? got : undefined})
      }
    }
    return result
  }

  /** Sends a message to the direct child holding leaf `clientId` (itself, or its edge). */
  sendToLeaf(clientId: string, message: DownMessage): void {
    const leaf = this.leaves().find((l) => l.id === clientId)
    if (leaf) this.send(this.children.get(leaf.via), message)
  }

  broadcast(message: DownMessage): void {
    for (const child of this.children.values()) this.send(child, message)
  }

  async close(): Promise<void> {
    for (const child of this.children.values()) child.socket.close(1001, 'federation over')
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const client of this.server.clients) client.terminate()
  }

  private send(child: Child | undefined, message: DownMessage): void {
    if (child && child.socket.readyState === WebSocket.OPEN) child.socket.send(JSON.stringify(message))
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter()
    this.options.onChange?.()
  }

  private accept(socket: WebSocket): void {
    if (this.server.clients.size > (this.options.maxConnections ?? 10_000)) {
      socket.close(1013, 'too many connections')
      return
    }
    const nonce = randomBytes(32)
    let child: Child | undefined
    let stage: 'hello' | 'activate' | 'ready' = 'hello'
    let pendingEnrollment: {id: string; publicKey: Uint8Array; role: 'client' | 'edge'} | undefined
    const refuse = (reason: string, id?: string): void => {
      this.options.onRefused?.(id, reason)
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({type: 'error', code: reason.startsWith('attestation:') ? 'FL_ATTEST_REFUSED' : 'FL_WIRE_REFUSED', message: reason} satisfies DownMessage))
      socket.close(1008, reason.slice(0, 120))
    }
    const helloTimer = setTimeout(() => stage !== 'ready' && refuse('no hello in time'), this.options.helloTimeoutMs ?? 15_000)
    socket.on('error', () => socket.terminate())
    socket.on('close', () => {
      clearTimeout(helloTimer)
      if (child && this.children.get(child.id) === child) {
        this.children.delete(child.id)
        this.changed()
      }
    })
    const admit = (id: string, role: 'client' | 'edge', publicKey: Uint8Array, attested: boolean): void => {
      const previous = this.children.get(id)
      // A reconnect of the same key replaces its old connection (which may be half-open).
      if (previous) previous.socket.close(1000, 'replaced by a new connection')
      child = {id, role, publicKey, socket, leaves: role === 'client' ? new Map([[id, publicKey]]) : new Map(), attested}
      this.children.set(id, child)
      stage = 'ready'
      clearTimeout(helloTimer)
      this.send(child, {type: 'accepted', id, settings: this.options.settings()})
      this.changed()
    }
    socket.on('message', (data, isBinary) => {
      void (async () => {
        if (isBinary) return refuse('text frames only', child?.id)
        const frame = parseFrame(upSchema, data.toString())
        if (!frame.ok) return refuse(frame.reason, child?.id)
        const message = frame.message
        if (stage === 'hello') {
          if (message.type !== 'hello') return refuse(`expected hello, got ${message.type}`)
          if (message.version !== FL_PROTOCOL_VERSION) return refuse(`protocol version ${message.version} is not supported (this side speaks ${FL_PROTOCOL_VERSION})`)
          const publicKey = fromB64(message.publicKey)
          if (!verifyHello(nonce, message.role, message.id, publicKey, fromB64(message.proof))) return refuse('the hello proof does not verify under the public key', message.id)
          if (!this.options.register(message.id, publicKey)) return refuse(`id ${message.id} is registered with another key`, message.id)
          const attest = this.options.attest
          if (message.role === 'edge' || attest === 'off') return admit(message.id, message.role, publicKey, false)
          if (message.enrollment === undefined) {
            if (attest === 'required') return refuse('attestation: the client sent no enrollment (no TPM)', message.id)
            return admit(message.id, message.role, publicKey, false)
          }
          const verifier = this.options.verifier
          if (!verifier) return refuse('attestation: this server has no verifier', message.id)
          try {
            stage = 'activate'
            const challenge = await verifier.beginEnrollment(message.id, publicKey, decodeEnrollment(message.enrollment))
            pendingEnrollment = {id: message.id, publicKey, role: message.role}
            socket.send(JSON.stringify({type: 'challenge', credentialBlob: toB64(challenge.credentialBlob), encryptedSecret: toB64(challenge.encryptedSecret)} satisfies DownMessage))
          } catch (err) {
            if (attest === 'required') return refuse(attestationReason(err), message.id)
            return admit(message.id, message.role, publicKey, false)
          }
          return
        }
        if (stage === 'activate') {
          if (message.type !== 'activate' || !pendingEnrollment) return refuse(`expected activate, got ${message.type}`)
          const {id, publicKey, role} = pendingEnrollment
          try {
            await this.options.verifier!.finishEnrollment(id, fromB64(message.secret))
            return admit(id, role, publicKey, true)
          } catch (err) {
            if (this.options.attest === 'required') return refuse(attestationReason(err), id)
            return admit(id, role, publicKey, false)
          }
        }
        if (!child) return
        if (message.type === 'members') {
          if (child.role !== 'edge') return refuse('only an edge sends members', child.id)
          const leaves = new Map<string, Uint8Array>()
          for (const member of message.clients) {
            const key = fromB64(member.publicKey)
            if (member.id !== child.id && !this.children.has(member.id) && this.options.register(member.id, key)) leaves.set(member.id, key)
          }
          child.leaves = leaves
          this.changed()
          return
        }
        if (message.type === 'error') {
          socket.close(1000, 'client left')
          return
        }
        child.awaiting?.(message)
      })().catch(() => socket.terminate())
    })
    socket.send(JSON.stringify({type: 'welcome', version: FL_PROTOCOL_VERSION, nonce: toB64(nonce)} satisfies DownMessage))
  }
}

function attestationReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return (text.startsWith('attestation:') ? text : `attestation: ${text}`).slice(0, 300)
}

/** Client ids in natural order: the numeric runs compared as numbers. */
export function compareIds(a: string, b: string): number {
  const pa = a.split(/(\d+)/)
  const pb = b.split(/(\d+)/)
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!
    const y = pb[i]!
    if (x === y) continue
    if (i % 2 === 1 && x.length <= 15 && y.length <= 15 && Number(x) !== Number(y)) return Number(x) - Number(y)
    return x < y ? -1 : 1
  }
  return pa.length - pb.length
}

export interface AttestationStats {
  verified: number
  unattested: number
  refused: number
}

/**
 * The per-update attestation check an edge runs after the signature: the quote must vouch for this
 * round, base model, payload and client (quoteQualifyingData). `required` refuses an update without
 * a valid quote; `optional` accepts it and counts it unattested; `off` checks nothing.
 */
export function attestationCheck(mode: AttestMode, verifier: AttestationVerifier | undefined, round: number, baseHash: Uint8Array, stats: AttestationStats): UpdateCheck | undefined {
  if (mode === 'off' || !verifier) return undefined
  return (message) => {
    const evidence = message.attestation
    if (!evidence) {
      if (mode === 'required') {
        stats.refused++
        return {ok: false, reason: 'attestation: no quote'}
      }
      stats.unattested++
      return {ok: true}
    }
    let verdict
    try {
      verdict = verifier.verifyUpdate(message.clientId, {round, baseModelHash: baseHash, updateHash: sha256(message.payload), clientId: message.clientId}, evidence)
    } catch (err) {
      verdict = {ok: false as const, reason: attestationReason(err)}
    }
    if (verdict.ok) {
      stats.verified++
      return {ok: true}
    }
    const reason = verdict.reason.startsWith('attestation:') ? verdict.reason : `attestation: ${verdict.reason}`
    if (mode === 'required') {
      stats.refused++
      return {ok: false, reason}
    }
    stats.unattested++
    return {ok: true}
  }
}
