/**
 * The data layer of the devnet dashboard: polling, fault classification, committed-block
 * tracking and the tx/s rate. Plain TypeScript (no Ink, no terminal), so it is tested with fake
 * status input; the Ink components only render the snapshots it produces.
 */
import {readFileSync} from 'node:fs'

import {type DevnetNodeStatus, type DevnetStatus, getDevnetStatus} from '../../devnet/devnet-status.js'
import {rpcRequest} from '../../util/rpc-client.js'
import {errorMessage} from '../../util/errors.js'

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

/** A committed block as the dashboard tracks it. */
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

/** One row of the node table. */
export interface DashboardNodeRow {
  index: number
  pid: number | null
  state: NodeState
  height: number | null
  round: number | null
  step: string | null
  peers: number | null
  /** Seconds since the node's head block was made. */
  headAgeS: number | null
  /** Shortened head hash (`0x1a2b…9f0e`). */
  headHash: string | null
  mempool: number | null
  rssMiB: number | null
}

/** One line of the committed-block list. */
export interface DashboardBlockRow {
  number: number
  /** Shortened hash (`0x1a2b…9f0e`). */
  hash: string
  txs: number
  /** Index of the node whose validator proposed it, null when no node's validator matches. */
  proposer: number | null
  ageS: number
}

/** Everything one frame of the dashboard shows. */
export interface DashboardSnapshot {
  name: string
  chainId: number | null
  /** Milliseconds between blocks (0: automine), null before the first poll. */
  blockTime: number | null
  headHeight: number | null
  txPerSecond: number | null
  nodes: DashboardNodeRow[]
  /** The last committed blocks, newest first. */
  blocks: DashboardBlockRow[]
  /** Why the last status poll failed (e.g. the devnet was reset), else null. */
  error: string | null
  /** When the last status poll finished (ms since the epoch), null before the first. */
  updatedAt: number | null
}

export interface DashboardModelOptions {
  /** The folder holding devnets/. */
  dir: string
  name: string
  /** Per-request RPC timeout; a stalled node costs a poll at most this long (default 400 ms). */
  rpcTimeoutMs?: number
  /** Committed blocks shown (default 10). */
  blocksShown?: number
  /** The tx/s window in seconds (default 10). */
  rateWindowS?: number
  /** Replaces getDevnetStatus (tests). */
  fetchStatus?: (options: {dir: string; name: string; rpcTimeoutMs: number}) => Promise<DevnetStatus>
  /** Replaces eth_getBlockByNumber over HTTP (tests). */
  fetchBlock?: (rpcUrl: string, height: number, timeoutMs: number) => Promise<CommittedBlock | null>
  /** RSS of a process in MiB, null when unknown (default: /proc/<pid>/status, Linux). */
  readRssMiB?: (pid: number) => number | null
  /** Clock in ms (tests). */
  now?: () => number
}

/** Polls a devnet and keeps what the dashboard shows; see createDashboardModel. */
export interface DashboardModel {
  /** One getDevnetStatus with short RPC timeouts; a failure is kept in `snapshot().error`. */
  refreshStatus(): Promise<void>
  /** Fetches the committed blocks not seen yet (the last `blocksShown` at most) from healthy nodes. */
  refreshBlocks(): Promise<void>
  /** refreshStatus, then refreshBlocks. */
  poll(): Promise<void>
  /** What to draw now (ages are computed at this moment). */
  snapshot(): DashboardSnapshot
}

/**
 * The dashboard's data layer for one devnet.
 *
 * @example
 * const model = createDashboardModel({dir: devnetsRoot(undefined), name: 'default'})
 * await model.poll()
 * console.log(model.snapshot().nodes.map((n) => n.state.label))
 */
export function createDashboardModel(options: DashboardModelOptions): DashboardModel {
  const rpcTimeoutMs = options.rpcTimeoutMs ?? 400
  const fetchStatus = options.fetchStatus ?? getDevnetStatus
  const fetchBlock = options.fetchBlock ?? fetchCommittedBlock
  const readRss = options.readRssMiB ?? readRssMiB
  const now = options.now ?? Date.now
  const tracker = new BlockTracker(options.blocksShown ?? 10, options.rateWindowS ?? 10)
  let status: DevnetStatus | undefined
  let previousHeights = new Map<number, number | null>()
  let error: string | null = null
  let updatedAt: number | null = null
  let rss = new Map<number, number | null>()

  const headHeight = (): number | null => {
    const heights = (status?.nodes ?? []).flatMap((n) => (n.height === null ? [] : [n.height]))
    return heights.length === 0 ? null : Math.max(...heights)
  }

  const refreshStatus = async (): Promise<void> => {
    try {
      const next = await fetchStatus({dir: options.dir, name: options.name, rpcTimeoutMs})
      previousHeights = new Map((status?.nodes ?? []).map((n) => [n.index, n.height]))
      status = next
      rss = new Map(next.nodes.flatMap((n) => (n.pid === null ? [] : [[n.index, readRss(n.pid)] as const])))
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

  const snapshot = (): DashboardSnapshot => {
    const nowMs = now()
    const nowS = nowMs / 1000
    const head = headHeight()
    const byValidator = new Map((status?.nodes ?? []).flatMap((n) => (n.validator ? [[n.validator.toLowerCase(), n.index] as const] : [])))
    return {
      name: status?.name ?? options.name,
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
    }
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

/** `0x1a2b3c…` → `0x1a2b…9f0e`. */
export function shortHash(hash: string): string {
  return hash.length <= 13 ? hash : `${hash.slice(0, 6)}…${hash.slice(-4)}`
}

interface RpcBlock {
  number: string
  hash: string
  timestamp: string
  miner?: string
  transactions: unknown[]
}

/** eth_getBlockByNumber(height, false) on one node; null when the node does not hold it. */
export async function fetchCommittedBlock(rpcUrl: string, height: number, timeoutMs: number): Promise<CommittedBlock | null> {
  const block = await rpcRequest<RpcBlock | null>(rpcUrl, 'eth_getBlockByNumber', [`0x${height.toString(16)}`, false], {timeoutMs})
  if (!block) return null
  return {
    number: Number(BigInt(block.number)),
    hash: block.hash,
    timestamp: Number(BigInt(block.timestamp)),
    txs: block.transactions.length,
    miner: block.miner ?? null,
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
