import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Address, bytesToHex, hexToBytes} from '@ethereumjs/util'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {hashId, encodeBundle} from '../../../src/consensus/block-codec.js'
import {ConsensusEngine, type ConsensusNetwork, decodeConsensusRecord} from '../../../src/consensus/engine.js'
import type {ValidatorKey} from '../../../src/consensus/keys.js'
import {Mempool} from '../../../src/chain/mempool.js'
import {type ConsensusMessage, decodeMessage, encodeEvidenceList, encodeMessage, evidenceCommitment, signProposal, signVote, verifyCommit} from '../../../src/consensus/messages.js'
import type {TimeoutConfig, ValueId} from '../../../src/consensus/types.js'
import type {ValidatorSet} from '../../../src/consensus/validator-set.js'
import {createTestChain, signTransfer} from '../../helpers/chain.js'
import {CHAIN_ID, equivocation, setOf, validatorKeys} from './fixtures.js'

type Bytes = Uint8Array
type Topic = 'tx' | 'consensus' | 'evidence'

/** The p2p host as the engine sees it: what it publishes is kept, and the test delivers what peers say. */
class FakeNetwork implements ConsensusNetwork {
  readonly published: {topic: Topic; data: Bytes}[] = []
  private readonly handlers = new Map<Topic, (data: Bytes, from: string) => void>()
  constructor(private readonly peers: number) {}
  async publish(topic: Topic, data: Bytes): Promise<void> {
    this.published.push({topic, data})
  }
  subscribe(topic: Topic, handler: (data: Bytes, from: string) => void): void {
    this.handlers.set(topic, handler)
  }
  handle(): void {}
  async request(): Promise<Bytes[]> {
    return []
  }
  topicPeers(): number {
    return this.peers
  }
  deliver(message: ConsensusMessage, from = 'peer'): void {
    this.handlers.get('consensus')!(encodeMessage(message), from)
  }
  deliverEvidence(data: Bytes, from = 'peer'): void {
    this.handlers.get('evidence')!(data, from)
  }
  /** Votes and proposals this node gossiped (statuses left out). */
  said(): ConsensusMessage[] {
    return this.published.filter((p) => p.topic === 'consensus').map((p) => decodeMessage(CHAIN_ID, p.data)).filter((m) => m.kind !== 'status')
  }
}

