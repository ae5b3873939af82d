import {type Abi, type Hex, decodeErrorResult, decodeFunctionResult, keccak256, pad, toHex, encodeAbiParameters} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {enableJumpCache} from '../../../src/chain/jump-cache.js'
import {ALICE, BOB, type Harness, createHarness, probeCall, probeContract} from './harness.js'

const POOR = '0x00000000000000000000000000000000000000aa'

function decode(functionName: string, data: Hex): unknown {
  return decodeFunctionResult({abi: probeContract().abi as Abi, functionName, data})
}

describe('eth_call', () => {
  let h: Harness
  let probe: Hex

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe() // block 1
    await h.send({to: probe, data: probeCall('store', [42n])}) // block 2
  })
  afterAll(() => h.close())

  const call = (req: Record<string, unknown>, ...rest: unknown[]) => h.rpc<Hex>('eth_call', [req, ...rest])

  it('returns the return data at latest and at past blocks', async () => {
    expect(decode('balanceOf', await call({to: probe, data: probeCall('balanceOf', [ALICE])}, 'latest'))).toBe(1000n)
    expect(decode('value', await call({to: probe, data: probeCall('value')}))).toBe(42n)
    expect(decode('value', await call({to: probe, data: probeCall('value')}, '0x1'))).toBe(0n)
    expect(decode('value', await call({to: probe, input: probeCall('value')}, {blockNumber: '0x2'}))).toBe(42n)
    expect(await call({to: BOB, data: '0x'})).toBe('0x')
  })

  it('runs in the block environment: sender, number; base fee 0 unless the call pays fees', async () => {
    const head = await h.rpc<{number: Hex; baseFeePerGas: Hex; timestamp: Hex}>('eth_getBlockByNumber', ['latest', false])
    const [sender, number, basefee] = decode('env', await call({from: ALICE, to: probe, data: probeCall('env')})) as [Hex, bigint, bigint]
    expect(sender.toLowerCase()).toBe(ALICE)
    expect(number).toBe(BigInt(head.number))
    expect(basefee).toBe(0n)
    const paid = decode('env', await call({from: ALICE, to: probe, data: probeCall('env'), maxFeePerGas: toHex(10n ** 10n)})) as bigint[]
    expect(paid[2]).toBe(BigInt(head.baseFeePerGas))
    const pending = decode('env', await call({to: probe, data: probeCall('env')}, 'pending')) as bigint[]
    expect(pending[1]).toBe(BigInt(head.number) + 1n)
    expect(pending[3]).toBeGreaterThan(BigInt(head.timestamp))
  })

  it('a custom error reverts with code 3 and the revert data, which viem decodes', async () => {
    const error = await h.rpcError('eth_call', [{to: probe, data: probeCall('failCustom', [7n])}])
    expect(error.code).toBe(3)
    expect(error.message).toBe('execution reverted')
    const decoded = decodeErrorResult({abi: probeContract().abi as Abi, data: error.data as Hex})
    expect(decoded.errorName).toBe('Custom')
    expect(decoded.args).toEqual([7n, 'nope'])
  })

  it('Error(string) and Panic reverts carry the reason in the message', async () => {
    const reason = await h.rpcError('eth_call', [{to: probe, data: probeCall('failReason')}])
    expect(reason).toMatchObject({code: 3, message: 'execution reverted: reason here'})
    expect(reason.data).toMatch(/^0x08c379a0/)
    const panic = await h.rpcError('eth_call', [{to: probe, data: probeCall('divide', [1n, 0n])}])
    expect(panic).toEqual({code: 3, message: 'execution reverted: division or modulo by zero', data: `0x4e487b71${pad('0x12').slice(2)}`})
    expect(await h.rpcError('eth_call', [{to: probe, data: probeCall('failEmpty')}])).toEqual({code: 3, message: 'execution reverted', data: '0x'})
  })

  it('other EVM failures are -32000 with geth wording', async () => {
    expect(await h.rpcError('eth_call', [{to: probe, data: probeCall('bad')}])).toEqual({code: -32000, message: 'invalid opcode: INVALID'})
    expect(await h.rpcError('eth_call', [{to: probe, data: probeCall('burn', [10_000n]), gas: toHex(100_000)}])).toEqual({code: -32000, message: 'out of gas'})
  })

  it('checks the balance for value and fees, with geth messages', async () => {
    expect(decode('pay', await call({from: ALICE, to: probe, data: probeCall('pay'), value: '0x5'}))).toBe(5n)
    expect(await h.rpcError('eth_call', [{from: POOR, to: probe, data: probeCall('pay'), value: '0x1'}])).toEqual({
      code: -32000,
      message: `insufficient funds for gas * price + value: address ${POOR} have 0 want 1`,
    })
    const fee = await h.rpcError('eth_call', [{from: POOR, to: probe, data: probeCall('value'), gas: toHex(100_000), gasPrice: toHex(10n ** 10n)}])
    expect(fee.message).toBe(`insufficient funds for gas * price + value: address ${POOR} have 0 want ${100_000n * 10n ** 10n}`)
    const low = await h.rpcError('eth_call', [{from: ALICE, to: probe, data: probeCall('value'), maxFeePerGas: '0x1'}])
    expect(low.code).toBe(-32000)
    expect(low.message).toMatch(/^max fee per gas less than block base fee: address 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266, maxFeePerGas: 1, baseFee: \d+$/)
    expect((await h.rpcError('eth_call', [{to: probe, data: probeCall('value'), gas: '0x5208'}])).message).toMatch(/^intrinsic gas too low: have 21000, want 21\d{3}$/)
  })

  it('can be made from a contract address (no EIP-3607 check, as in geth)', async () => {
    const [sender] = decode('env', await call({from: probe, to: probe, data: probeCall('env')})) as [Hex]
    expect(sender.toLowerCase()).toBe(probe)
  })

  it('a call without "to" runs init code and returns the runtime code', async () => {
    expect(await call({from: ALICE, data: probeContract().bytecode})).toBe(probeContract().deployedBytecode)
  })

  it('applies state overrides: balance, nonce, code, state, stateDiff — and forgets them afterwards', async () => {
    expect(decode('pay', await call({from: POOR, to: probe, data: probeCall('pay'), value: '0x7'}, 'latest', {[POOR]: {balance: '0x10'}}))).toBe(7n)
    // Code override: Bob runs the probe's code with his own (empty) storage, then with a slot set.
    const runtime = probeContract().deployedBytecode
    expect(decode('value', await call({to: BOB, data: probeCall('value')}, 'latest', {[BOB]: {code: runtime}}))).toBe(0n)
    expect(decode('value', await call({to: BOB, data: probeCall('value')}, 'latest', {[BOB]: {code: runtime, stateDiff: {[pad('0x0')]: pad('0x9')}}}))).toBe(9n)
    // stateDiff keeps other slots; state replaces the whole storage.
    const balanceSlot = keccak256(encodeAbiParameters([{type: 'address'}, {type: 'uint256'}], [ALICE, 1n]))
    const diff = {[probe]: {stateDiff: {[pad('0x0')]: pad('0x5')}}}
    expect(decode('value', await call({to: probe, data: probeCall('value')}, 'latest', diff))).toBe(5n)
    expect(decode('balanceOf', await call({to: probe, data: probeCall('balanceOf', [ALICE])}, 'latest', diff))).toBe(1000n)
    const replace = {[probe]: {state: {[pad('0x0')]: pad('0x5')}}}
    expect(decode('balanceOf', await call({to: probe, data: probeCall('balanceOf', [ALICE])}, 'latest', replace))).toBe(0n)
    expect(decode('balanceOf', await call({to: probe, data: probeCall('balanceOf', [ALICE])}, 'latest', {[probe]: {stateDiff: {[balanceSlot]: pad('0x3')}}}))).toBe(3n)
    // Nothing stuck.
    expect(decode('value', await call({to: probe, data: probeCall('value')}))).toBe(42n)
    expect(decode('balanceOf', await call({to: probe, data: probeCall('balanceOf', [ALICE])}))).toBe(1000n)
    expect(await h.rpc('eth_getCode', [BOB, 'latest'])).toBe('0x')
    expect(await h.rpc('eth_getBalance', [POOR, 'latest'])).toBe('0x0')
  })

  it('answers a repeated call from its cache only within the same block', async () => {
    const req = {to: probe, data: probeCall('value')}
    expect(decode('value', await call(req))).toBe(42n)
    expect(decode('value', await call(req))).toBe(42n)
    await h.send({to: probe, data: probeCall('store', [43n])})
    expect(decode('value', await call(req))).toBe(43n)
    expect(decode('value', await call(req, '0x2'))).toBe(42n)
    const a = await h.rpcError('eth_call', [{to: probe, data: probeCall('failCustom', [1n])}])
    const b = await h.rpcError('eth_call', [{to: probe, data: probeCall('failCustom', [1n])}])
    expect(b).toEqual(a)
  })

  it('the call VMs reuse jump-destination analyses (and stay correct across code)', async () => {
    // The interpreter was found and patched (a layout change in @ethereumjs/evm would make this false).
    expect(await enableJumpCache({} as never)).toBe(true)
    const stored = BigInt(await h.rpc<Hex>('eth_getStorageAt', [probe, '0x0', 'latest']))
    for (let i = 0; i < 3; i++) {
      expect(decode('value', await call({to: probe, data: probeCall('value'), gas: toHex(100_000 + i)}))).toBe(stored)
      expect(await call({from: ALICE, data: probeContract().bytecode, gas: toHex(3_000_000 + i)})).toBe(probeContract().deployedBytecode)
    }
  })

  it('rejects malformed params with -32602', async () => {
    const cases: unknown[][] = [
      [],
      ['0x'],
      [{to: '0x12'}],
      [{to: probe, gas: 'lots'}],
      [{to: probe, gasPrice: '0x1', maxFeePerGas: '0x1'}],
      [{to: probe, data: '0x01', input: '0x02'}],
      [{to: probe, maxFeePerGas: '0x1', maxPriorityFeePerGas: '0x2'}],
      [{to: probe}, 'later'],
      [{to: probe}, 'latest', {[probe]: {state: {}, stateDiff: {}}}],
      [{to: probe}, 'latest', {nope: {}}],
      [{to: probe}, 'latest', {[probe]: {balance: 'rich'}}],
      [{to: probe}, 'latest', {}, {number: 'one'}],
    ]
    for (const params of cases) {
      expect((await h.rpcError('eth_call', params)).code, JSON.stringify(params)).toBe(-32602)
    }
  })
})

