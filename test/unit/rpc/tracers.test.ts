/**
 * debug_trace* with callTracer and prestateTracer, and debug_traceBlockByNumber|Hash. The expected
 * frames (types, gas, inputs, logs with position and index) are what anvil 1.7 answers for the same
 * transactions, except the top frame's `gas`, which is the transaction's gas limit as in geth
 * (anvil gives the gas left after the intrinsic cost).
 */
import {type Abi, type Hex, encodeFunctionData, getCreate2Address, keccak256, pad, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compileSolidity} from '../../helpers/solidity.js'
import {TRACEE_SOURCE} from './contracts.js'
import {ALICE, type Harness, createHarness} from './harness.js'

const compiled = compileSolidity({'Tracee.sol': TRACEE_SOURCE})['Tracee.sol']!
const caller = compiled.Caller!
const callee = compiled.Callee!
const call = (functionName: string, args: unknown[] = []): Hex => encodeFunctionData({abi: caller.abi as Abi, functionName, args})
const word = (n: bigint): Hex => pad(toHex(n))

interface Frame {
  type: string
  from: Hex
  to?: Hex
  value?: Hex
  gas: Hex
  gasUsed: Hex
  input: Hex
  output?: Hex
  error?: string
  revertReason?: string
  calls?: Frame[]
  logs?: {address: Hex; topics: Hex[]; data: Hex; position: Hex; index: Hex}[]
}
type Prestate = Record<string, {balance: Hex; nonce?: number; code?: Hex; storage?: Record<string, Hex>}>

