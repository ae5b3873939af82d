import type http from 'node:http'

import {ZodError, type z} from 'zod'

import {XaiError, errorMessage, isXaiError} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {type ApiScope, ApiKeyAuthorizer} from '../util/api-keys.js'
import {RpcError, RpcErrorCode} from '../rpc/errors.js'
import {RestErrorCode, restError, statusOf} from './rest-errors.js'
import type {RestRoute} from './route.js'

export interface RestHandlerOptions {
  routes: readonly RestRoute[]
  /** The key writes need; undefined: this node takes no writes (every one is 401). */
  apiKey?: string | undefined
  /**
   * Checks keys with scopes (writes need `write`; reads need `read` when `readAuth`), rate limits
   * them and raises a security event for every refusal. Without it, `apiKey` alone is checked.
   */
  auth?: ApiKeyAuthorizer
  /** Reads (GET routes other than /health and /openapi.json) need a read-scoped key too. */
  readAuth?: boolean
  logger: Logger
  maxBodyBytes: number
  /** Headers every response carries (CORS). */
  headers: Record<string, string>
}

/** Answers the requests whose method and path match a route; false for the rest. */
export type RestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean

interface CompiledRoute {
  route: RestRoute
  pattern: RegExp
  names: string[]
}

function compile(route: RestRoute): CompiledRoute {
  const names: string[] = []
  const source = route.path.replaceAll(/[.*+?^$()|[\]\\]/g, '\\$&').replaceAll(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name)
    return '([^/]+)'
  })
  return {route, pattern: new RegExp(`^${source}$`), names}
}

/**
 * The REST surface's HTTP plumbing: routing, API key check (before the body is read, so a
 * refused write changes nothing), bounded JSON bodies, validation by the route's zod schemas,
 * and errors as `{error: {code, message, hint?, details?}}` with a fitting status.
 */
export function createRestHandler(options: RestHandlerOptions): RestHandler {
  const compiled = options.routes.map(compile)
  const {logger, headers} = options
  const auth = options.auth ?? new ApiKeyAuthorizer({staticKeys: options.apiKey === undefined ? [] : [{id: 'api-key', name: 'static API key', key: options.apiKey, scopes: ['write']}]})
  const open = new Set(['/health', '/openapi.json'])
  const send = (res: http.ServerResponse, status: number, body: unknown): void => {
    if (res.destroyed) return
    res.writeHead(status, {...headers, 'content-type': 'application/json'})
    res.end(JSON.stringify(body))
  }
  const sendError = (res: http.ServerResponse, err: unknown): void => {
    const error = toRestError(err)
    if (statusOf(error) >= 500) logger.error('rest request failed', {code: error.code, error: errorMessage(err)})
    send(res, statusOf(error), {error: {code: error.code, message: error.message, ...(error.hint ? {hint: error.hint} : {}), ...(error.details ? {details: error.details} : {})}})
  }

  return (req, res) => {
    const url = URL.canParse(req.url ?? '/', 'http://node') ? new URL(req.url ?? '/', 'http://node') : undefined
    if (!url) return false
    const method = req.method ?? 'GET'
    if (method === 'OPTIONS') return false
    let match: {route: RestRoute; params: Record<string, string>} | undefined
    let pathKnown = false
    for (const {route, pattern, names} of compiled) {
      const found = pattern.exec(url.pathname)
      if (!found) continue
      pathKnown = true
      if (route.method !== method) continue
      match = {route, params: Object.fromEntries(names.map((name, i) => [name, safeDecode(found[i + 1]!)]))}
      break
    }
    if (!match) {
      if (!pathKnown) return false
      req.resume()
      res.setHeader('allow', compiled.filter((c) => c.pattern.test(url.pathname)).map((c) => c.route.method).join(', '))
      send(res, 405, {error: {code: RestErrorCode.methodNotAllowed, message: `${method} is not allowed on ${url.pathname}`}})
      return true
    }
    const {route, params} = match
    const scope: ApiScope | undefined = route.auth ? 'write' : options.readAuth && !open.has(route.path) ? 'read' : undefined
    const run = (): void => {
    void (async () => {
      try {
        const body = route.body ? parseWith(route.body, await readJson(req, options.maxBodyBytes), 'body') : (req.resume(), undefined)
        const input = {
          body,
          params: route.params ? parseWith(route.params, params, 'path') : params,
          query: route.query ? parseWith(route.query, queryObject(url.searchParams), 'query') : {},
        }
        const out = await route.handle(input)
        send(res, out.status, out.body)
      } catch (err) {
        sendError(res, err)
      }
    })()
    }
    if (scope === undefined) {
      run()
      return true
    }
    // The key is checked before the body is read, so a refused request changes nothing.
    void auth.authorize(ApiKeyAuthorizer.credential(req.headers), scope, {route: `${method} ${route.path}`, remote: req.socket.remoteAddress}).then(
      async (verdict) => {
        if (verdict.ok) return run()
        req.resume()
        if (verdict.status === 429) res.setHeader('retry-after', String(verdict.retryAfterSeconds ?? 1))
        const noKeys = verdict.status === 401 && !(await auth.hasKeys())
        const code = verdict.status === 429 ? RestErrorCode.rateLimited : verdict.status === 403 ? RestErrorCode.forbidden : RestErrorCode.unauthorized
        sendError(
          res,
          noKeys
            ? restError(RestErrorCode.unauthorized, 'This node takes no writes: it was started without an API key', {hint: 'Start the node with --api-key-file, or create a key with xai devnet key create.'})
            : restError(code, verdict.status === 401 ? `Missing or wrong API key (${verdict.reason})` : verdict.reason, {hint: verdict.hint}),
        )
      },
      (err) => sendError(res, err),
    )
    return true
  }
}

/** Search params as an object; a repeated name becomes an array. */
function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of search) {
    const prior = out[name]
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value]
  }
  return out
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw invalidRequest(where, parsed.error)
}

function invalidRequest(where: string, error: ZodError): XaiError {
  const issues = error.issues.map((issue) => ({path: issue.path.join('.'), message: issue.message}))
  const first = issues[0]
  return restError(RestErrorCode.invalidRequest, `Invalid request ${where}${first ? `: ${first.path ? `${first.path}: ` : ''}${first.message}` : ''}`, {
    hint: 'The schemas are in GET /openapi.json.',
    details: {issues},
  })
}

async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  if (Number(req.headers['content-length']) > maxBytes) {
    req.resume()
    throw restError(RestErrorCode.tooLarge, `Request body too large (at most ${maxBytes} bytes)`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      req.resume()
      throw restError(RestErrorCode.tooLarge, `Request body too large (at most ${maxBytes} bytes)`)
    }
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    throw restError(RestErrorCode.invalidJson, 'The request body is not JSON', {hint: 'Send a JSON object with content-type: application/json.'})
  }
}

/** Whatever a handler threw, as an XaiError whose code and status a client can act on. */
function toRestError(err: unknown): XaiError {
  if (err instanceof ZodError) return invalidRequest('', err)
  if (err instanceof RpcError) {
    if (err.rpcCode === RpcErrorCode.invalidParams) return restError(RestErrorCode.invalidRequest, err.message)
    return restError(RestErrorCode.rejected, err.message, {details: err.data === undefined ? undefined : {data: err.data}})
  }
  if (isXaiError(err)) return err
  if (err !== null && typeof err === 'object' && 'rpcCode' in err) return restError(RestErrorCode.rejected, errorMessage(err))
  return restError(RestErrorCode.internal, 'Internal error', {cause: err})
}

/** A path segment decoded; a malformed escape stays as it was (and fails the schema). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
