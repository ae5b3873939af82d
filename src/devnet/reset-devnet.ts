import {rm} from 'node:fs/promises'

import {XaiError} from '../util/errors.js'
import {type DevnetLocation, DEFAULT_DEVNET_NAME, devnetPaths, pathExists, readDevnetRecord} from './devnet-folder.js'
import {DevnetErrorCode, devnetNotFound} from './errors.js'
import type {DevnetEventSink} from './events.js'
import {type StoppedNode, findLiveNodes, stopNodes} from './live-nodes.js'

export interface ResetDevnetOptions extends DevnetLocation {
  /** Stop running nodes first instead of refusing; a missing devnet is then not an error. */
  force?: boolean
  graceMs?: number
}

/** What `xai devnet reset` reports. */
export interface ResetDevnetResult {
  name: string
  folder: string
  /** False only with --force on a devnet that did not exist. */
  removed: boolean
  stopped: StoppedNode[]
}

/**
 * Deletes a devnet folder (chain data, genesis, logs). Refuses while nodes run unless `force`,
 * which stops them first. Works on a corrupt folder too: node PIDs then come from node.pid files.
 */
export async function resetDevnet(options: ResetDevnetOptions, deps: {onEvent?: DevnetEventSink} = {}): Promise<ResetDevnetResult> {
  const paths = devnetPaths(options)
  if (!(await pathExists(paths.folder))) {
    if (options.force) return {name: paths.name, folder: paths.folder, removed: false, stopped: []}
    throw devnetNotFound(paths.name, paths.folder)
  }
  const record = await readDevnetRecord(paths).catch(() => undefined)
  const live = await findLiveNodes(paths, record)
  if (live.size > 0 && !options.force) {
    const nameFlag = paths.name === DEFAULT_DEVNET_NAME ? '' : ` --name ${paths.name}`
    throw new XaiError(DevnetErrorCode.running, `Devnet "${paths.name}" is running (PID ${[...live.values()].join(', ')}); not removing it`, {
      hint: `Stop it first (xai devnet down${nameFlag}) or stop and remove it at once: xai devnet reset${nameFlag} --force`,
      details: {pids: [...live.values()]},
    })
  }
  const stopped = await stopNodes(live, {graceMs: options.graceMs, onEvent: deps.onEvent})
  await rm(paths.folder, {recursive: true, force: true})
  return {name: paths.name, folder: paths.folder, removed: true, stopped}
}
