import type {z} from 'zod'

/** What a route handler gets: the request's parts, each already parsed by the route's schemas. */
export interface RouteInput<Body = unknown, Params = Record<string, string>, Query = Record<string, unknown>> {
  body: Body
  params: Params
  query: Query
}

export interface RouteResponse {
  status: number
  body: unknown
}

export interface ResponseSpec {
  description: string
  schema: z.ZodType
}

/**
 * One REST operation: its method and path (OpenAPI style, `/contracts/{address}/state`), the zod
 * schemas of its inputs and of each response, and its handler. The schemas both validate the
 * requests and generate the OpenAPI document, so the two cannot drift apart.
 */
export interface RestRoute {
  method: 'GET' | 'POST'
  path: string
  operationId: string
  summary: string
  description?: string
  /** True: the request needs the node's API key (every write). */
  auth: boolean
  body?: z.ZodType
  params?: z.ZodType
  query?: z.ZodType
  /** The successful responses; the error responses are added from the error schema. */
  responses: Record<number, ResponseSpec>
  /** Error statuses this route can answer besides 400 and 500 (401 is implied by auth). */
  errors?: number[]
  handle(input: RouteInput<any, any, any>): Promise<RouteResponse>
}
