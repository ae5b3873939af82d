import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {findFreePortRange} from '../util/ports.js'
import {startDevnet} from './start-devnet.js'
import {stopDevnet} from './stop-devnet.js'
import {ExitCode, XaiError} from '../util/errors.js'
import {compileProject} from '../contracts/compile-project.js'
import type {Project} from '../contracts/project.js'

export type ContractTestEvent =
  | {type: 'compiled'; compiled: number; upToDate: number}
  | {type: 'devnet-started'; nodes: number; rpcUrl: string; chainId: number; folder: string}
  | {type: 'tests-started'; vitest: string; args: string[]}
  | {type: 'devnet-stopped'; stopped: number}

export interface ContractTestOptions {
  /** Validators of the throwaway devnet (default 1; more run Tendermint BFT). */
  nodes?: number
  /** Arguments after `--`, passed to `vitest run`. */
  vitestArgs?: string[]
  /** The Node.js binary for the nodes and vitest (the CLI passes process.execPath). */
  execPath: string
  /** Environment of vitest, on top of which the devnet's variables are set (default process.env). */
  env?: NodeJS.ProcessEnv
  /** Where vitest's output goes: 'inherit' (stdout/stderr) or 'stderr' (both to stderr, for --json). */
  output?: 'inherit' | 'stderr'
  /** Aborting (Ctrl-C) stops vitest, then the devnet. */
  signal?: AbortSignal
  onEvent?: (event: ContractTestEvent) => void
}

export interface ContractTestResult {
  /** vitest's exit code (the command exits with it). */
  exitCode: number
  nodes: number
  chainId: number
  rpcUrl: string
  /** Which vitest ran: the project's (node_modules) or xai's own. */
  vitest: string
  /** The node processes the devnet ran as (all stopped when this resolves). */
  pids: number[]
}

/**
 * The environment the project's tests get, documented in the contracts guide:
 * XAI_RPC_URL (node 0), XAI_RPC_URLS (every node, comma-separated), XAI_WS_URL, XAI_CHAIN_ID,
 * XAI_PRIVATE_KEYS (the ten funded dev accounts, comma-separated 0x keys) and XAI_ACCOUNTS
 * (their addresses).
 */
export function testEnvironment(devnet: {chainId: number; nodes: {rpcUrl: string; wsUrl: string}[]; accounts: {address: string; privateKey: string}[]}): Record<string, string> {
  return {
    XAI_RPC_URL: devnet.nodes[0]!.rpcUrl,
    XAI_RPC_URLS: devnet.nodes.map((n) => n.rpcUrl).join(','),
    XAI_WS_URL: devnet.nodes[0]!.wsUrl,
    XAI_CHAIN_ID: String(devnet.chainId),
    XAI_PRIVATE_KEYS: devnet.accounts.map((a) => a.privateKey).join(','),
    XAI_ACCOUNTS: devnet.accounts.map((a) => a.address).join(','),
  }
}

/** vitest's CLI script: the project's own (node_modules, walking up) if installed, else xai's. */
export function findVitest(projectRoot: string): {bin: string; source: 'project' | 'xai'} {
  for (const [from, source] of [
    [join(projectRoot, 'package.json'), 'project'],
    [import.meta.url, 'xai'],
  ] as const) {
    try {
      const pkgPath = createRequire(from).resolve('vitest/package.json')
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {bin?: string | Record<string, string>}
      const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.vitest
      if (bin) return {bin: join(dirname(pkgPath), bin), source}
    } catch {
      // not installed there
    }
  }
  throw new XaiError('CONTRACT_TEST_NO_VITEST', 'vitest is not installed in the project nor in xai', {exitCode: ExitCode.environment, hint: 'npm i -D vitest@~4.1'})
}

/**
 * `xai contract test`: compiles, starts a throwaway devnet in a temporary folder on free ports
 * (one node, one block per transaction; or `nodes` validators under BFT), runs `vitest run` in
 * the project with the devnet's URL and keys in the environment (testEnvironment), then stops
 * the devnet's nodes by PID and deletes the folder, also when the tests fail, throw or are
 * interrupted. Resolves with vitest's exit code.
 *
 * @example
 * const {exitCode} = await runContractTests(project, {execPath: process.execPath, vitestArgs: ['-t', 'Counter']})
 */
export async function runContractTests(project: Project, options: ContractTestOptions): Promise<ContractTestResult> {
  const emit = options.onEvent ?? (() => {})
  const nodes = options.nodes ?? 1
  const compiled = await compileProject(project)
  emit({type: 'compiled', compiled: compiled.compiled.length, upToDate: compiled.upToDate.length})
  const vitest = findVitest(project.root)

  const dir = await mkdtemp(join(tmpdir(), 'xai-contract-test-'))
  const name = 'test'
  let started = false
  try {
    const basePort = await findFreePortRange(nodes)
    const p2pBasePort = nodes > 1 ? await findFreePortRange(nodes) : undefined
    const devnet = await startDevnet(
      {dir, name, nodes, blockTime: 0, basePort, p2pBasePort, execPath: options.execPath, project: project.root},
      {signal: options.signal},
    )
    started = true
    const {result} = devnet
    emit({type: 'devnet-started', nodes: result.nodes.length, rpcUrl: result.nodes[0]!.rpcUrl, chainId: result.chainId, folder: dir})

    const args = [vitest.bin, 'run', ...(options.vitestArgs ?? [])]
    emit({type: 'tests-started', vitest: vitest.bin, args: args.slice(1)})
    const env = {...(options.env ?? process.env), ...testEnvironment(result)}
    const exitCode = await runChild(options.execPath, args, {cwd: project.root, env, output: options.output ?? 'inherit', signal: options.signal})
    return {exitCode, nodes: result.nodes.length, chainId: result.chainId, rpcUrl: result.nodes[0]!.rpcUrl, vitest: vitest.source, pids: result.nodes.map((n) => n.pid)}
  } finally {
    if (started) {
      const stopped = await stopDevnet({dir, name}).catch(() => undefined)
      emit({type: 'devnet-stopped', stopped: stopped?.stopped ?? 0})
    }
    await rm(dir, {recursive: true, force: true}).catch(() => {})
  }
}

function runChild(execPath: string, args: string[], options: {cwd: string; env: NodeJS.ProcessEnv; output: 'inherit' | 'stderr'; signal?: AbortSignal}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(execPath, args, {cwd: options.cwd, env: options.env, stdio: options.output === 'inherit' ? 'inherit' : ['ignore', 2, 2]})
    const onAbort = (): void => {
      if (child.pid !== undefined && child.exitCode === null) child.kill('SIGTERM')
    }
    options.signal?.addEventListener('abort', onAbort, {once: true})
    child.once('error', (err) => {
      options.signal?.removeEventListener('abort', onAbort)
      reject(err)
    })
    child.once('exit', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort)
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? ExitCode.interrupted : 1))
    })
  })
}
