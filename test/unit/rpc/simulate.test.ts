/**
 * eth_simulateV1 (execution-apis): blocks of calls with state and block overrides, on the state of
 * a block, all reverted afterwards. gasUsed, return data, logs (traceTransfers included), status
 * and block fields are what anvil 1.7 answers for the same request; a revert's error is geth's
 * ({code: 3, message, data}; anvil answers -3200 "execution failed").
 */
import {type Abi, type Hex, encodeFunctionData, keccak256, pad, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compileSolidity} from '../../helpers/solidity.js'
import {TRACEE_SOURCE} from './contracts.js'
import {ALICE, type Harness, createHarness} from './harness.js'

const caller = compileSolidity({'Tracee.sol': TRACEE_SOURCE})['Tracee.sol']!.Caller!
const call = (functionName: string, args: unknown[] = []): Hex => encodeFunctionData({abi: caller.abi as Abi, functionName, args})
const word = (n: bigint): Hex => pad(toHex(n))
const RICH = '0xc000000000000000000000000000000000000000'
const SINK = '0xc100000000000000000000000000000000000000'
const TRANSFER = keccak256(toHex('Transfer(address,address,uint256)'))

interface SimLog {
  address: Hex
  topics: Hex[]
  data: Hex
  blockHash: Hex
  blockNumber: Hex
  transactionHash: Hex
  transactionIndex: Hex
  logIndex: Hex
}
interface SimCall {
  returnData: Hex
  logs: SimLog[]
  gasUsed: Hex
  status: Hex
  error?: {code: number; message: string; data?: Hex}
}
interface SimBlock {
  number: Hex
  hash: Hex
  parentHash: Hex
  timestamp: Hex
  gasLimit: Hex
  gasUsed: Hex
  baseFeePerGas: Hex
  miner: Hex
  transactions: (Hex | {hash: Hex; from: Hex})[]
  calls: SimCall[]
}

