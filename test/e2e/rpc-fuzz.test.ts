/**
 * Fuzz of a running node's JSON-RPC endpoint over real HTTP and WebSocket: random and mutated
 * requests (bad JSON, wrong shapes, hostile params, batches, random bytes, odd headers). Whatever
 * arrives, every HTTP request gets an answer (a JSON-RPC error or an HTTP 4xx, never a 5xx or a
 * dropped connection), and afterwards the node process is alive, still answers and still mines.
 *
 * The seed comes from FC_SEED and is printed on failure, so a failure replays:
 * `FC_SEED=<seed> npx vitest run test/e2e/rpc-fuzz.test.ts`.
 */
import fc from 'fast-check'
import WebSocket from 'ws'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, isAlive, rpc, startE2eDevnet} from '../helpers/devnet.js'

const TIMEOUT = 300_000
const seed = process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED)
const runs = Number(process.env.FC_RUNS ?? 400)

let devnet: E2eDevnet

const METHODS = [
  'eth_call', 'eth_estimateGas', 'eth_getBalance', 'eth_getLogs', 'eth_getBlockByNumber', 'eth_getBlockByHash',
  'eth_sendRawTransaction', 'eth_getTransactionReceipt', 'eth_feeHistory', 'eth_getStorageAt', 'eth_newFilter',
  'eth_getFilterChanges', 'eth_subscribe', 'debug_traceTransaction', 'txpool_content', 'eth_sendTransaction', 'nope_nope',
]

/** Values that look like RPC params: valid, almost valid and hostile. */
const param: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    {depthSize: 'small'},
    fc.constantFrom('latest', 'pending', 'earliest', '0x', '0x0', '0x00', '0xzz', `0x${'f'.repeat(80)}`, STANDARD_DEV_ACCOUNTS[0]!.address, ''),
    fc.bigInt({min: 0n, max: 1n << 260n}).map((n) => `0x${n.toString(16)}`),
    fc.string({maxLength: 40}),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), {maxLength: 4}),
    fc.dictionary(fc.constantFrom('from', 'to', 'data', 'input', 'value', 'gas', 'fromBlock', 'toBlock', 'address', 'topics', 'blockHash'), tie('value'), {maxKeys: 5}),
  ),
})).value

const request = fc.record(
  {
    jsonrpc: fc.constantFrom('2.0', '1.0', 2, undefined),
    id: fc.oneof(fc.integer(), fc.string({maxLength: 8}), fc.constant(null), fc.constant(undefined), fc.object({maxDepth: 1})),
    method: fc.oneof(fc.constantFrom(...METHODS), fc.string({maxLength: 20}), fc.integer()),
    params: fc.oneof(fc.array(param, {maxLength: 4}), param),
  },
  {requiredKeys: []},
)

/** Raw bodies: JSON of requests and batches, cut or corrupted, or not JSON at all. */
const body: fc.Arbitrary<string> = fc.oneof(
  request.map((r) => JSON.stringify(r)),
  fc.array(request, {maxLength: 6}).map((rs) => JSON.stringify(rs)),
  fc.tuple(request.map((r) => JSON.stringify(r)), fc.nat(), fc.string({maxLength: 3})).map(([text, at, junk]) => {
    const i = text.length === 0 ? 0 : at % text.length
    return text.slice(0, i) + junk + text.slice(i + 1)
  }),
  fc.string({maxLength: 200}),
  fc.uint8Array({maxLength: 200}).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constantFrom('', '[]', '{}', 'null', '[[]]', '[1,2,3]', '{"jsonrpc":"2.0","method":"eth_chainId","id":1', '"x"', '1e999999'),
)

async function post(text: string, contentType: string): Promise<{status: number; text: string}> {
  const response = await fetch(devnet.rpcUrl, {method: 'POST', headers: {'content-type': contentType}, body: text, signal: AbortSignal.timeout(30_000)})
  return {status: response.status, text: await response.text()}
}

