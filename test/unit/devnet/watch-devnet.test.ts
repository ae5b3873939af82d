import {type ChildProcess, spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {DevnetNodeStatus, DevnetStatus} from '../../../src/devnet/devnet-status.js'
import {BlockTracker, type CommittedBlock, type DevnetSnapshot, classifyNode, createDevnetPoller, fetchCommittedBlock, shortHash, watchDevnet} from '../../../src/devnet/watch-devnet.js'

/** Validator address of node i, in lower case (blocks carry it checksummed). */
const validator = (i: number): string => `0x${'abcd'[i]!.repeat(40)}`
const hash = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`

/** A running, healthy node i at `height`; override what a test needs. */
function node(index: number, height: number | null, extra: Partial<DevnetNodeStatus> = {}): DevnetNodeStatus {
  return {
    index,
    pid: 1000 + index,
    running: true,
    height,
    rpcUrl: `http://127.0.0.1:${8545 + index}`,
    wsUrl: `ws://127.0.0.1:${8545 + index}`,
    home: `/tmp/devnet/node-${index}`,
    round: 0,
    step: 'propose',
    peers: 3,
    network: 'connected',
    paused: false,
    headHash: height === null ? null : hash(height),
    headTime: height === null ? null : 1_000 + height,
    mempool: 0,
    validator: validator(index),
    ...extra,
  }
}

function status(nodes: DevnetNodeStatus[]): DevnetStatus {
  return {name: 'default', folder: '/tmp/devnet', chainId: 31337, blockTime: 1000, createdAt: '2025-01-01T00:00:00.000Z', running: nodes.every((n) => n.running), nodes}
}

function block(number: number, timestamp: number, txs: number, miner: string | null = null): CommittedBlock {
  return {number, hash: hash(number), timestamp, txs, miner}
}

describe('classifyNode', () => {
  const head = {headHeight: 10}

  it('reports faults worst first: DOWN, PAUSED, DISCONNECTED, NO ANSWER', () => {
    expect(classifyNode({running: false, paused: false, network: null, height: null}, head)).toMatchObject({kind: 'down', label: 'DOWN', tone: 'fault'})
    expect(classifyNode({running: true, paused: true, network: null, height: null}, head)).toMatchObject({kind: 'paused', label: 'PAUSED', tone: 'fault'})
    expect(classifyNode({running: true, paused: false, network: 'disconnected', height: 4}, head)).toMatchObject({
      kind: 'disconnected',
      label: 'DISCONNECTED',
      tone: 'warn',
      behind: 6,
    })
    expect(classifyNode({running: true, paused: false, network: 'connected', height: null}, head)).toMatchObject({kind: 'unresponsive', tone: 'warn'})
  })

  it('tolerates trailing by one block (a poll racing a commit)', () => {
    expect(classifyNode({running: true, paused: false, network: 'connected', height: 9}, head)).toMatchObject({kind: 'running', label: 'running', tone: 'ok', behind: 1})
    expect(classifyNode({running: true, paused: false, network: null, height: 10}, head)).toMatchObject({kind: 'running', behind: 0})
  })

  it('tells a node catching up (SYNCING) from one that is stuck (behind by N)', () => {
    const trailing = {running: true, paused: false, network: 'connected', height: 5}
    expect(classifyNode(trailing, {headHeight: 10, previousHeight: 3})).toMatchObject({kind: 'syncing', label: 'SYNCING', behind: 5})
    expect(classifyNode(trailing, {headHeight: 10, previousHeight: 5})).toMatchObject({kind: 'behind', label: 'behind by 5', tone: 'warn'})
    expect(classifyNode(trailing, {headHeight: 10})).toMatchObject({kind: 'behind', label: 'behind by 5'})
    expect(classifyNode(trailing, {headHeight: 10, lagTolerance: 5})).toMatchObject({kind: 'running'})
  })
})

