import http from 'node:http'

import {JsonRpcProvider} from 'ethers'
import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  type Hex,
  createPublicClient,
  defineChain,
  http as viemHttp,
  webSocket,
} from 'viem'
import WebSocket from 'ws'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createNodeRest} from '../../../src/rest/node-rest.js'
import {type RpcServer, createRpcServer} from '../../../src/rpc/server.js'
import {ALICE, type Harness, createHarness, probeCall, probeContract} from './harness.js'

const silent = {debug() {}, info() {}, warn() {}, error() {}}

function request(url: string, options: {method?: string; body?: string; headers?: Record<string, string>; path?: string}): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path ?? '/', url)
    const req = http.request(target, {method: options.method ?? 'POST', headers: options.headers}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('RPC server (HTTP and WebSocket on one port)', () => {
  let h: Harness
  let server: RpcServer
  let probe: Hex

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe()
    server = await createRpcServer({
      host: '127.0.0.1',
      port: 0,
      chain: h.chain,
      mempool: h.mempool,
      logger: silent,
      clientVersion: 'xai/test',
      limits: {maxBodyBytes: 10_000, maxWsMessageBytes: 10_000},
      // The node's REST surface (GET /health among it) plugs in as the node does it.
      routes: ({dispatcher, maxBodyBytes, headers}) => createNodeRest({chain: h.chain, dispatcher, logger: silent, maxBodyBytes, headers, version: 'xai/test'}),
    })
  })
  afterAll(async () => {
    await server.close()
    h.close()
  })

  it('serves JSON-RPC over POST with CORS headers, whatever the content type', async () => {
    const res = await request(server.url, {body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', headers: {'content-type': 'text/plain'}})
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(JSON.parse(res.body)).toEqual({jsonrpc: '2.0', id: 1, result: '0x7a69'})
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect(server.wsUrl).toBe(`ws://127.0.0.1:${server.port}`)
  })

  it('answers CORS preflight, GET /health, and 405 for other methods', async () => {
    const preflight = await request(server.url, {method: 'OPTIONS', headers: {origin: 'http://dapp.test', 'access-control-request-headers': 'content-type, x-custom'}})
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-methods']).toMatch(/POST/)
    expect(preflight.headers['access-control-allow-headers']).toBe('content-type, x-custom')
    const health = await request(server.url, {method: 'GET', path: '/health'})
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toMatchObject({status: 'ok', chainId: 31337, blockNumber: 1})
    const get = await request(server.url, {method: 'GET'})
    expect(get.status).toBe(405)
    expect(JSON.parse(get.body).error.code).toBe(-32600)
    expect((await request(server.url, {method: 'PUT', body: '{}'})).status).toBe(405)
  })

  it('a parse error is -32700 with HTTP 200; an oversized body is 413', async () => {
    const bad = await request(server.url, {body: '{"jsonrpc":'})
    expect(bad.status).toBe(200)
    expect(JSON.parse(bad.body)).toEqual({jsonrpc: '2.0', id: null, error: {code: -32700, message: 'parse error'}})
    const big = await request(server.url, {body: `{"jsonrpc":"2.0","id":1,"method":"web3_sha3","params":["0x${'00'.repeat(10_000)}"]}`})
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body).error.code).toBe(-32600)
    // The server is still fine.
    expect((await request(server.url, {body: '{"jsonrpc":"2.0","id":2,"method":"net_version"}'})).status).toBe(200)
  })

  it('viem reads a contract and decodes a custom error from the revert data', async () => {
    const chain = defineChain({id: 31337, name: 'xai', nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18}, rpcUrls: {default: {http: [server.url]}}})
    const client = createPublicClient({chain, transport: viemHttp(server.url)})
    const abi = probeContract().abi as Abi
    expect(await client.readContract({address: probe, abi, functionName: 'balanceOf', args: [ALICE]})).toBe(1000n)
    const err = await client.simulateContract({address: probe, abi, functionName: 'failCustom', args: [11n], account: ALICE}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BaseError)
    const reverted = (err as BaseError).walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError
    expect(reverted.data?.errorName).toBe('Custom')
    expect(reverted.data?.args).toEqual([11n, 'nope'])
    const block = await client.getBlock({blockTag: 'latest', includeTransactions: true})
    expect(block.number).toBe(1n)
    expect(await client.estimateGas({account: ALICE, to: probe, data: probeCall('store', [1n])})).toBeGreaterThan(21_000n)
  })

  it('ethers reads blocks, receipts and calls', async () => {
    const provider = new JsonRpcProvider(server.url, 31337, {staticNetwork: true})
    const block = await provider.getBlock('latest', true)
    expect(block?.number).toBe(1)
    const receipt = await provider.getTransactionReceipt(block!.transactions[0]!)
    expect(receipt?.contractAddress?.toLowerCase()).toBe(probe)
    expect(await provider.call({to: probe, data: probeCall('balanceOf', [ALICE])})).toBe(`0x${(1000).toString(16).padStart(64, '0')}`)
    provider.destroy()
  })

  it('WebSocket: requests, batches, newHeads and logs subscriptions', async () => {
    const ws = new WebSocket(server.wsUrl)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const messages: {id?: number; result?: unknown; method?: string; params?: {subscription: string; result: Record<string, unknown>}}[] = []
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())))
    const reply = async (id: number) => {
      for (let i = 0; i < 200 && !messages.some((m) => m.id === id); i++) await new Promise((r) => setTimeout(r, 10))
      return messages.find((m) => m.id === id)!
    }
    ws.send(JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads']}))
    ws.send(JSON.stringify({jsonrpc: '2.0', id: 2, method: 'eth_subscribe', params: ['logs', {address: probe}]}))
    ws.send(JSON.stringify([{jsonrpc: '2.0', id: 3, method: 'eth_chainId'}]))
    const heads = (await reply(1)).result as string
    const logs = (await reply(2)).result as string
    for (let i = 0; i < 200 && !messages.some((m) => Array.isArray(m)); i++) await new Promise((r) => setTimeout(r, 10))
    expect(messages.find((m) => Array.isArray(m))).toEqual([{jsonrpc: '2.0', id: 3, result: '0x7a69'}])
    expect(heads).toMatch(/^0x[0-9a-f]{32}$/)
    await h.send({to: probe, data: probeCall('store', [77n])})
    for (let i = 0; i < 200 && messages.filter((m) => m.method === 'eth_subscription').length < 2; i++) await new Promise((r) => setTimeout(r, 10))
    const notes = messages.filter((m) => m.method === 'eth_subscription')
    expect(notes.find((n) => n.params!.subscription === heads)!.params!.result.number).toBe('0x2')
    expect(notes.find((n) => n.params!.subscription === logs)!.params!.result.address).toBe(probe)
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.close()
    await closed
    // Blocks after the socket closed are not sent anywhere (and do not fail).
    await h.mine()
    expect(messages.filter((m) => m.method === 'eth_subscription')).toHaveLength(notes.length)
  })

  it('viem watches blocks over the WebSocket transport', async () => {
    const chain = defineChain({id: 31337, name: 'xai', nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18}, rpcUrls: {default: {http: [server.url], webSocket: [server.wsUrl]}}})
    const client = createPublicClient({chain, transport: webSocket(server.wsUrl)})
    const seen: bigint[] = []
    const unwatch = client.watchBlockNumber({onBlockNumber: (n) => void seen.push(n)})
    await new Promise((r) => setTimeout(r, 200))
    await h.mine()
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    unwatch()
    expect(seen.at(-1)).toBe(BigInt(h.chain.head.header.number))
    await (await client.transport.getRpcClient()).close()
  })

  it('a WebSocket message over the size limit closes that socket only', async () => {
    const ws = new WebSocket(server.wsUrl)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.send(JSON.stringify({jsonrpc: '2.0', id: 1, method: 'web3_sha3', params: [`0x${'00'.repeat(10_000)}`]}))
    expect(await closed).toBe(1009)
    expect((await request(server.url, {body: '{"jsonrpc":"2.0","id":2,"method":"net_version"}'})).status).toBe(200)
  })

  it('raises the keep-alive timeout above 60 s for wallets that pause between requests', async () => {
    const res = await request(server.url, {body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', headers: {connection: 'keep-alive'}})
    expect(res.headers['keep-alive']).toBe('timeout=65')
  })

  it('close() is idempotent and frees the port', async () => {
    const other = await createRpcServer({host: '127.0.0.1', port: 0, chain: h.chain, mempool: h.mempool, logger: silent, clientVersion: 'x'})
    await Promise.all([other.close(), other.close()])
    await expect(request(other.url, {body: '{}'})).rejects.toThrow()
  })
})
