import type {DevnetPaths, DevnetRecord} from './devnet-folder.js'
import {readNodePidFiles} from './devnet-folder.js'
import type {DevnetEventSink} from './events.js'
import {type StopOutcome, isNodeProcess, stopProcess} from '../util/process.js'

export interface LiveNode {
  index: number
  pid: number
}

/**
 * The node processes of a devnet that are alive right now, by index. A PID counts only when
 * it is alive and its command line names that node's home (a recycled PID is not ours). PIDs
 * come from devnet.json and, as a fallback, from each node's own `node.pid`.
 */
export async function findLiveNodes(paths: DevnetPaths, record: DevnetRecord | undefined): Promise<Map<number, number>> {
  const live = new Map<number, number>()
  const pidFiles = await readNodePidFiles(paths)
  const indexes = new Set<number>([...(record?.nodes.map((node) => node.index) ?? []), ...pidFiles.keys()])
  for (const index of [...indexes].sort((a, b) => a - b)) {
    const candidates = [record?.nodes.find((node) => node.index === index)?.pid, pidFiles.get(index)]
    for (const pid of candidates) {
      if (pid && (await isNodeProcess(pid, paths.nodeHome(index)))) {
        live.set(index, pid)
        break
      }
    }
  }
  return live
}

export interface StoppedNode {
  index: number
  pid: number
  outcome: StopOutcome
}

/** Stops the given nodes by PID, all at once: SIGTERM, then SIGKILL after the grace period. */
export async function stopNodes(
  nodes: Map<number, number>,
  options: {graceMs?: number; onEvent?: DevnetEventSink} = {},
): Promise<StoppedNode[]> {
  return Promise.all(
    [...nodes].map(async ([index, pid]) => {
      const outcome = await stopProcess(pid, {graceMs: options.graceMs})
      options.onEvent?.({type: 'node-stopped', index, pid, outcome})
      return {index, pid, outcome}
    }),
  )
}

/** The record with every node's PID cleared (the devnet is stopped). */
export function withoutPids(record: DevnetRecord): DevnetRecord {
  return {...record, nodes: record.nodes.map((node) => ({...node, pid: null}))}
}
