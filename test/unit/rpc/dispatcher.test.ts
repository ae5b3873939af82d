import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {Dispatcher} from '../../../src/rpc/dispatcher.js'
import {RpcError} from '../../../src/rpc/errors.js'
import {type Harness, createHarness} from './harness.js'

const silent = {debug() {}, info() {}, warn() {}, error() {}}

describe('Dispatcher (JSON-RPC 2.0 envelope)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness({limits: {maxBatch: 3}})
  })
  afterAll(() => h.close())

  it('answers a request with its id and result', async () => {
    expect(await h.raw('{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}')).toEqual({jsonrpc: '2.0', id: 7, result: '0x7a69'})
    expect(await h.raw('{"jsonrpc":"2.0","id":"abc","method":"eth_chainId"}')).toEqual({jsonrpc: '2.0', id: 'abc', result: '0x7a69'})
  })

  it('answers unparsable JSON with -32700 and id null', async () => {
    expect(await h.raw('{"jsonrpc":"2.0","id":1,"method":')).toEqual({jsonrpc: '2.0', id: null, error: {code: -32700, message: 'parse error'}})
  })

  it('rejects malformed envelopes with -32600', async () => {
    for (const body of ['1', '"x"', 'null', '{"jsonrpc":"2.0","id":1}', '{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}', '{"id":{},"method":"eth_chainId"}']) {
      const res = (await h.raw(body)) as {error: {code: number}}
      expect(res.error.code, body).toBe(-32600)
    }
  })

  it('answers an unknown method with -32601 in geth wording', async () => {
    expect(await h.raw('{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {code: -32601, message: 'the method eth_nope does not exist/is not available'},
    })
  })

  it('answers non-array params with -32602', async () => {
    const res = (await h.raw('{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":{"a":1}}')) as {error: {code: number}}
    expect(res.error.code).toBe(-32602)
  })

  it('answers a batch in order, errors in place', async () => {
    const res = (await h.raw(
      JSON.stringify([
        {jsonrpc: '2.0', id: 1, method: 'eth_chainId'},
        {jsonrpc: '2.0', id: 2, method: 'eth_nope'},
        {jsonrpc: '2.0', id: 3, method: 'net_version'},
      ]),
    )) as {id: number; result?: unknown; error?: {code: number}}[]
    expect(res.map((r) => r.id)).toEqual([1, 2, 3])
    expect(res[0]!.result).toBe('0x7a69')
    expect(res[1]!.error?.code).toBe(-32601)
    expect(res[2]!.result).toBe('31337')
  })

  it('answers an empty batch with one invalid-request error', async () => {
    expect(await h.raw('[]')).toEqual({jsonrpc: '2.0', id: null, error: {code: -32600, message: 'empty batch'}})
  })

  it('refuses a batch over the limit', async () => {
    const batch = Array.from({length: 4}, (_, i) => ({jsonrpc: '2.0', id: i, method: 'eth_chainId'}))
    const res = (await h.raw(JSON.stringify(batch))) as {error: {code: number; message: string}}
    expect(res.error.code).toBe(-32600)
    expect(res.error.message).toMatch(/batch too large/)
  })

  it('runs notifications without answering them', async () => {
    expect(await h.raw('{"jsonrpc":"2.0","method":"eth_chainId"}')).toBeUndefined()
    expect(await h.raw('[{"jsonrpc":"2.0","method":"eth_chainId"}]')).toBeUndefined()
    const mixed = (await h.raw('[{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","id":5,"method":"eth_chainId"}]')) as unknown[]
    expect(mixed).toHaveLength(1)
  })

  it('answers invalid entries of a batch individually', async () => {
    const res = (await h.raw('[1, {"jsonrpc":"2.0","id":9,"method":"eth_chainId"}]')) as {id: unknown; error?: {code: number}}[]
    expect(res[0]!.error?.code).toBe(-32600)
    expect(res[1]!.id).toBe(9)
  })

  it('turns thrown errors into responses: RpcError as is, anything else -32603', async () => {
    const d = new Dispatcher(
      {
        boom: () => {
          throw new Error('kaput')
        },
        rpc: () => {
          throw new RpcError(3, 'execution reverted', {data: '0x01'})
        },
        asyncBoom: async () => {
          throw new TypeError('bad')
        },
      },
      {logger: silent, maxBatch: 10},
    )
    expect(JSON.parse((await d.handle('{"jsonrpc":"2.0","id":1,"method":"boom"}'))!)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {code: -32603, message: 'internal error: kaput'},
    })
    expect(JSON.parse((await d.handle('{"jsonrpc":"2.0","id":1,"method":"rpc"}'))!).error).toEqual({code: 3, message: 'execution reverted', data: '0x01'})
    expect(JSON.parse((await d.handle('{"jsonrpc":"2.0","id":1,"method":"asyncBoom"}'))!).error.code).toBe(-32603)
  })
})
