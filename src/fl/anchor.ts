import {randomBytes} from 'node:crypto'
import {chmod, readFile} from 'node:fs/promises'

import {secp256k1} from '@noble/curves/secp256k1.js'
import {sha256} from '@noble/hashes/sha2.js'
import {type Address, type Hex, type PublicClient, bytesToHex, getAddress, keccak256, stringToBytes} from 'viem'
import {privateKeyToAccount, publicKeyToAddress} from 'viem/accounts'

import {claimFromFaucet} from '../client/faucet-client.js'
import {type ModuleTxSender, keySender, nodeAccountSender, sendModuleCall} from '../client/module-tx.js'
import {REJECT_CLASSES, type RejectClass, federationId, flAbi, updatesRoot} from '../modules/builtin/fl.js'
import {moduleAddress} from '../modules/module.js'
import {writeFileAtomic, writeJsonAtomic} from '../util/atomic-write.js'
import {XaiError, isXaiError} from '../util/errors.js'
import type {FederationConfig, FederationPaths, FederationState, RoundRecord} from './federation.js'

/**
 * Anchoring a federation's rounds on chain through the `fl` module: the coordinator key (a
 * random secp256k1 key in the federation folder, mode 0600), registration, one commitRound per
 * round in order, and the record of what was committed and what is pending (`chain.json`). A
 * failed commit changes nothing local: the round stays in the history and the next run commits
 * every round after the chain's last one, in order, so nothing is lost.
 */

export const FL_ADDRESS: Address = moduleAddress('fl')

/** The coordinator is funded from the faucet when it holds less than this (gas for many commits). */
export const COORDINATOR_MIN_BALANCE = 10n ** 18n

/** A client's chain account: the address of the secp256k1 key it signs updates with. */
export function clientAddress(publicKey: Uint8Array): Address {
  return publicKeyToAddress(bytesToHex(secp256k1.Point.fromBytes(publicKey).toBytes(false)))
}

/** keccak256 of the federation's settings as JSON with sorted keys (the settings are flat): its config hash on chain. */
export function configHash(config: FederationConfig): Hex {
  return keccak256(stringToBytes(JSON.stringify(Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))))
}

/** The reason class a local rejection is committed under (undefined: no update to account for, e.g. a client that failed). */
export function rejectClass(reason: string): RejectClass | undefined {
  if (reason === 'excluded-by-aggregator') return 'aggregator'
  if (reason.startsWith('client-failed')) return undefined
  if (reason.startsWith('attestation')) return 'attestation'
  if (reason.startsWith('proof')) return 'proof'
  return 'signature'
}

/** The root the chain holds for a round of the local history (see the fl module's Merkle tree). */
export function localUpdatesRoot(record: RoundRecord): Hex | undefined {
  if (!record.anchor) return undefined
  return updatesRoot(record.anchor.updates.map((u) => ({hash: u.hash as Hex, client: u.address as Address})))
}

/** ε in millionths, rounded up so the chain never understates it; 0 without DP. */
export function epsilonMicros(epsilon: number | null): bigint {
  if (epsilon === null) return 0n
  if (!Number.isFinite(epsilon)) return (1n << 256n) - 1n
  return BigInt(Math.ceil(epsilon * 1e6))
}

