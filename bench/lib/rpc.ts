// A deliberately thin JSON-RPC-over-HTTP client for the load generator. The same code is used
// against every target. Request bodies can be serialized up front (see `body()`), so the timed
// loop only writes bytes and parses the small response.
//
// Three transports, all HTTP/1.1 keep-alive, one connection per in-flight request:
//  - 'raw' (default): a minimal HTTP/1.1 client on node:net sockets (see RawHttpPool): several
//          times less client CPU per request than node:http, which matters on a 2-core machine
//          where the load generator and the node under test share the CPUs.
//  - 'http': node:http with a keep-alive Agent.
//  - 'fetch': Node's global fetch (keep-alive by default); the heaviest.
import http from 'node:http'
import net from 'node:net'

export type Transport = 'raw' | 'http' | 'fetch'
export const TRANSPORTS: Transport[] = ['raw', 'http', 'fetch']

export class RpcError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message)
  }
}

let nextId = 1

/** Serialize one JSON-RPC request. */
export function body(method: string, params: unknown[]): string {
  return JSON.stringify({jsonrpc: '2.0', id: nextId++, method, params})
}

export interface RpcClientOptions {
  transport?: Transport
  /** Max sockets kept open (≥ the in-flight window). */
  maxSockets?: number
  /** Per-request timeout. */
  timeoutMs?: number
}

export class RpcClient {
  readonly url: URL
  private readonly agent: http.Agent
  private readonly raw: RawHttpPool | undefined
  private readonly transport: Transport
  private readonly timeoutMs: number

  constructor(url: string, options: RpcClientOptions = {}) {
    this.url = new URL(url)
    if (this.url.hostname !== '127.0.0.1' && this.url.hostname !== 'localhost' && this.url.hostname !== '[::1]') {
      throw new Error(`refusing non-loopback RPC URL ${url}`)
    }
    this.transport = options.transport ?? 'raw'
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.agent = new http.Agent({keepAlive: true, maxSockets: options.maxSockets ?? 128, maxFreeSockets: options.maxSockets ?? 128})
    this.raw = this.transport === 'raw' ? new RawHttpPool(this.url, options.maxSockets ?? 128, this.timeoutMs) : undefined
  }

  /** Call a method; throws RpcError on a JSON-RPC error. */
  async request<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return this.send<T>(body(method, params), method)
  }

  /** Send a pre-serialized request body; throws RpcError on a JSON-RPC error. */
  async send<T = unknown>(payload: string, method = 'rpc'): Promise<T> {
    const text = this.raw ? await this.raw.post(payload) : this.transport === 'fetch' ? await this.postFetch(payload) : await this.postHttp(payload)
    let parsed: {result?: T; error?: {code?: number; message?: string; data?: unknown}}
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new RpcError(`${method}: invalid JSON response: ${text.slice(0, 200)}`, method)
    }
    if (parsed.error) {
      throw new RpcError(`${method}: ${parsed.error.message ?? 'error'} (code ${parsed.error.code})`, method, parsed.error.code, parsed.error.data)
    }
    return parsed.result as T
  }

  private postHttp(payload: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path: this.url.pathname + this.url.search,
          method: 'POST',
          headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(payload)},
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if (res.statusCode !== 200 && !text.startsWith('{')) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`))
            else resolve(text)
          })
          res.on('error', reject)
        },
      )
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`RPC request timed out after ${this.timeoutMs} ms`)))
      req.on('error', reject)
      req.end(payload)
    })
  }

  private async postFetch(payload: string): Promise<string> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: payload,
      signal: AbortSignal.timeout(this.timeoutMs),
    })
    const text = await res.text()
    if (res.status !== 200 && !text.startsWith('{')) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`)
    return text
  }

  close(): void {
    this.agent.destroy()
    this.raw?.close()
  }
}

interface RawRequest {
  resolve: (text: string) => void
  reject: (error: Error) => void
}

/** One keep-alive HTTP/1.1 connection carrying one request at a time. */
class RawConnection {
  readonly socket: net.Socket
  dead = false
  private chunks: Buffer[] = []
  private buffered = 0
  private current: RawRequest | undefined
  private deadline = 0

