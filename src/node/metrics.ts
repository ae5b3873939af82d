import type {Chain} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import type {ConsensusEngine} from '../consensus/engine.js'
import type {P2PHost} from '../p2p/host.js'
import type {Telemetry} from '../util/telemetry.js'
import {moduleHostOf} from '../modules/host/host-of.js'

/** Governance's state at the head (none on a chain without modules), read once per scrape. */
async function governanceAtHead(chain: Chain): Promise<{proposals: Record<string, number>; votes: number} | undefined> {
  const host = moduleHostOf(chain)
  if (!host) return undefined
  const sm = chain.createStateManager()
  await sm.setStateRoot(chain.head.header.stateRoot)
  const stats = await host.governanceStats(sm as never)
  return {proposals: stats.proposals, votes: Number(stats.votes)}
}

/**
 * Registers what every node exposes on GET /metrics in its telemetry's registry: the head, the
 * block interval, the mempool, governance (on a chain with modules). prom-client's default
 * process and Node.js metrics come with the registry (Telemetry).
 */
export function registerNodeMetrics(telemetry: Telemetry, deps: {chain: Chain; mempool: Mempool}): void {
  const {chain, mempool} = deps
  telemetry.gauge('xai_chain_height', 'Number of the head block', () => Number(chain.head.header.number))
  telemetry.gauge('xai_mempool_pending', 'Executable transactions in the mempool', () => mempool.status().pending)
  telemetry.gauge('xai_mempool_queued', 'Transactions waiting on a nonce gap', () => mempool.status().queued)
  let lastBlockAt = 0
  chain.on('block', () => {
    const now = performance.now()
    if (lastBlockAt > 0) telemetry.blockInterval.observe((now - lastBlockAt) / 1000)
    lastBlockAt = now
  })
  if (moduleHostOf(chain)) {
    // One read of governance's storage serves both metrics of a scrape.
    let reading: Promise<Awaited<ReturnType<typeof governanceAtHead>>> | undefined
    const read = (): Promise<Awaited<ReturnType<typeof governanceAtHead>>> => {
      reading ??= governanceAtHead(chain).finally(() => setTimeout(() => (reading = undefined), 0))
      return reading
    }
    telemetry.labelledGauge('xai_governance_proposals', 'Governance proposals by their current state', 'state', async () => (await read())?.proposals ?? {})
    telemetry.counter('xai_governance_votes_total', 'Votes cast on governance proposals', async () => (await read())?.votes ?? 0)
  }
}

/** What a consensus node adds: rounds, evidence, block sync, peers. */
export function registerConsensusMetrics(telemetry: Telemetry, deps: {engine: ConsensusEngine; host: P2PHost}): void {
  const {engine, host} = deps
  telemetry.gauge('xai_consensus_round', 'Round of the height being decided', () => (engine.consensusState() as {round: number}).round)
  telemetry.counter('xai_consensus_rounds_above_zero_total', 'Heights decided after round 0', () => engine.stats.roundsAboveZero)
  telemetry.counter('xai_consensus_evidence_total', 'Double-signing evidence committed in blocks', () => engine.stats.evidenceCommitted)
  telemetry.counter('xai_consensus_evidence_seen_total', 'Double-signing evidence seen (committed or not)', () => engine.stats.evidenceSeen)
  telemetry.counter('xai_blocksync_blocks_total', 'Blocks fetched from peers by block sync', () => engine.stats.blocksSynced)
  telemetry.gauge('xai_p2p_peers', 'Connected peers', () => host.peers().length)
}
