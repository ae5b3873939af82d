import {closeSync, openSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {ExitCode, XaiError} from '../errors.js'
import {DevnetErrorCode} from './errors.js'

/** The CLI entry a devnet spawns nodes with: `<package>/bin/run.js`, found from this module. */
export function defaultCliEntry(): string {
  // dist/devnet/spawn-node.js (or src/devnet/spawn-node.ts) → ../../bin/run.js
  return fileURLToPath(new URL('../../bin/run.js', import.meta.url))
}

export interface SpawnNodeOptions {
  /** The node binary (`process.execPath` in the CLI). */
  execPath: string
  /** The xai CLI entry script (bin/run.js). */
  cliEntry: string
  home: string
  genesisPath: string
  rpcHost: string
  rpcPort: number
  blockTime: number
  /** stdout and stderr of the node are appended here. */
  logPath: string
  /** Peer-to-peer settings of a node of a multi-node devnet. */
  p2p?: {port: number; peers: string[]; index: number; emptyBlocks: boolean}
  /** Further `xai node start` arguments. */
  /** The file holding the REST API key (`--api-key-file`). */
  apiKeyFile?: string
  /** The contracts project REST requests may name artifacts of (`--project`). */
  project?: string
  extraArgs?: string[]
  /** The environment of the node process; inherits the caller's when omitted. */
  env?: Record<string, string | undefined>
}

export interface SpawnedNode {
  pid: number
  /** Settles when the process ends (only observable from the process that spawned it). */
  exited: Promise<{exitCode?: number; signal?: string}>
}

/**
 * Node.js flags for node processes. A 2 MiB young-generation semi-space (V8's default is 16 MiB),
 * measured with `npm run bench`: peak RSS in the 2,000-transfer scenario 139–143 → 119–122 MiB and
 * in the ERC-20 scenario 185–208 → 162–191 MiB, with throughput no lower.
 */
export const NODE_PROCESS_FLAGS = ['--max-semi-space-size=2']

/**
 * Starts `xai node start …` as its own detached process (own process group, stdio to the log
 * file, not waited for), so it outlives the command that started it.
 */
export function spawnNodeProcess(options: SpawnNodeOptions): SpawnedNode {
  // XAI_NODE_FLAGS: extra Node.js flags for node processes (e.g. --cpu-prof while profiling).
  const extraNodeFlags = (options.env ?? process.env).XAI_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []
  const args = [
    ...NODE_PROCESS_FLAGS,
    ...extraNodeFlags,
    options.cliEntry,
    'node',
    'start',
    '--home',
    options.home,
    '--genesis',
    options.genesisPath,
    '--rpc-host',
    options.rpcHost,
    '--rpc-port',
    String(options.rpcPort),
    '--block-time',
    String(options.blockTime),
  ]
  if (options.p2p) {
    args.push('--p2p-port', String(options.p2p.port), '--index', String(options.p2p.index))
    if (options.p2p.peers.length > 0) args.push('--peers', options.p2p.peers.join(','))
    if (!options.p2p.emptyBlocks) args.push('--no-empty-blocks')
  }
  if (options.apiKeyFile) args.push('--api-key-file', options.apiKeyFile)
  if (options.project) args.push('--project', options.project)
  args.push(...(options.extraArgs ?? []))
  // A raw descriptor (not a pipe, not execa's {file}) so the node writes the file directly and
  // never depends on this process staying alive. execa's types only list literal fds 3–9.
  const logFd = openSync(options.logPath, 'a') as 3
  try {
    const subprocess = execa(options.execPath, args, {
      cwd: options.home,
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      stdout: logFd,
      stderr: logFd,
      env: options.env,
      extendEnv: options.env === undefined,
    })
    subprocess.unref()
    const pid = subprocess.pid
    if (pid === undefined) {
      throw new XaiError(DevnetErrorCode.nodeFailed, `Could not start ${options.execPath}`, {
        exitCode: ExitCode.environment,
        hint: 'Check that Node.js can start processes here (permissions, process limits).',
      })
    }
    const exited = subprocess.then(
      (result) => ({exitCode: result.exitCode, signal: result.signal}),
      () => ({}),
    )
    return {pid, exited}
  } finally {
    closeSync(logFd)
  }
}
