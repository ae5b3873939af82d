import {type DevnetLocation, type DevnetRecord, devnetPaths, requireDevnetRecord, writeDevnetRecord} from './devnet-folder.js'
import type {DevnetEventSink} from './events.js'
import {findLiveNodes, stopNodes, withoutPids} from './live-nodes.js'
import type {StopOutcome} from '../util/process.js'
import {errorMessage} from '../util/errors.js'
import {saveStateBeforeStop} from './devnet-state.js'
import {stopPrometheus} from './prometheus.js'

export interface StopDevnetOptions extends DevnetLocation {
  /** Grace period between SIGTERM and SIGKILL (default 10 s). */
  graceMs?: number
}

/** What `xai devnet down` reports. */
export interface StopDevnetResult {
  name: string
  folder: string
  /** Per node: the PID it ran as (null if it was not running) and how it was stopped. */
  nodes: {index: number; pid: number | null; outcome: StopOutcome}[]
  /** How many node processes were stopped. */
  stopped: number
  /** A devnet with a state file (--state): the head state written there before the nodes stopped, or why it could not be. */
  state?: {file: string; accounts?: number; error?: string}
  /** How the Prometheus `up --prometheus` started was stopped (when it had one). */
  prometheus?: StopOutcome
}

/**
 * Stops every node of a devnet by PID (SIGTERM, then SIGKILL after the grace period; never by
 * name) and clears the PIDs in devnet.json. Stopping a stopped devnet is not an error.
 */
export async function stopDevnet(options: StopDevnetOptions, deps: {onEvent?: DevnetEventSink} = {}): Promise<StopDevnetResult> {
  const paths = devnetPaths(options)
  const record = await requireDevnetRecord(paths)
  const live = await findLiveNodes(paths, record)
  const state = await saveStateOnStop(options, record, live, deps.onEvent)
  const stopped = await stopNodes(live, {graceMs: options.graceMs, onEvent: deps.onEvent})
  const prometheus = record.prometheus ? await stopPrometheus(paths, record, options.graceMs) : undefined
  if (record.nodes.some((node) => node.pid !== null) || record.prometheus?.pid) {
    await writeDevnetRecord(paths, {...withoutPids(record), ...(record.prometheus ? {prometheus: {...record.prometheus, pid: null}} : {})})
  }
  const indexes = [...new Set([...record.nodes.map((node) => node.index), ...live.keys()])].sort((a, b) => a - b)
  return {
    name: paths.name,
    folder: paths.folder,
    nodes: indexes.map((index) => {
      const stop = stopped.find((s) => s.index === index)
      return {index, pid: stop?.pid ?? null, outcome: stop?.outcome ?? 'not-running'}
    }),
    stopped: stopped.filter((s) => s.outcome !== 'not-running').length,
    ...(state ? {state} : {}),
    ...(prometheus ? {prometheus} : {}),
  }
}

/**
 * As anvil --state: the head state goes to the devnet's state file before its nodes stop. A failed
 * dump does not keep the devnet running (its chain stays on disk: \`up\` and \`state save\` retry it).
 */
export async function saveStateOnStop(
  location: DevnetLocation,
  record: DevnetRecord | undefined,
  live: Map<number, number>,
  onEvent?: DevnetEventSink,
): Promise<{file: string; accounts?: number; error?: string} | undefined> {
  if (!record?.stateFile) return undefined
  const saved = await saveStateBeforeStop(location, record, live).then(
    (result) => (result ? {file: result.file, accounts: result.accounts} : undefined),
    (err: unknown) => ({file: record.stateFile!, error: errorMessage(err)}),
  )
  if (saved) onEvent?.({type: 'state-saved', ...saved})
  return saved
}
