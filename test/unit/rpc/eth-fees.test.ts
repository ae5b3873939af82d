import type {Hex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {privateKeyToAccount} from 'viem/accounts'

import {BOB, DEV_KEYS, type Harness, createHarness} from './harness.js'

interface FeeHistory {
  oldestBlock: Hex
  baseFeePerGas: Hex[]
  gasUsedRatio: number[]
  reward?: Hex[][]
  baseFeePerBlobGas: Hex[]
  blobGasUsedRatio: number[]
}

describe('eth_ fee methods', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
    await h.mine() // block 1: empty
    // Block 2: two transfers with tips of 1 and 3 gwei (maxFee high enough for both).
    for (const [i, tip] of [
      [0, 1_000_000_000n],
      [1, 3_000_000_000n],
    ] as const) {
      const raw = await privateKeyToAccount(DEV_KEYS[i]!).signTransaction({
        type: 'eip1559',
        chainId: 31337,
        nonce: 0,
        to: BOB,
        value: 1n,
        gas: 21_000n,
        maxFeePerGas: 20_000_000_000n,
        maxPriorityFeePerGas: tip,
      })
      await h.rpc('eth_sendRawTransaction', [raw])
    }
    await h.mine()
  })
  afterAll(() => h.close())

  it('eth_maxPriorityFeePerGas is 1 gwei and eth_gasPrice is the next base fee plus that tip', async () => {
    expect(await h.rpc('eth_maxPriorityFeePerGas')).toBe('0x3b9aca00')
    expect(BigInt(await h.rpc<Hex>('eth_gasPrice'))).toBe(h.chain.nextBaseFee() + 1_000_000_000n)
    expect((await h.rpcError('eth_gasPrice', [1])).code).toBe(-32602)
  })

  it('eth_feeHistory: blockCount entries plus the next base fee; ratios; rewards by percentile', async () => {
    const history = await h.rpc<FeeHistory>('eth_feeHistory', ['0x3', 'latest', [0, 50, 100]])
    expect(history.oldestBlock).toBe('0x0')
    expect(history.baseFeePerGas).toHaveLength(4)
    expect(history.gasUsedRatio).toHaveLength(3)
    expect(history.baseFeePerBlobGas).toHaveLength(4)
    expect(history.blobGasUsedRatio).toEqual([0, 0, 0])
    const block2 = await h.rpc<{baseFeePerGas: Hex; gasUsed: Hex; gasLimit: Hex}>('eth_getBlockByNumber', ['0x2', false])
    expect(history.baseFeePerGas[2]).toBe(block2.baseFeePerGas)
    expect(BigInt(history.baseFeePerGas[3]!)).toBe(h.chain.nextBaseFee())
    expect(history.gasUsedRatio[2]).toBeCloseTo(Number(BigInt(block2.gasUsed)) / Number(BigInt(block2.gasLimit)))
    expect(history.gasUsedRatio[1]).toBe(0)
    expect(history.reward![1]).toEqual(['0x0', '0x0', '0x0'])
    expect(history.reward![2]).toEqual(['0x3b9aca00', '0x3b9aca00', '0xb2d05e00'])
  })

  it('eth_feeHistory clips at genesis, takes decimal counts, omits reward without percentiles', async () => {
    const history = await h.rpc<FeeHistory>('eth_feeHistory', [10, '0x1'])
    expect(history.oldestBlock).toBe('0x0')
    expect(history.baseFeePerGas).toHaveLength(3)
    expect(history).not.toHaveProperty('reward')
    expect(await h.rpc('eth_feeHistory', ['0x0', 'latest', []])).toMatchObject({oldestBlock: '0x0', baseFeePerGas: []})
  })

  it('eth_feeHistory rejects bad percentiles and blocks beyond the head', async () => {
    expect((await h.rpcError('eth_feeHistory', ['0x2', 'latest', [50, 10]])).code).toBe(-32602)
    expect((await h.rpcError('eth_feeHistory', ['0x2', 'latest', [101]])).code).toBe(-32602)
    expect((await h.rpcError('eth_feeHistory', ['two', 'latest'])).code).toBe(-32602)
    expect((await h.rpcError('eth_feeHistory', ['0x2'])).code).toBe(-32602)
    expect((await h.rpcError('eth_feeHistory', ['0x2', '0x99'])).code).toBe(-32000)
  })
})
