import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Address, Hex} from 'viem'
import {z} from 'zod'

import {writeJsonAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'

export const JOURNAL_FORMAT = 'xai-deployments-1'

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)

const entrySchema = z.object({
  name: z.string(),
  bytecodeHash: hex,
  argsEncoded: hex,
  from: hex,
  nonce: z.number().int().min(0),
  rawTx: hex,
  txHash: hex,
  /** sent: signed and recorded (maybe broadcast); deployed: mined with success; failed: mined and reverted. */
  status: z.enum(['sent', 'deployed', 'failed']),
  sentAt: z.string(),
  address: hex.optional(),
  blockNumber: z.string().optional(),
  gasUsed: z.string().optional(),
  minedAt: z.string().optional(),
})
export type DeploymentEntry = z.infer<typeof entrySchema> & {from: Address; rawTx: Hex; txHash: Hex; bytecodeHash: Hex; argsEncoded: Hex; address?: Address}

const journalSchema = z.object({
  _format: z.literal(JOURNAL_FORMAT),
  contract: z.string(),
  chainId: z.number().int().positive(),
  /** Oldest first; the history of every deployment of this contract on this chain. */
  deployments: z.array(entrySchema),
})
export interface DeploymentJournal {
  _format: typeof JOURNAL_FORMAT
  contract: string
  chainId: number
  deployments: DeploymentEntry[]
}

/** `<project>/.xai/deployments/<chainId>/<Name>.json` */
export function journalPath(projectRoot: string, chainId: number, contract: string): string {
  return join(projectRoot, '.xai', 'deployments', String(chainId), `${contract.replaceAll(/[/:]/g, '_')}.json`)
}

/** The journal at `path`, or an empty one. A file that is not a journal is CONTRACT_JOURNAL_CORRUPT. */
export async function readJournal(path: string, contract: string, chainId: number): Promise<DeploymentJournal> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {_format: JOURNAL_FORMAT, contract, chainId, deployments: []}
    throw corrupt(path, (err as Error).message, err)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw corrupt(path, 'not valid JSON', err)
  }
  const parsed = journalSchema.safeParse(value)
  if (!parsed.success) throw corrupt(path, parsed.error.issues[0]?.message ?? 'invalid')
  return parsed.data as DeploymentJournal
}

/** Writes the journal by atomic rename: readers see the old state or the new, never half. */
export async function writeJournal(path: string, journal: DeploymentJournal): Promise<void> {
  await writeJsonAtomic(path, journal)
}

/** Replaces the entry with the same txHash (or appends), returning a new journal. */
export function withEntry(journal: DeploymentJournal, entry: DeploymentEntry): DeploymentJournal {
  const index = journal.deployments.findIndex((e) => e.txHash === entry.txHash)
  const deployments = [...journal.deployments]
  if (index === -1) deployments.push(entry)
  else deployments[index] = entry
  return {...journal, deployments}
}

/** The newest deployed entry: what `call`/`send` by name talk to. */
export function latestDeployed(journal: DeploymentJournal): DeploymentEntry | undefined {
  return journal.deployments.findLast((e) => e.status === 'deployed')
}

export type DeployDecision =
  /** Nothing to do: this exact bytecode and args are deployed (and code is at the address). */
  | {action: 'existing'; entry: DeploymentEntry}
  /** A deployment was signed and recorded but its receipt never seen: re-broadcast, wait, record. */
  | {action: 'resume'; entry: DeploymentEntry}
  /** Sign and send a new deployment. */
  | {action: 'deploy'; reason: 'first' | 'changed' | 'forced' | 'code-missing' | 'previous-failed'}

/**
 * What `deploy` does given the journal: the newest entry for the same bytecode and constructor
 * args decides. `hasCode(address)` tells whether a deployed entry's contract still exists (a
 * reset chain loses it). `force` always deploys anew.
 */
export async function decideDeploy(
  journal: DeploymentJournal,
  target: {bytecodeHash: Hex; argsEncoded: Hex; force?: boolean},
  hasCode: (address: Address) => Promise<boolean>,
): Promise<DeployDecision> {
  if (target.force) return {action: 'deploy', reason: 'forced'}
  const same = journal.deployments.findLast((e) => e.bytecodeHash === target.bytecodeHash && e.argsEncoded.toLowerCase() === target.argsEncoded.toLowerCase())
  if (!same) return {action: 'deploy', reason: journal.deployments.length === 0 ? 'first' : 'changed'}
  if (same.status === 'sent') return {action: 'resume', entry: same}
  if (same.status === 'failed') return {action: 'deploy', reason: 'previous-failed'}
  if (same.address && (await hasCode(same.address))) return {action: 'existing', entry: same}
  return {action: 'deploy', reason: 'code-missing'}
}

function corrupt(path: string, reason: string, cause?: unknown): XaiError {
  return new XaiError(ContractsErrorCode.journalCorrupt, `The deployment journal ${path} is unreadable: ${reason}`, {
    hint: 'Fix or remove the file (it only records past deployments), then deploy again.',
    cause,
    details: {file: path},
  })
}
