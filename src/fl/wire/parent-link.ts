import WebSocket from 'ws'

import {XaiError} from '../../util/errors.js'
import {type DownMessage, type UpMessage, downSchema, FL_SUBPROTOCOL, MAX_FRAME_BYTES, parseFrame} from './messages.js'

/** A child's connection to its parent (a client's or an edge's to the server or an edge). */
export interface ParentLink {
  /** The next message from the parent; rejects when the link closes. */
  next(signal?: AbortSignal): Promise<DownMessage>
  send(message: UpMessage): void
  close(): void
}

/** Opens a WebSocket to `url` (ws:// or wss://) speaking the federation protocol. */
export async function connectParent(url: string, options: {maxFrameBytes?: number; connectTimeoutMs?: number} = {}): Promise<ParentLink> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new XaiError('FL_WIRE_PROTOCOL', `"${url}" is not a URL`, {hint: 'Pass the server as ws://HOST:PORT (or wss:// behind TLS).'})
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new XaiError('FL_WIRE_PROTOCOL', `"${url}" is not a ws:// or wss:// URL`, {hint: 'Pass the server as ws://HOST:PORT (or wss:// behind TLS).'})
  }
  const socket = new WebSocket(url, FL_SUBPROTOCOL, {maxPayload: options.maxFrameBytes ?? MAX_FRAME_BYTES, handshakeTimeout: options.connectTimeoutMs ?? 10_000})
  const queue: DownMessage[] = []
  const waiters: {resolve(m: DownMessage): void; reject(e: Error): void}[] = []
  let closed: XaiError | undefined
  const fail = (err: XaiError): void => {
    if (closed) return
    closed = err
    for (const w of waiters.splice(0)) w.reject(err)
  }
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      fail(new XaiError('FL_WIRE_PROTOCOL', 'The server sent a binary frame', {hint: 'Check that the URL points at an xai fl serve or fl edge.'}))
      socket.close(1003, 'text frames only')
      return
    }
    const frame = parseFrame(downSchema, data.toString())
    if (!frame.ok) {
      fail(new XaiError('FL_WIRE_PROTOCOL', `The server sent a bad message (${frame.reason})`, {hint: 'Check that server and client run the same xai version.'}))
      socket.close(1008, frame.reason)
      return
    }
    const waiter = waiters.shift()
    if (waiter) waiter.resolve(frame.message)
    else queue.push(frame.message)
  })
  socket.on('close', (code, why) => fail(new XaiError('FL_WIRE_CLOSED', `The connection to ${url} closed (${code}${why.length > 0 ? `: ${why.toString()}` : ''})`, {hint: 'Check that the server is still running; start the client again to rejoin.'})))
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', (err) => {
      const e = new XaiError('FL_WIRE_CLOSED', `Cannot connect to ${url}: ${err.message}`, {hint: 'Check the address and that xai fl serve (or fl edge) is listening there.', cause: err})
      fail(e)
      reject(e)
    })
  })
  socket.on('error', () => {})
  return {
    next(signal) {
      if (signal?.aborted) return Promise.reject(new XaiError('FL_INTERRUPTED', 'Interrupted'))
      const queued = queue.shift()
      if (queued) return Promise.resolve(queued)
      if (closed) return Promise.reject(closed)
      return new Promise((resolve, reject) => {
        const waiter = {resolve, reject}
        waiters.push(waiter)
        signal?.addEventListener('abort', () => {
          const at = waiters.indexOf(waiter)
          if (at >= 0) waiters.splice(at, 1)
          reject(new XaiError('FL_INTERRUPTED', 'Interrupted'))
        }, {once: true})
      })
    },
    send(message) {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message))
    },
    close() {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000, 'done')
    },
  }
}
