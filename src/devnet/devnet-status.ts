import {type DevnetLocation, devnetPaths, requireDevnetRecord} from './devnet-folder.js'
import {findLiveNodes} from './live-nodes.js'
import {DEFAULT_RPC_HOST} from './ports.js'
import {rpcRequest} from './rpc-client.js'

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
      let height: number | null = null
      if (pid !== null) {
        height = await rpcRequest<string>(rpcUrl, 'eth_blockNumber', [], {timeoutMs: options.rpcTimeoutMs ?? 2_000}).then(
          (hex) => Number(BigInt(hex)),
          () => null,
        )
      }
      return {index: node.index, pid, running: pid !== null, height, rpcUrl, wsUrl: `ws://${urlHost}:${node.rpcPort}`, home: paths.nodeHome(node.index)}
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
