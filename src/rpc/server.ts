import http from 'node:http'
import type {AddressInfo} from 'node:net'

import {WebSocket, WebSocketServer} from 'ws'

import {XaiError, errorMessage} from '../util/errors.js'
import {ApiKeyAuthorizer} from '../util/api-keys.js'
import {type RpcApiOptions, createRpcApi} from './api.js'
import {Dispatcher, type MethodTable} from './dispatcher.js'
import type {RpcConnection} from './filters.js'

export interface RpcServerOptions extends RpcApiOptions {
  host: string
  port: number
  /**
   * Operator methods (fault injection), served as JSON-RPC on POST /admin to requests with an
   * admin-scoped key (`auth`) or the node's admin token (`authorization: Bearer <token>`; it lives
   * in the node's folder, readable by its owner).
   */
  admin?: {token?: string; methods: MethodTable}
  /** The node's API keys (scopes, rate limits, security events on refusal). */
  auth?: ApiKeyAuthorizer
  /** Prometheus text for GET /metrics. */
  metrics?: () => Promise<string> | string
  /**
   * More HTTP routes on the same port, answered before JSON-RPC (the node's REST surface): built
   * once with the server's dispatcher; a handler returns true when it took the request.
   */
  routes?: (server: {dispatcher: Dispatcher; maxBodyBytes: number; headers: Record<string, string>}) => (req: http.IncomingMessage, res: http.ServerResponse) => boolean
}

export interface RpcServer {
  /** http://host:port — JSON-RPC over HTTP POST. */
  url: string
  /** ws://host:port — JSON-RPC and subscriptions over WebSocket (same port). */
  wsUrl: string
  port: number
  close(): Promise<void>
}

/** Wallets and scripts pause between requests; Node's 5 s default drops their kept-alive sockets. */
const KEEP_ALIVE_MS = 65_000
const HEADERS_TIMEOUT_MS = 66_000
const WS_PING_MS = 30_000

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
} as const
const JSON_HEADERS = {...CORS, 'content-type': 'application/json'} as const

function errorBody(code: number, message: string, id: string | number | null = null): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":{"code":${code},"message":${JSON.stringify(message)}}}`
}

/** The id of a request (null for a batch or anything unparsable), to answer a refused one. */
function idOf(text: string): string | number | null {
  try {
    const id = (JSON.parse(text) as {id?: unknown}).id
    return typeof id === 'string' || typeof id === 'number' ? id : null
  } catch {
    return null
  }
}

/** A host as it goes in a URL a client can dial (wildcards → loopback, IPv6 in brackets). */
function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

/**
 * The node's JSON-RPC endpoint: HTTP POST on `/` (CORS, preflight, GET /health) and WebSocket
 * upgrades on the same port. Request bodies, batches and WebSocket messages are bounded; every
 * request is answered through the dispatcher, which never throws.
 */