describe('BlockTracker', () => {
  it('asks for the last 10 heights at first, then only the new ones, never genesis', () => {
    const tracker = new BlockTracker(10, 10)
    expect(tracker.missing(3)).toEqual([1, 2, 3])
    expect(tracker.missing(25)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25])
    for (let n = 16; n <= 25; n++) tracker.add(block(n, 1_000 + n, 0))
    expect(tracker.missing(25)).toEqual([])
    expect(tracker.missing(27)).toEqual([26, 27])
  })

  it('caps a jump at the last 10 and keeps retrying a height that failed', () => {
    const tracker = new BlockTracker(10, 10)
    for (let n = 1; n <= 5; n++) tracker.add(block(n, 1_000 + n, 0))
    expect(tracker.missing(500)).toEqual([491, 492, 493, 494, 495, 496, 497, 498, 499, 500])
    for (const n of [491, 492, 493, 494, 496, 497, 498, 499, 500]) tracker.add(block(n, 2_000 + n, 0))
    expect(tracker.missing(500)).toEqual([495])
  })

  it('lists the last 10 blocks newest first', () => {
    const tracker = new BlockTracker(10, 10)
    for (let n = 1; n <= 14; n++) tracker.add(block(n, 1_000 + n, n))
    expect(tracker.recent().map((b) => b.number)).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5])
  })

  it('starts over when the chain is much lower than what it saw (devnet reset)', () => {
    const tracker = new BlockTracker(10, 10)
    for (let n = 91; n <= 100; n++) tracker.add(block(n, 1_000 + n, 0))
    expect(tracker.missing(3)).toEqual([1, 2, 3])
    expect(tracker.recent()).toEqual([])
  })
})

describe('tx/s', () => {
  it('is null without blocks or with less than a second of history', () => {
    const tracker = new BlockTracker(10, 10)
    expect(tracker.txPerSecond(100)).toBeNull()
    tracker.add(block(1, 100, 5))
    expect(tracker.txPerSecond(100.5)).toBeNull()
  })

  it('counts the transactions of the last 10 s of blocks over 10 s', () => {
    const tracker = new BlockTracker(10, 10)
    // One block a second from t=1000 to t=1020, block n holding n transactions.
    for (let n = 1; n <= 21; n++) tracker.add(block(n, 999 + n, n))
    // now = 1020: the window (1010, 1020] holds blocks 12..21 → (12 + … + 21) / 10 = 16.5
    expect(tracker.txPerSecond(1020)).toBeCloseTo(16.5)
    // 5 s later with no new block: blocks 17..21 in (1015, 1025] → (17 + … + 21) / 10 = 9.5
    expect(tracker.txPerSecond(1025)).toBeCloseTo(9.5)
    // A minute later: nothing in the window.
    expect(tracker.txPerSecond(1080)).toBe(0)
  })

  it('with less than the window of history, divides by the time since the oldest block, leaving out its transactions', () => {
    const tracker = new BlockTracker(10, 10)
    tracker.add(block(7, 1000, 100)) // its transactions arrived before the dashboard saw anything
    tracker.add(block(8, 1002, 10))
    tracker.add(block(9, 1004, 30))
    expect(tracker.txPerSecond(1004)).toBeCloseTo(10)
  })

  it('counts blocks sharing a timestamp (sub-second block times)', () => {
    const tracker = new BlockTracker(10, 10)
    for (let n = 1; n <= 40; n++) tracker.add(block(n, 1000 + Math.floor(n / 2), 2))
    // now = 1020: timestamps 1011..1020 → blocks 22..40 (19 blocks) → 38 txs / 10 s
    expect(tracker.txPerSecond(1020)).toBeCloseTo(3.8)
  })
})

