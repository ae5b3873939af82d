import {type Hex, keccak256, pad, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALICE, BOB, type Harness, createHarness, probeCall, recordingConnection} from './harness.js'

const STORED = keccak256(toHex('Stored(address,uint256,bytes)'))
const OTHER = keccak256(toHex('Other(uint256)'))

interface Log {
  address: Hex
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  logIndex: Hex
  transactionIndex: Hex
  blockHash: Hex
  transactionHash: Hex
  removed: boolean
}

describe('eth_getLogs', () => {
  let h: Harness
  let probe: Hex
  let second: Hex

  beforeAll(async () => {
    h = await createHarness({limits: {maxLogsBlockRange: 6, maxLogs: 3}})
    probe = await h.deployProbe() // block 1
    second = await h.deployProbe() // block 2
    await h.send({to: probe, data: probeCall('store', [1n])}) // block 3
    await h.send({to: second, data: probeCall('store', [2n]), from: 1}) // block 4
    await h.send({to: probe, data: probeCall('other', [3n])}) // block 5
  })
  afterAll(() => h.close())

  const getLogs = (filter: Record<string, unknown>) => h.rpc<Log[]>('eth_getLogs', [filter])

  it('returns every log in a range with block, tx and log positions', async () => {
    const logs = await getLogs({fromBlock: '0x0', toBlock: 'latest'})
    expect(logs.map((l) => [l.blockNumber, l.address, l.topics[0]])).toEqual([
      ['0x3', probe, STORED],
      ['0x4', second, STORED],
      ['0x5', probe, OTHER],
    ])
    expect(logs[0]).toMatchObject({logIndex: '0x0', transactionIndex: '0x0', removed: false, topics: [STORED, pad(ALICE), pad('0x1')]})
    const receipt = await h.rpc<{logs: Log[]}>('eth_getTransactionReceipt', [logs[0]!.transactionHash])
    expect(receipt.logs[0]).toEqual(logs[0])
  })

  it('filters by address (one or a list) and topics (positions, OR lists, null wildcards)', async () => {
    expect((await getLogs({fromBlock: '0x0', address: probe})).length).toBe(2)
    expect((await getLogs({fromBlock: '0x0', address: [probe, second]})).length).toBe(3)
    expect((await getLogs({fromBlock: '0x0', topics: [STORED]})).length).toBe(2)
    expect((await getLogs({fromBlock: '0x0', topics: [[STORED, OTHER]]})).length).toBe(3)
    expect((await getLogs({fromBlock: '0x0', topics: [null, pad(BOB)]})).map((l) => l.address)).toEqual([second])
    expect((await getLogs({fromBlock: '0x0', topics: [STORED, null, [pad('0x1'), pad('0x2')]]})).length).toBe(2)
    // A position beyond a log's topics never matches, even as a wildcard (geth).
    expect((await getLogs({fromBlock: '0x0', topics: [OTHER, null]})).length).toBe(0)
    expect((await getLogs({fromBlock: '0x0', address: BOB})).length).toBe(0)
  })

  it('takes a blockHash instead of a range; default range is the latest block', async () => {
    const block = await h.rpc<{hash: Hex}>('eth_getBlockByNumber', ['0x4', false])
    expect((await getLogs({blockHash: block.hash})).map((l) => l.address)).toEqual([second])
    expect((await getLogs({})).map((l) => l.blockNumber)).toEqual(['0x5'])
    expect(await h.rpcError('eth_getLogs', [{blockHash: `0x${'12'.repeat(32)}`}])).toEqual({code: -32000, message: 'unknown block'})
  })

  it('clamps the range to the head; from > to is an error', async () => {
    expect((await getLogs({fromBlock: '0x4', toBlock: '0x50'})).length).toBe(2)
    expect(await getLogs({fromBlock: '0x40', toBlock: '0x50'})).toEqual([])
    expect(await h.rpcError('eth_getLogs', [{fromBlock: '0x4', toBlock: '0x2'}])).toEqual({code: -32000, message: 'invalid block range params'})
  })

  it('bounds the block range and the number of results (-32005)', async () => {
    for (let i = 0; i < 2; i++) await h.mine()
    const range = await h.rpcError('eth_getLogs', [{fromBlock: '0x0', toBlock: '0x6'}])
    expect(range.code).toBe(-32005)
    expect(range.message).toMatch(/block range too large: 7 blocks requested, at most 6/)
    await h.send({to: probe, data: probeCall('store', [9n])})
    const many = await h.rpcError('eth_getLogs', [{fromBlock: '0x3', toBlock: 'latest'}])
    expect(many).toEqual({code: -32005, message: 'query returned more than 3 results'})
  })

  it('rejects malformed filters with -32602', async () => {
    const cases: unknown[] = [
      'latest',
      {fromBlock: 'first'},
      {address: '0x12'},
      {address: [probe, 7]},
      {topics: 'x'},
      {topics: ['0x12']},
      {topics: [null, null, null, null, null]},
      {blockHash: `0x${'12'.repeat(32)}`, fromBlock: '0x1'},
    ]
    for (const filter of cases) expect((await h.rpcError('eth_getLogs', [filter])).code, JSON.stringify(filter)).toBe(-32602)
    expect((await h.rpcError('eth_getLogs', [])).code).toBe(-32602)
  })
})

