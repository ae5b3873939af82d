import {dirname} from 'node:path'

import {XaiError} from '../util/errors.js'
import {saveStateOnStop} from './stop-devnet.js'
import {readDevnetRecord, writeDevnetRecord} from './devnet-folder.js'
import {DevnetErrorCode, logTailHint} from './errors.js'
import type {DevnetEventSink} from './events.js'
import {type StoppedNode, findLiveNodes, stopNodes, withoutPids} from './live-nodes.js'
import {isProcessAlive, readLogTail} from '../util/process.js'
import type {StartedDevnet} from './start-devnet.js'

export interface SuperviseDevnetOptions {
  /** Stop the devnet when this fires (the CLI aborts it on SIGINT/SIGTERM). */
  signal: AbortSignal
  /** Grace period between SIGTERM and SIGKILL (default 10 s). */
  graceMs?: number
  /** How often node PIDs are checked (default 500 ms). */
  pollMs?: number
  onEvent?: DevnetEventSink
  /**
   * Keep going when a node dies (a multi-node devnet survives a faulty validator, and faults are
   * injected on purpose): the exit is reported and only the signal ends supervision.
   */
  tolerateExits?: boolean
}

export interface SuperviseDevnetResult {
  reason: 'signal'
  stopped: StoppedNode[]
}

type Ending = {kind: 'signal'} | {kind: 'exited'; index: number; pid: number; exitCode?: number; signal?: string}

/**
 * Keeps a devnet in the foreground: waits until the signal fires or a node process dies, then
 * stops every node (SIGTERM, then SIGKILL after the grace period) and clears their PIDs.
 * A node that died on its own ends in DEVNET_NODE_EXITED, with the end of its log.
 */
export async function superviseDevnet(started: StartedDevnet, options: SuperviseDevnetOptions): Promise<SuperviseDevnetResult> {
  const {paths, result} = started
  const ending = await new Promise<Ending>((resolve) => {
    let done = false
    const finish = (value: Ending): void => {
      if (done) return
      done = true
      clearInterval(timer)
      options.signal.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const onAbort = (): void => finish({kind: 'signal'})
    const reported = new Set<number>()
    const exited = (ending: Ending & {kind: 'exited'}): void => {
      if (!options.tolerateExits) return finish(ending)
      if (reported.has(ending.pid)) return
      reported.add(ending.pid)
      options.onEvent?.({type: 'node-exited', index: ending.index, pid: ending.pid, exitCode: ending.exitCode, signal: ending.signal})
    }
    const timer = setInterval(() => {
      for (const node of result.nodes) if (!isProcessAlive(node.pid)) exited({kind: 'exited', index: node.index, pid: node.pid})
    }, options.pollMs ?? 500)
    options.signal.addEventListener('abort', onAbort, {once: true})
    for (const node of result.nodes) {
      void started.exited.get(node.index)?.then((status) => exited({kind: 'exited', index: node.index, pid: node.pid, ...status}))
    }
    if (options.signal.aborted) finish({kind: 'signal'})
  })

  if (ending.kind === 'exited') options.onEvent?.({type: 'node-exited', index: ending.index, pid: ending.pid, exitCode: ending.exitCode, signal: ending.signal})
  const record = await readDevnetRecord(paths).catch(() => undefined)
  const live = await findLiveNodes(paths, record)
  if (ending.kind === 'signal') await saveStateOnStop({dir: dirname(dirname(paths.folder)), name: paths.name}, record, live, options.onEvent)
  const stopped = await stopNodes(live, {graceMs: options.graceMs, onEvent: options.onEvent})
  if (record) await writeDevnetRecord(paths, withoutPids(record))

  if (ending.kind === 'signal') return {reason: 'signal', stopped}
  const logPath = paths.nodeLog(ending.index)
  const tail = await readLogTail(logPath, 15, started.logOffsets.get(ending.index))
  const how = ending.signal ? `killed by ${ending.signal}` : ending.exitCode === undefined ? 'exited' : `exited with code ${ending.exitCode}`
  throw new XaiError(DevnetErrorCode.nodeExited, `Node ${ending.index} (PID ${ending.pid}) ${how}; the devnet was stopped`, {
    hint: `${logTailHint(logPath, tail)}\nStart it again with: xai devnet up`,
    details: {index: ending.index, pid: ending.pid, exitCode: ending.exitCode, signal: ending.signal, logPath, logTail: tail},
  })
}
