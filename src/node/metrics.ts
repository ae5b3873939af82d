import type {Chain} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import type {ConsensusEngine} from '../consensus/engine.js'
import type {P2PHost} from '../p2p/host.js'

/** Prometheus text exposition of a consensus node's gauges and counters (GET /metrics). */
export function consensusMetrics(deps: {chain: Chain; mempool: Mempool; engine: ConsensusEngine; host: P2PHost}): () => string {
  return () => {
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
    return `${lines.join('\n')}\n`
  }
}
