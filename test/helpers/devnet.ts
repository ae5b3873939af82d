/**
 * Starts a chain for the client-facing end-to-end tests: either anvil (the reference the tests
 * are validated against) or xai's own devnet through its CLI, chosen by XAI_E2E_TARGET
 * (`anvil` | `xai`, default `xai`). The tests speak only Ethereum JSON-RPC to it, so a test that
 * passes on anvil and fails on xai points at a bug in xai.
 *
 * Every process started here is stopped by PID (SIGTERM, then SIGKILL after a grace period)
 * when `stop()` is called, and as a last resort when the test process exits.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, openSync, closeSync, readFileSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'
import type {Address, Hex} from 'viem'

import {findFreePortRange} from '../../src/util/ports.js'

export type E2eTarget = 'anvil' | 'xai'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The xai CLI under test: this checkout's bin/run.js, or XAI_E2E_CLI (e.g. an installed copy). */
export const XAI_CLI = process.env.XAI_E2E_CLI ?? join(REPO_ROOT, 'bin/run.js')
export const ANVIL_BIN = join(REPO_ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil')

/** The target under test: XAI_E2E_TARGET=anvil|xai (default xai). */
export function e2eTarget(): E2eTarget {
  const value = (process.env.XAI_E2E_TARGET ?? 'xai').trim().toLowerCase()
  if (value !== 'anvil' && value !== 'xai') throw new Error(`XAI_E2E_TARGET must be "anvil" or "xai", not "${value}"`)
  return value
}

/**
 * The ten accounts of the standard test mnemonic ("test test … junk", m/44'/60'/0'/0/i), which
 * anvil and Hardhat fund with 10,000 ETH each and which xai's devnet funds too.
 */
export const STANDARD_DEV_ACCOUNTS: readonly {address: Address; privateKey: Hex}[] = [
  ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'],
  ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'],
  ['0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'],
  ['0x90F79bf6EB2c4f870365E785982E1f101E93b906', '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6'],
  ['0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65', '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a'],
  ['0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc', '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba'],
  ['0x976EA74026E726554dB657fA54763abd0C3a0aa9', '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e'],
  ['0x14dC79964da2C08b23698B3D3cc7Ca32193d9955', '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356'],
  ['0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f', '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97'],
  ['0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6'],
].map(([address, privateKey]) => ({address: address as Address, privateKey: privateKey as Hex}))

export interface E2eNode {
  index: number
  rpcUrl: string
  wsUrl: string
  pid: number
  /** xai only: the node's log file, read for diagnostics. */
  logPath?: string
}

export interface E2eDevnet {
  target: E2eTarget
  chainId: number
  rpcUrl: string
  wsUrl: string
  /** Port of node 0 (HTTP and WebSocket share it). */
  port: number
  /** Milliseconds between blocks; 0 = a block per transaction (automine). */
  blockTime: number
  nodes: E2eNode[]
  accounts: {address: Address; privateKey: Hex}[]
  /** xai: the key the nodes' REST writes need (from `devnet up --json`). */
  apiKey?: string
  /** The folder holding the devnet (xai: the --dir given to the CLI; anvil: its log). */
  dir: string
  /** PIDs of every process this devnet runs. */
  pids(): number[]
  /** The last lines the node wrote (for failure messages). */
  logTail(lines?: number): Promise<string>
  /** Stops every process by PID and removes the folder unless `keepDir`. Idempotent. */
  stop(options?: {keepDir?: boolean}): Promise<void>
}

export interface StartE2eDevnetOptions {
  /** Milliseconds between blocks; 0 = automine. Default 0. */
  blockTime?: number
  target?: E2eTarget
  /** xai: reuse this --dir (restart after a crash); a new temp folder by default. */
  dir?: string
  /** xai: reuse this base port (restart); a free port by default. */
  port?: number
  /** How long the devnet may take to answer JSON-RPC (default 120 s: 2 cores are shared). */
  startTimeoutMs?: number
  /** xai: further `xai devnet up` flags. */
  upArgs?: string[]
}

/** Every PID started by this module and not yet seen to exit: the exit hook's list. */
const livePids = new Set<number>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Last resort when a worker ends without running afterAll: never leave a node running.
  const killAll = (): void => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    livePids.clear()
  }
  process.once('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll()
      // Vitest replaces process.exit in workers: re-raise the signal so its default action (end
      // the process) applies, unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

/** Starts anvil or an xai devnet, per `options.target` or XAI_E2E_TARGET. */
export async function startE2eDevnet(options: StartE2eDevnetOptions = {}): Promise<E2eDevnet> {
  installExitHook()
  const target = options.target ?? e2eTarget()
  return target === 'anvil' ? startAnvil(options) : startXai(options)
}

async function startAnvil(options: StartE2eDevnetOptions): Promise<E2eDevnet> {
  if (!existsSync(ANVIL_BIN)) throw new Error(`anvil is not installed at ${ANVIL_BIN} (optional dependency @foundry-rs/anvil-linux-amd64)`)
  const blockTime = options.blockTime ?? 0
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'xai-e2e-anvil-')))
  const port = options.port ?? (await freePort())
  const args = ['--host', '127.0.0.1', '--port', String(port), '--hardfork', 'prague', '--chain-id', '31337']
  if (blockTime > 0) args.push('--block-time', String(blockTime / 1000))
  const logPath = join(dir, 'anvil.log')
  const logFd = openSync(logPath, 'a')
  let child: ChildProcess
  try {
    child = spawn(ANVIL_BIN, args, {stdio: ['ignore', logFd, logFd]})
  } finally {
    closeSync(logFd)
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`Could not start ${ANVIL_BIN}`)
  livePids.add(pid)
  let exited = false
  child.once('exit', () => {
    exited = true
    livePids.delete(pid)
  })
  const rpcUrl = `http://127.0.0.1:${port}`
  const devnet: E2eDevnet = {
    target: 'anvil',
    chainId: 31337,
    rpcUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    blockTime,
    nodes: [{index: 0, rpcUrl, wsUrl: `ws://127.0.0.1:${port}`, pid, logPath}],
    accounts: STANDARD_DEV_ACCOUNTS.map((a) => ({...a})),
    dir,
    pids: () => (exited ? [] : [pid]),
    logTail: (lines) => tail(logPath, lines),
    async stop(stopOptions = {}) {
      if (!exited) await killProcess(pid)
      livePids.delete(pid)
      if (!stopOptions.keepDir && options.dir === undefined) await rm(dir, {recursive: true, force: true})
    },
  }
  try {
    await waitFor(async () => (exited ? Promise.reject(new Error(`anvil exited:\n${await tail(logPath)}`)) : rpcAnswers(rpcUrl)), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      what: `anvil to answer on ${rpcUrl}`,
    })
  } catch (err) {
    await devnet.stop()
    throw err
  }
  return devnet
}

