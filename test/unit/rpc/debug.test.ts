import {type Hex, pad, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {HISTORY_STORAGE_ADDRESS} from '../../../src/chain/genesis.js'
import type {StructLog} from '../../../src/rpc/trace.js'
import {ALICE, BOB, type Harness, createHarness, probeCall} from './harness.js'

interface Trace {
  gas: number
  failed: boolean
  returnValue: string
  structLogs: StructLog[]
}

const word = (n: bigint): string => pad(toHex(n)).slice(2)

describe('debug_traceTransaction / debug_traceCall (struct logger)', () => {
  let h: Harness
  let probe: Hex
  let storeTx: Hex
  let failTx: Hex

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe()
    // Two transactions in one block: the second is traced on top of the first's changes.
    await h.rpc('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [7n])})])
    storeTx = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [8n]), from: 1})])
    failTx = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('failReason'), from: 2})])
    await h.mine()
  })
  afterAll(() => h.close())

  it('traces every opcode with pc, op, gas, cost, depth and stack; gas and return match the receipt', async () => {
    const trace = await h.rpc<Trace>('debug_traceTransaction', [storeTx])
    const receipt = await h.rpc<{gasUsed: Hex}>('eth_getTransactionReceipt', [storeTx])
    expect(trace.gas).toBe(Number(BigInt(receipt.gasUsed)))
    expect(trace.failed).toBe(false)
    expect(trace.returnValue).toBe('')
    const [first, second] = trace.structLogs
    expect(first).toMatchObject({pc: 0, op: 'PUSH1', gasCost: 3, depth: 1, stack: []})
    expect(second!.gas).toBe(first!.gas - 3)
    expect(second!.stack).toEqual(['0x80'])
    expect(trace.structLogs.at(-1)!.op).toBe('STOP')
    expect(trace.structLogs.every((l) => l.memory === undefined)).toBe(true)
  })

  it('records storage at SLOAD/SSTORE, seeing the state left by earlier transactions of the block', async () => {
    const trace = await h.rpc<Trace>('debug_traceTransaction', [storeTx])
    const sstore = trace.structLogs.find((l) => l.op === 'SSTORE')!
    expect(sstore.storage).toEqual({[word(0n)]: word(8n)})
    // Warm slot written before by tx 0 of the block: 7 → 8 costs SSTORE_RESET (2900) + cold access (2100).
    expect(sstore.gasCost).toBe(5_000)
    expect(trace.structLogs.filter((l) => l.storage !== undefined).every((l) => l.op === 'SSTORE' || l.op === 'SLOAD')).toBe(true)
  })

  it('honours disableStack, disableStorage and enableMemory', async () => {
    const trace = await h.rpc<Trace>('debug_traceTransaction', [storeTx, {disableStack: true, disableStorage: true, enableMemory: true}])
    expect(trace.structLogs.every((l) => l.stack === undefined && l.storage === undefined)).toBe(true)
    const mstore = trace.structLogs.findIndex((l) => l.op === 'MSTORE')
    expect(trace.structLogs[mstore]!.memory).toEqual([])
    expect(trace.structLogs[mstore + 1]!.memory).toEqual([word(0n), word(0n), word(0x80n)])
    const limited = await h.rpc<Trace>('debug_traceTransaction', [storeTx, {limit: 5}])
    expect(limited.structLogs).toHaveLength(5)
  })

  it('a reverted transaction is failed with the revert data as returnValue', async () => {
    const trace = await h.rpc<Trace>('debug_traceTransaction', [failTx])
    expect(trace.failed).toBe(true)
    expect(trace.returnValue).toMatch(/^08c379a0/)
    expect(trace.structLogs.at(-1)!.op).toBe('REVERT')
  })

  it('debug_traceCall traces a call at a block without changing anything', async () => {
    const trace = await h.rpc<Trace>('debug_traceCall', [{from: ALICE, to: probe, data: probeCall('value')}, 'latest', {}])
    expect(trace.failed).toBe(false)
    expect(trace.returnValue).toBe(word(8n))
    const sload = trace.structLogs.find((l) => l.op === 'SLOAD')!
    expect(sload.storage).toEqual({[word(0n)]: word(8n)})
    const transfer = await h.rpc<Trace>('debug_traceCall', [{from: ALICE, to: BOB, value: '0x1'}])
    expect(transfer).toEqual({gas: 21_000, failed: false, returnValue: '', structLogs: []})
  })

  it("replays the block's start too: a read of the parent hash from the EIP-2935 history contract sees it", async () => {
    const parent = await h.rpc<{number: Hex; hash: Hex}>('eth_getBlockByNumber', ['latest', false])
    const read = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: HISTORY_STORAGE_ADDRESS, data: pad(parent.number)})])
    await h.mine()
    const receipt = await h.rpc<{blockNumber: Hex; status: Hex}>('eth_getTransactionReceipt', [read])
    expect(BigInt(receipt.blockNumber)).toBe(BigInt(parent.number) + 1n)
    const trace = await h.rpc<Trace>('debug_traceTransaction', [read])
    expect(trace.failed).toBe(false)
    // The block's system call stored the parent hash before its first transaction ran.
    expect(`0x${trace.returnValue}`).toBe(parent.hash)
  })

  it('errors: unknown transaction, unsupported tracer, bad params', async () => {
    expect(await h.rpcError('debug_traceTransaction', [`0x${'00'.repeat(32)}`])).toEqual({code: -32000, message: 'transaction not found'})
    expect((await h.rpcError('debug_traceTransaction', [storeTx, {tracer: 'noSuchTracer'}])).code).toBe(-32602)
    expect((await h.rpcError('debug_traceTransaction', ['0x12'])).code).toBe(-32602)
    expect((await h.rpcError('debug_traceTransaction', [storeTx, {disableStack: 'yes'}])).code).toBe(-32602)
    expect((await h.rpcError('debug_traceCall', [{to: 'nope'}])).code).toBe(-32602)
  })
})
