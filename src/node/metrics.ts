import type {Chain} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import type {ConsensusEngine} from '../consensus/engine.js'
import type {P2PHost} from '../p2p/host.js'
import {moduleHostOf} from '../modules/host/host-of.js'

/** Governance's metrics at the head, as Prometheus lines (none on a chain without modules). */
export async function governanceMetricLines(chain: Chain): Promise<string[]> {
  const host = moduleHostOf(chain)
  if (!host) return []
  const sm = chain.createStateManager()
  await sm.setStateRoot(chain.head.header.stateRoot)
  const stats = await host.governanceStats(sm as never)
  const lines = [
    '# HELP xai_governance_proposals_total Governance proposals by their current state',
    '# TYPE xai_governance_proposals_total gauge',
    ...Object.entries(stats.proposals).map(([state, count]) => `xai_governance_proposals_total{state="${state}"} ${count}`),
    '# HELP xai_governance_votes_total Votes cast on governance proposals',
    '# TYPE xai_governance_votes_total counter',
    `xai_governance_votes_total ${stats.votes}`,
  ]
  return lines
}

/** Prometheus text exposition of a consensus node's gauges and counters (GET /metrics). */
export function consensusMetrics(deps: {chain: Chain; mempool: Mempool; engine: ConsensusEngine; host: P2PHost}): () => Promise<string> {
  return async () => {
    const {chain, mempool, engine, host} = deps
    const state = engine.consensusState() as {round: number}
    const pool = mempool.status()
    const memory = process.memoryUsage()
    const lines: string[] = []
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`)
    }
    metric('xai_chain_height', 'gauge', 'Number of the head block', Number(chain.head.header.number))
    metric('xai_consensus_round', 'gauge', 'Round of the height being decided', state.round)
    metric('xai_consensus_rounds_above_zero_total', 'counter', 'Heights decided after round 0', engine.stats.roundsAboveZero)
    metric('xai_consensus_evidence_total', 'counter', 'Double-signing evidence committed in blocks', engine.stats.evidenceCommitted)
    metric('xai_consensus_evidence_seen_total', 'counter', 'Double-signing evidence seen (committed or not)', engine.stats.evidenceSeen)
    metric('xai_blocksync_blocks_total', 'counter', 'Blocks fetched from peers by block sync', engine.stats.blocksSynced)
    metric('xai_p2p_peers', 'gauge', 'Connected peers', host.peers().length)
    metric('xai_mempool_pending', 'gauge', 'Executable transactions in the mempool', pool.pending)
    metric('xai_mempool_queued', 'gauge', 'Transactions waiting on a nonce gap', pool.queued)
    metric('process_resident_memory_bytes', 'gauge', 'Resident set size', memory.rss)
    metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use', memory.heapUsed)
    lines.push(...(await governanceMetricLines(chain)))
    return `${lines.join('\n')}\n`
  }
}

/** Prometheus text of a single (automine or timed) node: head, mempool, memory, governance. */
export function nodeMetrics(deps: {chain: Chain; mempool: Mempool}): () => Promise<string> {
  return async () => {
    const pool = deps.mempool.status()
    const memory = process.memoryUsage()
    const lines = [
      '# HELP xai_chain_height Number of the head block', '# TYPE xai_chain_height gauge', `xai_chain_height ${deps.chain.head.header.number}`,
      '# HELP xai_mempool_pending Executable transactions in the mempool', '# TYPE xai_mempool_pending gauge', `xai_mempool_pending ${pool.pending}`,
      '# HELP xai_mempool_queued Transactions waiting on a nonce gap', '# TYPE xai_mempool_queued gauge', `xai_mempool_queued ${pool.queued}`,
      '# HELP process_resident_memory_bytes Resident set size', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${memory.rss}`,
      ...(await governanceMetricLines(deps.chain)),
    ]
    return `${lines.join('\n')}\n`
  }
}
