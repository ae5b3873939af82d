import {describe, expect, it} from 'vitest'

import {encodeConsensusRecord} from '../../../src/consensus/consensus-record.js'
import {EVIDENCE_INDEX, EvidencePool, MAX_EVIDENCE_PER_BLOCK} from '../../../src/consensus/evidence-pool.js'
import {decodeEvidenceList, encodeEvidenceList, evidenceKey} from '../../../src/consensus/messages.js'
import {CHAIN_ID, RecordingLogger, commitBy, equivocation, setOf, validatorKeys, valueOf} from './fixtures.js'

type Bytes = Uint8Array

const keys = validatorKeys(4)
const validators = setOf(keys)
const outsider = validatorKeys(1, 'outsider')[0]!

/** A pool over a fake block store (height → consensus record) and a fake network (what it gossips). */
function pool(records = new Map<bigint, Bytes>()) {
  const published: Bytes[] = []
  const logger = new RecordingLogger()
  const evidencePool = new EvidencePool({
    chainId: CHAIN_ID,
    validators: () => validators,
    consensusRecord: async (height) => records.get(height),
    publish: (data) => published.push(data),
    logger,
  })
  return {evidencePool, published, logger, records}
}

describe('EvidencePool', () => {
  it('keeps one copy of a piece of evidence, whichever order its two votes come in, and gossips it once', () => {
    const {evidencePool, published, logger} = pool()
    const e = equivocation(keys[0]!, 5)
    expect(evidencePool.add(e, true)).toBe(true)
    expect(evidencePool.add(e, true)).toBe(false)
    expect(evidencePool.add({first: e.second, second: e.first}, true)).toBe(false)
    expect(evidencePool.size).toBe(1)
    expect(evidencePool.seen).toBe(1)
    expect(published).toHaveLength(1)
    expect(decodeEvidenceList(CHAIN_ID, published[0]!).map(evidenceKey)).toEqual([evidenceKey(e)])
    expect(logger.messages('warn')).toEqual(['security: a validator signed two conflicting votes'])
  })

  it('does not gossip evidence that came from the network', () => {
    const {evidencePool, published} = pool()
    evidencePool.onGossip(encodeEvidenceList([equivocation(keys[1]!, 3)]))
    expect(evidencePool.size).toBe(1)
    expect(published).toEqual([])
  })

  it(`puts at most ${MAX_EVIDENCE_PER_BLOCK} pieces in a block, oldest first`, () => {
    const {evidencePool} = pool()
    const all = Array.from({length: 20}, (_, i) => equivocation(keys[i % 4]!, 10 + i))
    for (const e of all) evidencePool.add(e, false)
    expect(evidencePool.size).toBe(20)
    expect(evidencePool.forBlock().map(evidenceKey)).toEqual(all.slice(0, MAX_EVIDENCE_PER_BLOCK).map(evidenceKey))
  })

  it(`takes at most ${MAX_EVIDENCE_PER_BLOCK} pieces from one gossip message, and drops malformed or foreign evidence`, () => {
    const {evidencePool} = pool()
    evidencePool.onGossip(encodeEvidenceList(Array.from({length: 20}, (_, i) => equivocation(keys[0]!, 100 + i))))
    expect(evidencePool.size).toBe(MAX_EVIDENCE_PER_BLOCK)
    evidencePool.onGossip(Uint8Array.of(0xff, 0x00, 0x13))
    evidencePool.onGossip(encodeEvidenceList([equivocation(outsider, 7)]))
    // Two votes of one validator that do not conflict are no evidence.
    const e = equivocation(keys[2]!, 8)
    evidencePool.onGossip(encodeEvidenceList([{first: e.first, second: e.first}]))
    expect(evidencePool.size).toBe(MAX_EVIDENCE_PER_BLOCK)
  })

  it('drops committed evidence from the pool for good, and counts it once', () => {
    const {evidencePool, logger} = pool()
    const [a, b] = [equivocation(keys[0]!, 2), equivocation(keys[1]!, 2)]
    evidencePool.add(a, false)
    evidencePool.add(b, false)
    evidencePool.markCommitted(3, [a])
    evidencePool.markCommitted(4, [a])
    expect(evidencePool.list().pending.map(evidenceKey)).toEqual([evidenceKey(b)])
    expect(evidencePool.list().committed).toEqual([{height: 3, evidence: a}])
    expect(evidencePool.committedSinceStart).toBe(1)
    expect(evidencePool.isCommitted(a)).toBe(true)
    expect(evidencePool.add(a, true)).toBe(false)
    expect(evidencePool.forBlock().map(evidenceKey)).toEqual([evidenceKey(b)])
    expect(logger.messages('warn').filter((m) => m.includes('committed'))).toHaveLength(1)
  })

  it('loads what committed blocks hold through the evidence index, so a restarted node never proposes it again', async () => {
    const first = pool()
    const [a, b, c] = [equivocation(keys[0]!, 2), equivocation(keys[1]!, 6), equivocation(keys[2]!, 9)]
    // Blocks 3 and 7 hold evidence: each commit writes its record and the updated index.
    const records = new Map<bigint, Bytes>()
    records.set(3n, encodeConsensusRecord(commitBy(keys.slice(0, 3), 3, valueOf(3)), [a]))
    records.set(EVIDENCE_INDEX, first.evidencePool.indexRecord(3))
    first.evidencePool.markCommitted(3, [a])
    records.set(7n, encodeConsensusRecord(commitBy(keys.slice(0, 3), 7, valueOf(7)), [b]))
    records.set(EVIDENCE_INDEX, first.evidencePool.indexRecord(7))
    first.evidencePool.markCommitted(7, [b])

    const restarted = pool(records)
    await restarted.evidencePool.load()
    expect(restarted.evidencePool.list().committed.map((e) => [e.height, evidenceKey(e.evidence)])).toEqual([
      [3, evidenceKey(a)],
      [7, evidenceKey(b)],
    ])
    expect(restarted.evidencePool.add(a, false)).toBe(false)
    expect(restarted.evidencePool.add(b, false)).toBe(false)
    expect(restarted.evidencePool.add(c, false)).toBe(true)
    expect(restarted.evidencePool.forBlock().map(evidenceKey)).toEqual([evidenceKey(c)])
  })

  it('starts empty on a store without the evidence index', async () => {
    const {evidencePool} = pool()
    await evidencePool.load()
    expect(evidencePool.list()).toEqual({committed: [], pending: []})
  })

  it('repeats every pending piece when asked to gossip again', () => {
    const {evidencePool, published} = pool()
    evidencePool.add(equivocation(keys[0]!, 2), false)
    evidencePool.add(equivocation(keys[1]!, 2), false)
    evidencePool.regossip()
    expect(published).toHaveLength(2)
  })
})
