import {closeSync, openSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {XaiError} from '../util/errors.js'
import {DevnetErrorCode} from './errors.js'

/**
 * The entry a devnet spawns nodes with: `<package>/bin/xai-node.js`, found from this module. It
 * takes `xai node start`'s flags and runs the same node without the CLI framework around it.
 */
export function defaultNodeEntry(): string {
  // dist/devnet/spawn-node.js (or src/devnet/spawn-node.ts) → ../../bin/xai-node.js
  return fileURLToPath(new URL('../../bin/xai-node.js', import.meta.url))
}

export interface SpawnNodeOptions {
  /** The node binary (`process.execPath` in the CLI). */
  execPath: string
  /** The node entry script (bin/xai-node.js), which takes `xai node start`'s flags. */
  nodeEntry: string
  home: string
  genesisPath: string
  rpcHost: string
  rpcPort: number
  blockTime: number
  /** stdout and stderr of the node are appended here. */
  logPath: string
  /** Peer-to-peer settings of a node of a multi-node devnet. */
  p2p?: {port: number; peers: string[]; index: number; emptyBlocks: boolean}
  /** The file holding the REST API key (`--api-key-file`). */
  apiKeyFile?: string
  /** The contracts project REST requests may name artifacts of (`--project`). */
  project?: string
  /** The dev accounts to unlock (`--dev-accounts-file`). */
  devAccountsFile?: string
  /** Further `xai node start` arguments. */
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
 * Node.js flags for node processes, measured with `npm run bench` (peak RSS = VmHWM; GC time = the
 * main-thread pauses `--trace-gc` reports over the ERC-20 scenario):
 * - `--max-semi-space-size=4`: a 4 MiB young-generation semi-space (V8's default is 16 MiB). Block
 *   building allocates about 0.7 MB per transaction, nearly all of it short-lived; 2 MiB made
 *   ~750 scavenges (≈ 600 ms) per 2,000 ERC-20 transfers, 4 MiB half as many (≈ 400 ms).
 * - `--heap-growing-percent=30`: V8 starts the next full collection when the old generation has
 *   grown 30 % past what the last one kept, instead of letting it grow 2–4× (its default on a
 *   machine with this much memory). Objects that outlive a few scavenges while a block is built
 *   (receipts, state cache entries, pending requests) are promoted and die soon after, so the
 *   default let the heap reach about twice the live set. The price is about 10 full collections
 *   instead of 4 (≈ 100 ms more of main-thread marking steps and pauses), which the
 *   fewer scavenges more than pay for.
 * Together, ERC-20 scenario: peak RSS 154–157 → 136–140 MiB, GC pauses 645–707 → 563–641 ms;
 * transfers: 137–145 → 126–128 MiB; tx/s and eth_call/s within the run-to-run noise.
 */
export const NODE_PROCESS_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=30']

/**
 * Starts a node (`bin/xai-node.js`, that is `xai node start …`) as its own detached process (own
 * process group, stdio to the log file, not waited for), so it outlives the command that started it.
 */
export function spawnNodeProcess(options: SpawnNodeOptions): SpawnedNode {
  // XAI_NODE_FLAGS: extra Node.js flags for node processes (e.g. --cpu-prof while profiling).
  const extraNodeFlags = (options.env ?? process.env).XAI_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []
  const args = [
    ...NODE_PROCESS_FLAGS,
    ...extraNodeFlags,
    options.nodeEntry,
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
  if (options.devAccountsFile) args.push('--dev-accounts-file', options.devAccountsFile)
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
