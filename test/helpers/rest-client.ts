import {Ajv2020} from 'ajv/dist/2020.js'
import {expect} from 'vitest'

export interface RestReply {
  status: number
  body: any
}

export interface OpenApiSpec {
  openapi?: string
  paths: Record<string, Record<string, {responses: Record<string, unknown>; security?: unknown}>>
}

export interface RestRequestOptions {
  /** The path template of the operation (default: the path without its query). */
  template?: string
  body?: unknown
  /** A body sent as it is (malformed JSON). */
  rawBody?: string
  /** The API key to send; null sends none (default: the devnet's). */
  key?: string | null
}

/**
 * REST requests to a node whose answers are checked against the node's own /openapi.json by an
 * independent JSON Schema validator (ajv, 2020-12): the status must be documented for the
 * operation and the body must match that status's schema. Call `load()` first.
 */
export class RestClient {
  private readonly ajv = new Ajv2020({strict: false, allErrors: true})
  spec?: OpenApiSpec

  constructor(
    private readonly baseUrl: () => string,
    private readonly apiKey: () => string | undefined,
  ) {}

  async load(): Promise<OpenApiSpec> {
    const document = (await (await fetch(`${this.baseUrl()}/openapi.json`)).json()) as OpenApiSpec
    this.ajv.addSchema(document as object, 'openapi')
    this.spec = document
    return document
  }

  async request(method: 'GET' | 'POST', path: string, options: RestRequestOptions = {}): Promise<RestReply> {
    const headers: Record<string, string> = {'content-type': 'application/json'}
    const key = options.key === undefined ? this.apiKey() : options.key
    if (key !== null && key !== undefined) headers['x-api-key'] = key
    const response = await fetch(`${this.baseUrl()}${path}`, {method, headers, body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))})
    const reply = {status: response.status, body: await response.json()}
    if (this.spec) this.conforms(method, options.template ?? path.split('?')[0]!, reply)
    return reply
  }

  /** The reply's status is documented for the operation and its body validates against that schema. */
  private conforms(method: string, template: string, reply: RestReply): void {
    const operation = this.spec!.paths[template]?.[method.toLowerCase()]
    expect(operation, `${method} ${template} is not in /openapi.json`).toBeDefined()
    expect(Object.keys(operation!.responses), `${method} ${template} does not document status ${reply.status}: ${JSON.stringify(reply.body)}`).toContain(String(reply.status))
    const pointer = ['paths', template, method.toLowerCase(), 'responses', String(reply.status), 'content', 'application/json', 'schema'].map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')
    const validate = this.ajv.getSchema(`openapi#/${pointer}`)
    expect(validate, `no schema at ${pointer}`).toBeDefined()
    const valid = validate!(reply.body)
    expect(valid, `${method} ${template} ${reply.status} does not match its schema: ${this.ajv.errorsText(validate!.errors)}\n${JSON.stringify(reply.body)}`).toBe(true)
  }
}