describe('eth_simulateV1', () => {
  let h: Harness
  let target: Hex
  let head: {number: Hex; hash: Hex; timestamp: Hex; gasLimit: Hex}

  beforeAll(async () => {
    h = await createHarness()
    const deploy = await h.send({data: caller.bytecode})
    target = (await h.rpc<{contractAddress: Hex}>('eth_getTransactionReceipt', [deploy])).contractAddress
    // The state anvil's figures were taken on: go(5) has run once.
    await h.send({to: target, data: call('go', [5n]), value: 7n})
    head = await h.rpc('eth_getBlockByNumber', ['latest', false])
  })
  afterAll(() => h.close())

  const simulate = (body: Record<string, unknown>, block: unknown = 'latest'): Promise<SimBlock[]> => h.rpc<SimBlock[]>('eth_simulateV1', [body, block])

  it('runs blocks of calls with state overrides; transfers traced as logs; nothing stays', async () => {
    const blocks = await simulate({
      blockStateCalls: [
        {
          blockOverrides: {baseFeePerGas: '0x0'},
          stateOverrides: {[RICH]: {balance: '0x1000000'}},
          calls: [
            {from: RICH, to: SINK, value: '0x10'},
            {from: RICH, to: target, data: call('go', [5n])},
          ],
        },
        {calls: [{from: ALICE, to: target, data: call('fail')}]},
      ],
      traceTransfers: true,
    })
    expect(blocks).toHaveLength(2)
    const [first, second] = blocks
    expect(BigInt(first!.number)).toBe(BigInt(head.number) + 1n)
    expect(first!.parentHash).toBe(head.hash)
    expect(second!.parentHash).toBe(first!.hash)
    expect(BigInt(first!.timestamp)).toBe(BigInt(head.timestamp) + 12n)
    expect(BigInt(second!.timestamp)).toBe(BigInt(first!.timestamp) + 12n)
    expect([first!.gasLimit, first!.baseFeePerGas, second!.baseFeePerGas]).toEqual([head.gasLimit, '0x0', '0x0'])

    const [transfer, go] = first!.calls
    expect(transfer).toMatchObject({returnData: '0x', gasUsed: '0x5208', status: '0x1'})
    expect(transfer!.logs).toHaveLength(1)
    expect(transfer!.logs[0]).toMatchObject({address: '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', topics: [TRANSFER, pad(RICH), pad(SINK)], data: word(0x10n), logIndex: '0x0', blockHash: first!.hash})
    expect(go).toMatchObject({returnData: word(10n), gasUsed: '0x8d23', status: '0x1'})
    expect(go!.logs.map((l) => [l.address, l.logIndex, l.transactionIndex])).toEqual([
      [target, '0x1', '0x1'],
      [expect.any(String), '0x2', '0x1'],
      [target, '0x3', '0x1'],
    ])
    expect(go!.logs[0]!.transactionHash).toBe(first!.transactions[1])
    expect(BigInt(first!.gasUsed)).toBe(0x5208n + 0x8d23n)

    const [failed] = second!.calls
    expect(failed).toMatchObject({status: '0x0', gasUsed: '0x7ade', logs: [], error: {code: 3, message: 'execution reverted: boom'}})
    expect(failed!.error!.data).toMatch(/^0x08c379a0/)

    // Reverted afterwards: the chain and its state are as before.
    expect(await h.rpc('eth_getBalance', [SINK, 'latest'])).toBe('0x0')
    expect(await h.rpc('eth_call', [{to: target, data: call('last')}])).toBe(word(10n))
    expect((await h.rpc<{hash: Hex}>('eth_getBlockByNumber', ['latest', false])).hash).toBe(head.hash)
  })

  it('later calls and blocks see earlier ones: nonces, storage and balances carry over', async () => {
    const blocks = await simulate({
      blockStateCalls: [
        {calls: [{from: ALICE, to: target, data: call('go', [3n])}, {from: ALICE, to: target, data: call('last')}]},
        {calls: [{from: ALICE, to: target, data: call('last')}]},
      ],
      returnFullTransactions: true,
    })
    expect(blocks[0]!.calls[1]!.returnData).toBe(word(6n))
    expect(blocks[1]!.calls[0]!.returnData).toBe(word(6n))
    const txs = blocks[0]!.transactions as {hash: Hex; from: Hex; nonce: Hex}[]
    expect(txs.map((t) => t.from)).toEqual([ALICE, ALICE])
    const nonce = BigInt(await h.rpc<Hex>('eth_getTransactionCount', [ALICE, 'latest']))
    expect(txs.map((t) => BigInt(t.nonce))).toEqual([nonce, nonce + 1n])
  })

  it('block overrides: number gaps are filled with empty blocks; time, fee recipient and base fee apply', async () => {
    const base = BigInt(head.number)
    const blocks = await simulate({
      blockStateCalls: [
        {blockOverrides: {number: toHex(base + 3n), time: toHex(BigInt(head.timestamp) + 100n), feeRecipient: SINK}, calls: [{from: ALICE, to: target, data: call('last')}]},
      ],
    })
    expect(blocks.map((b) => BigInt(b.number))).toEqual([base + 1n, base + 2n, base + 3n])
    expect(blocks[0]!.calls).toEqual([])
    expect(blocks[2]!.miner).toBe(SINK)
    expect(BigInt(blocks[2]!.timestamp)).toBe(BigInt(head.timestamp) + 100n)
  })

  it('validation: nonces and base fee are checked as for a real transaction', async () => {
    const refused = await h.rpcError('eth_simulateV1', [{blockStateCalls: [{calls: [{from: ALICE, to: target, data: call('last'), nonce: '0x0', maxFeePerGas: '0x174876e800'}]}], validation: true}, 'latest'])
    expect(refused.message).toMatch(/nonce/)
    const ok = await simulate({blockStateCalls: [{calls: [{from: ALICE, to: target, data: call('last'), maxFeePerGas: '0x174876e800'}]}], validation: true})
    expect(BigInt(ok[0]!.baseFeePerGas)).toBeGreaterThan(0n)
    expect(ok[0]!.calls[0]!.status).toBe('0x1')
  })

  it('refuses malformed requests, out-of-order blocks and too many blocks, with the reason', async () => {
    expect((await h.rpcError('eth_simulateV1', [{}])).message).toContain('blockStateCalls: expected an array')
    expect((await h.rpcError('eth_simulateV1', [{blockStateCalls: [], tracer: 1}])).message).toContain('unknown field "tracer"')
    expect((await h.rpcError('eth_simulateV1', [{blockStateCalls: [{calls: [{to: 'x'}]}]}])).code).toBe(-32602)
    const order = await h.rpcError('eth_simulateV1', [{blockStateCalls: [{blockOverrides: {number: head.number}}]}])
    expect(order).toMatchObject({code: -38020})
    expect((await h.rpcError('eth_simulateV1', [{blockStateCalls: Array.from({length: 257}, () => ({calls: []}))}])).message).toContain('too many blocks')
    const gap = await h.rpcError('eth_simulateV1', [{blockStateCalls: [{blockOverrides: {number: toHex(BigInt(head.number) + 1000n)}}]}])
    expect(gap).toMatchObject({code: -38026})
    const greedy = await h.rpcError('eth_simulateV1', [{blockStateCalls: [{calls: [{from: ALICE, to: SINK, gas: toHex(40_000_000n)}]}]}])
    expect(greedy).toMatchObject({code: -38015})
  })
})
