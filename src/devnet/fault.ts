import {XaiError} from '../util/errors.js'
import {readAdminToken} from '../node/node-home.js'
import {type DevnetLocation, type DevnetRecord, devnetPaths, requireDevnetRecord, writeDevnetRecord} from './devnet-folder.js'
import {findLiveNodes} from './live-nodes.js'
import {DEFAULT_RPC_HOST} from '../util/ports.js'
import {stopProcess} from '../util/process.js'
import {rpcRequest} from '../util/rpc-client.js'
import {type StartDevnetOptions, startDevnet} from './start-devnet.js'

export const FAULT_KINDS = ['kill', 'pause', 'resume', 'restart', 'disconnect', 'reconnect'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultOptions extends DevnetLocation {
  kind: FaultKind
  node: number
  /** For restart: how the node process is started again. */
  execPath: string
  nodeEntry?: string
  env?: StartDevnetOptions['env']
  graceMs?: number
}

export interface FaultResult {
  kind: FaultKind
  node: number
  /** PID the fault was applied to (restart: the old one, null when it was not running). */
  pid: number | null
  /** restart: the new process. */
  newPid?: number
}

/**
 * Injects a fault into one node of a running devnet, for testing an application against a
 * misbehaving network: kill (SIGKILL), pause / resume (SIGSTOP / SIGCONT), restart (stop, then
 * start again from its data), disconnect / reconnect (the node drops its peers and refuses them
 * until reconnect, through its admin endpoint).
 */
export async function injectFault(options: FaultOptions): Promise<FaultResult> {
  const paths = devnetPaths(options)
  const record = await requireDevnetRecord(paths)
  const node = record.nodes.find((n) => n.index === options.node)
  if (!node) {
    throw new XaiError('DEVNET_NO_SUCH_NODE', `Devnet "${record.name}" has no node ${options.node}`, {
      hint: `Its nodes are ${record.nodes.map((n) => n.index).join(', ')}.`,
    })
  }
  const live = await findLiveNodes(paths, record)
  const pid = live.get(node.index) ?? null
  const requireRunning = (): number => {
    if (pid === null) {
      throw new XaiError('DEVNET_NODE_NOT_RUNNING', `Node ${node.index} is not running`, {
        hint: `Start it again with: xai devnet fault restart --node ${node.index} (or xai devnet up)`,
      })
    }
    return pid
  }
  switch (options.kind) {
    case 'kill': {
      const target = requireRunning()
      process.kill(target, 'SIGKILL')
      await clearPid(paths, record, node.index)
      return {kind: 'kill', node: node.index, pid: target}
    }
    case 'pause':
      process.kill(requireRunning(), 'SIGSTOP')
      return {kind: 'pause', node: node.index, pid}
    case 'resume':
      process.kill(requireRunning(), 'SIGCONT')
      return {kind: 'resume', node: node.index, pid}
    case 'restart': {
      if (pid !== null) await stopProcess(pid, {graceMs: options.graceMs})
      await clearPid(paths, record, node.index)
      const {result} = await startDevnet({dir: options.dir, name: options.name, execPath: options.execPath, nodeEntry: options.nodeEntry, env: options.env})
      const restarted = result.nodes.find((n) => n.index === node.index)
      return {kind: 'restart', node: node.index, pid, newPid: restarted?.pid}
    }
    case 'disconnect':
    case 'reconnect': {
      requireRunning()
      if (node.p2pPort === undefined) {
        throw new XaiError('DEVNET_SINGLE_NODE', 'A single-node devnet has no peers to disconnect from', {
          hint: 'Create a multi-node devnet: xai devnet up --nodes 4',
        })
      }
      const token = await readAdminToken(paths.nodeHome(node.index))
      if (!token) {
        throw new XaiError('DEVNET_NO_ADMIN_TOKEN', `Node ${node.index} has no admin token in its keys folder`, {
          hint: 'Restart the node (xai devnet fault restart) so it creates one.',
        })
      }
      const host = record.rpcHost ?? DEFAULT_RPC_HOST
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${node.rpcPort}/admin`
      await rpcRequest(url, options.kind === 'disconnect' ? 'xai_disconnect' : 'xai_reconnect', [], {
        headers: {authorization: `Bearer ${token}`},
        timeoutMs: 10_000,
      })
      return {kind: options.kind, node: node.index, pid}
    }
  }
}

async function clearPid(paths: ReturnType<typeof devnetPaths>, record: DevnetRecord, index: number): Promise<void> {
  await writeDevnetRecord(paths, {...record, nodes: record.nodes.map((n) => (n.index === index ? {...n, pid: null} : n))})
}