describe('createDevnetPoller', () => {
  const setup = (statuses: DevnetStatus[], blocks: Map<number, CommittedBlock>) => {
    let now = 1_012_500
    const asked: {url: string; height: number}[] = []
    let poll = 0
    let cpuSeconds = 10
    const model = createDevnetPoller({dir: '/tmp', name: 'default'}, {
      fetchStatus: async () => {
        const next = statuses[Math.min(poll++, statuses.length - 1)]
        if (next instanceof Error) throw next
        return next!
      },
      fetchBlock: async (url, height) => {
        asked.push({url, height})
        return blocks.get(height) ?? null
      },
      readRssMiB: (pid) => (pid === 1000 ? 142 : null),
      // Node 0 uses a quarter of a core between two polls 500 ms apart.
      readCpuSeconds: (pid) => (pid === 1000 ? (cpuSeconds += 0.125) : null),
      now: () => now,
    })
    return {model, asked, advance: (ms: number) => (now += ms)}
  }

  it('builds node rows with fault states and maps block proposers to node indexes', async () => {
    const blocks = new Map<number, CommittedBlock>()
    for (let n = 1; n <= 12; n++) blocks.set(n, block(n, 1_000 + n, n % 3, validator(n % 4).toUpperCase().replace('0X', '0x')))
    blocks.set(12, block(12, 1_012, 6, '0xdeadbeef'))
    const {model, asked} = setup(
      [
        status([
          node(0, 12, {mempool: 7}),
          node(1, 12, {round: 2, step: 'prevote'}),
          node(2, null, {paused: true, peers: null, round: null, step: null, network: null, mempool: null}),
          node(3, null, {pid: null, running: false, peers: null, round: null, step: null, network: null, mempool: null}),
        ]),
      ],
      blocks,
    )
    expect(model.snapshot()).toMatchObject({name: 'default', chainId: null, nodes: [], blocks: [], updatedAt: null})
    await model.poll()
    const snap = model.snapshot()
    expect(snap).toMatchObject({name: 'default', chainId: 31337, blockTime: 1000, headHeight: 12, error: null, updatedAt: 1_012_500})
    expect(snap.nodes.map((n) => n.state.label)).toEqual(['running', 'running', 'PAUSED', 'DOWN'])
    expect(snap.nodes[0]).toMatchObject({pid: 1000, height: 12, mempool: 7, rssMiB: 142, headHash: '0x0000…000c'})
    expect(snap.nodes[0]!.headAgeS).toBeCloseTo(0.5)
    expect(snap.nodes[1]).toMatchObject({round: 2, step: 'prevote', rssMiB: null})
    // Blocks come from healthy nodes only, the last 10 heights.
    expect(new Set(asked.map((a) => a.url))).toEqual(new Set(['http://127.0.0.1:8545', 'http://127.0.0.1:8546']))
    expect(asked.map((a) => a.height).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    expect(snap.blocks.map((b) => b.number)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3])
    expect(snap.blocks[0]).toMatchObject({hash: '0x0000…000c', txs: 6, proposer: null})
    expect(snap.blocks[1]).toMatchObject({number: 11, proposer: 3})
    expect(snap.blocks[2]).toMatchObject({number: 10, proposer: 2})
    expect(snap.blocks[1]!.ageS).toBeCloseTo(1.5)
    expect(snap.txPerSecond).not.toBeNull()
  })

  it('fetches only the new heights on the next poll and spots a node catching up', async () => {
    const blocks = new Map<number, CommittedBlock>()
    for (let n = 1; n <= 30; n++) blocks.set(n, block(n, 1_000 + n, 1))
    const {model, asked, advance} = setup(
      [status([node(0, 10), node(1, 2), node(2, 10)]), status([node(0, 11), node(1, 6), node(2, 11)])],
      blocks,
    )
    await model.poll()
    expect(model.snapshot().nodes[1]!.state.label).toBe('behind by 8')
    // CPU needs two readings.
    expect(model.snapshot().nodes[0]!.cpuPercent).toBeNull()
    asked.length = 0
    advance(500)
    await model.poll()
    expect(model.snapshot().nodes[1]!.state).toMatchObject({kind: 'syncing', behind: 5})
    expect(model.snapshot().nodes[0]!.cpuPercent).toBeCloseTo(25)
    expect(model.snapshot().nodes[1]!.cpuPercent).toBeNull()
    expect(asked.map((a) => a.height)).toEqual([11])
    // Height 11 is asked of a node that holds it, never of node 1 (at 6).
    expect(asked[0]!.url).not.toBe('http://127.0.0.1:8546')
  })

  it('keeps the last good status and reports why a poll failed', async () => {
    const {model} = setup([status([node(0, 5)]), new Error('No devnet named "default"') as unknown as DevnetStatus], new Map())
    await model.refreshStatus()
    await model.refreshStatus()
    const snap = model.snapshot()
    expect(snap.error).toBe('No devnet named "default"')
    expect(snap.nodes).toHaveLength(1)
  })

  it('does not fetch blocks when no node is healthy', async () => {
    const {model, asked} = setup([status([node(0, 5, {network: 'disconnected'}), node(1, null, {running: false, pid: null})])], new Map())
    await model.poll()
    expect(asked).toEqual([])
    expect(model.snapshot().nodes.map((n) => n.state.label)).toEqual(['DISCONNECTED', 'DOWN'])
  })
})

