import {setTimeout as sleep} from 'node:timers/promises'

import type {PublicClient} from 'viem'

import {errorMessage} from '../util/errors.js'
import {type ProposalInfo, type TallySummary, listProposals, readGovernanceParams, tallySummary} from './governance-client.js'
import {stage} from './proposal-stage.js'

/** The proposals at one head: the open ones and the ones that just ended. */
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

/** How long a finished proposal stays in a snapshot, in blocks after its last height. */
export const RECENT_BLOCKS = 20

/** One read of the chain: the head, the proposals still voting or queued and those that ended in the last RECENT_BLOCKS, with their tallies. */
export async function readProposalsSnapshot(client: PublicClient): Promise<WatchSnapshot> {
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

/** One step of watchProposals: the latest snapshot, and why the last read failed (then the snapshot is the last good one). */
export interface ProposalsUpdate {
  snapshot: WatchSnapshot
  error: string | null
}

export interface WatchProposalsOptions {
  /** Milliseconds between reads (default 1000). */
  intervalMs?: number
  /** Ends the iteration (at once, even in the middle of a read). */
  signal?: AbortSignal
  /** A snapshot already read: the first read then waits one interval. */
  initial?: WatchSnapshot
  /** Replaces readProposalsSnapshot (tests). */
  read?: (client: PublicClient) => Promise<WatchSnapshot>
}

/**
 * Reads the proposals every `intervalMs` until `signal` aborts and yields each snapshot. A read
 * that fails after a good one is yielded as the last good snapshot with the reason (the chain
 * may be restarting) and reading goes on; a failure before any good snapshot is thrown.
 *
 * @example
 * for await (const {snapshot, error} of watchProposals(client, {signal})) console.log(snapshot.head, error)
 */
export async function* watchProposals(client: PublicClient, options: WatchProposalsOptions = {}): AsyncGenerator<ProposalsUpdate, void, undefined> {
  const {signal} = options
  const intervalMs = options.intervalMs ?? 1000
  const read = options.read ?? readProposalsSnapshot
  const aborted = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve()
    else signal?.addEventListener('abort', () => resolve(), {once: true})
  })
  let last = options.initial
  /** A read, raced with the abort; one left behind must not fail unhandled. */
  const readOrAbort = (): Promise<WatchSnapshot | void> => {
    const pending = read(client)
    pending.catch(() => undefined)
    return Promise.race([pending, aborted])
  }
  if (!last) {
    const first = await readOrAbort()
    if (!first) return
    last = first
    yield {snapshot: first, error: null}
  }
  while (signal?.aborted !== true) {
    await sleep(intervalMs, undefined, {signal}).catch(() => undefined)
    if (signal?.aborted) return
    let update: ProposalsUpdate
    try {
      const next = await readOrAbort()
      if (!next) return
      last = next
      update = {snapshot: next, error: null}
    } catch (err) {
      update = {snapshot: last, error: errorMessage(err)}
    }
    yield update
  }
}
