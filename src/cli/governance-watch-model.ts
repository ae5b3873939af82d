import type {PublicClient} from 'viem'

import {type ProposalInfo, type TallySummary, listProposals, readGovernanceParams, tallySummary} from '../client/governance-client.js'
import {stage} from './governance-format.js'

/** What `governance watch` shows at one head: the open proposals and the ones that just ended. */
export interface WatchSnapshot {
  head: number
  proposals: WatchedProposal[]
}

export interface WatchedProposal {
  id: number
  title: string
  kind: ProposalInfo['kind']
  state: ProposalInfo['state']
  /** Where it stands in blocks: "voting until block N, K to go", "executes in block N", … */
  stage: string
  /** Blocks until voting ends (Active) or until it executes (Queued); null otherwise. */
  blocksLeft: number | null
  tally: TallySummary
}

/** How long a finished proposal stays on screen, in blocks after its last height. */
export const RECENT_BLOCKS = 20

export async function watchSnapshot(client: PublicClient): Promise<WatchSnapshot> {
  const headBig = await client.getBlockNumber()
  const head = Number(headBig)
  const [all, params] = await Promise.all([listProposals(client, {blockNumber: headBig}), readGovernanceParams(client, {blockNumber: headBig})])
  const shown = all.filter((p) => p.state === 'Active' || p.state === 'Queued' || head - (p.executableHeight ?? p.votingEndHeight) <= RECENT_BLOCKS)
  return {
    head,
    proposals: shown.map((p) => ({
      id: p.id,
      title: p.title,
      kind: p.kind,
      state: p.state,
      stage: stage(p, head),
      blocksLeft: p.state === 'Active' ? Math.max(0, p.votingEndHeight - head) : p.state === 'Queued' && p.executableHeight !== null ? Math.max(0, p.executableHeight - head) : null,
      tally: tallySummary(p.tally, params),
    })),
  }
}

/** A bar of `width` cells, `share` (0..100) of them filled. */
export function bar(share: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round((share / 100) * width)))
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
}