describe('eth_estimateGas', () => {
  let h: Harness
  let probe: Hex

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe()
    await h.send({to: probe, data: probeCall('store', [42n])})
  })
  afterAll(() => h.close())

  /** Sends the call as a transaction with `gas`; returns the receipt status. */
  async function statusWithGas(data: Hex, gas: bigint): Promise<Hex> {
    const hash = await h.send({to: probe, data, gas})
    return (await h.rpc<{status: Hex}>('eth_getTransactionReceipt', [hash])).status
  }

  it('a plain transfer is 21000', async () => {
    expect(await h.rpc('eth_estimateGas', [{from: ALICE, to: BOB, value: '0x1'}])).toBe('0x5208')
  })

  for (const [name, args] of [
    ['store', [5n]],
    ['nested', [6n]],
    ['clear', []],
    ['burn', [40n]],
  ] as const) {
    it(`finds the exact lowest gas limit that succeeds: ${name}`, async () => {
      const data = probeCall(name, [...args])
      const estimate = BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: probe, data}]))
      expect(estimate).toBeGreaterThan(21_000n)
      // Both probes run against the same state: the first one fails, so nothing changes.
      expect(await statusWithGas(data, estimate - 1n)).toBe('0x0')
      expect(await statusWithGas(data, estimate)).toBe('0x1')
    })
  }

  it('without a block, estimates for the next block (code that reads block.number sees head + 1)', async () => {
    // Runtime: if (block.number > n) sstore(0, 1). Deployed so that n is the head afterwards.
    const n = Number(h.chain.head.header.number) + 1
    const runtime = `60${n.toString(16).padStart(2, '0')}4311600857005b600160005500`
    const deploy = await h.send({data: `0x600f600c600039600f6000f3${runtime}`, gas: 100_000n})
    const {contractAddress} = await h.rpc<{contractAddress: Hex}>('eth_getTransactionReceipt', [deploy])
    expect(Number(h.chain.head.header.number)).toBe(n)
    const atLatest = BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: contractAddress}, 'latest']))
    const atNext = BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: contractAddress}]))
    expect(atLatest).toBeLessThan(30_000n)
    expect(atNext).toBeGreaterThan(40_000n)
    const hash = await h.send({to: contractAddress, gas: atNext})
    expect((await h.rpc<{status: Hex}>('eth_getTransactionReceipt', [hash])).status).toBe('0x1')
    expect(await h.rpc('eth_getStorageAt', [contractAddress, '0x0', 'latest'])).toBe(`0x${'0'.repeat(63)}1`)
  })

  it('a revert is code 3 with the revert data', async () => {
    const error = await h.rpcError('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('failCustom', [3n])}])
    expect(error.code).toBe(3)
    expect(decodeErrorResult({abi: probeContract().abi as Abi, data: error.data as Hex}).errorName).toBe('Custom')
    expect(await h.rpcError('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('failReason')}])).toMatchObject({code: 3, message: 'execution reverted: reason here'})
  })

  it('running out of gas at the cap is "gas required exceeds allowance"', async () => {
    expect(await h.rpcError('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('burn', [5_000n]), gas: toHex(200_000)}])).toEqual({
      code: -32000,
      message: 'gas required exceeds allowance (200000)',
    })
    const poor = await h.rpcError('eth_estimateGas', [{from: POOR, to: probe, data: probeCall('value'), gasPrice: '0x1'}])
    expect(poor).toEqual({code: -32000, message: 'gas required exceeds allowance (0)'})
  })

  it('takes a block and state overrides', async () => {
    // No code at the probe address at genesis: only the intrinsic gas of the calldata is needed.
    const atGenesis = BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('store', [1n])}, '0x0']))
    const atLatest = BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('store', [1n])}, 'latest']))
    expect(atGenesis).toBeGreaterThan(21_000n)
    expect(atGenesis).toBeLessThan(22_000n)
    expect(atLatest).toBeGreaterThan(atGenesis)
    const estimate = await h.rpc<Hex>('eth_estimateGas', [{from: POOR, to: probe, data: probeCall('pay'), value: '0x100'}, 'latest', {[POOR]: {balance: '0x1000'}}])
    expect(BigInt(estimate)).toBeGreaterThan(21_000n)
  })

  it('rejects malformed params with -32602', async () => {
    for (const params of [[], [{to: '0x1'}], [{to: probe}, 'soon'], [{to: probe, value: '1'}]]) {
      expect((await h.rpcError('eth_estimateGas', params)).code, JSON.stringify(params)).toBe(-32602)
    }
  })
})

