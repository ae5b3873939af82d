// Pluggable benchmark targets. A target is a node (or a set of processes) serving Ethereum
// JSON-RPC on loopback with the 10 dev accounts of the `test … junk` mnemonic funded at chain id
// 31337. Each scenario starts a fresh instance and stops it afterwards.
//
// To add a target (e.g. the multi-node devnet), implement `Target` and register a factory in
// `TARGETS` below.
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {findFreePortRange} from '../../src/util/ports.js'
import {NODE_PROCESS_FLAGS, defaultNodeEntry} from '../../src/devnet/spawn-node.js'
import {freePort, killTracked, procStatusBytes, sleep, spawnTracked, type Spawned} from './proc.js'
import {RpcClient} from './rpc.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface StartInfo {
  /** Spawn → first successful `eth_chainId` answer, in ms. */
  startupMs: number
  chainId: number
}

export interface Target {
  readonly name: string
  /** Valid after start(). */
  readonly rpcUrl: string
  start(): Promise<StartInfo>
  /** Idempotent; kills every process of the target by PID (SIGTERM, then SIGKILL). */
  stop(): Promise<void>
  /** PID of the main node process (VmHWM is read from it), undefined when not running. */
  pid(): number | undefined
  /** Root PIDs whose process trees are sampled for RSS (defaults to [pid()]). */
  pids(): number[]
  /** Peak RSS (VmHWM) of each node process, for targets of several nodes. */
  peakRssPerNode?(): number[]
  /** JSON-RPC URL of each node, in the order of pids(), for targets of several nodes. */
  nodeRpcUrls?(): string[]
}

export interface TargetOptions {
  /** Block interval in seconds. */
  blockTimeSec: number
  startTimeoutMs: number
}

export type TargetFactory = (options: TargetOptions) => Target

/**
 * Spawn `command args` and poll `eth_chainId` every 5 ms until it answers. Throws with the
 * process output tail if the process exits or the timeout passes.
 */
async function spawnAndWait(name: string, command: string, args: string[], rpcUrl: string, timeoutMs: number, cwd?: string): Promise<{spawned: Spawned; info: StartInfo}> {
  const t0 = performance.now()
  const spawned = spawnTracked(command, args, {cwd})
  const probe = new RpcClient(rpcUrl, {maxSockets: 1, timeoutMs: 2000})
  try {
    for (let attempt = 0; attempt < 1_000_000; attempt++) {
      if (spawned.hasExited() || spawned.pid <= 0) {
        const {code, signal} = await spawned.exited
        throw new Error(`${name}: process exited before answering JSON-RPC (code ${code}, signal ${signal}).\n--- output tail ---\n${spawned.tail().trim() || '(no output)'}`)
      }
      if (performance.now() - t0 > timeoutMs) {
        await killTracked(spawned)
        throw new Error(`${name}: no JSON-RPC answer on ${rpcUrl} within ${timeoutMs} ms.\n--- output tail ---\n${spawned.tail().trim() || '(no output)'}`)
      }
      try {
        const chainIdHex = await probe.request<string>('eth_chainId')
        const startupMs = performance.now() - t0
        return {spawned, info: {startupMs, chainId: Number(chainIdHex)}}
      } catch {
        await sleep(5)
      }
    }
    throw new Error(`${name}: startup loop exhausted`)
  } catch (error) {
    await killTracked(spawned)
    throw error
  } finally {
    probe.close()
  }
}

abstract class SingleProcessTarget implements Target {
  abstract readonly name: string
  protected spawned: Spawned | undefined
  protected port = 0

  constructor(protected readonly options: TargetOptions) {}

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.port}/`
  }

  pid(): number | undefined {
    return this.spawned && !this.spawned.hasExited() ? this.spawned.pid : undefined
  }

  pids(): number[] {
    const pid = this.pid()
    return pid === undefined ? [] : [pid]
  }

  protected abstract command(): Promise<{command: string; args: string[]; cwd?: string}>

  async start(): Promise<StartInfo> {
    if (this.spawned) throw new Error(`${this.name}: already started`)
    this.port = await freePort()
    const {command, args, cwd} = await this.command()
    const {spawned, info} = await spawnAndWait(this.name, command, args, this.rpcUrl, this.options.startTimeoutMs, cwd)
    this.spawned = spawned
    return info
  }

  async stop(): Promise<void> {
    const spawned = this.spawned
    this.spawned = undefined
    if (spawned) await killTracked(spawned)
  }
}

export const ANVIL_BIN = path.join(REPO_ROOT, 'node_modules', '@foundry-rs', 'anvil-linux-amd64', 'bin', 'anvil')

class AnvilTarget extends SingleProcessTarget {
  readonly name = 'anvil'

  protected async command() {
    if (!existsSync(ANVIL_BIN)) throw new Error(`anvil: binary not found at ${ANVIL_BIN} (optional dependency @foundry-rs/anvil-linux-amd64 not installed?)`)
    return {
      command: ANVIL_BIN,
      args: ['--host', '127.0.0.1', '--port', String(this.port), '--block-time', String(this.options.blockTimeSec), '--silent'],
    }
  }
}

class XaiTarget extends SingleProcessTarget {
  readonly name = 'xai'
  private home: string | undefined

  protected async command() {
    // The entry `xai devnet up` spawns its nodes with (bin/xai-node.js: `xai node start` without the CLI framework).
    const entry = defaultNodeEntry()
    const built = path.join(REPO_ROOT, 'dist', 'devnet', 'node', 'node-entry.js')
    if (!existsSync(built)) {
      throw new Error(
        `xai: the node is not built (${path.relative(REPO_ROOT, built)} is missing). ` +
          `Run \`npm run build\` first; if it still is missing, the xai node (src/node/node.ts, \`xai node start\`) has not landed yet.`,
      )
    }
    this.home = process.env.XAI_BENCH_KEEP_HOME ?? (await mkdtemp(path.join(tmpdir(), 'xai-bench-')))
    // XAI_BENCH_NODE_FLAGS passes Node.js flags to the node process (e.g. --cpu-prof for profiling).
    const nodeFlags = (process.env.XAI_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
    return {
      command: process.execPath,
      // The same Node.js flags `xai devnet up` starts its nodes with.
      args: [...NODE_PROCESS_FLAGS, ...nodeFlags, entry, '--home', this.home, '--rpc-port', String(this.port), '--block-time', String(Math.round(this.options.blockTimeSec * 1000))],
      cwd: REPO_ROOT,
    }
  }

  override async stop(): Promise<void> {
    await super.stop()
    const home = this.home
    this.home = undefined
    if (home && !process.env.XAI_BENCH_KEEP_HOME) await rm(home, {recursive: true, force: true, maxRetries: 3})
  }

  override async start(): Promise<StartInfo> {
    try {
      return await super.start()
    } catch (error) {
      await this.stop()
      throw error
    }
  }
}

