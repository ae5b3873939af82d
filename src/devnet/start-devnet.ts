import {mkdir, stat} from 'node:fs/promises'

import {DEFAULT_CHAIN_ID, DEV_MNEMONIC, type Genesis, createDevGenesis} from '../chain/genesis.js'
import {ExitCode, XaiError} from '../errors.js'
import {type Logger, silentLogger} from '../logger.js'
import {DEV_DERIVATION_PATH, type DevAccount, deriveDevAccounts} from './accounts.js'
import {writeJsonAtomic} from './atomic-write.js'
import {
  DEFAULT_DEVNET_NAME,
  type DevnetLocation,
  type DevnetPaths,
  type DevnetRecord,
  devnetPaths,
  readDevnetRecord,
  readGenesisFile,
  writeDevnetRecord,
} from './devnet-folder.js'
import {DevnetErrorCode, devnetCorrupt, logTailHint} from './errors.js'
import {type DevnetEventSink, type DevnetStep, runStep} from './events.js'
import {findLiveNodes, stopNodes, withoutPids} from './live-nodes.js'
import {DEFAULT_RPC_HOST, assertPortsFree} from './ports.js'
import {isProcessAlive, readLogTail} from './process.js'
import {defaultCliEntry, spawnNodeProcess} from './spawn-node.js'
import {rpcRequest, waitForRpc} from './rpc-client.js'

export const DEFAULT_BASE_PORT = 8545
export const DEFAULT_BLOCK_TIME_MS = 1_000
export const DEFAULT_START_TIMEOUT_MS = 30_000
export const MAX_SUPPORTED_NODES = 1

export interface StartDevnetOptions extends Partial<DevnetLocation> {
  /** The xai home holding `devnets/`. */
  dir: string
  nodes?: number
  /** Milliseconds between blocks; 0 = one block per transaction. */
  blockTime?: number
  /** Node i serves JSON-RPC (HTTP and WebSocket) on basePort + i. */
  basePort?: number
  rpcHost?: string
  /** Chain id of a new devnet (a resumed one keeps its genesis). */
  chainId?: number
  /** Node.js binary used to run node processes (the CLI passes process.execPath). */
  execPath: string
  /** The xai CLI script nodes run from; bin/run.js of this package by default. */
  cliEntry?: string
  /** Environment of the node processes; inherits the caller's when omitted. */
  env?: Record<string, string | undefined>
  /** How long a node may take to answer JSON-RPC (default 30 s). */
  startTimeoutMs?: number
  /** Grace period when stopping a node that failed to start (default 10 s). */
  graceMs?: number
}

export interface StartDevnetDeps {
  logger?: Logger
  /** Aborting stops what was started and ends with DEVNET_INTERRUPTED. */
  signal?: AbortSignal
  onEvent?: DevnetEventSink
}

export interface DevnetNodeInfo {
  index: number
  rpcUrl: string
  wsUrl: string
  pid: number
  rpcPort: number
  home: string
  logPath: string
}

/** What `xai devnet up` reports (and prints with --json). */
export interface StartDevnetResult {
  name: string
  chainId: number
  folder: string
  /** True when an existing devnet was resumed from its data. */
  resumed: boolean
  blockTime: number
  clientVersion: string
  nodes: DevnetNodeInfo[]
  accounts: DevAccount[]
  mnemonic: string
  derivationPath: string
}

/** A started devnet: the result plus, for a supervisor, how to tell when each node ends. */
export interface StartedDevnet {
  result: StartDevnetResult
  paths: DevnetPaths
  exited: Map<number, Promise<{exitCode?: number; signal?: string}>>
  /** Size of each node's log before this start, so later errors quote only this run's lines. */
  logOffsets: Map<number, number>
}

/** The steps startDevnet reports, in order, so a view can list them up front. */
export function startDevnetSteps(nodes = 1): DevnetStep[] {
  const steps: DevnetStep[] = [
    {id: 'prepare', title: 'Prepare the devnet folder'},
    {id: 'ports', title: 'Check the RPC ports are free'},
  ]
  for (let i = 0; i < nodes; i++) {
    steps.push({id: `spawn-${i}`, title: `Start node ${i}`}, {id: `ready-${i}`, title: `Wait for node ${i} to answer JSON-RPC`})
  }
  return steps
}

/**
 * Creates or resumes a devnet folder and starts its node processes (detached: they outlive
 * the caller), then waits until each answers JSON-RPC.
 *
 * @example
 * const {result} = await startDevnet({dir: '/project/.xai', name: 'default', execPath: process.execPath})
 * result.nodes[0].rpcUrl // http://127.0.0.1:8545
 */