describe('execution time limit', () => {
  let h: Harness
  let probe: Hex
  beforeAll(async () => {
    h = await createHarness({limits: {callTimeoutMs: 300, traceTimeoutMs: 300}})
    probe = await h.deployProbe()
  })
  afterAll(() => h.close())

  it('aborts a long eth_call / eth_estimateGas with geth wording, and the node keeps answering', async () => {
    const long = {from: ALICE, to: probe, data: probeCall('burn', [1_000_000n]), gas: toHex(30_000_000)}
    expect(await h.rpcError('eth_call', [long])).toEqual({code: -32000, message: 'execution aborted (timeout = 0.3s)'})
    expect(await h.rpcError('eth_estimateGas', [long])).toEqual({code: -32000, message: 'execution aborted (timeout = 0.3s)'})
    // The view was rebuilt: state and calls are intact.
    expect(decode('balanceOf', await h.rpc<Hex>('eth_call', [{to: probe, data: probeCall('balanceOf', [ALICE])}]))).toBe(1000n)
    expect(BigInt(await h.rpc<Hex>('eth_estimateGas', [{from: ALICE, to: probe, data: probeCall('store', [1n])}]))).toBeGreaterThan(21_000n)
  })

  it('aborts a long trace the same way', async () => {
    const hash = await h.send({to: probe, data: probeCall('burn', [4_000n]), gas: 20_000_000n})
    expect(await h.rpcError('debug_traceTransaction', [hash])).toEqual({code: -32000, message: 'execution aborted (timeout = 0.3s)'})
    expect(decode('value', await h.rpc<Hex>('eth_call', [{to: probe, data: probeCall('value')}, '0x1']))).toBe(0n)
  })
})
