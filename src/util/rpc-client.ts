import {setTimeout as sleep} from 'node:timers/promises'

/** A JSON-RPC error answer (or a transport failure) from a node. */
export class RpcRequestError extends Error {
  constructor(
    message: string,
    readonly rpcCode?: number,
    options?: {cause?: unknown},
  ) {
    super(message, options)
    this.name = 'RpcRequestError'
  }
}

export interface RpcRequestOptions {
  /** Extra HTTP headers (the admin endpoint's bearer token). */
  headers?: Record<string, string>
  /** Per-request timeout (default 2 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

let nextId = 1

/** One JSON-RPC 2.0 call over HTTP POST. */
export async function rpcRequest<T = unknown>(url: string, method: string, params: unknown[] = [], options: RpcRequestOptions = {}): Promise<T> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 2_000)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...options.headers},
      body: JSON.stringify({jsonrpc: '2.0', id: nextId++, method, params}),
      signal,
    })
  } catch (err) {
    throw new RpcRequestError(`${method} to ${url} failed: ${(err as Error).message}`, undefined, {cause: err})
  }
  const text = await response.text()
  let body: {result?: T; error?: {code?: number; message?: string}}
  try {
    body = JSON.parse(text) as typeof body
  } catch (err) {
    throw new RpcRequestError(`${method} to ${url}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`, undefined, {cause: err})
  }
  if (body.error) throw new RpcRequestError(`${method}: ${body.error.message ?? 'error'}`, body.error.code)
  return body.result as T
}

export type WaitForRpcOutcome = {ok: true; clientVersion: string} | {ok: false; reason: 'exited' | 'timeout' | 'aborted'; lastError?: string}

export interface WaitForRpcOptions {
  url: string
  /** Give up after this long (default 30 s). */
  timeoutMs?: number
  intervalMs?: number
  /** Polled between attempts; waiting stops as soon as it returns false. */
  isAlive?: () => boolean
  /** Settles when the process exits; stops the wait at once. */
  exited?: Promise<unknown>
  signal?: AbortSignal
}

/** Polls `web3_clientVersion` until the node answers, its process dies, time runs out or the signal fires. */
export async function waitForRpc(options: WaitForRpcOptions): Promise<WaitForRpcOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  const intervalMs = options.intervalMs ?? 100
  let exited = false
  void options.exited?.then(() => {
    exited = true
  })
  let lastError: string | undefined
  for (;;) {
    if (options.signal?.aborted) return {ok: false, reason: 'aborted', lastError}
    if (exited || (options.isAlive && !options.isAlive())) return {ok: false, reason: 'exited', lastError}
    try {
      const clientVersion = await rpcRequest<string>(options.url, 'web3_clientVersion', [], {timeoutMs: 1_000, signal: options.signal})
      return {ok: true, clientVersion: String(clientVersion)}
    } catch (err) {
      lastError = (err as Error).message
    }
    if (Date.now() >= deadline) return {ok: false, reason: 'timeout', lastError}
    await sleep(intervalMs, undefined, {signal: options.signal}).catch(() => undefined)
  }
}
