import {RLP} from '@ethereumjs/rlp'
import {createBlock} from '@ethereumjs/block'
import {beforeEach, describe, expect, it} from 'vitest'

import type {Chain} from '../../../src/chain/chain.js'
import type {Mempool} from '../../../src/chain/mempool.js'
import {Mutex} from '../../../src/util/mutex.js'
import {decodeBundle, encodeBundle, hashId} from '../../../src/consensus/block-codec.js'
import {commitWithRecord} from '../../../src/consensus/block-commit.js'
import {BlockSync, type BlockSyncPorts, SYNC_BATCH} from '../../../src/consensus/block-sync.js'
import {checkBundleShape, executeBundle} from '../../../src/consensus/bundle-check.js'
import {decodeConsensusRecord} from '../../../src/consensus/consensus-record.js'
import {decodeCommit, encodeCommit, int, toInt, verifyCommit} from '../../../src/consensus/messages.js'
import {createTestChain, decodeTransaction, signTransfer} from '../../helpers/chain.js'
import {CHAIN_ID, RecordingLogger, commitBlocks, commitBy, setOf, validatorKeys} from './fixtures.js'

type Bytes = Uint8Array

const keys = validatorKeys(4)
const validators = setOf(keys)
const quorum = keys.slice(0, 3)
const PEER = 'peer-a'

/**
 * A BlockSync on `chain` wired as the engine wires it, with a fake network whose `request`
 * is answered by `serve` (another node's BlockSync, possibly tampered with).
 */
function syncer(chain: Chain, mempool: Mempool, serve: (request: Bytes) => Promise<Bytes[]>) {
  const logger = new RecordingLogger()
  const loop = new Mutex()
  const requests: {from: number; count: number}[] = []
  let advanced = 0
  let finished!: () => void
  const done = new Promise<void>((resolve) => (finished = resolve))
  const ports: BlockSyncPorts = {
    chainId: CHAIN_ID,
    validators: () => validators,
    headNumber: () => Number(chain.head.header.number),
    height: () => Number(chain.head.header.number) + 1,
    request: async (peer, protocol, data) => {
      expect([peer, protocol]).toEqual([PEER, 'sync'])
      const [from, count] = RLP.decode(data) as Bytes[]
      requests.push({from: toInt(from, 'from'), count: toInt(count, 'count')})
      return serve(data)
    },
    getBlock: (height) => chain.getBlock(height),
    consensusRecord: (height) => chain.blocks.consensusRecord(height),
    decodeBundle: (bytes) => decodeBundle(chain, bytes, validators, mempool),
    checkBundle: (bundle) => checkBundleShape(bundle, bundle.hash, {head: chain.head, nowMs: Date.now(), isCommitted: () => false}),
    execute: (bundle) => executeBundle(chain, bundle, logger, Number(bundle.header.number)),
    commit: (built, commit, evidence) => commitWithRecord(chain, built, commit, evidence),
    advance: () => advanced++,
    enqueue: (task) => void loop.run(task),
    finished: () => finished(),
    closed: () => false,
    logger,
  }
  return {sync: new BlockSync(ports), logger, requests, done, advanced: () => advanced}
}

/** A node that has committed `count` blocks (some with transfers), and its BlockSync serving them. */
async function source(count: number) {
  const {chain, mempool} = await createTestChain()
  const transfers = new Map<number, Bytes[]>()
  for (const height of [2, 5, 33]) transfers.set(height, [await signTransfer({nonce: [2, 5, 33].indexOf(height)})])
  await commitBlocks(chain, count, quorum, (h) => (transfers.get(h) ?? []).map((raw) => decodeTransaction(chain, raw)))
  const serving = syncer(chain, mempool, async () => [])
  return {chain, serve: (request: Bytes) => serving.sync.serve(request)}
}