export async function startDevnet(options: StartDevnetOptions, deps: StartDevnetDeps = {}): Promise<StartedDevnet> {
  const logger = deps.logger ?? silentLogger
  const name = options.name ?? DEFAULT_DEVNET_NAME
  const nodeCount = options.nodes ?? 1
  const blockTime = options.blockTime ?? DEFAULT_BLOCK_TIME_MS
  const basePort = options.basePort ?? DEFAULT_BASE_PORT
  const rpcHost = options.rpcHost ?? DEFAULT_RPC_HOST
  if (nodeCount > MAX_SUPPORTED_NODES) {
    throw new XaiError(DevnetErrorCode.multiNodeUnsupported, `A devnet of ${nodeCount} nodes is not yet supported (at most ${MAX_SUPPORTED_NODES} for now)`, {
      exitCode: ExitCode.usage,
      hint: 'Run a single-node devnet: xai devnet up --nodes 1',
      details: {nodes: nodeCount, max: MAX_SUPPORTED_NODES},
    })
  }
  const ports = Array.from({length: nodeCount}, (_, i) => basePort + i)
  if (ports.some((port) => port < 1 || port > 65_535)) {
    throw new XaiError('DEVNET_INVALID_PORT', `Ports ${ports[0]}–${ports.at(-1)} are not all valid TCP ports`, {
      exitCode: ExitCode.usage,
      hint: 'Pick a --base-port between 1024 and 65535 minus the number of nodes.',
    })
  }
  const paths = devnetPaths({dir: options.dir, name})
  const {onEvent, signal} = deps
  const checkAborted = (): void => {
    if (signal?.aborted) throw interrupted()
  }

  // 1. The folder: resume devnet.json + genesis.json, or create them.
  const {record: existing, genesis, accounts} = await runStep(onEvent, startDevnetSteps(nodeCount)[0]!, async (setTitle) => {
    const record = await readDevnetRecord(paths)
    const live = await findLiveNodes(paths, record)
    if (live.size > 0) throw await alreadyRunning(paths, record, live, rpcHost)
    let genesis = await readGenesisFile(paths.genesis)
    if (record && !genesis) throw devnetCorrupt(paths.genesis, 'is missing')
    const accounts = deriveDevAccounts()
    if (!genesis) {
      await mkdir(paths.folder, {recursive: true})
      genesis = createDevGenesis({chainId: options.chainId ?? DEFAULT_CHAIN_ID, accounts: accounts.map((a) => a.address)})
      await writeJsonAtomic(paths.genesis, genesis)
    }
    setTitle(record ? `Resume devnet "${name}" in ${paths.folder}` : `Create devnet "${name}" in ${paths.folder}`)
    return {record, genesis, accounts}
  })
  checkAborted()

  // 2. Ports: fail early and clearly rather than let the node crash on EADDRINUSE.
  await runStep(onEvent, startDevnetSteps(nodeCount)[1]!, async (setTitle) => {
    await assertPortsFree(ports, rpcHost)
    setTitle(`Port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} free on ${rpcHost}`)
  })
  checkAborted()

  const chainId = chainIdOf(genesis)
  const now = new Date()
  let record: DevnetRecord = {
    version: 1,
    name,
    chainId,
    createdAt: existing?.createdAt ?? now.toISOString(),
    blockTime,
    rpcHost,
    nodes: ports.map((rpcPort, index) => ({index, rpcPort, pid: null, home: paths.nodeHome(index)})),
  }
  record = await writeDevnetRecord(paths, record, now)

  // 3. Spawn the nodes and wait for each to answer.
  const exited = new Map<number, Promise<{exitCode?: number; signal?: string}>>()
  const logOffsets = new Map<number, number>()
  const nodes: DevnetNodeInfo[] = []
  let clientVersion = ''
  try {
    for (const node of record.nodes) {
      const {index, rpcPort} = node
      const home = paths.nodeHome(index)
      const logPath = paths.nodeLog(index)
      const rpcUrl = `http://${urlHost(rpcHost)}:${rpcPort}`
      const logOffset = await runStep(onEvent, {id: `spawn-${index}`, title: `Start node ${index}`}, async (setTitle) => {
        await mkdir(home, {recursive: true})
        const offset = await fileSize(logPath)
        logOffsets.set(index, offset)
        const spawned = spawnNodeProcess({
          execPath: options.execPath,
          cliEntry: options.cliEntry ?? defaultCliEntry(),
          home,
          genesisPath: paths.genesis,
          rpcHost,
          rpcPort,
          blockTime,
          logPath,
          env: options.env,
        })
        exited.set(index, spawned.exited)
        node.pid = spawned.pid
        record = await writeDevnetRecord(paths, record)
        logger.info('node spawned', {devnet: name, index, pid: spawned.pid, rpcPort})
        setTitle(`Started node ${index} (PID ${spawned.pid}, log ${logPath})`)
        return offset
      })
      const pid = node.pid!
      await runStep(onEvent, {id: `ready-${index}`, title: `Wait for node ${index} to answer JSON-RPC`}, async (setTitle) => {
        const outcome = await waitForRpc({
          url: rpcUrl,
          timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
          isAlive: () => isProcessAlive(pid),
          exited: exited.get(index),
          signal,
        })
        if (outcome.ok) {
          clientVersion = outcome.clientVersion
          setTitle(`Node ${index} answers on ${rpcUrl} (${outcome.clientVersion})`)
          return
        }
        if (outcome.reason === 'aborted') throw interrupted()
        const tail = await readLogTail(logPath, 15, logOffset)
        if (outcome.reason === 'exited') {
          const status = await Promise.race([exited.get(index)!, new Promise<undefined>((r) => setTimeout(r, 200, undefined))])
          const how = status?.signal ? ` (killed by ${status.signal})` : status?.exitCode === undefined ? '' : ` (exit code ${status.exitCode})`
          throw new XaiError(DevnetErrorCode.nodeFailed, `Node ${index} exited before its RPC answered${how}`, {
            exitCode: ExitCode.environment,
            hint: logTailHint(logPath, tail),
            details: {index, pid, logPath, logTail: tail, exitCode: status?.exitCode, signal: status?.signal},
          })
        }
        throw new XaiError(
          DevnetErrorCode.nodeTimeout,
          `Node ${index} did not answer JSON-RPC on ${rpcUrl} within ${Math.round((options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s`,
          {
            exitCode: ExitCode.environment,
            hint: logTailHint(logPath, tail),
            details: {index, pid, logPath, logTail: tail, lastError: outcome.lastError},
          },
        )
      })
      nodes.push({index, rpcUrl, wsUrl: `ws://${urlHost(rpcHost)}:${rpcPort}`, pid, rpcPort, home, logPath})
    }
  } catch (err) {
    // Leave nothing half-started: stop every node this call spawned and clear its PID.
    const started = new Map(record.nodes.filter((n) => n.pid !== null && isProcessAlive(n.pid)).map((n) => [n.index, n.pid!] as [number, number]))
    await stopNodes(started, {graceMs: options.graceMs, onEvent}).catch((stopErr) => logger.error('stopping nodes failed', {error: stopErr}))
    await writeDevnetRecord(paths, withoutPids(record)).catch(() => undefined)
    throw err
  }

  return {
    paths,
    exited,
    logOffsets,
    result: {
      name,
      chainId,
      folder: paths.folder,
      resumed: existing !== undefined,
      blockTime,
      clientVersion,
      nodes,
      accounts,
      mnemonic: DEV_MNEMONIC,
      derivationPath: `${DEV_DERIVATION_PATH}/`,
    },
  }
}

