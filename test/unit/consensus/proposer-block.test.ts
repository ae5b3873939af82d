import {bytesToHex} from '@ethereumjs/util'
import {beforeEach, describe, expect, it} from 'vitest'

import type {BuiltBlock, Chain} from '../../../src/chain/chain.js'
import type {Mempool} from '../../../src/chain/mempool.js'
import {Mutex} from '../../../src/util/mutex.js'
import {hashId} from '../../../src/consensus/block-codec.js'
import {executeBundle} from '../../../src/consensus/bundle-check.js'
import {evidenceCommitment} from '../../../src/consensus/messages.js'
import {ProposerBlock} from '../../../src/consensus/proposer-block.js'
import {silentLogger} from '../../../src/util/logger.js'
import {createTestChain, signTransfer} from '../../helpers/chain.js'
import {equivocation, validatorKeys} from './fixtures.js'

const [key] = validatorKeys(1)
const NOW_MS = 1_700_000_100_000

/** A proposer on a real in-memory chain and mempool, with its event loop and build-budget clock in the test's hands. */
function proposerOn(chain: Chain, mempool: Mempool) {
  const loop = new Mutex()
  const state = {started: false, budgetSpent: false}
  const proposer = new ProposerBlock({
    chain,
    mempool,
    coinbase: key!.address,
    now: () => NOW_MS,
    enqueue: (task) => void loop.run(task),
    started: () => state.started,
    blockTime: 1_000,
    // Once the budget is spent, the proposal is sealed with what the block already holds.
    clock: () => (state.budgetSpent ? Infinity : performance.now()),
  })
  /** Lets every scheduled feed run (each feed schedules the next on setImmediate). */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      await loop.drain()
    }
  }
  return {proposer, state, loop, settle}
}

async function addTransfers(mempool: Mempool, nonces: number[]): Promise<void> {
  for (const nonce of nonces) await mempool.addRaw(await signTransfer({nonce}))
}

/** Whether another node, executing the block's transactions with its header fields, gets the same block. */
async function reexecutes(built: BuiltBlock, evidence: Parameters<typeof evidenceCommitment>[0] = []): Promise<boolean> {
  const {chain} = await createTestChain()
  const {block} = built.record
  const bundle = {header: block.header, hash: hashId(block.hash()), transactions: [...block.transactions], evidence}
  return (await executeBundle(chain, bundle, silentLogger, 1)) !== undefined
}

describe('ProposerBlock', () => {
  let chain: Chain
  let mempool: Mempool
  beforeEach(async () => {
    ;({chain, mempool} = await createTestChain())
  })

  it('executes transactions into the open block as they arrive, so the proposal only seals it', async () => {
    const {proposer, state, loop, settle} = proposerOn(chain, mempool)
    await loop.run(() => proposer.openAhead(1))
    expect(proposer.openHeight).toBe(1)
    await addTransfers(mempool, [0, 1, 2])
    proposer.onPendingTx()
    await settle()
    state.budgetSpent = true
    const built = await loop.run(() => proposer.build(1, 0, []))
    expect(built.record.block.transactions).toHaveLength(3)
    expect(built.record.block.header.coinbase.toString()).toBe(key!.address)
    expect(built.record.block.header.timestamp).toBe(BigInt(NOW_MS / 1000))
    expect(proposer.openHeight).toBeUndefined()
    expect(await reexecutes(built)).toBe(true)
  })

  it('stops feeding once the height has started: what arrives then waits for the proposal', async () => {
    const {proposer, state, loop, settle} = proposerOn(chain, mempool)
    await loop.run(() => proposer.openAhead(1))
    await addTransfers(mempool, [0])
    proposer.onPendingTx()
    await settle()
    state.started = true
    await addTransfers(mempool, [1, 2])
    proposer.onPendingTx()
    await settle()
    state.budgetSpent = true
    const built = await loop.run(() => proposer.build(1, 0, []))
    expect(built.record.block.transactions.map((tx) => Number(tx.nonce))).toEqual([0])
  })

  it('without an open block, builds one from the mempool within the build budget', async () => {
    const {proposer, loop} = proposerOn(chain, mempool)
    await addTransfers(mempool, [0, 1, 2, 3])
    const built = await loop.run(() => proposer.build(1, 0, []))
    expect(built.record.block.transactions).toHaveLength(4)
    expect(await reexecutes(built)).toBe(true)
  })

  it('with evidence to include, proposes a new block whose extraData commits to it, not the open one', async () => {
    const {proposer, loop, settle} = proposerOn(chain, mempool)
    await loop.run(() => proposer.openAhead(1))
    await addTransfers(mempool, [0, 1])
    proposer.onPendingTx()
    await settle()
    const evidence = [equivocation(validatorKeys(2, 'other')[1]!, 1)]
    const built = await loop.run(() => proposer.build(1, 0, evidence))
    expect(bytesToHex(built.record.block.header.extraData)).toBe(bytesToHex(evidenceCommitment(evidence)))
    expect(built.record.block.transactions).toHaveLength(2)
    expect(await reexecutes(built, evidence)).toBe(true)
  })

  it('in a later round, proposes a new block rather than the open one', async () => {
    const {proposer, loop, settle} = proposerOn(chain, mempool)
    await loop.run(() => proposer.openAhead(1))
    await addTransfers(mempool, [0])
    proposer.onPendingTx()
    await settle()
    const built = await loop.run(() => proposer.build(1, 1, []))
    expect(built.record.block.transactions).toHaveLength(1)
    expect(await reexecutes(built)).toBe(true)
  })

  it('dropping the open block returns the live state to the head', async () => {
    const {proposer, loop, settle} = proposerOn(chain, mempool)
    await loop.run(() => proposer.openAhead(1))
    await addTransfers(mempool, [0, 1])
    proposer.onPendingTx()
    await settle()
    await loop.run(() => proposer.drop())
    expect(proposer.openHeight).toBeUndefined()
    const empty = await chain.buildBlock([], {timestamp: BigInt(NOW_MS / 1000)})
    const other = await (await createTestChain()).chain.buildBlock([], {timestamp: BigInt(NOW_MS / 1000)})
    expect(hashId(empty.record.block.hash())).toBe(hashId(other.record.block.hash()))
  })

  it('opens one block at a time', async () => {
    const {proposer, loop} = proposerOn(chain, mempool)
    await loop.run(() => proposer.openAhead(1))
    await loop.run(() => proposer.openAhead(1))
    await loop.run(() => proposer.drop())
    // Had a second block been opened on top of the first, the state would still hold a checkpoint.
    const built = await chain.buildBlock([], {timestamp: BigInt(NOW_MS / 1000)})
    await chain.commitBlock(built)
    expect(Number(chain.head.header.number)).toBe(1)
  })
})
