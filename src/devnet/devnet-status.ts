import {readFileSync} from 'node:fs'

import {type DevnetLocation, devnetPaths, requireDevnetRecord} from './devnet-folder.js'
import {findLiveNodes} from './live-nodes.js'
import {DEFAULT_RPC_HOST} from '../util/ports.js'
import {rpcRequest} from '../util/rpc-client.js'

export interface DevnetNodeStatus {
  index: number
  /** PID of the running node process, null when it is not running. */
  pid: number | null
  running: boolean
  /** Latest block number (eth_blockNumber) when the node answers, else null. */
  height: number | null
  rpcUrl: string
  wsUrl: string
  home: string
  /** Consensus round at the height being decided (multi-node devnets; null otherwise or when unknown). */
  round: number | null
  /** Consensus step (propose, prevote, precommit) when known. */
  step: string | null
  /** Connected peers (multi-node devnets), when the node answers. */
  peers: number | null
  /** 'connected', or 'disconnected' after `xai devnet fault disconnect`. */
  network: string | null
  /** True when the process is stopped by SIGSTOP (`xai devnet fault pause`). */
  paused: boolean
  /** Hash and timestamp (s) of the head block, when the node answers. */
  headHash: string | null
  headTime: number | null
  /** Pending transactions in the node's mempool, when it answers. */
  mempool: number | null
  validator: string | null
  /** Whether the node's validator is in the current set (governance adds and removes); null when unknown. */
  validating?: boolean | null
}

/** What `xai devnet status` reports. */
export interface DevnetStatus {
  name: string
  folder: string
  chainId: number
  blockTime: number
  createdAt: string
  /** True when every node is running. */
  running: boolean
  nodes: DevnetNodeStatus[]
}

interface NodeInfo {
  height: number
  headHash: string
  headTime: number
  peers: number
  network: string
  validator: string | null
  validating?: boolean
  mempool: {pending: number; queued: number}
}

/** Whether a process is stopped (SIGSTOP): state T in /proc/<pid>/stat (Linux; false elsewhere). */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state === 'T' || state === 't'
  } catch {
    return false
  }
}

/** Reads devnet.json, checks each node's PID and asks the running ones for their height. */
export async function getDevnetStatus(options: DevnetLocation & {rpcTimeoutMs?: number}): Promise<DevnetStatus> {
  const paths = devnetPaths(options)
  const record = await requireDevnetRecord(paths)
  const live = await findLiveNodes(paths, record)
  const host = record.rpcHost ?? DEFAULT_RPC_HOST
  const urlHost = host.includes(':') ? `[${host}]` : host
  const nodes = await Promise.all(
    record.nodes.map(async (node): Promise<DevnetNodeStatus> => {
      const pid = live.get(node.index) ?? null
      const rpcUrl = `http://${urlHost}:${node.rpcPort}`
      const timeoutMs = options.rpcTimeoutMs ?? 2_000
      const base = {index: node.index, pid, running: pid !== null, rpcUrl, wsUrl: `ws://${urlHost}:${node.rpcPort}`, home: paths.nodeHome(node.index)}
      const unknown = {height: null, round: null, step: null, peers: null, network: null, headHash: null, headTime: null, mempool: null, validator: node.validator ?? null, validating: null}
      const paused = pid !== null && isStopped(pid)
      if (pid === null || paused) return {...base, ...unknown, paused}
      if (node.p2pPort === undefined) {
        const height = await rpcRequest<string>(rpcUrl, 'eth_blockNumber', [], {timeoutMs}).then(
          (hex) => Number(BigInt(hex)),
          () => null,
        )
        return {...base, ...unknown, height, paused}
      }
      const [info, consensus] = await Promise.all([
        rpcRequest<NodeInfo>(rpcUrl, 'xai_nodeInfo', [], {timeoutMs}).catch(() => undefined),
        rpcRequest<{round: number; step: string}>(rpcUrl, 'xai_consensusState', [], {timeoutMs}).catch(() => undefined),
      ])
      if (!info) return {...base, ...unknown, paused}
      return {
        ...base,
        paused,
        height: info.height,
        round: consensus?.round ?? null,
        step: consensus?.step ?? null,
        peers: info.peers,
        network: info.network,
        headHash: info.headHash,
        headTime: info.headTime,
        mempool: info.mempool.pending,
        validator: info.validator,
        validating: info.validating ?? null,
      }
    }),
  )
  return {
    name: record.name,
    folder: paths.folder,
    chainId: record.chainId,
    blockTime: record.blockTime,
    createdAt: record.createdAt,
    running: nodes.length > 0 && nodes.every((node) => node.running),
    nodes,
  }
}
