/**
 * Block overrides: eth_call's and eth_estimateGas' fourth argument and debug_traceCall's
 * `blockOverrides`, next to the state overrides. The call sees the overridden number, time, base
 * fee, gas limit and fee recipient; the chain does not change.
 */
import {type Abi, type Hex, decodeFunctionResult, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALICE, type Harness, createHarness, probeCall, probeContract} from './harness.js'

const decodeEnv = (data: Hex): readonly [Hex, bigint, bigint, bigint, bigint] =>
  decodeFunctionResult({abi: probeContract().abi as Abi, functionName: 'env', data}) as never

describe('block overrides', () => {
  let h: Harness
  let probe: Hex

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe()
  })
  afterAll(() => h.close())

  it('eth_call runs in the overridden environment: number, time and base fee (current and older field names)', async () => {
    const req = {from: ALICE, to: probe, data: probeCall('env'), maxFeePerGas: toHex(10n ** 12n)}
    const [, number, basefee, timestamp] = decodeEnv(await h.rpc<Hex>('eth_call', [req, 'latest', null, {number: '0x3e8', time: '0x77359400', baseFeePerGas: '0x7'}]))
    expect([number, basefee, timestamp]).toEqual([1000n, 7n, 2_000_000_000n])
    const [, , oldBasefee] = decodeEnv(await h.rpc<Hex>('eth_call', [req, 'latest', null, {baseFee: '0x9'}]))
    expect(oldBasefee).toBe(9n)
    // Without overrides, the same call answers the head's environment again (nothing was cached under the override).
    const head = await h.rpc<{number: Hex}>('eth_getBlockByNumber', ['latest', false])
    const [, plainNumber] = decodeEnv(await h.rpc<Hex>('eth_call', [req, 'latest']))
    expect(plainNumber).toBe(BigInt(head.number))
  })

  it('the fee recipient and gas limit apply; state and block overrides together', async () => {
    const recipient = '0x00000000000000000000000000000000000fee00'
    const trace = await h.rpc<{structLogs: {op: string; stack?: string[]}[]}>('debug_traceCall', [
      {from: ALICE, to: probe, data: probeCall('env')},
      'latest',
      {blockOverrides: {feeRecipient: recipient, gasLimit: '0x5f5e100'}},
    ])
    expect(trace.structLogs.length).toBeGreaterThan(0)
    const balance = 123_456_789n
    const [, , , , senderBalance] = decodeEnv(
      await h.rpc<Hex>('eth_call', [{from: recipient, to: probe, data: probeCall('env')}, 'latest', {[recipient]: {balance: toHex(balance)}}, {number: '0x10'}]),
    )
    expect(senderBalance).toBe(balance)
    // The call's default gas is the overridden block gas limit (40M here; the block's is 30M).
    const top = await h.rpc<{gas: Hex}>('debug_traceCall', [{from: ALICE, to: probe, data: probeCall('value')}, 'latest', {tracer: 'callTracer', blockOverrides: {gasLimit: toHex(40_000_000n)}}])
    expect(BigInt(top.gas)).toBe(40_000_000n)
  })

  it('refuses unknown fields, blobBaseFee and withdrawals with the reason', async () => {
    const req = {to: probe, data: probeCall('env')}
    expect((await h.rpcError('eth_call', [req, 'latest', null, {nmber: '0x1'}])).message).toBe('invalid argument 3: block overrides: unknown field "nmber"')
    expect((await h.rpcError('eth_call', [req, 'latest', null, {blobBaseFee: '0x1'}])).message).toContain('blobBaseFee cannot be overridden')
    expect((await h.rpcError('eth_call', [req, 'latest', null, {withdrawals: []}])).message).toContain('withdrawals cannot be overridden')
    expect((await h.rpcError('eth_call', [req, 'latest', null, {number: 'x'}])).code).toBe(-32602)
    expect((await h.rpcError('eth_call', [req, 'latest', null, []])).code).toBe(-32602)
  })
})