  constructor(
    url: URL,
    private readonly timeoutMs: number,
    private readonly onFree: (conn: RawConnection) => void,
    private readonly onDead: (conn: RawConnection) => void,
  ) {
    this.socket = net.connect({host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80)})
    this.socket.setNoDelay(true)
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('error', (error) => this.fail(error))
    this.socket.on('close', () => this.fail(new Error('connection closed by server')))
  }

  get busy(): boolean {
    return this.current !== undefined
  }

  post(head: string, payload: string, request: RawRequest): void {
    this.current = request
    this.chunks = []
    this.buffered = 0
    this.deadline = performance.now() + this.timeoutMs
    this.socket.write(head + payload)
  }

  /** Called by the pool's watchdog (one timer for all connections instead of one per request). */
  checkTimeout(now: number): void {
    if (this.current && now > this.deadline) this.fail(new Error(`RPC request timed out after ${this.timeoutMs} ms`))
  }

  fail(error: Error): void {
    if (this.dead) return
    this.dead = true
    this.socket.destroy()
    const current = this.current
    this.current = undefined
    this.onDead(this)
    current?.reject(error)
  }

  private onData(chunk: Buffer): void {
    if (!this.current) {
      this.fail(new Error('unexpected data on idle connection'))
      return
    }
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered)
    this.chunks = [buf]
    const headerEnd = buf.indexOf('\r\n\r\n')
    if (headerEnd < 0) return
    const head = buf.toString('latin1', 0, headerEnd)
    const status = Number(head.slice(9, 12))
    if (status >= 100 && status < 200) {
      // Interim response (100 Continue): drop it and keep reading.
      const rest = buf.subarray(headerEnd + 4)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
      if (rest.length > 0) this.onData(Buffer.alloc(0))
      return
    }
    const lower = head.toLowerCase()
    const close = /\r\nconnection:\s*close/.test(lower)
    let text: string | undefined
    const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower)
    if (cl) {
      const length = Number(cl[1])
      if (buf.length - headerEnd - 4 < length) return
      text = buf.toString('utf8', headerEnd + 4, headerEnd + 4 + length)
    } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      const parts: Buffer[] = []
      let pos = headerEnd + 4
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', pos)
        if (lineEnd < 0) return
        const size = Number.parseInt(buf.toString('latin1', pos, lineEnd), 16)
        if (Number.isNaN(size)) {
          this.fail(new Error('bad chunked encoding'))
          return
        }
        if (size === 0) {
          if (buf.indexOf('\r\n\r\n', lineEnd) < 0) return // wait for the (trailers and) final CRLF
          break
        }
        if (buf.length < lineEnd + 2 + size + 2) return
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
        pos = lineEnd + 2 + size + 2
      }
      text = Buffer.concat(parts).toString('utf8')
    } else {
      this.fail(new Error(`HTTP response without content-length or chunked body: ${head.split('\r\n')[0]}`))
      return
    }
    const current = this.current
    this.current = undefined
    this.chunks = []
    this.buffered = 0
    if (status !== 200 && !text.startsWith('{')) current.reject(new Error(`HTTP ${status}: ${text.slice(0, 200)}`))
    else current.resolve(text)
    if (close) this.fail(new Error('server closed the connection'))
    else this.onFree(this)
  }
}

/** A pool of RawConnections: up to `max` sockets, FIFO queue of waiting requests. */
class RawHttpPool {
  private readonly idle: RawConnection[] = []
  private readonly all = new Set<RawConnection>()
  private readonly queue: {payload: string; request: RawRequest}[] = []
  private readonly headPrefix: string
  private closed = false
  private readonly watchdog: NodeJS.Timeout

  constructor(
    private readonly url: URL,
    private readonly max: number,
    private readonly timeoutMs: number,
  ) {
    this.watchdog = setInterval(() => {
      const now = performance.now()
      for (const conn of [...this.all]) conn.checkTimeout(now)
    }, Math.min(1000, timeoutMs))
    this.watchdog.unref()
    this.headPrefix = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: `
  }

  post(payload: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('RPC client closed'))
        return
      }
      const request = {resolve, reject}
      const conn = this.take()
      if (conn) this.dispatch(conn, payload, request)
      else this.queue.push({payload, request})
    })
  }

  private take(): RawConnection | undefined {
    while (this.idle.length > 0) {
      const conn = this.idle.pop()!
      if (!conn.dead) return conn
    }
    if (this.all.size < this.max) {
      const conn = new RawConnection(
        this.url,
        this.timeoutMs,
        (c) => this.release(c),
        (c) => this.remove(c),
      )
      this.all.add(conn)
      return conn
    }
    return undefined
  }

  private dispatch(conn: RawConnection, payload: string, request: RawRequest): void {
    conn.post(`${this.headPrefix}${Buffer.byteLength(payload)}\r\n\r\n`, payload, request)
  }

  private release(conn: RawConnection): void {
    const next = this.queue.shift()
    if (next) this.dispatch(conn, next.payload, next.request)
    else this.idle.push(conn)
  }

  private remove(conn: RawConnection): void {
    this.all.delete(conn)
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
    // A queued request can use a fresh connection now that a slot is free.
    if (!this.closed && this.queue.length > 0) {
      const fresh = this.take()
      if (fresh) {
        const next = this.queue.shift()!
        this.dispatch(fresh, next.payload, next.request)
      }
    }
  }

  close(): void {
    this.closed = true
    clearInterval(this.watchdog)
    for (const {request} of this.queue.splice(0)) request.reject(new Error('RPC client closed'))
    for (const conn of [...this.all]) conn.fail(new Error('RPC client closed'))
    this.all.clear()
    this.idle.length = 0
  }
}

/**
 * Run `count` jobs with at most `concurrency` in flight. Fails fast: the first error rejects
 * (remaining jobs are not started). Also rejects when `deadline` (performance.now() ms) passes.
 */
export async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>, deadline: number, what: string): Promise<void> {
  let next = 0
  let failed: unknown
  const worker = async () => {
    while (failed === undefined && next < count) {
      if (performance.now() > deadline) {
        failed ??= new Error(`${what}: timed out with ${count - next} of ${count} jobs not started`)
        return
      }
      const index = next++
      try {
        await job(index)
      } catch (error) {
        failed ??= error
        return
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(concurrency, count)}, worker))
  if (failed !== undefined) throw failed
}