describe('polled filters', () => {
  let h: Harness
  let probe: Hex
  beforeAll(async () => {
    h = await createHarness({limits: {maxFilters: 4, filterTimeoutMs: 1_000}})
    probe = await h.deployProbe()
  })
  afterAll(() => h.close())

  it('a log filter returns new matching logs once, and all of them on eth_getFilterLogs', async () => {
    const id = await h.rpc<string>('eth_newFilter', [{address: probe, topics: [STORED]}])
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    expect(await h.rpc('eth_getFilterChanges', [id])).toEqual([])
    await h.send({to: probe, data: probeCall('store', [1n])})
    await h.send({to: probe, data: probeCall('other', [1n])})
    await h.send({to: probe, data: probeCall('store', [2n])})
    const changes = await h.rpc<Log[]>('eth_getFilterChanges', [id])
    expect(changes.map((l) => l.topics[2])).toEqual([pad('0x1'), pad('0x2')])
    expect(await h.rpc('eth_getFilterChanges', [id])).toEqual([])
    // fromBlock defaults to latest: only the last block's log.
    expect((await h.rpc<Log[]>('eth_getFilterLogs', [id])).map((l) => l.topics[2])).toEqual([pad('0x2')])
    const all = await h.rpc<string>('eth_newFilter', [{fromBlock: '0x0', address: probe}])
    expect((await h.rpc<Log[]>('eth_getFilterLogs', [all])).length).toBe(3)
    expect(await h.rpc('eth_uninstallFilter', [id])).toBe(true)
    expect(await h.rpc('eth_uninstallFilter', [id])).toBe(false)
    expect(await h.rpcError('eth_getFilterChanges', [id])).toEqual({code: -32000, message: 'filter not found'})
    await h.rpc('eth_uninstallFilter', [all])
  })

  it('a block filter returns new block hashes; a pending filter new transaction hashes', async () => {
    const blocks = await h.rpc<string>('eth_newBlockFilter')
    const pending = await h.rpc<string>('eth_newPendingTransactionFilter')
    const hash = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: BOB, value: 1n, gas: 21_000n})])
    await h.mine()
    const head = await h.rpc<{hash: Hex}>('eth_getBlockByNumber', ['latest', false])
    expect(await h.rpc('eth_getFilterChanges', [blocks])).toEqual([head.hash])
    expect(await h.rpc('eth_getFilterChanges', [pending])).toEqual([hash])
    expect(await h.rpcError('eth_getFilterLogs', [blocks])).toEqual({code: -32000, message: 'filter not found'})
    await h.rpc('eth_uninstallFilter', [blocks])
    await h.rpc('eth_uninstallFilter', [pending])
  })

  it('bounds the number of filters and expires idle ones', async () => {
    const ids = []
    for (let i = 0; i < 4; i++) ids.push(await h.rpc<string>('eth_newBlockFilter'))
    expect((await h.rpcError('eth_newBlockFilter')).code).toBe(-32005)
    await new Promise((r) => setTimeout(r, 1_100))
    // Idle past the timeout: swept when room is needed (or by the periodic sweep).
    const fresh = await h.rpc<string>('eth_newBlockFilter')
    expect(await h.rpc('eth_getFilterChanges', [fresh])).toEqual([])
    expect(await h.rpcError('eth_getFilterChanges', [ids[0]])).toEqual({code: -32000, message: 'filter not found'})
  })

  it('rejects malformed params with -32602', async () => {
    for (const [method, params] of [
      ['eth_newFilter', [{address: 'x'}]],
      ['eth_newFilter', [{blockHash: `0x${'12'.repeat(32)}`}]],
      ['eth_getFilterChanges', ['nope']],
      ['eth_uninstallFilter', []],
      ['eth_newBlockFilter', [1]],
    ] as const) {
      expect((await h.rpcError(method, [...params])).code, method).toBe(-32602)
    }
  })
})

