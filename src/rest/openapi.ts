import {z} from 'zod'

import type {RestRoute} from './route.js'
import {errorResponseSchema} from './schemas.js'

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed or does not match the schema',
  401: 'The API key is missing, unknown or revoked; nothing was changed',
  403: 'The API key lacks the scope this route needs (write); nothing was changed',
  404: 'The artifact, project, contract, module or proposal named does not exist',
  429: 'The API key is over its rate limit; retry after the Retry-After header\'s seconds',
  422: 'Rejected: the transaction or call reverted (decoded in details.revert), or the named artifact is not the code at the address',
  500: 'The node failed to answer',
  503: 'The node cannot do this now',
  504: 'The transaction was sent but not mined in time (details.txHash)',
}

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, without its $schema key. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const {$schema: _dialect, ...rest} = z.toJSONSchema(schema, {io, unrepresentable: 'any'}) as Record<string, unknown>
  return rest
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return []
  const object = jsonSchema(schema, 'input') as {properties?: Record<string, Record<string, unknown>>; required?: string[]}
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const {description, ...propertySchema} = property
    return {
      name,
      in: where,
      required: where === 'path' || (object.required ?? []).includes(name),
      ...(description === undefined ? {} : {description}),
      schema: propertySchema,
      ...(where === 'query' && (propertySchema.anyOf !== undefined || propertySchema.type === 'array') ? {style: 'form', explode: true} : {}),
    }
  })
}

/**
 * The OpenAPI 3.1 document of the routes, generated from their zod schemas.
 *
 * @example
 * const doc = openApiDocument(routes, {version: '0.1.0'})
 * doc.paths['/contracts/deploy'].post.requestBody
 */
export function openApiDocument(routes: readonly RestRoute[], info: {version: string}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const responses: Record<string, unknown> = {}
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {description: spec.description, content: {'application/json': {schema: jsonSchema(spec.schema, 'output')}}}
    }
    const errorStatuses = new Set([...(route.body || route.query || route.params ? [400] : []), ...(route.auth ? [401, 403, 429] : []), ...(route.errors ?? []), 500])
    for (const status of [...errorStatuses].sort()) {
      responses[String(status)] = {description: ERROR_DESCRIPTIONS[status] ?? 'An error', content: {'application/json': {schema: {$ref: '#/components/schemas/Error'}}}}
    }
    paths[route.path] ??= {}
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? {description: route.description} : {}),
      ...(route.auth ? {security: [{apiKey: []}, {bearer: []}]} : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body ? {requestBody: {required: true, content: {'application/json': {schema: jsonSchema(route.body, 'input')}}}} : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'xai node REST API',
      version: info.version,
      description: 'Contract deployment, calls and decoded state; native modules, governance proposals and votes, and the faucet; beside the Ethereum JSON-RPC served on the same port (POST /). Writes need an API key with the write scope (`xai devnet key create`, or the devnet key in devnet.json apiKey), sent as `x-api-key: <key>` or `authorization: Bearer <key>`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: {Error: jsonSchema(errorResponseSchema, 'output')},
      securitySchemes: {
        apiKey: {type: 'apiKey', in: 'header', name: 'x-api-key'},
        bearer: {type: 'http', scheme: 'bearer'},
      },
    },
  }
}