export async function createRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const {logger} = options
  const api = await createRpcApi(options)
  const {dispatcher, filters, limits} = api

  const admin = options.admin ? {dispatcher: new Dispatcher(options.admin.methods, {logger, maxBatch: 1})} : undefined
  const adminAuth =
    options.auth ?? new ApiKeyAuthorizer({staticKeys: options.admin?.token ? [{id: 'admin-token', name: 'admin token', key: options.admin.token, scopes: ['admin']}] : []})

  const routes = options.routes?.({dispatcher, maxBodyBytes: limits.maxBodyBytes, headers: CORS})

  const server = http.createServer((req, res) => {
    if (routes?.(req, res)) return
    const method = req.method ?? 'GET'
    if (method === 'POST' && (req.url === '/admin' || req.url?.startsWith('/admin?'))) {
      if (!admin) {
        res.writeHead(404, JSON_HEADERS)
        res.end(errorBody(-32601, 'this node serves no /admin methods'))
        req.resume()
        return
      }
      // Checked before the body is read: a refused request runs nothing.
      void adminAuth.authorize(ApiKeyAuthorizer.credential(req.headers), 'admin', {route: 'POST /admin', remote: req.socket.remoteAddress}).then(
        (verdict) => {
          if (verdict.ok) return handlePost(req, res, admin.dispatcher)
          req.resume()
          res.writeHead(verdict.status, {...JSON_HEADERS, ...(verdict.status === 429 ? {'retry-after': String(verdict.retryAfterSeconds ?? 1)} : {})})
          res.end(errorBody(-32600, `unauthorized: /admin needs an admin-scoped key or the node's admin token (${verdict.reason})`))
        },
        (err) => {
          logger.error('admin authorization failed', {error: errorMessage(err)})
          res.writeHead(500, JSON_HEADERS)
          res.end(errorBody(-32603, 'internal error'))
        },
      )
      return
    }
    if (method === 'POST') return handlePost(req, res)
    if (method === 'GET' && options.metrics && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
      Promise.resolve(options.metrics()).then(
        (text) => {
          res.writeHead(200, {'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store'})
          res.end(text)
        },
        (err) => {
          logger.error('metrics failed', {error: errorMessage(err)})
          res.writeHead(500, JSON_HEADERS)
          res.end(errorBody(-32603, 'internal error'))
        },
      )
      return
    }
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS,
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type, authorization',
        'access-control-max-age': '86400',
      })
      res.end()
      return
    }
    res.writeHead(405, {...JSON_HEADERS, allow: 'POST, GET, OPTIONS'})
    res.end(errorBody(-32600, 'method not allowed: send JSON-RPC requests with HTTP POST'))
  })
  server.keepAliveTimeout = KEEP_ALIVE_MS
  server.headersTimeout = HEADERS_TIMEOUT_MS
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })

  function tooLarge(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(413, {...JSON_HEADERS, connection: 'close'})
    res.end(errorBody(-32600, `request body too large (at most ${limits.maxBodyBytes} bytes)`))
    req.resume()
  }

  function handlePost(req: http.IncomingMessage, res: http.ServerResponse, target: Dispatcher = dispatcher): void {
    const declared = Number(req.headers['content-length'])
    if (declared > limits.maxBodyBytes) return tooLarge(req, res)
    const chunks: Buffer[] = []
    let size = 0
    let aborted = false
    req.on('data', (chunk: Buffer) => {
      if (aborted) return
      size += chunk.length
      if (size > limits.maxBodyBytes) {
        aborted = true
        chunks.length = 0
        tooLarge(req, res)
        return
      }
      chunks.push(chunk)
    })
    req.on('error', () => {
      aborted = true
    })
    req.on('end', () => {
      if (aborted) return
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')
      target.handle(body).then(
        (out) => {
          if (res.destroyed) return
          if (out === undefined) {
            res.writeHead(200, CORS)
            res.end()
          } else {
            res.writeHead(200, JSON_HEADERS)
            res.end(out)
          }
        },
        (err) => {
          logger.error('rpc request failed', {error: errorMessage(err)})
          if (!res.headersSent) res.writeHead(500, JSON_HEADERS)
          res.end(errorBody(-32603, 'internal error'))
        },
      )
    })
  }

  // ----- WebSocket ----------------------------------------------------------------------------
  const wss = new WebSocketServer({noServer: true, maxPayload: limits.maxWsMessageBytes, perMessageDeflate: false})
  let nextConnectionId = 1
  const alive = new WeakSet<WebSocket>()

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    if (wss.clients.size >= limits.maxWsConnections) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws))
  })

  function onConnection(ws: WebSocket): void {
    alive.add(ws)
    const connection: RpcConnection = {
      id: nextConnectionId++,
      subscriptions: new Set(),
      send(message: string) {
        if (ws.readyState !== WebSocket.OPEN) return
        if (ws.bufferedAmount > limits.maxWsBufferedBytes) {
          logger.warn('dropping slow websocket client', {connection: connection.id, buffered: ws.bufferedAmount})
          ws.close(1008, 'client too slow to read its messages')
          return
        }
        ws.send(message)
      },
    }
    let inFlight = 0
    ws.on('message', (data) => {
      const text = data.toString()
      if (inFlight >= limits.maxWsInFlight) {
        connection.send(errorBody(-32005, `too many requests in flight on this connection (at most ${limits.maxWsInFlight})`, idOf(text)))
        return
      }
      inFlight++
      dispatcher
        .handle(text, {connection})
        .then(
          (out) => {
            if (out !== undefined) connection.send(out)
          },
          () => connection.send(errorBody(-32603, 'internal error')),
        )
        .finally(() => inFlight--)
    })
    ws.on('pong', () => alive.add(ws))
    ws.on('close', () => filters.dropConnection(connection))
    ws.on('error', (err) => logger.debug('websocket error', {connection: connection.id, error: errorMessage(err)}))
  }

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate()
        continue
      }
      alive.delete(ws)
      ws.ping()
    }
  }, WS_PING_MS)
  pinger.unref()

  // ----- lifecycle ----------------------------------------------------------------------------
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      server.once('error', onError)
      server.listen(options.port, options.host, () => {
        server.off('error', onError)
        resolve()
      })
    })
  } catch (err) {
    api.close()
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      throw new XaiError('RPC_PORT_IN_USE', `Port ${options.port} is already in use`, {
        hint: 'Stop what listens there, or choose another port (--rpc-port).',
        cause: err,
      })
    }
    throw new XaiError('RPC_LISTEN_FAILED', `The RPC server could not listen on ${options.host}:${options.port}: ${errorMessage(err)}`, {
      cause: err,
    })
  }
  server.on('error', (err) => logger.error('rpc server error', {error: errorMessage(err)}))
  const port = (server.address() as AddressInfo).port
  const host = dialHost(options.host)
  logger.info('rpc listening', {url: `http://${host}:${port}`})

  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        clearInterval(pinger)
        for (const ws of wss.clients) ws.terminate()
        wss.close()
        api.close()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      })()),
  }
}
