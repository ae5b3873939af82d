import {TxRejectedError} from '../chain/mempool.js'
import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {RpcErrorCode, isRpcError, methodNotFound} from './errors.js'
import type {RpcConnection} from './filters.js'

/** What a method sees besides its params: the connection it came on (WebSocket only). */
export interface MethodContext {
  connection?: RpcConnection
}

/** A JSON-RPC method: positional params in, a JSON-serializable result (strings, not bigints) out. */
export type Method = (params: unknown[], context: MethodContext) => unknown

export type MethodTable = Record<string, Method>

export interface DispatcherOptions {
  logger: Logger
  /** Most requests in one batch. */
  maxBatch: number
  /** Told the seconds each request to a known method took (metrics). */
  onTiming?: (method: string, seconds: number) => void
}

type Id = string | number | null

const PARSE_ERROR = `{"jsonrpc":"2.0","id":null,"error":{"code":${RpcErrorCode.parseError},"message":"parse error"}}`

function errorResponse(id: Id, code: number, message: string, data?: unknown): string {
  const error = data === undefined ? {code, message} : {code, message, data}
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":${JSON.stringify(error)}}`
}

function isValidId(id: unknown): id is Id {
  return id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
}

/**
 * JSON-RPC 2.0 over any transport: text in, text out. Parses, validates the envelope, runs the
 * method, and turns whatever it throws into an error response; it never throws itself. Batches
 * are answered in order; a notification (no `id`) runs but gets no answer.
 */
export class Dispatcher {
  private readonly methods: Map<string, Method>
  private readonly logger: Logger
  private readonly maxBatch: number
  private readonly onTiming?: (method: string, seconds: number) => void

  constructor(methods: MethodTable, options: DispatcherOptions) {
    this.methods = new Map(Object.entries(methods))
    this.logger = options.logger
    this.maxBatch = options.maxBatch
    this.onTiming = options.onTiming
  }

  has(method: string): boolean {
    return this.methods.has(method)
  }

  /** The names of every method this dispatcher answers. */
  methodNames(): string[] {
    return [...this.methods.keys()]
  }

  /** Runs one method in-process, as a request would: its JSON-shaped result, or what it throws. */
  async invoke(method: string, params: unknown[]): Promise<unknown> {
    const fn = this.methods.get(method)
    if (!fn) throw methodNotFound(method)
    return fn(params, {})
  }

  /** Answers one request body; undefined when there is nothing to send (only notifications). */
  async handle(body: string, context: MethodContext = {}): Promise<string | undefined> {
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch {
      return PARSE_ERROR
    }
    try {
      if (Array.isArray(value)) return await this.batch(value, context)
      return await this.single(value, context)
    } catch (err) {
      // Unreachable by design (single() catches); kept so a bug can never take a connection down.
      this.logger.error('rpc dispatcher failure', {error: errorMessage(err)})
      return errorResponse(null, RpcErrorCode.internal, 'internal error')
    }
  }

  private async batch(items: unknown[], context: MethodContext): Promise<string | undefined> {
    if (items.length === 0) return errorResponse(null, RpcErrorCode.invalidRequest, 'empty batch')
    if (items.length > this.maxBatch) return errorResponse(null, RpcErrorCode.invalidRequest, `batch too large (at most ${this.maxBatch} requests)`)
    const out: string[] = []
    for (const item of items) {
      const response = await this.single(item, context)
      if (response !== undefined) out.push(response)
    }
    return out.length === 0 ? undefined : `[${out.join(',')}]`
  }

  private async single(request: unknown, context: MethodContext): Promise<string | undefined> {
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      return errorResponse(null, RpcErrorCode.invalidRequest, 'invalid request')
    }
    const r = request as {jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown}
    const notification = !('id' in r)
    if (!notification && !isValidId(r.id)) return errorResponse(null, RpcErrorCode.invalidRequest, 'invalid request: id must be a string, number or null')
    const id: Id = notification ? null : (r.id as Id)
    if (r.jsonrpc !== undefined && r.jsonrpc !== '2.0') return errorResponse(id, RpcErrorCode.invalidRequest, 'invalid request: jsonrpc must be "2.0"')
    if (typeof r.method !== 'string') return errorResponse(id, RpcErrorCode.invalidRequest, 'invalid request: method must be a string')
    const method = this.methods.get(r.method)
    let response: string
    if (!method) {
      const err = methodNotFound(r.method.length > 100 ? `${r.method.slice(0, 100)}…` : r.method)
      response = errorResponse(id, err.rpcCode, err.message)
    } else {
      const started = this.onTiming ? performance.now() : 0
      try {
        const params = r.params === undefined || r.params === null ? [] : r.params
        if (!Array.isArray(params)) {
          response = errorResponse(id, RpcErrorCode.invalidParams, 'invalid params: expected an array of positional arguments')
        } else {
          let result = method(params, context)
          if (result instanceof Promise) result = await result
          response = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result === undefined ? 'null' : JSON.stringify(result)}}`
        }
      } catch (err) {
        response = this.toErrorResponse(id, r.method, err)
      }
      // Only methods this dispatcher has are timed, so the method label stays a bounded set.
      this.onTiming?.(r.method, (performance.now() - started) / 1000)
    }
    return notification ? undefined : response
  }

  private toErrorResponse(id: Id, method: string, err: unknown): string {
    if (isRpcError(err)) return errorResponse(id, err.rpcCode, err.message, err.data)
    if (err instanceof TxRejectedError) return errorResponse(id, err.rpcCode, err.message)
    this.logger.error('rpc method failed', {method, error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined})
    return errorResponse(id, RpcErrorCode.internal, `internal error: ${errorMessage(err)}`)
  }
}
