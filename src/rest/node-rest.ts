import {z} from 'zod'

import type {Chain} from '../chain/chain.js'
import {type Project, openProject} from '../contracts/project.js'
import type {Logger} from '../util/logger.js'
import type {ApiKeyAuthorizer} from '../util/api-keys.js'
import type {Dispatcher} from '../rpc/dispatcher.js'
import {contractRoutes} from './contract-routes.js'
import {moduleRoutes} from './module-routes.js'
import {openApiDocument} from './openapi.js'
import {type RestHandler, createRestHandler} from './rest-handler.js'
import type {RestRoute} from './route.js'

export interface NodeRestOptions {
  /** The key every write needs; none: the node refuses writes. */
  apiKey?: string
  /** A contracts project whose artifacts requests may name. */
  projectRoot?: string
  /** How long a deploy waits for its receipt (default 60 s). */
  receiptTimeoutMs?: number
  /** The node's API keys with scopes (the static apiKey is then one of them). */
  auth?: ApiKeyAuthorizer
  /** Reads need a read-scoped key too. */
  readAuth?: boolean
}

/**
 * The node's REST surface: /health, /contracts/*, /modules/*, /governance/*, /faucet/claim and
 * /openapi.json (generated from the routes' schemas), served beside JSON-RPC on the same port.
 */
export function createNodeRest(options: NodeRestOptions & {chain: Chain; dispatcher: Dispatcher; logger: Logger; maxBodyBytes: number; headers: Record<string, string>; version: string}): RestHandler {
  let project: Promise<Project> | undefined
  const routes = contractRoutes({
    invoke: (method, params) => options.dispatcher.invoke(method, params),
    chain: options.chain,
    // Opened on first use and again after a failure (the project may be created later).
    project: options.projectRoot === undefined ? undefined : () => (project ??= openProject(options.projectRoot!).catch((err) => {
      project = undefined
      throw err
    })),
    receiptTimeoutMs: options.receiptTimeoutMs,
  })
  let document: Record<string, unknown> | undefined
  const openapi: RestRoute = {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    auth: false,
    responses: {200: {description: 'The OpenAPI 3.1 document of these routes', schema: z.looseObject({openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown())})}},
    handle: async () => ({status: 200, body: (document ??= openApiDocument(all, {version: options.version.replace(/^.*\/v?/, '')}))}),
  }
  const all = [...routes, ...moduleRoutes({invoke: (method, params) => options.dispatcher.invoke(method, params), receiptTimeoutMs: options.receiptTimeoutMs}), openapi]
  return createRestHandler({routes: all, apiKey: options.apiKey, auth: options.auth, readAuth: options.readAuth, logger: options.logger, maxBodyBytes: options.maxBodyBytes, headers: options.headers})
}
