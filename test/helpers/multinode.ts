/**
 * A multi-validator devnet for end-to-end tests, driven through the CLI exactly as a user would:
 * `xai devnet up --nodes N --detach --json`, `xai devnet fault …`, `xai devnet down`. Every PID a
 * node ever had (restarts included) is tracked and killed by PID at stop.
 */
import {readFile, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {execa} from 'execa'
import type {Address, Hex} from 'viem'

import {findFreePortRange} from '../../src/util/ports.js'
import {rpcRequest} from '../../src/util/rpc-client.js'
import {XAI_CLI, cliEnv, isAlive, killProcess} from './devnet.js'

export interface MultiNode {
  index: number
  rpcUrl: string
  wsUrl: string
  pid: number
  logPath: string
  validator: string
}

export interface MultiNodeDevnet {
  dir: string
  chainId: number
  nodes: MultiNode[]
  accounts: {address: Address; privateKey: Hex}[]
  firstBlockMs?: number
  /** Runs `xai devnet <args…> --dir <dir> --json` and returns the parsed stdout. */
  cli<T = unknown>(args: string[], options?: {timeoutMs?: number}): Promise<T>
  fault(kind: string, node: number): Promise<{pid: number | null; newPid?: number}>
  /** Current PIDs from devnet.json (after restarts). */
  refresh(): Promise<void>
  stop(options?: {keepDir?: boolean}): Promise<void>
}

const everyPid = new Set<number>()
process.once('exit', () => {
  for (const pid of everyPid) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
})

export async function startMultiNodeDevnet(options: {nodes?: number; blockTime?: number; dir?: string; extraArgs?: string[]} = {}): Promise<MultiNodeDevnet> {
  const nodes = options.nodes ?? 4
  const ownDir = options.dir === undefined
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'xai-mn-')))
  // One range for both, so the RPC and p2p ports cannot overlap.
  const basePort = await findFreePortRange(2 * nodes)
  const p2pBasePort = basePort + nodes
  const pids = new Set<number>()

  const cli = async <T>(args: string[], cliOptions: {timeoutMs?: number} = {}): Promise<T> => {
    const full = [XAI_CLI, 'devnet', ...args, '--dir', dir, '--json']
    const run = await execa(process.execPath, full, {cwd: dir, reject: false, timeout: cliOptions.timeoutMs ?? 180_000, env: cliEnv(), extendEnv: false})
    if (run.exitCode !== 0) throw new Error(`xai devnet ${args.join(' ')} failed (exit ${run.exitCode}${run.timedOut ? ', timed out' : ''}):\n${run.stdout}\n${run.stderr}`)
    return JSON.parse(run.stdout) as T
  }

  const devnet: MultiNodeDevnet = {
    dir,
    chainId: 0,
    nodes: [],
    accounts: [],
    cli,
    async fault(kind, node) {
      const result = await cli<{pid: number | null; newPid?: number}>(['fault', kind, '--node', String(node)])
      if (result.newPid) {
        pids.add(result.newPid)
        everyPid.add(result.newPid)
      }
      await devnet.refresh()
      return result
    },
    async refresh() {
      const record = JSON.parse(await readFile(join(dir, 'devnets/default/devnet.json'), 'utf8')) as {nodes: {index: number; pid: number | null}[]}
      for (const n of record.nodes) {
        const node = devnet.nodes.find((x) => x.index === n.index)
        if (node && n.pid) {
          node.pid = n.pid
          pids.add(n.pid)
          everyPid.add(n.pid)
        }
      }
    },
    async stop(stopOptions = {}) {
      await execa(process.execPath, [XAI_CLI, 'devnet', 'down', '--dir', dir, '--json', '--grace-period', '5000'], {
        cwd: dir,
        reject: false,
        timeout: 60_000,
        env: cliEnv(),
        extendEnv: false,
      })
      await Promise.all([...pids].map((pid) => killProcess(pid, {graceMs: 2_000}).catch(() => undefined)))
      for (const pid of pids) everyPid.delete(pid)
      if (!stopOptions.keepDir && ownDir) await rm(dir, {recursive: true, force: true})
    },
  }

  const up = async (): Promise<void> => {
    const args = ['up', '--detach', '--base-port', String(basePort), '--p2p-base-port', String(p2pBasePort), ...(options.extraArgs ?? [])]
    if (devnet.nodes.length === 0) args.push('--nodes', String(nodes), '--block-time', String(options.blockTime ?? 1000))
    const result = await cli<{chainId: number; firstBlockMs?: number; nodes: MultiNode[]; accounts: {address: Address; privateKey: Hex}[]}>(args).catch(async (err) => {
      await devnet.refresh().catch(() => undefined)
      throw err
    })
    devnet.chainId = result.chainId
    devnet.firstBlockMs = result.firstBlockMs
    devnet.accounts = result.accounts
    devnet.nodes = result.nodes.map((n) => ({index: n.index, rpcUrl: n.rpcUrl, wsUrl: n.wsUrl, pid: n.pid, logPath: n.logPath, validator: n.validator}))
    for (const n of devnet.nodes) {
      pids.add(n.pid)
      everyPid.add(n.pid)
    }
  }
  try {
    await up()
  } catch (err) {
    await devnet.stop()
    throw err
  }
  ;(devnet as MultiNodeDevnet & {up: () => Promise<void>}).up = up
  return devnet
}

/** Starts the devnet's stopped nodes again (`xai devnet up` on an existing devnet). */
export async function upAgain(devnet: MultiNodeDevnet): Promise<void> {
  await (devnet as MultiNodeDevnet & {up: () => Promise<void>}).up()
}

/** One JSON-RPC call (the CLI's own client). */
export function rpc<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
  return rpcRequest<T>(url, method, params, {timeoutMs})
}

export async function height(url: string): Promise<number> {
  return Number(BigInt(await rpc<string>(url, 'eth_blockNumber')))
}

/** Polls `check` until it returns a value other than undefined/false, or throws after the deadline. */
export async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`)
    await sleep(200)
  }
}

/** Block hashes 1..to as node `url` reports them. */
export async function blockHashes(url: string, to: number): Promise<string[]> {
  const out: string[] = []
  for (let n = 1; n <= to; n++) {
    const block = await rpc<{hash: string} | null>(url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
    out.push(block?.hash ?? 'missing')
  }
  return out
}

export {isAlive}
