import {encodeAbiParameters, encodeEventTopics, parseAbi, toEventSelector} from 'viem'
import {describe, expect, it} from 'vitest'

import {type RpcLog, blockRanges, createLogCursor, decodeContractLog, eventTopics, parseBlockNumber, selectEvents, wsUrlFor} from '../../../src/contracts/contract-logs.js'

const abi = [
  ...parseAbi([
    'event Transfer(address indexed from, address indexed to, uint256 value)',
    'event Transfer(address indexed from, address indexed to, uint256 value, bytes data)',
    'event Approval(address indexed holder, address indexed spender, uint256 value)',
  ]),
  {type: 'event', name: 'Noted', anonymous: true, inputs: [{name: '', type: 'uint256', indexed: false}, {name: '', type: 'string', indexed: false}]},
  ...parseAbi(['function transfer(address to, uint256 value) returns (bool)']),
] as const
const alice = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const bob = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3'

describe('selectEvents / eventTopics', () => {
  it('a name selects every overload, a signature exactly one', () => {
    expect(selectEvents(abi, 'Approval').map((e) => e.name)).toEqual(['Approval'])
    expect(selectEvents(abi, 'Transfer')).toHaveLength(2)
    const [one] = selectEvents(abi, 'Transfer(address, address, uint256)')
    expect(one!.inputs).toHaveLength(3)
    expect(eventTopics(abi, 'Transfer(address,address,uint256)')).toEqual([toEventSelector('Transfer(address,address,uint256)')])
    expect(eventTopics(abi, 'Transfer')).toEqual([[toEventSelector('Transfer(address,address,uint256)'), toEventSelector('Transfer(address,address,uint256,bytes)')]])
    expect(eventTopics(abi, undefined)).toEqual([])
  })

  it('an unknown event is a usage error listing the events', () => {
    try {
      selectEvents(abi, 'Transfers')
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({code: 'CONTRACT_UNKNOWN_EVENT', exitCode: 2, message: 'No event Transfers in the ABI'})
      expect((err as {hint: string}).hint).toBe('Events: Transfer(address,address,uint256), Transfer(address,address,uint256,bytes), Approval(address,address,uint256), Noted(uint256,string)')
    }
    expect(() => selectEvents(abi, 'Transfer(address,uint256)')).toThrow(/No event Transfer\(address,uint256\)/)
    expect(() => selectEvents(parseAbi(['function f()']), 'X')).toThrow(expect.objectContaining({hint: 'This ABI has no events.'}))
  })

  it('an anonymous event cannot be filtered by its signature', () => {
    expect(() => selectEvents(abi, 'Noted')).toThrow(/anonymous/)
  })
})

describe('blockRanges', () => {
  it('cuts a range into consecutive chunks, the last one short', () => {
    expect(blockRanges(0n, 12_000n, 5_000)).toEqual([
      {from: 0n, to: 4_999n},
      {from: 5_000n, to: 9_999n},
      {from: 10_000n, to: 12_000n},
    ])
    expect(blockRanges(7n, 7n, 5_000)).toEqual([{from: 7n, to: 7n}])
    expect(blockRanges(1n, 4n, 2)).toEqual([
      {from: 1n, to: 2n},
      {from: 3n, to: 4n},
    ])
  })

  it('covers every block exactly once, whatever the size', () => {
    for (const size of [1, 2, 3, 7, 100]) {
      const blocks = blockRanges(3n, 40n, size).flatMap((r) => Array.from({length: Number(r.to - r.from + 1n)}, (_, i) => r.from + BigInt(i)))
      expect(blocks).toEqual(Array.from({length: 38}, (_, i) => 3n + BigInt(i)))
    }
  })

  it('is empty for an empty range and refuses a bad size', () => {
    expect(blockRanges(10n, 9n, 5)).toEqual([])
    expect(() => blockRanges(0n, 9n, 0)).toThrow(RangeError)
  })
})

describe('createLogCursor', () => {
  it('drops what the past query covered and anything repeated, keeps what is new', () => {
    const accept = createLogCursor({blockNumber: 10n, logIndex: Number.POSITIVE_INFINITY})
    expect(accept({blockNumber: 9n, logIndex: 5})).toBe(false)
    expect(accept({blockNumber: 10n, logIndex: 0})).toBe(false)
    expect(accept({blockNumber: 10n, logIndex: 99})).toBe(false)
    expect(accept({blockNumber: 11n, logIndex: 0})).toBe(true)
    expect(accept({blockNumber: 11n, logIndex: 0})).toBe(false)
    expect(accept({blockNumber: 11n, logIndex: 1})).toBe(true)
    expect(accept({blockNumber: 11n, logIndex: 0})).toBe(false)
    expect(accept({blockNumber: 12n, logIndex: 0})).toBe(true)
  })
})

describe('decodeContractLog', () => {
  const where = {blockNumber: '0x1c', transactionHash: `0x${'ab'.repeat(32)}`, logIndex: '0x2'} as const

  it('decodes a matching log with named args, JSON-safe', () => {
    const log: RpcLog = {
      ...where,
      address: token.toLowerCase() as `0x${string}`,
      topics: encodeEventTopics({abi, eventName: 'Approval', args: {holder: alice, spender: bob}}) as `0x${string}`[],
      data: encodeAbiParameters([{type: 'uint256'}], [250n]),
    }
    expect(decodeContractLog(abi, log)).toEqual({blockNumber: '28', txHash: where.transactionHash, logIndex: 2, address: token, event: 'Approval', args: {holder: alice, spender: bob, value: '250'}})
  })

  it('keeps a log no event matches raw instead of dropping it', () => {
    const topics = [`0x${'11'.repeat(32)}`] as `0x${string}`[]
    const log: RpcLog = {...where, address: token, topics, data: '0x01'}
    expect(decodeContractLog(abi, log)).toEqual({blockNumber: '28', txHash: where.transactionHash, logIndex: 2, address: token, event: null, topics, data: '0x01'})
    // The right selector with data that does not fit the event is raw too.
    const bad: RpcLog = {...log, topics: encodeEventTopics({abi, eventName: 'Approval', args: {holder: alice, spender: bob}}) as `0x${string}`[], data: '0x'}
    expect(decodeContractLog(abi, bad).event).toBeNull()
  })
})

describe('parseBlockNumber / wsUrlFor', () => {
  it('reads decimal, hex, earliest and latest', () => {
    expect(parseBlockNumber('120', '--from-block')).toBe(120n)
    expect(parseBlockNumber('0x10', '--to-block')).toBe(16n)
    expect(parseBlockNumber('earliest', '--from-block')).toBe(0n)
    expect(parseBlockNumber('latest', '--to-block')).toBeUndefined()
    expect(() => parseBlockNumber('latest', '--from-block')).toThrow(expect.objectContaining({code: 'CONTRACT_INVALID_ARGUMENT', exitCode: 2}))
    expect(() => parseBlockNumber('-5', '--from-block')).toThrow(/--from-block -5 is not a block number/)
  })

  it('derives the WebSocket URL from the RPC URL', () => {
    expect(wsUrlFor('http://127.0.0.1:8545')).toBe('ws://127.0.0.1:8545/')
    expect(wsUrlFor('https://rpc.example.org/v1/key')).toBe('wss://rpc.example.org/v1/key')
  })
})