/** What `xai devnet up --json` prints (the fields the tests use). */
interface XaiUpResult {
  name: string
  chainId: number
  nodes: {index: number; rpcUrl: string; wsUrl: string; pid: number; logPath?: string}[]
  accounts: {address: Address; privateKey: Hex}[]
  apiKey: string
}

async function startXai(options: StartE2eDevnetOptions): Promise<E2eDevnet> {
  if (process.env.XAI_E2E_CLI === undefined && !existsSync(join(REPO_ROOT, 'dist/commands/devnet/up.js'))) {
    throw new Error('xai is not built (dist/commands/devnet/up.js is missing): run `npm run build` first, or set XAI_E2E_TARGET=anvil')
  }
  const blockTime = options.blockTime ?? 0
  const ownDir = options.dir === undefined
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'xai-e2e-')))
  const port = options.port ?? (await freePort())
  const args = [XAI_CLI, 'devnet', 'up', '--detach', '--json', '--base-port', String(port), '--dir', dir, '--block-time', String(blockTime), ...(options.upArgs ?? [])]
  const up = await execa(process.execPath, args, {
    cwd: dir,
    reject: false,
    timeout: options.startTimeoutMs ?? 120_000,
    env: cliEnv(),
    extendEnv: false,
  })
  let result: XaiUpResult | undefined
  try {
    result = JSON.parse(up.stdout) as XaiUpResult
  } catch {
    result = undefined
  }
  const pids = new Set<number>((result?.nodes ?? []).map((n) => n.pid).filter((p) => Number.isInteger(p) && p > 0))
  for (const pid of pids) livePids.add(pid)
  const logPaths = (result?.nodes ?? []).map((n) => n.logPath).filter((p): p is string => typeof p === 'string')

  const stop = async (stopOptions: {keepDir?: boolean} = {}): Promise<void> => {
    // `devnet down` first (the CLI's own way), then make sure by PID whatever it left behind.
    if ([...pids].some(isAlive)) {
      await execa(process.execPath, [XAI_CLI, 'devnet', 'down', '--json', '--dir', dir], {cwd: dir, reject: false, timeout: 30_000, env: cliEnv(), extendEnv: false})
    }
    await Promise.all([...pids].map((pid) => killProcess(pid)))
    for (const pid of pids) livePids.delete(pid)
    if (!stopOptions.keepDir && ownDir) await rm(dir, {recursive: true, force: true})
  }

  if (up.exitCode !== 0 || result === undefined || !Array.isArray(result.nodes) || result.nodes.length === 0) {
    await stop()
    throw new Error(
      `xai devnet up failed (exit code ${up.exitCode}${up.timedOut ? ', timed out' : ''}):\n$ node ${args.join(' ')}\nstdout: ${up.stdout}\nstderr: ${up.stderr}`,
    )
  }
  const node0 = result.nodes[0]!
  return {
    target: 'xai',
    chainId: result.chainId,
    rpcUrl: node0.rpcUrl,
    wsUrl: node0.wsUrl,
    port,
    blockTime,
    nodes: result.nodes.map((n) => ({index: n.index, rpcUrl: n.rpcUrl, wsUrl: n.wsUrl, pid: n.pid, logPath: n.logPath})),
    accounts: result.accounts,
    apiKey: result.apiKey,
    dir,
    pids: () => [...pids].filter(isAlive),
    logTail: async (lines) => (await Promise.all(logPaths.map((p) => tail(p, lines)))).join('\n'),
    stop,
  }
}