describe('eth_subscribe / eth_unsubscribe', () => {
  let h: Harness
  let probe: Hex
  beforeAll(async () => {
    h = await createHarness({limits: {maxSubscriptionsPerConnection: 3}})
    probe = await h.deployProbe()
  })
  afterAll(() => h.close())

  type Note = {method: string; params: {subscription: string; result: Record<string, unknown> | string}}

  it('pushes newHeads, matching logs and pending transaction hashes to the connection', async () => {
    const conn = recordingConnection()
    const heads = await h.rpc<string>('eth_subscribe', ['newHeads'], conn)
    const logs = await h.rpc<string>('eth_subscribe', ['logs', {address: probe, topics: [STORED]}], conn)
    const pending = await h.rpc<string>('eth_subscribe', ['newPendingTransactions'], conn)
    const hash = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [5n])})])
    await h.mine()
    await h.send({to: probe, data: probeCall('other', [5n])})
    const notes = conn.messages as Note[]
    expect(notes.every((n) => n.method === 'eth_subscription')).toBe(true)
    const of = (id: string) => notes.filter((n) => n.params.subscription === id).map((n) => n.params.result)
    const head = await h.rpc<{hash: Hex; number: Hex}>('eth_getBlockByNumber', ['latest', false])
    expect(of(heads).map((b) => (b as {number: Hex}).number)).toEqual(['0x2', '0x3'])
    expect((of(heads)[1] as {hash: Hex}).hash).toBe(head.hash)
    expect(of(heads)[1]).toHaveProperty('baseFeePerGas')
    expect(of(logs)).toHaveLength(1)
    expect(of(logs)[0]).toMatchObject({address: probe, transactionHash: hash, blockNumber: '0x2'})
    expect(of(pending)[0]).toBe(hash)
    expect(await h.rpc('eth_unsubscribe', [heads], conn)).toBe(true)
    expect(await h.rpc('eth_unsubscribe', [heads], conn)).toBe(false)
    await h.mine()
    expect(of(heads)).toHaveLength(2)
    h.api.filters.dropConnection(conn)
  })

  it('newPendingTransactions with true pushes full transactions', async () => {
    const conn = recordingConnection()
    const id = await h.rpc<string>('eth_subscribe', ['newPendingTransactions', true], conn)
    const hash = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: BOB, value: 3n, gas: 21_000n})])
    const note = conn.messages[0] as Note
    expect(note.params.subscription).toBe(id)
    expect(note.params.result).toMatchObject({hash, value: '0x3', blockHash: null})
    h.api.filters.dropConnection(conn)
    await h.mine()
  })

  it('a subscription belongs to its connection; the count per connection is bounded', async () => {
    const a = recordingConnection(1)
    const b = recordingConnection(2)
    const id = await h.rpc<string>('eth_subscribe', ['newHeads'], a)
    expect(await h.rpc('eth_unsubscribe', [id], b)).toBe(false)
    await h.rpc('eth_subscribe', ['newHeads'], a)
    await h.rpc('eth_subscribe', ['newHeads'], a)
    expect((await h.rpcError('eth_subscribe', ['newHeads']).catch(() => ({code: 0}))).code).toBe(-32601)
    const over = await h.rpc('eth_subscribe', ['newHeads'], a).catch((err: {error: {code: number}}) => err.error)
    expect(over).toMatchObject({code: -32005})
    h.api.filters.dropConnection(a)
    expect(a.subscriptions.size).toBe(0)
    expect(h.api.filters.subscriptionCount).toBe(0)
  })

  it('without a connection (HTTP) subscriptions are not supported; bad kinds are -32602', async () => {
    expect(await h.rpcError('eth_subscribe', ['newHeads'])).toEqual({code: -32601, message: 'notifications not supported'})
    const conn = recordingConnection()
    for (const params of [['syncing'], [], ['logs', {fromBlock: '0x1'}], ['logs', {address: 'x'}], ['newHeads', {}]]) {
      const error = await h.rpc('eth_subscribe', params, conn).catch((err: {error: {code: number}}) => err.error)
      expect(error, JSON.stringify(params)).toMatchObject({code: -32602})
    }
  })
})