/** Long timeouts: the test, not the clock, moves the rounds. */
const PATIENT: TimeoutConfig = {proposeBase: 60_000, proposeDelta: 0, prevoteBase: 60_000, prevoteDelta: 0, precommitBase: 60_000, precommitDelta: 0}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('ConsensusEngine', () => {
  let walDir: string
  const engines: ConsensusEngine[] = []
  beforeEach(() => {
    walDir = mkdtempSync(join(tmpdir(), 'xai-engine-'))
  })
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close()
    rmSync(walDir, {recursive: true, force: true})
  })

  function engineOn(parts: Awaited<ReturnType<typeof createTestChain>>, network: FakeNetwork, validators: ValidatorSet, key: ValidatorKey, options: {blockTime?: number; timeouts?: TimeoutConfig} = {}): ConsensusEngine {
    const engine = new ConsensusEngine({...parts, validators, key, host: network, walDir, blockTime: options.blockTime ?? 50, timeouts: options.timeouts})
    engines.push(engine)
    return engine
  }

  it('alone in its validator set, proposes, votes and commits blocks, each stored with a commit that verifies', async () => {
    const [key] = validatorKeys(1)
    const validators = setOf([key!])
    const parts = await createTestChain()
    const network = new FakeNetwork(0)
    const engine = engineOn(parts, network, validators, key!)
    await engine.start()
    const txHash = await parts.mempool.addRaw(await signTransfer({nonce: 0}))
    await until(() => parts.chain.head.header.number >= 3n, 'three blocks')
    await engine.close()
    for (let height = 1; height <= 3; height++) {
      const {commit} = (await engine.blockConsensus(BigInt(height)))!
      const block = (await parts.chain.getBlock(BigInt(height)))!.block
      expect(verifyCommit(CHAIN_ID, validators, commit, height, hashId(block.hash()))).toEqual([key!.address])
      expect(block.header.coinbase.toString()).toBe(key!.address)
    }
    expect(await parts.chain.blocks.txLocation(txHash)).toBeDefined()
    // Per height: one proposal, one prevote and one precommit, all for the committed block.
    const said = network.said().filter((m) => (m.kind === 'vote' ? m.vote.vote.height : m.kind === 'proposal' ? m.proposal.proposal.height : 0) === 2)
    expect(said.map((m) => (m.kind === 'vote' ? m.vote.vote.type : m.kind))).toEqual(['proposal', 'prevote', 'precommit'])
    expect(engine.stats).toEqual({evidenceCommitted: 0, evidenceSeen: 0, roundsAboveZero: 0, blocksSynced: 0})
  })

  /**
   * Four validators, three of them the test's: this node gets the round-0 proposal (a real block
   * with a transfer, built on a twin chain) and two prevotes, locks and precommits; it is then
   * stopped and started again on the same chain and WAL.
   */
  async function lockThenRestart(proposalArrives: 'after the height started' | 'right away') {
    const keys = validatorKeys(4)
    const validators = setOf(keys)
    const proposer = keys.find((k) => k.address === validators.proposer(1, 0))!
    const [self, a, b] = keys.filter((k) => k !== proposer) as [ValidatorKey, ValidatorKey, ValidatorKey]
    const parts = await createTestChain()
    const twin = await createTestChain()
    await twin.mempool.addRaw(await signTransfer({nonce: 0}))
    const txs = twin.mempool.selectForBlock(twin.chain.nextBaseFee())
    const built = await twin.chain.buildBlock(txs, {timestamp: twin.chain.head.header.timestamp + 1n, coinbase: new Address(hexToBytes(proposer.address)), extraData: new Uint8Array(0)})
    const value: ValueId = hashId(built.record.block.hash())
    const proposal = signProposal(CHAIN_ID, proposer, {height: 1, round: 0, validRound: -1, value}, encodeBundle(built.record.block.serialize(), []))
    const vote = (key: ValidatorKey, type: 'prevote' | 'precommit') => ({kind: 'vote' as const, vote: signVote(CHAIN_ID, key, {type, height: 1, round: 0, value})})
    const ownVote = (network: FakeNetwork, type: string) => network.said().find((m) => m.kind === 'vote' && m.vote.vote.type === type && m.vote.vote.validator === self.address)

    const first = new FakeNetwork(3)
    const engine = engineOn(parts, first, validators, self, {timeouts: PATIENT})
    await engine.start()
    if (proposalArrives === 'after the height started') await until(() => engine.consensusState().started === true, 'the height to start')
    first.deliver({kind: 'proposal', proposal})
    await until(() => ownVote(first, 'prevote') !== undefined, 'its prevote')
    first.deliver(vote(a, 'prevote'))
    first.deliver(vote(b, 'prevote'))
    await until(() => ownVote(first, 'precommit') !== undefined, 'its precommit')
    expect(engine.consensusState()).toMatchObject({lockedValue: value, lockedRound: 0})
    await engine.close()
    expect(parts.chain.head.header.number).toBe(0n)

    const second = new FakeNetwork(3)
    const restarted = engineOn(parts, second, validators, self, {timeouts: PATIENT})
    await restarted.start()
    return {parts, validators, value, self, a, b, vote, first, second, restarted, ownVote}
  }

  it('restarted after it locked on a block, replays its log, says the same votes again and commits that block when the others precommit', async () => {
    const {parts, validators, value, self, a, b, vote, first, second, restarted, ownVote} = await lockThenRestart('after the height started')
    expect(restarted.consensusState()).toMatchObject({height: 1, round: 0, step: 'precommit', lockedValue: value, lockedRound: 0})
    // What it had said, said again byte for byte; nothing new signed.
    const bytesOf = (m: ConsensusMessage | undefined) => (m ? encodeMessage(m) : undefined)
    expect(second.said().map(encodeMessage)).toEqual([bytesOf(ownVote(first, 'prevote')), bytesOf(ownVote(first, 'precommit'))])
    second.deliver(vote(a, 'precommit'))
    second.deliver(vote(b, 'precommit'))
    await until(() => parts.chain.head.header.number === 1n, 'block 1')
    expect(hashId(parts.chain.head.hash())).toBe(value)
    expect(parts.chain.head.transactions).toHaveLength(1)
    const record = decodeConsensusRecord(CHAIN_ID, (await parts.chain.blocks.consensusRecord(1n))!)
    expect(verifyCommit(CHAIN_ID, validators, record.commit, 1, value).sort()).toEqual([self.address, a.address, b.address].sort())
  })

  it('keeps a proposal that came before its height started in the log: restarted, it still holds the lock', async () => {
    const {value, second, restarted, first, ownVote} = await lockThenRestart('right away')
    expect(restarted.consensusState()).toMatchObject({height: 1, round: 0, step: 'precommit', lockedValue: value, lockedRound: 0})
    expect(second.said().map(encodeMessage)).toEqual([ownVote(first, 'prevote'), ownVote(first, 'precommit')].map((m) => encodeMessage(m!)))
  })

  it('puts in its block exactly the evidence the header commits to, even when evidence arrives while the block is built', async () => {
    const [key] = validatorKeys(1)
    const validators = setOf([key!])
    const {chain} = await createTestChain()
    const network = new FakeNetwork(0)
    let engine: ConsensusEngine | undefined
    let delivered = false
    // The mempool port, telling the test when the proposer fills its block after the height started.
    class Hooked extends Mempool {
      override selectForBlock(...args: Parameters<Mempool['selectForBlock']>): ReturnType<Mempool['selectForBlock']> {
        if (!delivered && engine?.consensusState().started === true) {
          delivered = true
          network.deliverEvidence(encodeEvidenceList([equivocation(key!, 1)]))
        }
        return super.selectForBlock(...args)
      }
    }
    const mempool = new Hooked(chain)
    engine = engineOn({chain, mempool}, network, validators, key!)
    await engine.start()
    await until(() => chain.head.header.number >= 3n, 'three blocks')
    await engine.close()
    expect(delivered).toBe(true)
    const held: number[] = []
    for (let height = 1; height <= 3; height++) {
      const {evidence} = (await engine.blockConsensus(BigInt(height)))!
      const block = (await chain.getBlock(BigInt(height)))!.block
      expect(bytesToHex(block.header.extraData)).toBe(bytesToHex(evidenceCommitment(evidence)))
      if (evidence.length > 0) held.push(height)
    }
    expect(held).toHaveLength(1)
    expect(engine.evidence().committed).toHaveLength(1)
  })

  it('prevotes nil for a proposal whose block does not re-execute to its hash', async () => {
    const keys = validatorKeys(4)
    const validators = setOf(keys)
    const proposer = keys.find((k) => k.address === validators.proposer(1, 0))!
    const self = keys.find((k) => k !== proposer)!
    const parts = await createTestChain()
    const twin = await createTestChain()
    // Executed on another state: the twin has a block 1 this node never saw.
    await twin.chain.commitBlock(await twin.chain.buildBlock([], {timestamp: twin.chain.head.header.timestamp + 1n}))
    const built = await twin.chain.buildBlock([], {timestamp: twin.chain.head.header.timestamp + 1n, coinbase: new Address(hexToBytes(proposer.address))})
    const value = hashId(built.record.block.hash())
    const network = new FakeNetwork(3)
    const engine = engineOn(parts, network, validators, self, {timeouts: PATIENT})
    await engine.start()
    network.deliver({kind: 'proposal', proposal: signProposal(CHAIN_ID, proposer, {height: 1, round: 0, validRound: -1, value}, encodeBundle(built.record.block.serialize(), []))})
    await until(() => network.said().some((m) => m.kind === 'vote'), 'its prevote')
    const vote = network.said().find((m) => m.kind === 'vote')
    expect(vote?.kind === 'vote' && [vote.vote.vote.type, vote.vote.vote.value]).toEqual(['prevote', null])
  })
})