/**
 * The environment for the xai CLI and the nodes it spawns: the test runner's, less what would
 * change how the CLI runs. Vitest sets NODE_ENV=test, with which oclif runs the TypeScript
 * sources through tsx instead of the built dist/ a user runs.
 */
export function cliEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === 'NODE_ENV' || key === 'VITEST' || key.startsWith('VITEST_') || key === 'TSX_TSCONFIG_PATH') continue
    env[key] = value
  }
  env.NO_COLOR = '1'
  // Never the real ~/.config/xai: user settings would change what the CLI under test does.
  if (!env.XAI_CONFIG_DIR) env.XAI_CONFIG_DIR = (emptyUserConfigDir ??= mkdtempSync(join(tmpdir(), 'xai-test-user-config-')))
  return env
}

let emptyUserConfigDir: string | undefined

/** A TCP port free on 127.0.0.1 right now, outside the kernel's ephemeral range (see findFreePortRange). */
export async function freePort(): Promise<number> {
  return findFreePortRange(1)
}

/** True while `pid` exists and is not a zombie (an unreaped, killed node still answers kill 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z'
  } catch {
    return false
  }
}

/** Stops a process by PID: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function killProcess(pid: number, options: {graceMs?: number; signal?: NodeJS.Signals} = {}): Promise<void> {
  if (!isAlive(pid)) return
  const signal = options.signal ?? 'SIGTERM'
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  if (signal !== 'SIGKILL' && (await waitForExit(pid, options.graceMs ?? 10_000))) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return
  }
  if (!(await waitForExit(pid, 10_000))) throw new Error(`Process ${pid} is still alive after SIGKILL`)
}

/** SIGKILL (kill -9) and wait until the process is gone. */
export async function kill9(pid: number): Promise<void> {
  await killProcess(pid, {signal: 'SIGKILL'})
  livePids.delete(pid)
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false
    await sleep(25)
  }
  return true
}

export interface WaitForOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Named in the timeout error: "Timed out after 30 s waiting for <what>". */
  what: string
}

/**
 * Polls `probe` until it returns something other than undefined/false (bounded; the polling
 * interval is not a synchronization sleep: the condition is re-checked each time). A probe
 * that throws ends the wait with its error.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, options: WaitForOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${options.what}`)
    await sleep(options.intervalMs ?? 100)
  }
}

/** One raw JSON-RPC exchange over HTTP: the whole response object, never thrown on `error`. */
export async function rpcRaw(url: string, body: unknown, timeoutMs = 30_000): Promise<{status: number; json: unknown; text: string}> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: response.status, json, text}
}

let nextId = 1

/** Calls one JSON-RPC method and returns `result`, throwing with the error object otherwise. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const id = nextId++
  const {json, text} = await rpcRaw(url, {jsonrpc: '2.0', id, method, params})
  const response = json as {result?: T; error?: {code: number; message: string; data?: unknown}} | undefined
  if (!response || typeof response !== 'object') throw new Error(`${method}: not a JSON-RPC response: ${text.slice(0, 500)}`)
  if (response.error) {
    const err = new Error(`${method} failed: ${response.error.code} ${response.error.message}`) as Error & {rpcError?: unknown}
    err.rpcError = response.error
    throw err
  }
  return response.result as T
}

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    await rpc(url, 'eth_chainId')
    return true
  } catch {
    return false
  }
}

async function tail(path: string, lines = 40): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(-lines).join('\n')
  } catch {
    return `(no log at ${path})`
  }
}