describe('shortHash', () => {
  it('keeps the first 4 and last 4 hex digits', () => {
    expect(shortHash(hash(0xabcdef))).toBe('0x0000…cdef')
    expect(shortHash('0x1234')).toBe('0x1234')
  })
})

/**
 * A stand-in node process: a real HTTP server answering fixed JSON-RPC, started as
 * `node -e … start --home <home>` so that the devnet's liveness check (PID alive, command line
 * naming the node's home) counts it. FAKE_MODE=stall accepts requests and never answers;
 * FAKE_MODE=garbage answers eth_getBlockByNumber with something that is not the block asked for.
 */
const FAKE_NODE = `
const http = require('node:http')
const height = Number(process.env.FAKE_HEIGHT)
const validator = process.env.FAKE_VALIDATOR
const mode = process.env.FAKE_MODE
const hash = (n) => '0x' + n.toString(16).padStart(64, '0')
const hex = (n) => '0x' + n.toString(16)
const now = Math.floor(Date.now() / 1000)
const block = (n) => ({number: hex(n), hash: hash(n), timestamp: hex(now - height + n), miner: n % 2 === 0 ? '0x' + 'a'.repeat(40) : '0x' + 'B'.repeat(40), transactions: Array.from({length: n}, (_, i) => hash(1000 + i))})
const answer = (req) => {
  switch (req.method) {
    case 'xai_nodeInfo': return {height, headHash: hash(height), headTime: now, peers: 1, network: 'connected', validator, mempool: {pending: 2, queued: 0}}
    case 'xai_consensusState': return {height: height + 1, round: 0, step: 'propose'}
    case 'eth_getBlockByNumber': {
      const n = Number(BigInt(req.params[0]))
      if (mode === 'garbage') return {...block(n + 1), transactions: 'many'}
      return n <= height ? block(n) : null
    }
    default: return null
  }
}
http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    if (mode === 'stall') return
    const msg = JSON.parse(body)
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({jsonrpc: '2.0', id: msg.id, result: answer(msg)}))
  })
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n') })
`

interface FakeNode {
  pid: number
  port: number
}