describe('BlockSync', () => {
  let a: Awaited<ReturnType<typeof source>>
  let b: Awaited<ReturnType<typeof createTestChain>>
  beforeEach(async () => {
    a = await source(40)
    b = await createTestChain()
  })

  it('fetches the blocks a peer is ahead by, in batches, verifies them and commits them with their commits', async () => {
    const {sync, requests, done, advanced} = syncer(b.chain, b.mempool, a.serve)
    sync.onStatus(PEER, 40)
    expect(sync.syncing).toBe(true)
    await done
    expect(sync.syncing).toBe(false)
    expect(Number(b.chain.head.header.number)).toBe(40)
    expect(b.chain.head.hash()).toEqual(a.chain.head.hash())
    expect(sync.blocksSynced).toBe(40)
    expect(advanced()).toBe(40)
    expect(requests).toEqual([
      {from: 1, count: SYNC_BATCH},
      {from: 33, count: SYNC_BATCH},
    ])
    // Each synced block is stored with a commit that anyone holding the set can check.
    for (const height of [1, 33, 40]) {
      const record = decodeConsensusRecord(CHAIN_ID, (await b.chain.blocks.consensusRecord(BigInt(height)))!)
      const block = (await b.chain.getBlock(BigInt(height)))!.block
      expect(verifyCommit(CHAIN_ID, validators, record.commit, height, hashId(block.hash()))).toHaveLength(3)
    }
    expect((await b.chain.getBlock(33n))!.block.transactions).toHaveLength(1)
  })

  it('does not sync from a peer that is not ahead', async () => {
    await commitBlocks(b.chain, 5, quorum)
    const {sync, requests} = syncer(b.chain, b.mempool, a.serve)
    sync.onStatus(PEER, 4)
    expect(sync.syncing).toBe(false)
    expect(requests).toEqual([])
  })

  it('refuses a block whose commit is below the quorum, commits nothing from it on, and stops trusting that peer', async () => {
    const tampered = async (request: Bytes): Promise<Bytes[]> =>
      (await a.serve(request)).map((item) => {
        const [bundle, commit] = RLP.decode(item) as Bytes[]
        const decoded = decodeCommit(commit!)
        if (decoded.height !== 3) return item
        return RLP.encode([bundle!, encodeCommit({...decoded, signatures: decoded.signatures.slice(0, 2)})])
      })
    const {sync, logger, requests, done} = syncer(b.chain, b.mempool, tampered)
    sync.onStatus(PEER, 40)
    await done
    expect(Number(b.chain.head.header.number)).toBe(2)
    expect(sync.blocksSynced).toBe(2)
    expect(requests).toHaveLength(1)
    expect(logger.lines.find((l) => l.message === 'rejected a synced block')?.context?.error).toMatch(/below the quorum/)
    expect(await b.chain.blocks.consensusRecord(3n)).toBeUndefined()
  })

  it('refuses a commit signed by validators for another block, and one signed by non-validators', async () => {
    const outsiders = validatorKeys(3, 'outsider')
    for (const forge of [
      (height: number) => commitBy(quorum, height, hashId(new Uint8Array(32).fill(7))),
      (height: number, value: `0x${string}`) => commitBy(outsiders, height, value),
    ]) {
      const fresh = await createTestChain()
      const tampered = async (request: Bytes): Promise<Bytes[]> =>
        (await a.serve(request)).map((item) => {
          const [bundle] = RLP.decode(item) as Bytes[]
          const header = decodeBundle(a.chain, bundle!, validators).header
          return RLP.encode([bundle!, encodeCommit(forge(Number(header.number), hashId(header.hash())))])
        })
      const {sync, done} = syncer(fresh.chain, fresh.mempool, tampered)
      sync.onStatus(PEER, 40)
      await done
      expect(Number(fresh.chain.head.header.number)).toBe(0)
    }
  })

  it('refuses a block with a valid commit that does not re-execute to its hash, and leaves the live state at the head', async () => {
    // Block 1 with a state root nobody computed, "decided" by a quorum: a commit is no excuse.
    const block1 = (await a.chain.getBlock(1n))!.block
    const forged = createBlock({header: {...block1.header.toJSON(), stateRoot: new Uint8Array(32).fill(9)}, transactions: []}, {common: a.chain.common})
    const value = hashId(forged.hash())
    const serve = async (): Promise<Bytes[]> => [RLP.encode([encodeBundle(forged.serialize(), []), encodeCommit(commitBy(quorum, 1, value))])]
    const {sync, logger, done} = syncer(b.chain, b.mempool, serve)
    sync.onStatus(PEER, 1)
    await done
    expect(Number(b.chain.head.header.number)).toBe(0)
    expect(logger.messages('warn')).toContain('proposed block does not re-execute to its header')
    // The live state was put back: the honest block 1 still builds and commits.
    const built = await b.chain.buildBlock([], {timestamp: block1.header.timestamp})
    expect(hashId(built.record.block.hash())).toBe(hashId(block1.hash()))
  })

  it('ends the sync quietly when the request fails or the peer sends malformed items', async () => {
    for (const serve of [
      async (): Promise<Bytes[]> => {
        throw new Error('stream reset')
      },
      async (): Promise<Bytes[]> => [Uint8Array.of(0xc3, 0x01)],
      async (): Promise<Bytes[]> => [RLP.encode([Uint8Array.of(1), Uint8Array.of(2)])],
    ]) {
      const {sync, done} = syncer(b.chain, b.mempool, serve)
      sync.onStatus(PEER, 10)
      await done
      expect(sync.syncing).toBe(false)
      expect(Number(b.chain.head.header.number)).toBe(0)
    }
  })

  it(`serves at most ${SYNC_BATCH} blocks from the asked height, each with its commit, and stops at the head`, async () => {
    const items = await a.serve(RLP.encode([int(30), int(1000)]))
    expect(items).toHaveLength(11)
    const [bundle, commit] = RLP.decode(items[0]!) as Bytes[]
    const decoded = decodeBundle(a.chain, bundle!, validators)
    expect(Number(decoded.header.number)).toBe(30)
    expect(verifyCommit(CHAIN_ID, validators, decodeCommit(commit!), 30, decoded.hash)).toHaveLength(3)
    expect(await a.serve(RLP.encode([int(1), int(1000)]))).toHaveLength(SYNC_BATCH)
    expect(await a.serve(RLP.encode([int(41), int(5)]))).toEqual([])
  })
})