/** The coordinator's key, made (32 random bytes, mode 0600) on first use. */
export async function coordinatorKey(paths: FederationPaths): Promise<Hex> {
  try {
    const text = (await readFile(paths.coordinatorKey, 'utf8')).trim()
    if (!/^0x[0-9a-f]{64}$/.test(text)) throw new XaiError('FL_CORRUPT', `${paths.coordinatorKey} does not hold a key (0x and 64 hex digits)`, {hint: 'Restore the file from a backup; a new key would be another coordinator, which the chain refuses for this federation.'})
    return text as Hex
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = `0x${randomBytes(32).toString('hex')}` as Hex
  await writeFileAtomic(paths.coordinatorKey, `${key}\n`, {mode: 0o600})
  await chmod(paths.coordinatorKey, 0o600)
  return key
}

export interface ChainRecord {
  chainId: number
  federationId: Hex
  coordinator: Address
  /** Rounds committed from here: round → transaction and block. */
  committed: Record<string, {txHash: Hex; blockNumber: number}>
  /** Rounds of the history not yet on chain, with the last failure. */
  pending: {round: number; error: string}[]
}

export type AnchorEvent =
  | {type: 'funded'; address: Address; amount: string}
  | {type: 'registered'; federationId: Hex; txHash: Hex}
  | {type: 'round-committed'; round: number; txHash: Hex; blockNumber: number; ms: number; rewards: {client: Address; amount: string}[]}
  | {type: 'commit-failed'; round: number; error: string}

export interface AnchorOptions {
  client: PublicClient
  chainId: number
  paths: FederationPaths
  signal?: AbortSignal
  onEvent?: (event: AnchorEvent) => void
}

/**
 * Commits every round of `state` after the chain's last committed one, in order, registering the
 * federation first if needed and funding the coordinator from the faucet (signed by the node's
 * first unlocked account, as `xai devnet faucet`) when it is short. Never throws for a failed
 * commit: it is reported, recorded as pending in chain.json, and retried on the next call.
 */
export async function anchorRounds(state: FederationState, options: AnchorOptions): Promise<ChainRecord> {
  const {client, chainId, paths} = options
  const account = privateKeyToAccount(await coordinatorKey(paths))
  const id = federationId(account.address, state.name)
  const record: ChainRecord = {chainId, federationId: id, coordinator: account.address, committed: {}, pending: [], ...(await readChainRecord(paths))}
  record.chainId = chainId
  record.federationId = id
  const save = async (): Promise<void> => writeJsonAtomic(paths.chain, record)
  try {
    const sender = keySender(client, account, chainId)
    await fundCoordinator(client, account.address, options.onEvent)
    const [coordinator, , lastRound] = (await client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'federation', args: [id]})) as readonly [Address, Hex, bigint]
    if (BigInt(coordinator) === 0n) {
      const registered = await sendModuleCall({client, sender, to: FL_ADDRESS, abi: flAbi, functionName: 'registerFederation', args: [state.name, configHash(state.config)], what: `fl.registerFederation("${state.name}")`, rejectedCode: 'FL_CHAIN_REFUSED'})
      options.onEvent?.({type: 'registered', federationId: id, txHash: registered.txHash})
    }
    for (const round of state.rounds) {
      if (round.round <= Number(lastRound) || options.signal?.aborted) continue
      const started = performance.now()
      const result = await withRetries(() => commitOne(client, sender, id, round), options.signal)
      const ms = Math.round(performance.now() - started)
      record.committed[round.round] = {txHash: result.txHash, blockNumber: Number(result.blockNumber)}
      const rewards = result.events.filter((e) => e.event === 'RewardPaid').map((e) => ({client: getAddress(e.raw.client as Address), amount: String(e.raw.amount)}))
      options.onEvent?.({type: 'round-committed', round: round.round, txHash: result.txHash, blockNumber: Number(result.blockNumber), ms, rewards})
      record.pending = record.pending.filter((p) => p.round !== round.round)
      await save()
    }
    const chainLast = Number(lastRound)
    record.pending = state.rounds.filter((r) => r.round > chainLast && !record.committed[r.round]).map((r) => ({round: r.round, error: 'not sent (interrupted)'}))
  } catch (err) {
    const error = isXaiError(err) ? err.message : (err as Error).message
    record.pending = state.rounds.filter((r) => !record.committed[r.round]).map((r) => ({round: r.round, error}))
    for (const p of record.pending) options.onEvent?.({type: 'commit-failed', round: p.round, error})
  }
  await save()
  return record
}

/**
 * Runs `send` up to three times, a second apart: a node under load may time a simulation out or
 * drop a connection. A refusal by the module (FL_CHAIN_REFUSED) is final and not retried.
 */