/**
 * A multi-validator xai devnet (`xai devnet up --nodes N --detach`): N node processes agreeing by
 * Tendermint consensus. The load goes to node 0; every node executes every block. Startup is the
 * time from spawning `xai devnet up` to its return, which is when the first block is committed.
 */
class XaiDevnetTarget implements Target {
  readonly name: string
  private dir: string | undefined
  private nodePids: number[] = []
  private nodeUrls: string[] = []
  private port = 0

  constructor(
    private readonly options: TargetOptions,
    private readonly nodes: number,
  ) {
    this.name = `xai${nodes}`
  }

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.port}/`
  }

  pid(): number | undefined {
    return this.nodePids[0]
  }

  pids(): number[] {
    return [...this.nodePids]
  }

  peakRssPerNode(): number[] {
    return this.nodePids.map((pid) => procStatusBytes(pid, 'VmHWM') ?? 0)
  }

  nodeRpcUrls(): string[] {
    return [...this.nodeUrls]
  }

  async start(): Promise<StartInfo> {
    const entry = path.join(REPO_ROOT, 'bin', 'run.js')
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'devnet', 'up.js'))) throw new Error(`${this.name}: not built; run \`npm run build\` first`)
    this.dir = await mkdtemp(path.join(tmpdir(), 'xai-bench-devnet-'))
    this.port = await findFreePortRange(2 * this.nodes)
    const p2pPort = this.port + this.nodes
    const args = [entry, 'devnet', 'up', '--nodes', String(this.nodes), '--detach', '--json', '--dir', this.dir, '--base-port', String(this.port)]
    args.push('--p2p-base-port', String(p2pPort), '--block-time', String(Math.round(this.options.blockTimeSec * 1000)))
    const t0 = performance.now()
    const up = await execa(process.execPath, args, {cwd: this.dir, reject: false, timeout: this.options.startTimeoutMs * 4})
    const startupMs = performance.now() - t0
    let result: {chainId: number; nodes: {pid: number; rpcUrl: string}[]} | undefined
    try {
      result = JSON.parse(up.stdout) as typeof result
    } catch {
      result = undefined
    }
    this.nodePids = result?.nodes.map((n) => n.pid) ?? []
    this.nodeUrls = result?.nodes.map((n) => n.rpcUrl) ?? []
    if (up.exitCode !== 0 || !result) {
      await this.stop()
      throw new Error(`${this.name}: xai devnet up failed (code ${up.exitCode}).\n${up.stderr.slice(-4000)}`)
    }
    return {startupMs, chainId: result.chainId}
  }

  async stop(): Promise<void> {
    const dir = this.dir
    this.dir = undefined
    if (!dir) return
    const entry = path.join(REPO_ROOT, 'bin', 'run.js')
    const down = spawnTracked(process.execPath, [entry, 'devnet', 'down', '--dir', dir, '--grace-period', '5000'], {cwd: dir})
    await down.exited
    for (const pid of this.nodePids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // stopped by devnet down
      }
    }
    this.nodePids = []
    this.nodeUrls = []
    // XAI_BENCH_KEEP_HOME keeps the devnet folder (node logs) for a look afterwards.
    if (process.env.XAI_BENCH_KEEP_HOME) process.stderr.write(`${this.name}: kept ${dir}\n`)
    else await rm(dir, {recursive: true, force: true, maxRetries: 3})
  }
}

export const TARGETS: Record<string, TargetFactory> = {
  xai: (options) => new XaiTarget(options),
  xai4: (options) => new XaiDevnetTarget(options, 4),
  anvil: (options) => new AnvilTarget(options),
}