describe('JSON-RPC endpoint fuzz', () => {
  beforeAll(async () => {
    devnet = await startE2eDevnet({blockTime: 500})
  }, TIMEOUT)

  afterAll(async () => {
    await devnet?.stop()
  }, TIMEOUT)

  test('every HTTP request is answered, and the node keeps answering and mining', async () => {
    const before = BigInt(await rpc<string>(devnet.rpcUrl, 'eth_blockNumber'))
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (text, contentType) => {
        const {status, text: answer} = await post(text, contentType)
        expect(status).toBeLessThan(500)
        if (status === 200 && answer.length > 0) {
          const parsed = JSON.parse(answer) as unknown
          const responses = Array.isArray(parsed) ? parsed : [parsed]
          for (const response of responses as {jsonrpc?: string; result?: unknown; error?: {code: number}}[]) {
            expect(response.jsonrpc).toBe('2.0')
            expect('result' in response || typeof response.error?.code === 'number').toBe(true)
          }
        }
      }),
      {numRuns: runs, seed},
    )
    expect(devnet.pids().every(isAlive)).toBe(true)
    expect(await rpc(devnet.rpcUrl, 'eth_chainId')).toBe('0x7a69')
    // Still mining after the storm.
    const deadline = Date.now() + 60_000
    let after = before
    while (after <= before + 1n && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      after = BigInt(await rpc<string>(devnet.rpcUrl, 'eth_blockNumber'))
    }
    expect(after).toBeGreaterThan(before + 1n)
  }, TIMEOUT)

  test('random REST requests get a 4xx JSON error or a success, never a 5xx, and writes without the key change nothing', async () => {
    const nonce = await rpc<string>(devnet.rpcUrl, 'eth_getTransactionCount', [STANDARD_DEV_ACCOUNTS[0]!.address, 'pending'])
    const restBody = fc.oneof(
      body,
      fc.dictionary(fc.constantFrom('artifact', 'bytecode', 'abi', 'args', 'from', 'value', 'gas', 'address', 'function', 'block'), param, {maxKeys: 6}).map((o) => JSON.stringify(o)),
    )
    const path = fc.oneof(
      fc.constantFrom('/contracts/deploy', '/contracts/call', '/health', '/openapi.json'),
      fc.tuple(fc.oneof(fc.constantFrom(STANDARD_DEV_ACCOUNTS[0]!.address, '0x', '%', '..', '%zz'), fc.string({maxLength: 50})), fc.string({maxLength: 30})).map(
        ([address, query]) => `/contracts/${encodeURIComponent(address)}/state?${query}`,
      ),
    )
    await fc.assert(
      fc.asyncProperty(path, fc.constantFrom('GET', 'POST', 'PUT'), restBody, fc.boolean(), async (target, method, text, wrongKey) => {
        const headers: Record<string, string> = {'content-type': 'application/json', ...(wrongKey ? {'x-api-key': 'not-the-key-of-this-node'} : {})}
        const response = await fetch(`${devnet.rpcUrl}${target}`, {method, headers, body: method === 'GET' ? undefined : text, signal: AbortSignal.timeout(30_000)})
        const answer = await response.text()
        expect(response.status, `${method} ${target} ${text} → ${answer}`).toBeLessThan(500)
        if (response.status >= 400 && response.status !== 405) expect(JSON.parse(answer)).toHaveProperty('error.code')
      }),
      {numRuns: Math.min(runs, 200), seed},
    )
    expect(devnet.pids().every(isAlive)).toBe(true)
    expect(await rpc(devnet.rpcUrl, 'eth_getTransactionCount', [STANDARD_DEV_ACCOUNTS[0]!.address, 'pending'])).toBe(nonce)
  }, TIMEOUT)

  test('random WebSocket messages get answers and the socket stays usable', async () => {
    const socket = new WebSocket(devnet.wsUrl)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    try {
      const samples = fc.sample(body, {numRuns: Math.min(runs, 60), seed})
      for (const text of samples) socket.send(text)
      // The socket still carries a normal request after all of that.
      const answer = await new Promise<{id?: number; result?: string}>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer on the WebSocket after the fuzz')), 30_000)
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as {id?: number; result?: string}
          if (message.id === 987_654) {
            clearTimeout(timer)
            resolve(message)
          }
        })
        socket.send(JSON.stringify({jsonrpc: '2.0', id: 987_654, method: 'eth_chainId', params: []}))
      })
      expect(answer.result).toBe('0x7a69')
    } finally {
      socket.close()
    }
    expect(devnet.pids().every(isAlive)).toBe(true)
  }, TIMEOUT)
})