async function withRetries<T>(send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send()
    } catch (err) {
      if (attempt >= 3 || signal?.aborted || (isXaiError(err) && err.code === 'FL_CHAIN_REFUSED')) throw err
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt))
    }
  }
}

async function commitOne(client: PublicClient, sender: ModuleTxSender, id: Hex, round: RoundRecord) {
  if (!round.anchor) throw new XaiError('FL_CHAIN_REFUSED', `Round ${round.round} was run before rounds recorded their updates, so it cannot be anchored`, {hint: 'Anchor a federation created with this version (start one with another --name).'})
  const accepted = round.anchor.updates.map((u) => getAddress(u.address))
  const hashes = round.anchor.updates.map((u) => u.hash as Hex)
  const rejected = round.anchor.rejected.map((r) => getAddress(r.address))
  const reasons = round.anchor.rejected.map((r) => REJECT_CLASSES.indexOf(r.class))
  return sendModuleCall({
    client,
    sender,
    to: FL_ADDRESS,
    abi: flAbi,
    functionName: 'commitRound',
    args: [id, BigInt(round.round), `0x${round.modelHash}` as Hex, localUpdatesRoot(round)!, epsilonMicros(round.epsilon), accepted, hashes, rejected, reasons],
    what: `fl.commitRound(round ${round.round})`,
    rejectedCode: 'FL_CHAIN_REFUSED',
  })
}

async function fundCoordinator(client: PublicClient, address: Address, onEvent?: (event: AnchorEvent) => void): Promise<void> {
  const balance = await client.getBalance({address})
  if (balance >= COORDINATOR_MIN_BALANCE) return
  const accounts = (await client.request({method: 'eth_accounts'} as never).catch(() => [])) as Address[]
  if (accounts.length === 0) {
    if (balance > 0n) return
    throw new XaiError('FL_COORDINATOR_UNFUNDED', `The coordinator ${address} holds no funds for gas, and the node signs for no account that could claim from the faucet for it`, {
      hint: `Send it some ether (it pays the gas of each round's commit), e.g. from a funded account with \`xai contract send\` or your wallet, then rerun.`,
    })
  }
  const paid = await claimFromFaucet(client, nodeAccountSender(client, accounts[0]!), address)
  onEvent?.({type: 'funded', address, amount: paid.amount})
}

export async function readChainRecord(paths: FederationPaths): Promise<ChainRecord | undefined> {
  try {
    return JSON.parse(await readFile(paths.chain, 'utf8')) as ChainRecord
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new XaiError('FL_CORRUPT', `Cannot read ${paths.chain}: ${(err as Error).message}`, {hint: 'Remove it: the next run with --chain rebuilds it from the chain.', cause: err})
  }
}

export interface RoundCheck {
  round: number
  ok: boolean
  /** Local checkpoint hash, history hash and chain hash of the model; the updates roots. */
  modelHash: {checkpoint: Hex | null; history: Hex; chain: Hex | null}
  updatesRoot: {history: Hex | null; chain: Hex | null}
  committed: boolean
  problems: string[]
}

/** What `fl verify` reports: per round, the local recomputation against the chain. */
export interface VerifyReport {
  name: string
  federationId: Hex
  coordinator: Address
  ok: boolean
  rounds: RoundCheck[]
  /** Rounds the chain holds beyond the local history. */
  chainLastRound: number
}

/**
 * Recomputes every round's model hash from its checkpoint and its updates root from the history,
 * and compares both with the history and the chain. A round not committed is a problem (the
 * chain cannot vouch for it); so is any difference.
 */