describe('callTracer, prestateTracer, block traces', () => {
  let h: Harness
  let callerAddress: Hex
  let calleeAddress: Hex
  let deployTx: Hex
  let goTx: Hex
  let failTx: Hex
  let makeTx: Hex

  beforeAll(async () => {
    h = await createHarness()
    deployTx = await h.send({data: caller.bytecode})
    callerAddress = (await h.rpc<{contractAddress: Hex}>('eth_getTransactionReceipt', [deployTx])).contractAddress
    calleeAddress = `0x${(await h.rpc<Hex>('eth_call', [{to: callerAddress, data: call('callee')}])).slice(26)}`
    goTx = await h.send({to: callerAddress, data: call('go', [5n]), value: 7n})
    failTx = await h.send({to: callerAddress, data: call('fail')})
    makeTx = await h.send({to: callerAddress, data: call('make', [word(0x11n)])})
  })
  afterAll(() => h.close())

  it('callTracer: the call tree with types, values, gas, inputs, outputs and the failed inner call', async () => {
    const trace = await h.rpc<Frame>('debug_traceTransaction', [goTx, {tracer: 'callTracer'}])
    const receipt = await h.rpc<{gasUsed: Hex}>('eth_getTransactionReceipt', [goTx])
    expect(trace).toMatchObject({type: 'CALL', from: ALICE, to: callerAddress, value: '0x7', gas: toHex(3_000_000), gasUsed: receipt.gasUsed, input: call('go', [5n]), output: word(10n)})
    expect(trace.gasUsed).toBe('0x142c7')
    expect(trace.logs).toBeUndefined()
    const [hit, boom, read] = trace.calls!
    expect(hit).toEqual({type: 'CALL', from: callerAddress, to: calleeAddress, value: '0x7', gas: '0x2c8cf1', gasUsed: '0x5c44', input: `0xebf6e91d${word(5n).slice(2)}`, output: word(10n)})
    expect(boom).toMatchObject({type: 'STATICCALL', from: callerAddress, to: calleeAddress, gasUsed: '0x10a', input: '0xa169ce09', error: 'execution reverted', revertReason: 'boom'})
    expect(boom!.value).toBeUndefined()
    expect(boom!.output).toMatch(/^0x08c379a0/)
    expect(read).toEqual({type: 'STATICCALL', from: callerAddress, to: calleeAddress, gas: '0x2c2cc0', gasUsed: '0x103', input: '0x0c55699c', output: word(5n)})
  })

  it('callTracer withLog: each frame its own surviving logs, with position (calls before it) and receipt index', async () => {
    const trace = await h.rpc<Frame>('debug_traceTransaction', [goTx, {tracer: 'callTracer', tracerConfig: {withLog: true}}])
    expect(trace.logs!.map((l) => [l.position, l.index, l.data])).toEqual([
      ['0x0', '0x0', word(5n)],
      ['0x3', '0x2', word(10n)],
    ])
    expect(trace.calls![0]!.logs).toEqual([
      {address: calleeAddress, topics: [keccak256(toHex('Hit(uint256)')), word(5n)], data: '0x', position: '0x0', index: '0x1'},
    ])
    expect(trace.calls![1]!.logs).toBeUndefined()
    const top = await h.rpc<Frame>('debug_traceTransaction', [goTx, {tracer: 'callTracer', tracerConfig: {onlyTopCall: true, withLog: true}}])
    expect(top.calls).toBeUndefined()
    expect(top.logs).toEqual(trace.logs)
    expect({...top, logs: undefined}).toEqual({...trace, calls: undefined, logs: undefined})
  })

  it('callTracer: a reverted transaction, CREATE2 and a deployment with an inner CREATE', async () => {
    const failed = await h.rpc<Frame>('debug_traceTransaction', [failTx, {tracer: 'callTracer', tracerConfig: {withLog: true}}])
    expect(failed).toMatchObject({type: 'CALL', gasUsed: '0x7ade', error: 'execution reverted', revertReason: 'boom', value: '0x0'})
    expect(failed.logs).toBeUndefined()
    expect(failed.calls).toHaveLength(1)

    const made = await h.rpc<Frame>('debug_traceTransaction', [makeTx, {tracer: 'callTracer'}])
    const created = getCreate2Address({from: callerAddress, salt: word(0x11n), bytecode: callee.bytecode}).toLowerCase()
    expect(made.output).toBe(pad(created as Hex))
    expect(made.calls![0]).toMatchObject({type: 'CREATE2', from: callerAddress, to: created, value: '0x0', gasUsed: '0x11f31', input: callee.bytecode, output: callee.deployedBytecode})

    const deployed = await h.rpc<Frame>('debug_traceTransaction', [deployTx, {tracer: 'callTracer'}])
    expect(deployed).toMatchObject({type: 'CREATE', from: ALICE, to: callerAddress, gasUsed: '0x76d36', input: caller.bytecode, output: caller.deployedBytecode})
    expect(deployed.calls![0]).toMatchObject({type: 'CREATE', from: callerAddress, to: calleeAddress, gasUsed: '0x11f31', input: callee.bytecode})
  })

  it('prestateTracer: every touched account as it was, with the slots read or written', async () => {
    const pre = await h.rpc<Prestate>('debug_traceTransaction', [goTx, {tracer: 'prestateTracer'}])
    const coinbase = '0x0000000000000000000000000000000000000000'
    expect(Object.keys(pre).sort()).toEqual([coinbase, ALICE, callerAddress, calleeAddress].sort())
    expect(pre[ALICE]!.nonce).toBe(1)
    expect(pre[ALICE]!.code).toBeUndefined()
    expect(pre[callerAddress]).toEqual({balance: '0x0', nonce: 2, code: caller.deployedBytecode, storage: {[word(0n)]: pad(calleeAddress), [word(1n)]: word(0n)}})
    expect(pre[calleeAddress]).toEqual({balance: '0x0', nonce: 1, code: callee.deployedBytecode, storage: {[word(0n)]: word(0n)}})
    // The balance before the transaction: the one at the end of the previous block.
    const block = BigInt((await h.rpc<{blockNumber: Hex}>('eth_getTransactionReceipt', [goTx])).blockNumber)
    expect(pre[ALICE]!.balance).toBe(await h.rpc<Hex>('eth_getBalance', [ALICE, toHex(block - 1n)]))
  })

  it('prestateTracer diffMode: pre holds the changed accounts (no zero slots), post only what changed', async () => {
    const {pre, post} = await h.rpc<{pre: Prestate; post: Prestate}>('debug_traceTransaction', [goTx, {tracer: 'prestateTracer', tracerConfig: {diffMode: true}}])
    expect(pre[callerAddress]).toEqual({balance: '0x0', nonce: 2, code: caller.deployedBytecode})
    expect(post[callerAddress]).toEqual({storage: {[word(1n)]: word(10n)}})
    expect(post[calleeAddress]).toEqual({balance: '0x7', storage: {[word(0n)]: word(5n)}})
    expect(post[ALICE]!.nonce).toBe(2)
    expect(BigInt(post[ALICE]!.balance)).toBeLessThan(BigInt(pre[ALICE]!.balance))
    // A contract created by the transaction is not in pre; post has its code and nonce.
    const made = await h.rpc<{pre: Prestate; post: Prestate}>('debug_traceTransaction', [makeTx, {tracer: 'prestateTracer', tracerConfig: {diffMode: true}}])
    const created = getCreate2Address({from: callerAddress, salt: word(0x11n), bytecode: callee.bytecode}).toLowerCase()
    expect(made.pre[created]).toBeUndefined()
    expect(made.post[created]).toEqual({nonce: 1, code: callee.deployedBytecode})
    expect(made.post[callerAddress]).toEqual({nonce: 3})
  })

  it('debug_traceCall with callTracer and with prestateTracer over state overrides', async () => {
    const trace = await h.rpc<Frame>('debug_traceCall', [{from: ALICE, to: callerAddress, data: call('go', [9n])}, 'latest', {tracer: 'callTracer'}])
    expect(trace).toMatchObject({type: 'CALL', gasUsed: '0xa303', output: word(18n)})
    expect(trace.calls!.map((c) => c.type)).toEqual(['CALL', 'STATICCALL', 'STATICCALL'])
    const stranger = '0x00000000000000000000000000000000000c0ffe'
    const pre = await h.rpc<Prestate>('debug_traceCall', [
      {from: stranger, to: callerAddress, data: call('last')},
      'latest',
      {tracer: 'prestateTracer', stateOverrides: {[callerAddress]: {stateDiff: {[word(1n)]: word(77n)}}, [stranger]: {balance: '0x64'}}},
    ])
    // The overridden state is the state before the call.
    expect(pre[callerAddress]!.storage).toEqual({[word(1n)]: word(77n)})
    expect(pre[stranger]!.balance).toBe('0x64')
  })

  it('debug_traceBlockByNumber and ByHash: one {txHash, result} per transaction', async () => {
    const receipt = await h.rpc<{blockNumber: Hex; blockHash: Hex}>('eth_getTransactionReceipt', [goTx])
    const byNumber = await h.rpc<{txHash: Hex; result: Frame}[]>('debug_traceBlockByNumber', [receipt.blockNumber, {tracer: 'callTracer', tracerConfig: {onlyTopCall: true}}])
    expect(byNumber).toHaveLength(1)
    expect(byNumber[0]!.txHash).toBe(goTx)
    expect(byNumber[0]!.result).toMatchObject({type: 'CALL', gasUsed: '0x142c7'})
    expect(byNumber[0]!.result.calls).toBeUndefined()
    const byHash = await h.rpc('debug_traceBlockByHash', [receipt.blockHash, {tracer: 'callTracer', tracerConfig: {onlyTopCall: true}}])
    expect(byHash).toEqual(byNumber)
    const structLogs = await h.rpc<{txHash: Hex; result: {structLogs: unknown[]}}[]>('debug_traceBlockByNumber', [receipt.blockNumber])
    expect(structLogs[0]!.result.structLogs.length).toBeGreaterThan(100)
  })

  it('debug_traceBlockByNumber: several transactions, each traced on the state the earlier ones left', async () => {
    await h.rpc('eth_sendRawTransaction', [await h.sign({to: callerAddress, data: call('go', [1n])})])
    const second = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: callerAddress, data: call('go', [2n]), from: 1})])
    await h.mine()
    const receipt = await h.rpc<{blockNumber: Hex}>('eth_getTransactionReceipt', [second])
    const traces = await h.rpc<{txHash: Hex; result: {pre: Prestate; post: Prestate}}[]>('debug_traceBlockByNumber', [receipt.blockNumber, {tracer: 'prestateTracer', tracerConfig: {diffMode: true}}])
    expect(traces.map((t) => t.txHash)[1]).toBe(second)
    expect(traces[0]!.result.post[callerAddress]!.storage).toEqual({[word(1n)]: word(2n)})
    expect(traces[1]!.result.pre[callerAddress]!.storage).toEqual({[word(1n)]: word(2n)})
    expect(traces[1]!.result.post[callerAddress]!.storage).toEqual({[word(1n)]: word(4n)})
  })

  it('errors: unknown tracer, bad tracerConfig, unknown block', async () => {
    expect(await h.rpcError('debug_traceTransaction', [goTx, {tracer: '4byteTracer'}])).toMatchObject({code: -32602, message: expect.stringContaining('"4byteTracer" is not supported')})
    expect((await h.rpcError('debug_traceTransaction', [goTx, {tracer: 'callTracer', tracerConfig: {onlyTop: true}}])).message).toContain('unknown field "onlyTop"')
    expect((await h.rpcError('debug_traceTransaction', [goTx, {tracer: 'prestateTracer', tracerConfig: {diffMode: 'yes'}}])).code).toBe(-32602)
    expect(await h.rpcError('debug_traceBlockByNumber', ['0xffff'])).toEqual({code: -32000, message: 'block not found'})
    expect(await h.rpcError('debug_traceBlockByHash', [`0x${'00'.repeat(32)}`])).toEqual({code: -32000, message: 'block not found'})
  })
})
