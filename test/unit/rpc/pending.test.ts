/**
 * The `pending` tag is the block the node would build next from its pool: eth_getBlockByNumber
 * answers it (as anvil does, with a zero state root), and eth_call, eth_estimateGas and
 * eth_createAccessList at `pending` run after the pooled transactions, in the next block's
 * environment.
 */
import {type Hex, decodeFunctionResult, type Abi} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALICE, type Harness, createHarness, probeCall, probeContract} from './harness.js'

interface RpcBlock {
  number: Hex
  hash: Hex
  parentHash: Hex
  stateRoot: Hex
  gasUsed: Hex
  transactions: (Hex | {hash: Hex; from: Hex})[]
  transactionsRoot: Hex
  receiptsRoot: Hex
  logsBloom: Hex
}

describe('pending block', () => {
  let h: Harness
  let probe: Hex

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe()
    await h.send({to: probe, data: probeCall('store', [1n])})
  })
  afterAll(() => h.close())

  const value = async (block: string): Promise<bigint> =>
    decodeFunctionResult({abi: probeContract().abi as Abi, functionName: 'value', data: await h.rpc<Hex>('eth_call', [{to: probe, data: probeCall('value')}, block])}) as bigint

  it('with an empty pool: the next block, empty, on the head', async () => {
    const head = await h.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    const pending = await h.rpc<RpcBlock>('eth_getBlockByNumber', ['pending', false])
    expect(BigInt(pending.number)).toBe(BigInt(head.number) + 1n)
    expect(pending.parentHash).toBe(head.hash)
    expect(pending.transactions).toEqual([])
    expect(pending.gasUsed).toBe('0x0')
    expect(await value('pending')).toBe(1n)
  })

  it('holds the pooled transactions as they would execute; calls at pending see them, latest does not', async () => {
    const head = await h.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    const a = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [42n])})])
    const b = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('other', [7n]), from: 1})])
    const pending = await h.rpc<RpcBlock>('eth_getBlockByNumber', ['pending', true])
    expect(pending.parentHash).toBe(head.hash)
    expect(pending.stateRoot).toBe(`0x${'00'.repeat(32)}`)
    expect((pending.transactions as {hash: Hex; from: Hex}[]).map((t) => t.hash).sort()).toEqual([a, b].sort())
    expect(await value('pending')).toBe(42n)
    expect(await value('latest')).toBe(1n)
    // An estimate at pending runs after them too (clear() refunds only when value is non-zero).
    const clearAtPending = BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('clear')}, 'pending']))
    expect(clearAtPending).toBeGreaterThan(21_000n)

    // Mined, the block is the pending one: same transactions, gas, roots and bloom.
    await h.mine()
    const mined = await h.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', false])
    expect(mined.number).toBe(pending.number)
    expect(mined.transactions).toEqual((pending.transactions as {hash: Hex}[]).map((t) => t.hash))
    expect([mined.gasUsed, mined.transactionsRoot, mined.receiptsRoot, mined.logsBloom]).toEqual([pending.gasUsed, pending.transactionsRoot, pending.receiptsRoot, pending.logsBloom])
    expect(await value('latest')).toBe(42n)
  })
})