describe('watchDevnet', () => {
  let root: string
  const children: ChildProcess[] = []

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'xai-watch-'))
  })

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = once(child, 'exit')
        child.kill('SIGKILL')
        await exited
      }
    }
    await rm(root, {recursive: true, force: true})
  })

  const startFakeNode = async (index: number, env: Record<string, string>): Promise<FakeNode> => {
    const home = join(root, 'devnets', 'default', `node-${index}`)
    await mkdir(home, {recursive: true})
    const child = spawn(process.execPath, ['-e', FAKE_NODE, 'start', '--home', home], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'inherit']})
    children.push(child)
    const [line] = (await once(child.stdout!, 'data')) as [Buffer]
    return {pid: child.pid!, port: Number(line.toString().trim())}
  }

  const writeRecord = async (nodes: {rpcPort: number; pid: number | null}[]): Promise<void> => {
    const folder = join(root, 'devnets', 'default')
    await mkdir(folder, {recursive: true})
    const record = {
      version: 1,
      name: 'default',
      chainId: 31337,
      createdAt: '2026-01-01T00:00:00.000Z',
      blockTime: 1000,
      nodes: nodes.map((n, index) => ({index, rpcPort: n.rpcPort, pid: n.pid, home: join(folder, `node-${index}`), p2pPort: 40_000 + index, validator: `0x${'ab'[index] ?? 'c'}`.padEnd(42, 'ab'[index] ?? 'c')})),
    }
    await writeFile(join(folder, 'devnet.json'), JSON.stringify(record))
  }

  it('yields frozen snapshots of real nodes over HTTP and /proc, status first, then blocks; goes on after the devnet is gone', async () => {
    const a = await startFakeNode(0, {FAKE_HEIGHT: '5', FAKE_VALIDATOR: `0x${'a'.repeat(40)}`})
    const b = await startFakeNode(1, {FAKE_HEIGHT: '5', FAKE_VALIDATOR: `0x${'b'.repeat(40)}`})
    // Node 2 is stopped: no PID.
    await writeRecord([{rpcPort: a.port, pid: a.pid}, {rpcPort: b.port, pid: b.pid}, {rpcPort: 1, pid: null}])
    const abort = new AbortController()
    const seen: DevnetSnapshot[] = []
    for await (const snapshot of watchDevnet({dir: root, name: 'default'}, {intervalMs: 100, signal: abort.signal, rpcTimeoutMs: 5_000})) {
      seen.push(snapshot)
      if (seen.length === 3) await rm(join(root, 'devnets', 'default', 'devnet.json'))
      if (seen.length === 5) abort.abort()
    }
    expect(seen).toHaveLength(5)
    const [status, withBlocks, second, , gone] = seen as [DevnetSnapshot, DevnetSnapshot, DevnetSnapshot, DevnetSnapshot, DevnetSnapshot]
    expect(status).toMatchObject({name: 'default', chainId: 31337, blockTime: 1000, headHeight: 5, error: null, blocks: []})
    expect(status.nodes.map((n) => n.state.label)).toEqual(['running', 'running', 'DOWN'])
    expect(status.nodes[0]).toMatchObject({pid: a.pid, height: 5, round: 0, step: 'propose', peers: 1, mempool: 2, headHash: '0x0000…0005', cpuPercent: null})
    expect(status.nodes[0]!.rssMiB).toBeGreaterThan(0)
    expect(status.nodes[2]).toMatchObject({pid: null, height: null, rssMiB: null})
    expect(withBlocks.blocks.map((blk) => [blk.number, blk.txs, blk.proposer])).toEqual([
      [5, 5, 1],
      [4, 4, 0],
      [3, 3, 1],
      [2, 2, 0],
      [1, 1, 1],
    ])
    expect(withBlocks.txPerSecond).not.toBeNull()
    // The second poll has a CPU figure for the live nodes.
    expect(second.nodes[0]!.cpuPercent).toBeGreaterThanOrEqual(0)
    expect(second.nodes[2]!.cpuPercent).toBeNull()
    // Without devnet.json the poll fails; the last good status stays, with the reason.
    expect(gone.error).toMatch(/No devnet named "default"/)
    expect(gone.nodes).toHaveLength(3)
    // Snapshots are frozen, down to the rows.
    expect(Object.isFrozen(status) && Object.isFrozen(status.nodes) && Object.isFrozen(status.nodes[0]) && Object.isFrozen(withBlocks.blocks[0])).toBe(true)
    expect(() => {
      ;(status.nodes[0] as {height: number | null}).height = 7
    }).toThrow(TypeError)
  }, 30_000)

  it('stops at once when the signal aborts in the middle of a poll of a node that never answers', async () => {
    const stalled = await startFakeNode(0, {FAKE_HEIGHT: '5', FAKE_VALIDATOR: `0x${'a'.repeat(40)}`, FAKE_MODE: 'stall'})
    await writeRecord([{rpcPort: stalled.port, pid: stalled.pid}])
    const abort = new AbortController()
    const iterator = watchDevnet({dir: root, name: 'default'}, {signal: abort.signal, rpcTimeoutMs: 600_000})
    const next = iterator.next()
    setTimeout(() => abort.abort(), 200)
    // Without the abort this waits for the 10-minute RPC timeout and the test times out.
    await expect(next).resolves.toEqual({done: true, value: undefined})
  }, 30_000)

  it('refuses a reply to eth_getBlockByNumber that is not the block asked for', async () => {
    const liar = await startFakeNode(0, {FAKE_HEIGHT: '5', FAKE_VALIDATOR: `0x${'a'.repeat(40)}`, FAKE_MODE: 'garbage'})
    const honest = await startFakeNode(1, {FAKE_HEIGHT: '5', FAKE_VALIDATOR: `0x${'a'.repeat(40)}`})
    await expect(fetchCommittedBlock(`http://127.0.0.1:${liar.port}`, 3, 5_000)).rejects.toThrow(/not that block/)
    await expect(fetchCommittedBlock(`http://127.0.0.1:${honest.port}`, 3, 5_000)).resolves.toMatchObject({number: 3, txs: 3, miner: `0x${'B'.repeat(40)}`})
    await expect(fetchCommittedBlock(`http://127.0.0.1:${honest.port}`, 9, 5_000)).resolves.toBeNull()
  }, 30_000)
})
