// End to end: the REST surface of a real devnet node (POST /contracts/deploy, POST /contracts/call,
// GET /contracts/:address/state, GET /health), with every response checked against the node's
// own /openapi.json by an independent JSON Schema validator, and writes refused without the key.
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {type Hex, createPublicClient, http} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {tokenProject} from '../helpers/cli.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, startE2eDevnet} from '../helpers/devnet.js'
import {type OpenApiSpec, type RestReply, type RestRequestOptions, RestClient} from '../helpers/rest-client.js'

let devnet: E2eDevnet | undefined
let tmp: string
let project: string
let spec: OpenApiSpec
const restClient = new RestClient(() => devnet!.rpcUrl, () => devnet!.apiKey)
const [alice, bob, carol] = STANDARD_DEV_ACCOUNTS


/** A REST request to node 0; the answer is checked against the OpenAPI document (path template given). */
function rest(method: 'GET' | 'POST', path: string, options: RestRequestOptions = {}): Promise<RestReply> {
  return restClient.request(method, path, options)
}

describe('the node REST surface (devnet)', () => {
  beforeAll(async () => {
    ;({tmp, project} = await tokenProject('xai-rest-e2e-'))
    devnet = await startE2eDevnet({target: 'xai', blockTime: 0, upArgs: ['--project', project]})
    spec = await restClient.load()
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  const client = () => createPublicClient({transport: http(devnet!.rpcUrl)})
  let token: Hex

  it('publishes an OpenAPI 3.1 document generated from the schemas, and a conforming /health', async () => {
    expect(spec).toMatchObject({openapi: '3.1.0', info: {title: 'xai node REST API'}})
    expect(Object.keys(spec.paths).sort()).toEqual([
      '/contracts/call',
      '/contracts/deploy',
      '/contracts/{address}/state',
      '/faucet/claim',
      '/governance/proposals',
      '/governance/proposals/{id}',
      '/governance/vote',
      '/health',
      '/modules',
      '/modules/{id}',
      '/openapi.json',
    ])
    expect((spec.paths['/contracts/deploy']!.post as Record<string, unknown>).security).toEqual([{apiKey: []}, {bearer: []}])
    const health = await rest('GET', '/health')
    expect(health).toMatchObject({status: 200, body: {status: 'ok', chainId: devnet!.chainId}})
  })

  it('refuses a deploy without the API key, or with a wrong one, and changes nothing', async () => {
    const before = {nonce: await client().getTransactionCount({address: alice!.address}), block: await client().getBlockNumber()}
    const missing = await rest('POST', '/contracts/deploy', {body: {artifact: 'Token', args: ['A', 'B', 1]}, key: null})
    expect(missing.status).toBe(401)
    expect(missing.body.error.code).toBe('REST_UNAUTHORIZED')
    const wrong = await rest('POST', '/contracts/deploy', {body: {artifact: 'Token', args: ['A', 'B', 1]}, key: 'x'.repeat(32)})
    expect(wrong.status).toBe(401)
    expect(await client().getTransactionCount({address: alice!.address})).toBe(before.nonce)
    expect(await client().getBlockNumber()).toBe(before.block)
  })

  it('deploys an artifact by name with JSON arguments, and bytecode with an ABI from another account', async () => {
    const deployed = await rest('POST', '/contracts/deploy', {body: {artifact: 'Token', args: ['Rest Token', 'RST', 1000]}})
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201)
    expect(deployed.body).toMatchObject({contract: 'Token', from: alice!.address})
    token = deployed.body.address
    expect((await client().getCode({address: token}))?.length).toBeGreaterThan(100)
    const receipt = await client().getTransactionReceipt({hash: deployed.body.txHash})
    expect(receipt.contractAddress?.toLowerCase()).toBe(token.toLowerCase())

    const artifact = JSON.parse(await readFile(join(project, 'artifacts/contracts/Token.sol/Token.json'), 'utf8'))
    const raw = await rest('POST', '/contracts/deploy', {body: {bytecode: artifact.bytecode, abi: artifact.abi, args: ['Raw', 'RAW', '5'], from: bob!.address}})
    expect(raw.status, JSON.stringify(raw.body)).toBe(201)
    expect(raw.body).toMatchObject({contract: null, from: bob!.address})
  })

  it('calls functions by name with decoded results, and decodes a custom-error revert as 422', async () => {
    const balance = await rest('POST', '/contracts/call', {body: {address: token, artifact: 'Token', function: 'balanceOf', args: [alice!.address]}})
    expect(balance).toMatchObject({status: 200, body: {function: 'balanceOf(address)', result: '1000'}})
    const artifact = JSON.parse(await readFile(join(project, 'artifacts/contracts/Token.sol/Token.json'), 'utf8'))
    const symbol = await rest('POST', '/contracts/call', {body: {address: token, abi: artifact.abi, function: 'symbol'}})
    expect(symbol.body.result).toBe('RST')

    const reverted = await rest('POST', '/contracts/call', {body: {address: token, artifact: 'Token', function: 'transfer', args: [bob!.address, 5], from: carol!.address}})
    expect(reverted.status).toBe(422)
    expect(reverted.body.error).toMatchObject({code: 'CONTRACT_REVERTED', details: {revert: {kind: 'custom', name: 'InsufficientBalance', args: {from: carol!.address, balance: '0', needed: '5'}}}})
  })

  it('decodes the state through the matching artifact, with mapping keys', async () => {
    const state = await rest('GET', `/contracts/${token}/state?key=balanceOf=${alice!.address}`, {template: '/contracts/{address}/state'})
    expect(state.status, JSON.stringify(state.body)).toBe(200)
    expect(state.body).toMatchObject({address: token, contract: 'Token', nonce: 1, balance: '0'})
    const byLabel = Object.fromEntries(state.body.variables.map((v: {label: string}) => [v.label, v]))
    expect(byLabel.name.value).toBe('Rest Token')
    expect(byLabel.symbol.value).toBe('RST')
    expect(byLabel.totalSupply.value).toBe('1000')
    expect(JSON.stringify(byLabel.balanceOf)).toContain('1000')

    const wrong = await rest('GET', `/contracts/${token}/state?artifact=Counter`, {template: '/contracts/{address}/state'})
    expect(wrong.status).toBe(422)
    expect(wrong.body.error.code).toBe('REST_ARTIFACT_MISMATCH')

    const account = await rest('GET', `/contracts/${alice!.address}/state`, {template: '/contracts/{address}/state'})
    expect(account).toMatchObject({status: 200, body: {contract: null, variables: null, codeSize: 0}})
  })

  it('answers bad requests with a clear error, each as documented', async () => {
    const cases: [string, Awaited<ReturnType<typeof rest>>, number, string][] = [
      ['not JSON', await rest('POST', '/contracts/call', {rawBody: '{"address":'}), 400, 'REST_INVALID_JSON'],
      ['unknown field', await rest('POST', '/contracts/call', {body: {address: token, artifact: 'Token', function: 'name', color: 'red'}}), 400, 'REST_INVALID_REQUEST'],
      ['artifact and bytecode', await rest('POST', '/contracts/deploy', {body: {artifact: 'Token', bytecode: '0x00'}}), 400, 'REST_INVALID_REQUEST'],
      ['bad address', await rest('GET', '/contracts/0x1234/state', {template: '/contracts/{address}/state'}), 400, 'REST_INVALID_REQUEST'],
      ['unknown artifact', await rest('POST', '/contracts/deploy', {body: {artifact: 'Nope'}}), 404, 'CONTRACT_ARTIFACT_NOT_FOUND'],
      ['wrong arg count', await rest('POST', '/contracts/deploy', {body: {artifact: 'Token', args: ['only']}}), 400, 'CONTRACT_INVALID_ARGUMENT'],
      ['unknown function', await rest('POST', '/contracts/call', {body: {address: token, artifact: 'Token', function: 'nope'}}), 400, 'CONTRACT_UNKNOWN_FUNCTION'],
      ['inexact number', await rest('POST', '/contracts/call', {body: {address: token, artifact: 'Token', function: 'balanceOf', args: [1e30]}}), 400, 'CONTRACT_INVALID_ARGUMENT'],
    ]
    for (const [what, reply, status, code] of cases) {
      expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(status)
      expect(reply.body.error.code, what).toBe(code)
      expect(reply.body.error.message.length, what).toBeGreaterThan(5)
    }
    const wrongMethod = await fetch(`${devnet!.rpcUrl}/contracts/deploy`)
    expect(wrongMethod.status).toBe(405)
    // JSON-RPC on the same port is untouched.
    expect(await client().getChainId()).toBe(devnet!.chainId)
  })
})
