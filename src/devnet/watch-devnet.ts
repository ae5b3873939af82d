/**
 * Watching a running devnet: `watchDevnet()` polls its nodes (status over JSON-RPC, committed
 * blocks, RSS and CPU from /proc) and yields immutable snapshots of what they do: heights,
 * rounds, peers, fault states, recent blocks with their proposer, tx/s. Views (the Ink
 * dashboard) only render these snapshots; nothing here knows about a terminal.
 */
import {readFileSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import {errorMessage} from '../util/errors.js'
import type {DevnetLocation} from './devnet-folder.js'
import {type DevnetNodeStatus, type DevnetStatus, getDevnetStatus} from './devnet-status.js'
import {rpcRequest} from '../util/rpc-client.js'

/** What a node looks like from outside: healthy, or the fault it shows. */
export type NodeStateKind = 'running' | 'down' | 'paused' | 'disconnected' | 'unresponsive' | 'syncing' | 'behind'

/** How a state is shown: `fault` in red, `warn` in yellow. */
export type NodeTone = 'ok' | 'warn' | 'fault'

export interface NodeState {
  kind: NodeStateKind
  /** `running`, `DOWN`, `PAUSED`, `DISCONNECTED`, `NO ANSWER`, `SYNCING` or `behind by N`. */
  label: string
  tone: NodeTone
  /** Blocks this node trails the head by (0 when level or unknown). */
  behind: number
}

export interface ClassifyContext {
  /** The highest height any node reports, or null when none answers. */
  headHeight: number | null
  /** This node's height at the previous poll: a node that trails but advances is SYNCING. */
  previousHeight?: number | null
  /** Blocks a node may trail the head unflagged (default 1: a poll can race a commit). */
  lagTolerance?: number
}

/**
 * The state of one node, worst first: DOWN (no process), PAUSED (SIGSTOP), DISCONNECTED (network
 * cut by fault injection), NO ANSWER (process alive, RPC silent), SYNCING (trailing the head and
 * advancing), behind by N (trailing and not advancing), else running.
 */
export function classifyNode(node: Pick<DevnetNodeStatus, 'running' | 'paused' | 'network' | 'height'>, context: ClassifyContext): NodeState {
  if (!node.running) return {kind: 'down', label: 'DOWN', tone: 'fault', behind: 0}
  if (node.paused) return {kind: 'paused', label: 'PAUSED', tone: 'fault', behind: 0}
  const behind = node.height !== null && context.headHeight !== null ? Math.max(0, context.headHeight - node.height) : 0
  if (node.network === 'disconnected') return {kind: 'disconnected', label: 'DISCONNECTED', tone: 'warn', behind}
  if (node.height === null) return {kind: 'unresponsive', label: 'NO ANSWER', tone: 'warn', behind: 0}
  if (behind > (context.lagTolerance ?? 1)) {
    const previous = context.previousHeight
    if (previous !== undefined && previous !== null && node.height > previous) return {kind: 'syncing', label: 'SYNCING', tone: 'warn', behind}
    return {kind: 'behind', label: `behind by ${behind}`, tone: 'warn', behind}
  }
  return {kind: 'running', label: 'running', tone: 'ok', behind}
}

/** A committed block as the watcher tracks it. */
export interface CommittedBlock {
  number: number
  hash: string
  /** Block timestamp, seconds since the epoch. */
  timestamp: number
  txs: number
  /** block.miner: the proposer's validator address. */
  miner: string | null
}

/**
 * The committed blocks seen so far: the last `keep` for display, and as many as the rate window
 * needs for tx/s. Heights are fetched once; after a jump only the last `keep` are fetched.
 */
export class BlockTracker {
  private readonly blocks = new Map<number, CommittedBlock>()
  private highest = 0

  constructor(
    readonly keep = 10,
    readonly rateWindowS = 10,
  ) {}

  /** Heights among the last `keep` up to `head` that are not held yet (genesis excluded), ascending. */
  missing(head: number): number[] {
    if (head < this.highest - this.keep) this.clear() // a lower chain: the devnet was reset
    const heights: number[] = []
    for (let h = Math.max(1, head - this.keep + 1); h <= head; h++) if (!this.blocks.has(h)) heights.push(h)
    return heights
  }

  add(block: CommittedBlock): void {
    if (block.number < 1) return
    this.blocks.set(block.number, block)
    this.highest = Math.max(this.highest, block.number)
    const newest = this.blocks.get(this.highest)?.timestamp ?? block.timestamp
    for (const [number, b] of this.blocks) {
      if (number <= this.highest - this.keep && b.timestamp < newest - this.rateWindowS - 1) this.blocks.delete(number)
    }
  }

  /** The last `keep` blocks held, newest first. */
  recent(): CommittedBlock[] {
    return [...this.blocks.values()]
      .filter((b) => b.number > this.highest - this.keep)
      .sort((a, b) => b.number - a.number)
  }

  /**
   * Transactions per second over the last `rateWindowS` seconds before `nowS`, from block
   * timestamps and transaction counts. While the blocks held span less than the window, the rate
   * is taken from the oldest block held to now, leaving out that block's own transactions (they
   * arrived before it). Null until the blocks held span at least a second.
   */
  txPerSecond(nowS: number): number | null {
    const blocks = [...this.blocks.values()].sort((a, b) => a.number - b.number)
    const oldest = blocks[0]
    if (!oldest) return null
    const start = nowS - this.rateWindowS
    let span: number
    let counted: CommittedBlock[]
    if (oldest.timestamp > start) {
      span = nowS - oldest.timestamp
      counted = blocks.slice(1)
    } else {
      span = this.rateWindowS
      counted = blocks.filter((b) => b.timestamp > start)
    }
    if (span < 1) return null
    return counted.reduce((sum, b) => sum + b.txs, 0) / span
  }

  clear(): void {
    this.blocks.clear()
    this.highest = 0
  }
}

/** One node as a snapshot shows it. */
export interface NodeSnapshot {
  readonly index: number
  readonly pid: number | null
  readonly state: Readonly<NodeState>
  readonly height: number | null
  readonly round: number | null
  readonly step: string | null
  readonly peers: number | null
  /** Seconds since the node's head block was made. */
  readonly headAgeS: number | null
  /** Shortened head hash (`0x1a2b…9f0e`). */
  readonly headHash: string | null
  readonly mempool: number | null
  /** Resident memory of the node process in MiB (Linux /proc), null when unknown. */
  readonly rssMiB: number | null
  /** CPU the node process used since the previous poll, in % of one core (Linux /proc), null when unknown. */
  readonly cpuPercent: number | null
}

/** A committed block as a snapshot shows it. */
export interface BlockSnapshot {
  readonly number: number
  /** Shortened hash (`0x1a2b…9f0e`). */
  readonly hash: string
  readonly txs: number
  /** Index of the node whose validator proposed it, null when no node's validator matches. */
  readonly proposer: number | null
  readonly ageS: number
}

/** What a devnet looks like at one moment. Frozen: a consumer may keep it. */
export interface DevnetSnapshot {
  readonly name: string
  readonly chainId: number | null
  /** Milliseconds between blocks (0: automine), null before the first poll. */
  readonly blockTime: number | null
  readonly headHeight: number | null
  readonly txPerSecond: number | null
  readonly nodes: readonly NodeSnapshot[]
  /** The last committed blocks, newest first. */
  readonly blocks: readonly BlockSnapshot[]
  /** Why the last status poll failed (e.g. the devnet was reset), else null. */
  readonly error: string | null
  /** When the last status poll finished (ms since the epoch), null before the first. */
  readonly updatedAt: number | null
}

/** The snapshot before anything is known about devnet `name`. */
export function initialDevnetSnapshot(name: string): DevnetSnapshot {
  return deepFreeze({name, chainId: null, blockTime: null, headHeight: null, txPerSecond: null, nodes: [], blocks: [], error: null, updatedAt: null})
}

export interface DevnetPollerOptions {
  /** Per-request RPC timeout; a stalled node costs a poll at most this long (default 400 ms). */
  rpcTimeoutMs?: number
  /** Committed blocks kept in a snapshot (default 10). */
  blocksShown?: number
  /** The tx/s window in seconds (default 10). */
  rateWindowS?: number
  /** Replaces getDevnetStatus (unit tests of the poller). */
  fetchStatus?: (options: DevnetLocation & {rpcTimeoutMs: number}) => Promise<DevnetStatus>
  /** Replaces eth_getBlockByNumber over HTTP (unit tests of the poller). */
  fetchBlock?: (rpcUrl: string, height: number, timeoutMs: number) => Promise<CommittedBlock | null>
  /** RSS of a process in MiB, null when unknown (default: /proc/<pid>/status, Linux). */
  readRssMiB?: (pid: number) => number | null
  /** CPU seconds (user + system) a process has used, null when unknown (default: /proc/<pid>/stat, Linux). */
  readCpuSeconds?: (pid: number) => number | null
  /** Clock in ms (tests). */
  now?: () => number
}

/** The state between polls of one devnet; see createDevnetPoller. */
export interface DevnetPoller {
  /** One getDevnetStatus with short RPC timeouts, plus RSS and CPU; a failure is kept in `snapshot().error`. */
  refreshStatus(): Promise<void>
  /** Fetches the committed blocks not seen yet (the last `blocksShown` at most) from healthy nodes. */
  refreshBlocks(): Promise<void>
  /** refreshStatus, then refreshBlocks. */
  poll(): Promise<void>
  /** A frozen snapshot of now (ages are computed at this moment). */
  snapshot(): DevnetSnapshot
}

/**
 * The polling state of one devnet, one step at a time (watchDevnet drives it on an interval).
 *
 * @example
 * const poller = createDevnetPoller({dir: '/project/.xai', name: 'default'})
 * await poller.poll()
 * console.log(poller.snapshot().nodes.map((n) => n.state.label))
 */
export function createDevnetPoller(location: DevnetLocation, options: DevnetPollerOptions = {}): DevnetPoller {
  const rpcTimeoutMs = options.rpcTimeoutMs ?? 400
  const fetchStatus = options.fetchStatus ?? getDevnetStatus
  const fetchBlock = options.fetchBlock ?? fetchCommittedBlock
  const readRss = options.readRssMiB ?? readRssMiB
  const readCpu = options.readCpuSeconds ?? readCpuSeconds
  const now = options.now ?? Date.now
  const tracker = new BlockTracker(options.blocksShown ?? 10, options.rateWindowS ?? 10)
  let status: DevnetStatus | undefined
  let previousHeights = new Map<number, number | null>()
  let error: string | null = null
  let updatedAt: number | null = null
  let rss = new Map<number, number | null>()
  /** Per node: CPU seconds and the time they were read, and the share of a core since the read before. */
  let cpu = new Map<number, {pid: number; seconds: number; atMs: number; percent: number | null}>()

  const headHeight = (): number | null => {
    const heights = (status?.nodes ?? []).flatMap((n) => (n.height === null ? [] : [n.height]))
    return heights.length === 0 ? null : Math.max(...heights)
  }

  const refreshStatus = async (): Promise<void> => {
    try {
      const next = await fetchStatus({dir: location.dir, name: location.name, rpcTimeoutMs})
      previousHeights = new Map((status?.nodes ?? []).map((n) => [n.index, n.height]))
      status = next
      const atMs = now()
      rss = new Map(next.nodes.flatMap((n) => (n.pid === null ? [] : [[n.index, readRss(n.pid)] as const])))
      const nextCpu: typeof cpu = new Map()
      for (const n of next.nodes) {
        const seconds = n.pid === null ? null : readCpu(n.pid)
        if (n.pid === null || seconds === null) continue
        const before = cpu.get(n.index)
        const elapsedS = before ? (atMs - before.atMs) / 1000 : 0
        const percent = before && before.pid === n.pid && elapsedS > 0 ? Math.max(0, ((seconds - before.seconds) / elapsedS) * 100) : null
        nextCpu.set(n.index, {pid: n.pid, seconds, atMs, percent})
      }
      cpu = nextCpu
      error = null
    } catch (err) {
      error = errorMessage(err)
    }
    updatedAt = now()
  }

  const refreshBlocks = async (): Promise<void> => {
    const head = headHeight()
    if (!status || head === null) return
    const sources = status.nodes
      .filter((n) => n.running && !n.paused && n.height !== null && n.network !== 'disconnected')
      .sort((a, b) => (b.height ?? 0) - (a.height ?? 0))
    if (sources.length === 0) return
    await Promise.all(
      tracker.missing(head).map(async (height, i) => {
        const holders = sources.filter((n) => (n.height ?? 0) >= height)
        const source = holders[i % holders.length]
        if (!source) return
        const block = await fetchBlock(source.rpcUrl, height, rpcTimeoutMs).catch(() => null)
        if (block) tracker.add(block)
      }),
    )
  }

  const snapshot = (): DevnetSnapshot => {
    const nowS = now() / 1000
    const head = headHeight()
    const byValidator = new Map((status?.nodes ?? []).flatMap((n) => (n.validator ? [[n.validator.toLowerCase(), n.index] as const] : [])))
    return deepFreeze({
      name: status?.name ?? location.name,
      chainId: status?.chainId ?? null,
      blockTime: status?.blockTime ?? null,
      headHeight: head,
      txPerSecond: tracker.txPerSecond(nowS),
      nodes: (status?.nodes ?? []).map((n) => ({
        index: n.index,
        pid: n.pid,
        state: classifyNode(n, {headHeight: head, previousHeight: previousHeights.get(n.index)}),
        height: n.height,
        round: n.round,
        step: n.step,
        peers: n.peers,
        headAgeS: n.headTime === null ? null : Math.max(0, nowS - n.headTime),
        headHash: n.headHash === null ? null : shortHash(n.headHash),
        mempool: n.mempool,
        rssMiB: rss.get(n.index) ?? null,
        cpuPercent: cpu.get(n.index)?.percent ?? null,
      })),
      blocks: tracker.recent().map((b) => ({
        number: b.number,
        hash: shortHash(b.hash),
        txs: b.txs,
        proposer: b.miner === null ? null : (byValidator.get(b.miner.toLowerCase()) ?? null),
        ageS: Math.max(0, nowS - b.timestamp),
      })),
      error,
      updatedAt,
    })
  }

  return {
    refreshStatus,
    refreshBlocks,
    async poll() {
      await refreshStatus()
      await refreshBlocks()
    },
    snapshot,
  }
}

export interface WatchDevnetOptions extends DevnetPollerOptions {
  /** Milliseconds from the start of one poll to the start of the next (default 500). */
  intervalMs?: number
  /** Ends the iteration (at once, even in the middle of a poll). */
  signal?: AbortSignal
}

/**
 * Watches a devnet until `signal` aborts (or the consumer stops iterating): each poll yields
 * twice, once the node status is in (so a stalled node never holds the status back for longer
 * than one short RPC timeout) and once the new committed blocks are. A failed poll (the devnet
 * was reset, devnet.json is gone) is reported in the snapshot's `error` with the last good
 * status, and polling goes on.
 *
 * @example
 * const abort = new AbortController()
 * for await (const snapshot of watchDevnet({dir: '/project/.xai', name: 'default'}, {intervalMs: 1000, signal: abort.signal})) {
 *   console.log(snapshot.headHeight, snapshot.nodes.map((n) => n.state.label))
 * }
 */
export async function* watchDevnet(location: DevnetLocation, options: WatchDevnetOptions = {}): AsyncGenerator<DevnetSnapshot, void, undefined> {
  const {signal} = options
  const intervalMs = options.intervalMs ?? 500
  const poller = createDevnetPoller(location, options)
  const aborted = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve()
    else signal?.addEventListener('abort', () => resolve(), {once: true})
  })
  while (signal?.aborted !== true) {
    const started = Date.now()
    await Promise.race([poller.refreshStatus(), aborted])
    if (signal?.aborted) return
    yield poller.snapshot()
    await Promise.race([poller.refreshBlocks(), aborted])
    if (signal?.aborted) return
    yield poller.snapshot()
    await sleep(Math.max(0, intervalMs - (Date.now() - started)), undefined, {signal}).catch(() => undefined)
  }
}