function chainIdOf(genesis: Genesis): number {
  return Number(genesis.config.chainId)
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

function interrupted(): XaiError {
  return new XaiError(DevnetErrorCode.interrupted, 'Interrupted; the nodes started so far were stopped', {
    exitCode: ExitCode.interrupted,
    hint: 'Run xai devnet up again to start it.',
  })
}

async function alreadyRunning(paths: DevnetPaths, record: DevnetRecord | undefined, live: Map<number, number>, rpcHost: string): Promise<XaiError> {
  const [index, pid] = [...live][0]!
  const port = record?.nodes.find((node) => node.index === index)?.rpcPort
  const rpcUrl = port === undefined ? undefined : `http://${urlHost(record?.rpcHost ?? rpcHost)}:${port}`
  let answering = false
  if (rpcUrl) answering = await rpcRequest(rpcUrl, 'web3_clientVersion', [], {timeoutMs: 1_000}).then(() => true, () => false)
  const nameFlag = paths.name === DEFAULT_DEVNET_NAME ? '' : ` --name ${paths.name}`
  return new XaiError(
    DevnetErrorCode.alreadyRunning,
    answering
      ? `Devnet "${paths.name}" is already running (node ${index}, PID ${pid}, ${rpcUrl})`
      : `Devnet "${paths.name}" is already running (node ${index}, PID ${pid}) but its RPC does not answer`,
    {
      exitCode: ExitCode.environment,
      hint: `Use it as it is, or stop it first: xai devnet down${nameFlag}`,
      details: {name: paths.name, index, pid, rpcUrl, answering},
    },
  )
}
