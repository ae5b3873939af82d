import {afterEach, describe, expect, it} from 'vitest'

import {BlockProducer} from '../../../src/chain/producer.js'
import {createTestChain, signTransfer} from '../../helpers/chain.js'

const producers: BlockProducer[] = []
afterEach(async () => {
  for (const producer of producers.splice(0)) await producer.close()
})

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('BlockProducer', () => {
  it('automine: one block per transaction, for every transaction that arrives', async () => {
    const {chain, mempool} = await createTestChain()
    const producer = new BlockProducer({chain, mempool, blockTime: 0})
    producers.push(producer)
    producer.start()
    for (let nonce = 0; nonce < 3; nonce++) {
      await mempool.addRaw(await signTransfer({nonce}))
      await waitFor(() => chain.head.header.number === BigInt(nonce + 1))
      expect(chain.head.transactions).toHaveLength(1)
    }
    expect(mempool.size).toBe(0)
  })

  it('automine: a burst becomes one block per transaction, in nonce order', async () => {
    const {chain, mempool} = await createTestChain()
    const producer = new BlockProducer({chain, mempool, blockTime: 0})
    producers.push(producer)
    const raws = await Promise.all([0, 1, 2, 3].map((nonce) => signTransfer({nonce})))
    for (const raw of raws) await mempool.addRaw(raw)
    producer.start()
    await waitFor(() => chain.head.header.number === 4n)
    for (let n = 1n; n <= 4n; n++) {
      const record = await chain.getBlock(n)
      expect(record?.block.transactions.map((tx) => tx.nonce)).toEqual([n - 1n])
    }
  })

  it('interval: makes blocks on the clock, empty ones included, with rising timestamps', async () => {
    const {chain, mempool} = await createTestChain({timestamp: Math.floor(Date.now() / 1000) - 10})
    const producer = new BlockProducer({chain, mempool, blockTime: 100})
    producers.push(producer)
    producer.start()
    await waitFor(() => chain.head.header.number >= 3n)
    const [b1, b2, b3] = await Promise.all([1n, 2n, 3n].map((n) => chain.getBlock(n)))
    expect(b1!.block.transactions).toHaveLength(0)
    expect(b2!.block.header.timestamp).toBeGreaterThan(b1!.block.header.timestamp)
    expect(b3!.block.header.timestamp).toBeGreaterThan(b2!.block.header.timestamp)
  })

  it('interval: executes transactions into the open block as they arrive, all included in nonce order', async () => {
    const {chain, mempool} = await createTestChain({timestamp: Math.floor(Date.now() / 1000) - 10})
    const producer = new BlockProducer({chain, mempool, blockTime: 200})
    producers.push(producer)
    producer.start()
    const raws = await Promise.all(
      Array.from({length: 40}, (_, i) => signTransfer({from: i % 2, nonce: Math.floor(i / 2)})),
    )
    // Out of order within each sender (a gap filled later) and spread over several blocks.
    const order = [...raws.keys()].sort((a, b) => (a % 7) - (b % 7) || a - b)
    for (const [n, i] of order.entries()) {
      await mempool.addRaw(raws[i]!).catch(() => undefined)
      if (n % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 120))
    }
    await waitFor(() => mempool.size === 0, 20_000)
    const included: bigint[][] = [[], []]
    for (let n = 1n; n <= chain.head.header.number; n++) {
      const record = (await chain.getBlock(n))!
      record.block.transactions.forEach((tx, i) => included[record.senders[i]![19] === 0x66 ? 0 : 1]!.push(tx.nonce))
    }
    const expected = Array.from({length: 20}, (_, i) => BigInt(i))
    expect(included.map((nonces) => [...nonces].sort((a, b) => Number(a - b)))).toEqual([expected, expected])
    // Each sender's nonces appear in order across the chain.
    for (const nonces of included) expect(nonces).toEqual([...nonces].sort((a, b) => Number(a - b)))
  })

  it('close waits for the block being built and stops producing', async () => {
    const {chain, mempool} = await createTestChain()
    const producer = new BlockProducer({chain, mempool, blockTime: 50})
    producer.start()
    await waitFor(() => chain.head.header.number >= 1n)
    await producer.close()
    const height = chain.head.header.number
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(chain.head.header.number).toBe(height)
  })
})