/** `0x1a2b3c…` → `0x1a2b…9f0e`. */
export function shortHash(hash: string): string {
  return hash.length <= 13 ? hash : `${hash.slice(0, 6)}…${hash.slice(-4)}`
}

const QUANTITY = /^0x[0-9a-f]{1,16}$/i
const HASH = /^0x[0-9a-f]{64}$/i
const ADDRESS = /^0x[0-9a-f]{40}$/i

/**
 * eth_getBlockByNumber(height, false) on one node; null when the node does not hold it. A reply
 * that is not a block of that height (a node answering nonsense) is refused with an error.
 */
export async function fetchCommittedBlock(rpcUrl: string, height: number, timeoutMs: number): Promise<CommittedBlock | null> {
  const block = await rpcRequest<unknown>(rpcUrl, 'eth_getBlockByNumber', [`0x${height.toString(16)}`, false], {timeoutMs})
  if (block === null) return null
  const b = block as Record<string, unknown>
  if (
    typeof block !== 'object' ||
    typeof b.number !== 'string' ||
    !QUANTITY.test(b.number) ||
    Number(BigInt(b.number)) !== height ||
    typeof b.hash !== 'string' ||
    !HASH.test(b.hash) ||
    typeof b.timestamp !== 'string' ||
    !QUANTITY.test(b.timestamp) ||
    !Array.isArray(b.transactions) ||
    (b.miner !== undefined && b.miner !== null && (typeof b.miner !== 'string' || !ADDRESS.test(b.miner)))
  ) {
    throw new Error(`${rpcUrl} answered eth_getBlockByNumber(${height}) with something that is not that block`)
  }
  return {
    number: height,
    hash: b.hash,
    timestamp: Number(BigInt(b.timestamp)),
    txs: b.transactions.length,
    miner: typeof b.miner === 'string' ? b.miner : null,
  }
}

/** VmRSS of a process in MiB from /proc (Linux); null elsewhere or when it is gone. */
export function readRssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Math.round(Number(match[1]) / 1024) : null
  } catch {
    return null
  }
}

/**
 * User + system CPU seconds of a process from /proc/<pid>/stat (Linux; fields 14 and 15, in
 * USER_HZ ticks, which Linux fixes at 100 for user space); null elsewhere or when it is gone.
 */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces and parentheses) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / 100 : null
  } catch {
    return null
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