export async function verifyFederation(state: FederationState, options: {client: PublicClient; paths: FederationPaths; modelHashOf: (round: number) => Promise<Hex | null>}): Promise<VerifyReport> {
  const account = privateKeyToAccount(await readExistingKey(options.paths))
  const id = federationId(account.address, state.name)
  const [coordinator, chainConfig, lastRound] = (await options.client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'federation', args: [id]})) as readonly [Address, Hex, bigint]
  const rounds: RoundCheck[] = []
  const federationProblems: string[] = []
  if (BigInt(coordinator) === 0n) federationProblems.push(`federation ${id} is not registered on this chain`)
  else if (chainConfig !== configHash(state.config)) federationProblems.push(`the chain's config hash ${chainConfig} is not the local settings' ${configHash(state.config)}`)
  for (const round of state.rounds) {
    const [chainModel, chainRoot, , , , , , , , committedAt] = (await options.client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'getRound', args: [id, BigInt(round.round)]})) as readonly unknown[]
    const committed = (committedAt as bigint) !== 0n
    const checkpoint = await options.modelHashOf(round.round)
    const history = `0x${round.modelHash}` as Hex
    const root = localUpdatesRoot(round) ?? null
    const problems: string[] = []
    if (checkpoint === null) problems.push('the checkpoint is missing or unreadable')
    else if (checkpoint !== history) problems.push(`the checkpoint hashes to ${checkpoint}, the history says ${history}`)
    if (!committed) problems.push('not committed on chain')
    else {
      if (chainModel !== history) problems.push(`model hash: history ${history}, chain ${chainModel as Hex}`)
      if (checkpoint !== null && chainModel !== checkpoint) problems.push(`model hash: checkpoint ${checkpoint}, chain ${chainModel as Hex}`)
      if (root === null) problems.push('the history has no updates for this round')
      else if (root !== chainRoot) problems.push(`updates root: history ${root}, chain ${chainRoot as Hex}`)
    }
    rounds.push({round: round.round, ok: problems.length === 0, modelHash: {checkpoint, history, chain: committed ? (chainModel as Hex) : null}, updatesRoot: {history: root, chain: committed ? (chainRoot as Hex) : null}, committed, problems})
  }
  if (federationProblems.length > 0 && rounds.length > 0) rounds[0]!.problems.unshift(...federationProblems)
  return {name: state.name, federationId: id, coordinator: account.address, ok: federationProblems.length === 0 && rounds.every((r) => r.problems.length === 0), rounds, chainLastRound: Number(lastRound)}
}

async function readExistingKey(paths: FederationPaths): Promise<Hex> {
  try {
    const text = (await readFile(paths.coordinatorKey, 'utf8')).trim()
    if (/^0x[0-9a-f]{64}$/.test(text)) return text as Hex
  } catch {
    // reported below
  }
  throw new XaiError('FL_NOT_ANCHORED', `The federation has no coordinator key (${paths.coordinatorKey}): it was never run with --chain`, {hint: 'Run its rounds with --chain <devnet name | RPC URL> first.'})
}

export interface ClientReward {
  address: Address
  /** The local client id, when the federation named with --name has this client. */
  clientId: string | null
  reputation: string
  accepted: number
  rejected: number
  /** Wei paid by the fl module, ever. */
  earned: string
  /** Wei the account holds now. */
  balance: string
}

/** Every client the fl module knows, with reputation, counts, rewards and balance. */
export async function listRewards(client: PublicClient, names: Map<string, string> = new Map()): Promise<{treasury: string; clients: ClientReward[]}> {
  const count = (await client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'clientCount'})) as bigint
  const clients: ClientReward[] = []
  for (let i = 0n; i < count; i++) {
    const address = (await client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'clientAt', args: [i]})) as Address
    const [reputation, accepted, rejected, earned] = (await client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'client', args: [address]})) as readonly [bigint, bigint, bigint, bigint]
    const balance = await client.getBalance({address})
    clients.push({address, clientId: names.get(address.toLowerCase()) ?? null, reputation: reputation.toString(), accepted: Number(accepted), rejected: Number(rejected), earned: earned.toString(), balance: balance.toString()})
  }
  const treasury = await client.getBalance({address: moduleAddress('treasury')})
  return {treasury: treasury.toString(), clients}
}

/** sha256 of a round's checkpoint file (the float32 parameters, little-endian): its model hash; null when unreadable. */
export async function checkpointHash(paths: FederationPaths, round: number): Promise<Hex | null> {
  try {
    return bytesToHex(sha256(await readFile(paths.checkpoint(round))))
  } catch {
    return null
  }
}
