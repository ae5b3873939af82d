import {bytesToHex, hexToBytes} from '@ethereumjs/util'
import {describe, expect, it} from 'vitest'

import {DEV_ACCOUNTS, createTestChain, mineBlock, signTransfer} from '../../helpers/chain.js'

const sender = hexToBytes(DEV_ACCOUNTS[0]!.address)

describe('Mempool', () => {
  it('admits a valid transaction and returns its hash', async () => {
    const {mempool} = await createTestChain()
    const raw = await signTransfer({nonce: 0})
    const hash = await mempool.addRaw(raw)
    expect(mempool.get(hash)?.tx.nonce).toBe(0n)
    expect(mempool.status()).toEqual({pending: 1, queued: 0})
  })

  it('queues nonce gaps and promotes them when the gap fills', async () => {
    const {mempool} = await createTestChain()
    await mempool.addRaw(await signTransfer({nonce: 2}))
    await mempool.addRaw(await signTransfer({nonce: 1}))
    expect(mempool.status()).toEqual({pending: 0, queued: 2})
    expect(await mempool.pendingNonce(sender)).toBe(0n)
    await mempool.addRaw(await signTransfer({nonce: 0}))
    expect(mempool.status()).toEqual({pending: 3, queued: 0})
    expect(await mempool.pendingNonce(sender)).toBe(3n)
  })

  it('orders a block by tip across senders, nonces in order per sender', async () => {
    const {chain, mempool} = await createTestChain()
    await mempool.addRaw(await signTransfer({from: 0, nonce: 0, maxPriorityFeePerGas: 1n}))
    await mempool.addRaw(await signTransfer({from: 0, nonce: 1, maxPriorityFeePerGas: 9_000_000_000n}))
    await mempool.addRaw(await signTransfer({from: 1, nonce: 0, maxPriorityFeePerGas: 5n}))
    const txs = mempool.selectForBlock(chain.nextBaseFee())
    expect(txs.map((tx) => [bytesToHex(tx.getSenderAddress().bytes), tx.nonce])).toEqual([
      [DEV_ACCOUNTS[1]!.address.toLowerCase(), 0n],
      [DEV_ACCOUNTS[0]!.address.toLowerCase(), 0n],
      [DEV_ACCOUNTS[0]!.address.toLowerCase(), 1n],
    ])
  })

  it('removes included transactions after a block', async () => {
    const {chain, mempool} = await createTestChain()
    await mempool.addRaw(await signTransfer({nonce: 0}))
    await mempool.addRaw(await signTransfer({nonce: 1}))
    await mineBlock(chain, mempool)
    expect(mempool.size).toBe(0)
    expect(await mempool.pendingNonce(sender)).toBe(2n)
  })

  it.each([
    ['already known', async () => [await signTransfer({nonce: 0}), await signTransfer({nonce: 0})]],
    ['invalid chain id', async () => [await signTransfer({nonce: 0, chainId: 1})]],
    ['intrinsic gas too low', async () => [await signTransfer({nonce: 0, gas: 20_000n})]],
    ['max fee per gas less than block base fee', async () => [await signTransfer({nonce: 0, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n})]],
    ['insufficient funds for gas * price + value', async () => [await signTransfer({nonce: 0, value: 10n ** 23n})]],
    [
      'replacement transaction underpriced',
      async () => [await signTransfer({nonce: 0, value: 1n}), await signTransfer({nonce: 0, value: 2n, maxPriorityFeePerGas: 1_050_000_000n})],
    ],
    ['exceeds block gas limit', async () => [await signTransfer({nonce: 0, gas: 31_000_000n})]],
  ])('rejects with geth wording: %s', async (message, make) => {
    const {mempool} = await createTestChain()
    const raws = await make()
    for (const raw of raws.slice(0, -1)) await mempool.addRaw(raw)
    await expect(mempool.addRaw(raws.at(-1)!)).rejects.toThrow(message)
  })

  it('rejects a nonce below the account nonce', async () => {
    const {chain, mempool} = await createTestChain()
    await mempool.addRaw(await signTransfer({nonce: 0}))
    await mineBlock(chain, mempool)
    await expect(mempool.addRaw(await signTransfer({nonce: 0, value: 7n}))).rejects.toThrow('nonce too low')
  })

  it('accepts a replacement with a 10% fee bump', async () => {
    const {mempool} = await createTestChain()
    const first = await mempool.addRaw(await signTransfer({nonce: 0}))
    const second = await mempool.addRaw(await signTransfer({nonce: 0, maxFeePerGas: 11_000_000_000n, maxPriorityFeePerGas: 1_100_000_000n}))
    expect(mempool.get(first)).toBeUndefined()
    expect(mempool.get(second)).toBeDefined()
    expect(mempool.size).toBe(1)
  })

  it('rejects oversized and undecodable data', async () => {
    const {mempool} = await createTestChain()
    await expect(mempool.addRaw(new Uint8Array(200 * 1024))).rejects.toThrow('oversized data')
    await expect(mempool.addRaw(Uint8Array.of(0x02, 0xc0))).rejects.toThrow(/invalid transaction/)
    await expect(mempool.addRaw(Uint8Array.of(0x03, 0xc0))).rejects.toThrow('transaction type not supported')
  })

  it('bounds the pool size', async () => {
    const {chain} = await createTestChain()
    const {Mempool} = await import('../../../src/chain/mempool.js')
    const small = new Mempool(chain, {maxSize: 2})
    await small.addRaw(await signTransfer({nonce: 0}))
    await small.addRaw(await signTransfer({nonce: 1}))
    await expect(small.addRaw(await signTransfer({nonce: 2}))).rejects.toThrow('txpool is full')
  })
})
