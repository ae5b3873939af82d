import WebSocket from 'ws'

/** A JSON-RPC response or an `eth_subscription` notification as it came off the socket. */
export type WsMessage = {batch?: WsMessage[]; jsonrpc?: string; id?: unknown; result?: unknown; error?: {code: number; message: string; data?: unknown}; method?: string; params?: {subscription: string; result: unknown}}

/**
 * A bare JSON-RPC WebSocket client (no library in between), to send exactly what a test wants,
 * malformed messages included, and to see every notification.
 */
export class WsRpc {
  readonly messages: WsMessage[] = []
  private waiters: {match: (m: WsMessage) => boolean; resolve: (m: WsMessage) => void}[] = []
  private nextId = 1

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString()
      let parsed: WsMessage | WsMessage[]
      try {
        parsed = JSON.parse(text) as WsMessage | WsMessage[]
      } catch {
        parsed = {error: {code: 0, message: `unparsable frame: ${text.slice(0, 200)}`}}
      }
      // A batch response arrives as one message holding the array.
      const message: WsMessage = Array.isArray(parsed) ? {batch: parsed} : parsed
      this.messages.push(message)
      for (const waiter of [...this.waiters]) {
        if (waiter.match(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          waiter.resolve(message)
        }
      }
    })
  }

  static async connect(url: string, timeoutMs = 30_000): Promise<WsRpc> {
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket ${url} did not open within ${timeoutMs} ms`)), timeoutMs)
      socket.once('open', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
    return new WsRpc(socket)
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  /** Sends a text frame as is. */
  sendRaw(text: string): void {
    this.socket.send(text)
  }

  /** Sends one request and resolves with its response (result or error). */
  async request(method: string, params: unknown[] = [], timeoutMs = 30_000): Promise<WsMessage> {
    const id = this.nextId++
    const response = this.next((m) => m.id === id && m.method === undefined, timeoutMs, `the response to ${method} (id ${id})`)
    this.socket.send(JSON.stringify({jsonrpc: '2.0', id, method, params}))
    return response
  }

  /** `request`, returning `result` and throwing on `error`. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await this.request(method, params)
    if (response.error) throw new Error(`${method} failed over WebSocket: ${response.error.code} ${response.error.message}`)
    return response.result as T
  }

  /** Subscribes (eth_subscribe) and returns the subscription id. */
  async subscribe(kind: string, ...params: unknown[]): Promise<string> {
    return this.call<string>('eth_subscribe', [kind, ...params])
  }

  /** Notifications received so far for one subscription, in order. */
  notifications(subscription: string): unknown[] {
    return this.messages.filter((m) => m.method === 'eth_subscription' && m.params?.subscription === subscription).map((m) => m.params!.result)
  }

  /** Resolves with the first message (already received or future) that matches. */
  async next(match: (m: WsMessage) => boolean, timeoutMs: number, what: string, includePast = false): Promise<WsMessage> {
    if (includePast) {
      const past = this.messages.find(match)
      if (past) return past
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      const done = (m: WsMessage): void => {
        clearTimeout(timer)
        resolve(m)
      }
      this.waiters.push({match, resolve: done})
    })
  }

  /** Resolves with the first notification of `subscription` whose result matches. */
  async nextNotification(subscription: string, match: (result: unknown) => boolean, timeoutMs: number, what: string): Promise<unknown> {
    const message = await this.next(
      (m) => m.method === 'eth_subscription' && m.params?.subscription === subscription && match(m.params.result),
      timeoutMs,
      what,
      true,
    )
    return message.params!.result
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate()
        resolve()
      }, 2_000)
      this.socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      this.socket.close()
    })
  }
}
