import {resolve} from 'node:path'

import {type StateDump, decodeStateBlob, encodeStateBlob, stateDumpToJson} from '../chain/state-dump.js'
import {writeFileAtomic} from '../util/atomic-write.js'
import {XaiError, errorMessage, isXaiError} from '../util/errors.js'
import {RpcRequestError, rpcRequest} from '../util/rpc-client.js'
import {type DevnetLocation, type DevnetRecord, devnetPaths, devnetRpcUrl, requireDevnetRecord} from './devnet-folder.js'
import {readStateFile} from './devnet-genesis.js'
import {findLiveNodes} from './live-nodes.js'

/** How long a node may take to dump or load a state. */
const STATE_RPC_TIMEOUT_MS = 120_000

/** What `xai devnet state save` and `load` report. */
export interface DevnetStateResult {
  name: string
  file: string
  /** Accounts in the dump. */
  accounts: number
  /** Non-zero storage slots in the dump. */
  slots: number
  /** The head block the dump was taken at (save). */
  block?: number
}

/**
 * Writes the head state of a running devnet to `file` as anvil's JSON (anvil_dumpState on node 0,
 * unpacked), by atomic rename: what `xai devnet state save` and `devnet down --state` write, and
 * what `up --state` and `anvil --load-state` read.
 */
export async function saveDevnetState(location: DevnetLocation & {file: string}): Promise<DevnetStateResult> {
  const {record, rpcUrl} = await runningDevnet(location)
  const file = resolve(location.file)
  const dump = await dumpFrom(rpcUrl)
  try {
    await writeFileAtomic(file, `${JSON.stringify(stateDumpToJson(dump))}\n`)
  } catch (err) {
    throw new XaiError('DEVNET_STATE_FAILED', `Cannot write the state to ${file}: ${errorMessage(err)}`, {hint: 'Check that the folder exists and is writable.', cause: err})
  }
  return {name: record.name, file, ...counts(dump), ...(dump.block ? {block: Number(dump.block.number)} : {})}
}

/**
 * Writes the accounts of a state file (xai's or anvil's dump) into the head state of a running
 * single-node devnet (anvil_loadState): balances, nonces, code and the dumped storage slots. A
 * devnet decided by consensus refuses, with the reason.
 */
export async function loadDevnetState(location: DevnetLocation & {file: string}): Promise<DevnetStateResult> {
  const file = resolve(location.file)
  const dump = await readStateFile(file)
  if (!dump) throw new XaiError('STATE_DUMP_INVALID', `There is no state file at ${file}`, {hint: 'Write one with xai devnet state save FILE (or anvil --dump-state FILE).'})
  const {record, rpcUrl} = await runningDevnet(location)
  try {
    await rpcRequest(rpcUrl, 'anvil_loadState', [encodeStateBlob(dump)], {timeoutMs: STATE_RPC_TIMEOUT_MS})
  } catch (err) {
    throw stateRpcFailed('Loading the state (anvil_loadState)', rpcUrl, err, record)
  }
  return {name: record.name, file, ...counts(dump)}
}

/**
 * `devnet down` of a devnet with a state file: dumps the head state there before the nodes stop.
 * Undefined when the devnet has no state file or its node 0 is not running (nothing to dump).
 */
export async function saveStateBeforeStop(location: DevnetLocation, record: DevnetRecord, live: Map<number, number>): Promise<DevnetStateResult | undefined> {
  if (!record.stateFile || !live.has(0)) return undefined
  return saveDevnetState({...location, file: record.stateFile})
}

async function runningDevnet(location: DevnetLocation): Promise<{record: DevnetRecord; rpcUrl: string}> {
  const paths = devnetPaths(location)
  const record = await requireDevnetRecord(paths)
  const live = await findLiveNodes(paths, record)
  const rpcUrl = devnetRpcUrl(record)
  if (!live.has(0) || rpcUrl === undefined) {
    throw new XaiError('DEVNET_NODE_NOT_RUNNING', `Devnet "${record.name}" is not running`, {
      hint: `Start it first: xai devnet up${record.name === 'default' ? '' : ` --name ${record.name}`}`,
    })
  }
  return {record, rpcUrl}
}

async function dumpFrom(rpcUrl: string): Promise<StateDump> {
  let blob: unknown
  try {
    blob = await rpcRequest<unknown>(rpcUrl, 'anvil_dumpState', [], {timeoutMs: STATE_RPC_TIMEOUT_MS})
  } catch (err) {
    throw stateRpcFailed('Dumping the state (anvil_dumpState)', rpcUrl, err)
  }
  if (typeof blob !== 'string') throw new XaiError('DEVNET_STATE_FAILED', `anvil_dumpState on ${rpcUrl} answered ${typeof blob}, not the hex-encoded state`, {hint: 'Is this an xai or anvil node?'})
  try {
    return decodeStateBlob(blob)
  } catch (err) {
    if (isXaiError(err)) throw new XaiError('DEVNET_STATE_FAILED', `The node at ${rpcUrl} answered a state dump that does not parse: ${err.message}`, {hint: 'Report it: a node must answer its own format.', cause: err})
    throw err
  }
}

function stateRpcFailed(what: string, rpcUrl: string, err: unknown, record?: DevnetRecord): XaiError {
  const consensus = record !== undefined && record.nodes.length > 1
  return new XaiError('DEVNET_STATE_FAILED', `${what} on ${rpcUrl} failed: ${errorMessage(err)}`, {
    hint: consensus
      ? 'A devnet decided by consensus takes no state edits; start a new devnet from the file instead: xai devnet up --name <new> --state FILE'
      : err instanceof RpcRequestError && err.rpcCode !== undefined
        ? 'The node refused the request; its message says why.'
        : 'Is the devnet running? xai devnet status',
    cause: err,
  })
}

function counts(dump: StateDump): {accounts: number; slots: number} {
  let slots = 0
  for (const account of dump.accounts.values()) slots += account.storage.size
  return {accounts: dump.accounts.size, slots}
}
