import {randomBytes} from 'node:crypto'
import {mkdir, stat} from 'node:fs/promises'
import {resolve} from 'node:path'

import {DEFAULT_CHAIN_ID, type Genesis} from '../chain/genesis.js'
import {XaiError} from '../util/errors.js'
import {defaultGenesisModules} from '../modules/builtin/index.js'
import {addModulesToGenesis} from '../modules/host/genesis-modules.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {type DevAccount, deriveDevAccounts} from '../util/dev-accounts.js'
import {writeFileAtomic, writeJsonAtomic} from '../util/atomic-write.js'
import {nodeIdentity, writeDevnetNodeKeys} from '../node/node-home.js'
import {
  DEFAULT_DEVNET_NAME,
  type DevnetNodeRecord,
  type DevnetLocation,
  type DevnetPaths,
  type DevnetRecord,
  devnetPaths,
  pathExists,
  readDevnetRecord,
  readGenesisFile as readGenesisDocument,
  writeDevnetRecord,
} from './devnet-folder.js'
import {DevnetErrorCode, devnetCorrupt, logTailHint} from './errors.js'
import {
  type GenesisFlags,
  type GenesisSettings,
  assertGenesisFlagsMatch,
  buildDevnetGenesis,
  defaultGenesisSettings,
  formatEther,
  genesisSettingsFromFlags,
  readGenesisFile,
  readStateFile,
} from './devnet-genesis.js'
import {type DevnetEventSink, type DevnetStep, runStep} from './events.js'
import {findLiveNodes, stopNodes, withoutPids} from './live-nodes.js'
import {DEFAULT_RPC_HOST, assertPortsFree} from '../util/ports.js'
import {isProcessAlive, readLogTail} from '../util/process.js'
import {defaultNodeEntry, spawnNodeProcess} from './spawn-node.js'
import {rpcRequest, waitForRpc} from '../util/rpc-client.js'

export const DEFAULT_BASE_PORT = 8545
export const DEFAULT_P2P_BASE_PORT = 26656
export {DEFAULT_BLOCK_TIME_MS} from '../node/node-options.js'
import {DEFAULT_BLOCK_TIME_MS} from '../node/node-options.js'
export const DEFAULT_START_TIMEOUT_MS = 30_000
export const DEFAULT_FIRST_BLOCK_TIMEOUT_MS = 60_000
export const MAX_SUPPORTED_NODES = 16

export interface StartDevnetOptions extends Partial<DevnetLocation> {
  /** The xai home holding `devnets/`. */
  dir: string
  /** Validator nodes of a new devnet (default 1); a resumed devnet keeps its own. */
  nodes?: number
  /** Milliseconds between blocks; 0 = one block per transaction (single node) or as fast as consensus goes. */
  blockTime?: number
  /** Node i serves JSON-RPC (HTTP and WebSocket) on basePort + i. */
  basePort?: number
  /** Node i listens for peers on p2pBasePort + i (multi-node devnets). */
  p2pBasePort?: number
  rpcHost?: string
  /** Multi-node: make blocks without transactions (default true). */
  emptyBlocks?: boolean
  /** A contracts project whose artifacts REST requests may name (a resumed devnet keeps its own unless given). */
  project?: string
  /** Chain id of a new devnet (a resumed one keeps its genesis). */
  chainId?: number
  /**
   * Genesis settings of a new devnet (anvil's flags: --accounts, --balance, --mnemonic, …). On a
   * resumed devnet each given one must match what it was created with (DEVNET_SETTING_CONFLICT).
   */
  genesis?: GenesisFlags
  /**
   * anvil's --state: a dump loaded into a new devnet's genesis when the file exists, and written
   * by `devnet down` (recorded; a resumed devnet keeps its file unless another is given).
   */
  stateFile?: string
  /** Governance parameters of a new devnet that differ from the defaults (votingPeriod, timelock, …). */
  governance?: Record<string, unknown>
  /** Node.js binary used to run node processes (the CLI passes process.execPath). */
  execPath: string
  /** The script node processes run (it takes `xai node start`'s flags); bin/xai-node.js of this package by default. */
  nodeEntry?: string
  /** Environment of the node processes; inherits the caller's when omitted. */
  env?: Record<string, string | undefined>
  /** Further `xai node start` arguments for node i (tests use it for fault flags). */
  nodeArgs?: (index: number) => string[]
  /**
   * POST security events and governance state changes to `url`, signed with the secret in
   * `secretFile` (default: <devnet>/webhook.secret, created). A resumed devnet keeps its webhook
   * unless another is given.
   */
  webhook?: {url: string; secretFile?: string}
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
  p2pPort?: number
  peerId?: string
  validator?: string
  /** False when this call found the node already running and left it alone. */
  started: boolean
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
  /** True when the chain is decided by Tendermint consensus among the nodes (more than one). */
  consensus: boolean
  /** Milliseconds from the start of this call to the first committed block it saw (multi-node). */
  firstBlockMs?: number
  nodes: DevnetNodeInfo[]
  accounts: DevAccount[]
  mnemonic: string
  derivationPath: string
  /** The key REST writes need: `x-api-key: <key>` (also in devnet.json and api.key). */
  apiKey: string
  /** The contracts project the nodes' REST requests may name artifacts of. */
  project?: string
  /** Ether each dev account started with (as a decimal string). */
  balance: string
  gasLimit: string
  /** Base fee of the genesis block, in wei. */
  baseFee: string
  hardfork: string
  /** The address the JSON-RPC servers listen on. */
  host: string
  /** The geth-style genesis file the devnet was created from. */
  genesisFile?: string
  /** The dump `devnet down` writes (--state). */
  stateFile?: string
  /** When this call created the devnet from a state file: how many accounts it loaded, and the module/system accounts it left out. */
  stateLoaded?: {file: string; accounts: number; skipped: number}
  /** Things the user should know (a listen address beyond loopback). */
  warnings: string[]
  /** Where the nodes send webhooks, and the file of the secret that signs them. */
  webhook?: {url: string; secretFile: string}
  /** The Prometheus started beside the devnet (`--prometheus`). */
  prometheus?: {pid: number; url: string; configFile: string}
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
    {id: 'ports', title: 'Check the ports are free'},
  ]
  for (let i = 0; i < nodes; i++) steps.push({id: `spawn-${i}`, title: `Start node ${i}`})
  for (let i = 0; i < nodes; i++) steps.push({id: `ready-${i}`, title: `Wait for node ${i} to answer JSON-RPC`})
  if (nodes > 1) steps.push({id: 'first-block', title: 'Wait for the first committed block'})
  return steps
}

/**
 * Creates or resumes a devnet folder and starts its node processes (detached: they outlive
 * the caller), then waits until each answers JSON-RPC and, with several validators, until they
 * have committed a block together. On a devnet some of whose nodes run, only the others start.
 *
 * @example
 * const {result} = await startDevnet({dir: '/project/.xai', name: 'default', execPath: process.execPath, nodes: 4})
 * result.nodes[0].rpcUrl // http://127.0.0.1:8545
 */
export async function startDevnet(options: StartDevnetOptions, deps: StartDevnetDeps = {}): Promise<StartedDevnet> {
  const startedAt = performance.now()
  const logger = deps.logger ?? silentLogger
  const name = options.name ?? DEFAULT_DEVNET_NAME
  const paths = devnetPaths({dir: options.dir, name})
  const {onEvent, signal} = deps
  const checkAborted = (): void => {
    if (signal?.aborted) throw interrupted()
  }
  const prior = await readDevnetRecord(paths)
  // A multi-node devnet may grow: the new nodes follow the chain, and validate once governance
  // adds their validator (validator-add proposal). It never shrinks.
  const grows = prior !== undefined && prior.nodes.length > 1 && options.nodes !== undefined && options.nodes > prior.nodes.length
  const nodeCount = grows ? options.nodes! : (prior?.nodes.length ?? options.nodes ?? 1)
  if (prior && !grows && options.nodes !== undefined && options.nodes !== prior.nodes.length) {
    throw new XaiError('DEVNET_SHAPE_MISMATCH', `Devnet "${name}" has ${prior.nodes.length} node(s), not ${options.nodes}`, {
      hint: `Resume it as it is (omit --nodes)${prior.nodes.length > 1 ? ', grow it (a larger --nodes)' : ''}, or wipe it first: xai devnet reset${name === DEFAULT_DEVNET_NAME ? '' : ` --name ${name}`} --force`,
    })
  }
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_SUPPORTED_NODES) {
    throw new XaiError(DevnetErrorCode.multiNodeUnsupported, `A devnet has 1 to ${MAX_SUPPORTED_NODES} nodes, not ${nodeCount}`, {
      hint: 'Pick --nodes between 1 and 16 (4 is the smallest network that survives a faulty validator).',
      details: {nodes: nodeCount, max: MAX_SUPPORTED_NODES},
    })
  }
  const consensus = nodeCount > 1
  const steps = startDevnetSteps(nodeCount)
  const stepOf = (id: string): DevnetStep => steps.find((s) => s.id === id)!

  // 1. The folder: resume devnet.json + genesis.json (and keys), or create them.
  let imported: Awaited<ReturnType<typeof readGenesisFile>> | undefined
  let stateDump: Awaited<ReturnType<typeof readStateFile>>
  let stateLoaded: StartDevnetResult['stateLoaded']
  const {genesis, accounts, live, record: base, settings} = await runStep(onEvent, stepOf('prepare'), async (setTitle) => {
    const live = await findLiveNodes(paths, prior)
    if (prior && !grows && live.size >= prior.nodes.length) throw await alreadyRunning(paths, prior, live, prior.rpcHost ?? DEFAULT_RPC_HOST)
    if (!prior && live.size > 0) throw await alreadyRunning(paths, prior, live, options.rpcHost ?? DEFAULT_RPC_HOST)
    let genesis = await readGenesisDocument(paths.genesis)
    if (prior && !genesis) throw devnetCorrupt(paths.genesis, 'is missing')
    const genesisFlags: GenesisFlags = {...options.genesis, chainId: options.genesis?.chainId ?? options.chainId}
    // A resumed devnet keeps its genesis: a flag asking for another one is an error, not a change.
    let settings: GenesisSettings
    if (prior || genesis) {
      settings = prior?.genesisSettings ?? defaultGenesisSettings()
      await assertGenesisFlagsMatch(genesisFlags, {chainId: prior?.chainId ?? chainIdOf(genesis!), settings, name})
    } else {
      imported = genesisFlags.genesisFile === undefined ? undefined : await readGenesisFile(genesisFlags.genesisFile)
      settings = await genesisSettingsFromFlags(genesisFlags, imported)
      stateDump = options.stateFile === undefined ? undefined : await readStateFile(options.stateFile)
    }
    const accounts = deriveDevAccounts({mnemonic: settings.mnemonic, basePath: settings.derivationPath, count: settings.accounts})
    // A partial restart keeps the running nodes' settings; a full one may change them.
    const partial = live.size > 0
    const rpcHost = partial ? (prior?.rpcHost ?? DEFAULT_RPC_HOST) : (options.rpcHost ?? prior?.rpcHost ?? DEFAULT_RPC_HOST)
    const basePort = options.basePort ?? DEFAULT_BASE_PORT
    const p2pBasePort = options.p2pBasePort ?? DEFAULT_P2P_BASE_PORT
    // Nodes added to a devnet take the ports after every port it uses: an RPC and a p2p port each.
    const highest = Math.max(0, ...(prior?.nodes ?? []).flatMap((n) => [n.rpcPort, n.p2pPort ?? 0]))
    const priorCount = prior?.nodes.length ?? 0
    let nodes: DevnetNodeRecord[] = Array.from({length: nodeCount}, (_, index) => {
      const previous = prior?.nodes.find((n) => n.index === index)
      const keep = partial && previous
      const added = grows && !previous
      const offset = 2 * (index - priorCount)
      return {
        index,
        rpcPort: keep ? previous.rpcPort : added ? highest + 1 + offset : basePort + index,
        pid: live.get(index) ?? null,
        home: paths.nodeHome(index),
        ...(consensus ? {p2pPort: keep && previous.p2pPort ? previous.p2pPort : added ? highest + 2 + offset : p2pBasePort + index} : {}),
      }
    })
    if (grows && genesis) {
      const chainId = chainIdOf(genesis)
      for (const node of nodes.filter((n) => !prior!.nodes.some((p) => p.index === n.index))) {
        await writeDevnetNodeKeys(paths.nodeHome(node.index), {chainId, name, index: node.index})
      }
    }
    if (!genesis) {
      await mkdir(paths.folder, {recursive: true})
      const chainId = genesisFlags.chainId ?? imported?.chainId ?? DEFAULT_CHAIN_ID
      const validators: {address: string; power: number}[] = []
      if (consensus) {
        for (const node of nodes) {
          validators.push({address: await writeDevnetNodeKeys(paths.nodeHome(node.index), {chainId, name, index: node.index}), power: 1})
        }
      }
      const built = buildDevnetGenesis({chainId, settings, accounts: accounts.map((a) => a.address), validators, imported, state: stateDump})
      if (stateDump && options.stateFile) stateLoaded = {file: resolve(options.stateFile), accounts: stateDump.accounts.size - built.skipped.length, skipped: built.skipped.length}
      genesis = addModulesToGenesis(built.genesis, defaultGenesisModules({governance: options.governance}))
      await writeJsonAtomic(paths.genesis, genesis)
    }
    if (consensus) nodes = await Promise.all(nodes.map(async (node) => ({...node, ...(await nodeIdentity(paths.nodeHome(node.index)))})))
    const project = partial ? prior?.project : (options.project ?? prior?.project)
    const stateFile = partial ? prior?.stateFile : options.stateFile !== undefined ? resolve(options.stateFile) : prior?.stateFile
    const record: DevnetRecord = {
      version: 1,
      name,
      chainId: chainIdOf(genesis),
      createdAt: prior?.createdAt ?? new Date().toISOString(),
      blockTime: partial ? prior!.blockTime : (options.blockTime ?? prior?.blockTime ?? DEFAULT_BLOCK_TIME_MS),
      rpcHost,
      ...(consensus ? {emptyBlocks: partial ? (prior!.emptyBlocks ?? true) : (options.emptyBlocks ?? prior?.emptyBlocks ?? true)} : {}),
      apiKey: prior?.apiKey ?? randomBytes(24).toString('base64url'),
      ...(project ? {project} : {}),
      genesisSettings: settings,
      ...(stateFile ? {stateFile} : {}),
      ...(await webhookOf(options.webhook, prior?.webhook, paths.webhookSecret)),
      ...(prior?.prometheus ? {prometheus: prior.prometheus} : {}),
      nodes,
    }
    const restarting = partial ? `, restarting node${nodeCount - live.size > 1 ? 's' : ''} ${nodes.filter((n) => !live.has(n.index)).map((n) => n.index).join(', ')}` : ''
    setTitle(prior ? `Resume devnet "${name}" in ${paths.folder}${restarting}` : `Create devnet "${name}" in ${paths.folder}`)
    return {genesis, accounts, live, record, settings}
  })
  checkAborted()
  const rpcHost = base.rpcHost ?? DEFAULT_RPC_HOST
  const blockTime = base.blockTime
  const toStart = base.nodes.filter((n) => !live.has(n.index))

  // 2. Ports: fail early and clearly rather than let a node crash on EADDRINUSE.
  await runStep(onEvent, stepOf('ports'), async (setTitle) => {
    const rpcPorts = toStart.map((n) => n.rpcPort)
    const p2pPorts = toStart.flatMap((n) => (n.p2pPort === undefined ? [] : [n.p2pPort]))
    const all = [...rpcPorts, ...p2pPorts]
    if (all.some((port) => port < 1 || port > 65_535)) {
      throw new XaiError('DEVNET_INVALID_PORT', `Ports ${all.join(', ')} are not all valid TCP ports`, {
        hint: 'Pick a --base-port (and --p2p-base-port) between 1024 and 65535 minus the number of nodes.',
      })
    }
    await assertPortsFree(rpcPorts, rpcHost)
    await assertPortsFree(p2pPorts, P2P_HOST)
    setTitle(`Port${all.length > 1 ? 's' : ''} ${all.join(', ')} free`)
  })
  checkAborted()

  let record = await writeDevnetRecord(paths, base)
  await writeFileAtomic(paths.apiKey, `${base.apiKey}\n`, {mode: 0o600})
  await writeFileAtomic(paths.devAccounts, `${JSON.stringify({mnemonic: settings.mnemonic, derivationPath: settings.derivationPath, count: settings.accounts})}\n`, {mode: 0o600})

  // 3. Spawn the nodes, then wait for each to answer.
  const exited = new Map<number, Promise<{exitCode?: number; signal?: string}>>()
  const logOffsets = new Map<number, number>()
  const nodes: DevnetNodeInfo[] = []
  let clientVersion = ''
  const peersOf = (index: number): string[] =>
    record.nodes.filter((n) => n.index !== index && n.peerId && n.p2pPort).map((n) => `/ip4/${P2P_HOST}/tcp/${n.p2pPort}/p2p/${n.peerId}`)
  try {
    for (const node of toStart) {
      const {index, rpcPort} = node
      const home = paths.nodeHome(index)
      const logPath = paths.nodeLog(index)
      await runStep(onEvent, stepOf(`spawn-${index}`), async (setTitle) => {
        await mkdir(home, {recursive: true})
        logOffsets.set(index, await fileSize(logPath))
        const spawned = spawnNodeProcess({
          execPath: options.execPath,
          nodeEntry: options.nodeEntry ?? defaultNodeEntry(),
          home,
          genesisPath: paths.genesis,
          rpcHost,
          rpcPort,
          blockTime,
          logPath,
          env: options.env,
          p2p: node.p2pPort === undefined ? undefined : {port: node.p2pPort, peers: peersOf(index), index, emptyBlocks: record.emptyBlocks ?? true},
          apiKeyFile: paths.apiKey,
          project: record.project,
          devAccountsFile: paths.devAccounts,
          extraArgs: [...(record.webhook ? ['--webhook', record.webhook.url, '--webhook-secret-file', record.webhook.secretFile] : []), ...(options.nodeArgs?.(index) ?? [])],
        })
        exited.set(index, spawned.exited)
        node.pid = spawned.pid
        record = await writeDevnetRecord(paths, {...record, nodes: record.nodes.map((n) => (n.index === index ? {...n, pid: spawned.pid} : n))})
        logger.info('node spawned', {devnet: name, index, pid: spawned.pid, rpcPort})
        setTitle(`Started node ${index} (PID ${spawned.pid}, log ${logPath})`)
      })
    }
    await Promise.all(
      toStart.map((node) =>
        runStep(onEvent, stepOf(`ready-${node.index}`), async (setTitle) => {
          clientVersion = await waitForNode(node.index, node.pid!, `http://${urlHost(rpcHost)}:${node.rpcPort}`, paths.nodeLog(node.index), logOffsets.get(node.index) ?? 0)
          setTitle(`Node ${node.index} answers on http://${urlHost(rpcHost)}:${node.rpcPort} (${clientVersion})`)
        }),
      ),
    )
    for (const node of record.nodes) {
      nodes.push({
        index: node.index,
        rpcUrl: `http://${urlHost(rpcHost)}:${node.rpcPort}`,
        wsUrl: `ws://${urlHost(rpcHost)}:${node.rpcPort}`,
        pid: node.pid ?? live.get(node.index)!,
        rpcPort: node.rpcPort,
        home: paths.nodeHome(node.index),
        logPath: paths.nodeLog(node.index),
        ...(node.p2pPort === undefined ? {} : {p2pPort: node.p2pPort, peerId: node.peerId, validator: node.validator}),
        started: !live.has(node.index),
      })
    }
  } catch (err) {
    // Leave nothing half-started: stop every node this call spawned and clear its PID.
    const started = new Map(toStart.filter((n) => n.pid !== null && isProcessAlive(n.pid)).map((n) => [n.index, n.pid!] as [number, number]))
    await stopNodes(started, {graceMs: options.graceMs, onEvent}).catch((stopErr) => logger.error('stopping nodes failed', {error: stopErr}))
    await writeDevnetRecord(paths, {...record, nodes: record.nodes.map((n) => (started.has(n.index) ? {...n, pid: null} : n))}).catch(() => undefined)
    throw err
  }

  // 4. With consensus: the chain is live once the validators have committed a block (or, when
  // they wait for transactions before making one, once they are connected to each other).
  let firstBlockMs: number | undefined
  if (consensus) {
    const waitsForTxs = record.emptyBlocks === false
    await runStep(onEvent, stepOf('first-block'), async (setTitle) => {
      if (waitsForTxs) {
        await waitForPeers(nodes.map((n) => n.rpcUrl), nodeCount - 1, DEFAULT_FIRST_BLOCK_TIMEOUT_MS, signal)
        setTitle(`The ${nodeCount} validators are connected; the first block comes with the first transaction`)
        return
      }
      const height = await waitForBlock(nodes.map((n) => n.rpcUrl), 1, DEFAULT_FIRST_BLOCK_TIMEOUT_MS, signal)
      firstBlockMs = Math.round(performance.now() - startedAt)
      setTitle(`Block ${height} committed by ${nodeCount} validators (${firstBlockMs} ms after start)`)
    }).catch(async (err) => {
      const stopping = new Map(toStart.map((n) => [n.index, n.pid!] as [number, number]))
      await stopNodes(stopping, {graceMs: options.graceMs, onEvent}).catch(() => undefined)
      await writeDevnetRecord(paths, {...record, nodes: record.nodes.map((n) => (stopping.has(n.index) ? {...n, pid: null} : n))}).catch(() => undefined)
      throw err
    })
  }

  return {
    paths,
    exited,
    logOffsets,
    result: {
      name,
      chainId: record.chainId,
      folder: paths.folder,
      resumed: prior !== undefined,
      blockTime,
      clientVersion,
      consensus,
      ...(firstBlockMs === undefined ? {} : {firstBlockMs}),
      nodes,
      accounts,
      mnemonic: settings.mnemonic,
      derivationPath: `${settings.derivationPath}/`,
      apiKey: record.apiKey!,
      ...(record.project ? {project: record.project} : {}),
      balance: formatEther(BigInt(settings.balance)),
      gasLimit: settings.gasLimit,
      baseFee: settings.baseFee,
      hardfork: settings.hardfork,
      host: rpcHost,
      ...(settings.genesisFile ? {genesisFile: settings.genesisFile.path} : {}),
      ...(record.stateFile ? {stateFile: record.stateFile} : {}),
      ...(stateLoaded ? {stateLoaded} : {}),
      warnings: isLoopback(rpcHost)
        ? []
        : [
            `JSON-RPC listens on ${rpcHost}, beyond this machine: the dev accounts' keys are derived from ${settings.mnemonic === defaultGenesisSettings().mnemonic ? 'the public test mnemonic' : 'the mnemonic printed above'} and unlocked on the node (eth_sendTransaction signs with them), so anyone who reaches port ${record.nodes[0]?.rpcPort} can spend their funds. Use it only on a network you trust.`,
          ],
      ...(record.webhook ? {webhook: record.webhook} : {}),
    },
  }

  async function waitForNode(index: number, pid: number, rpcUrl: string, logPath: string, logOffset: number): Promise<string> {
    const outcome = await waitForRpc({
      url: rpcUrl,
      timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      isAlive: () => isProcessAlive(pid),
      exited: exited.get(index),
      signal,
    })
    if (outcome.ok) return outcome.clientVersion
    if (outcome.reason === 'aborted') throw interrupted()
    const tail = await readLogTail(logPath, 15, logOffset)
    if (outcome.reason === 'exited') {
      const status = await Promise.race([exited.get(index)!, new Promise<undefined>((r) => setTimeout(r, 200, undefined))])
      const how = status?.signal ? ` (killed by ${status.signal})` : status?.exitCode === undefined ? '' : ` (exit code ${status.exitCode})`
      throw new XaiError(DevnetErrorCode.nodeFailed, `Node ${index} exited before its RPC answered${how}`, {
        hint: logTailHint(logPath, tail),
        details: {index, pid, logPath, logTail: tail, exitCode: status?.exitCode, signal: status?.signal},
      })
    }
    throw new XaiError(
      DevnetErrorCode.nodeTimeout,
      `Node ${index} did not answer JSON-RPC on ${rpcUrl} within ${Math.round((options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s`,
      {
        hint: logTailHint(logPath, tail),
        details: {index, pid, logPath, logTail: tail, lastError: outcome.lastError},
      },
    )
  }
}

/** The loopback address nodes of a local devnet talk to each other on. */
const P2P_HOST = '127.0.0.1'

/** Polls the nodes until each has at least `peers` peers. */
async function waitForPeers(urls: string[], peers: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await pollNodes(
    async () => {
      const counts = await Promise.all(urls.map((url) => rpcRequest<unknown[]>(url, 'xai_peers', [], {timeoutMs: 1_000}).then((list) => list.length, () => -1)))
      return counts.every((n) => n >= peers) ? true : undefined
    },
    {timeoutMs, signal, failure: 'The validators did not connect to each other', hint: 'Read the node logs (xai devnet logs); ports blocked by a firewall stop peers from connecting.'},
  )
}

/** Polls the nodes until one reports a block at or above `height`. */
async function waitForBlock(urls: string[], height: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  return pollNodes(
    async () => {
      for (const url of urls) {
        const n = await rpcRequest<string>(url, 'eth_blockNumber', [], {timeoutMs: 1_000}).then((hex) => Number(BigInt(hex)), () => -1)
        if (n >= height) return n
      }
      return undefined
    },
    {
      timeoutMs,
      signal,
      failure: 'The validators committed no block',
      hint: 'Read the node logs (xai devnet logs) for why they do not agree; ports blocked by a firewall stop peers from connecting.',
    },
  )
}

/** Runs `check` every 100 ms until it returns a value; DEVNET_NODE_TIMEOUT after `timeoutMs`. */
async function pollNodes<T>(check: () => Promise<T | undefined>, options: {timeoutMs: number; signal?: AbortSignal; failure: string; hint: string}): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (options.signal?.aborted) throw interrupted()
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) {
      throw new XaiError(DevnetErrorCode.nodeTimeout, `${options.failure} within ${Math.round(options.timeoutMs / 1000)} s`, {
        hint: options.hint,
      })
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
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
      hint: `Use it as it is, or stop it first: xai devnet down${nameFlag}`,
      details: {name: paths.name, index, pid, rpcUrl, answering},
    },
  )
}

/** The devnet's webhook: the one asked for (its secret file, or a new random one), else the one it had. */
async function webhookOf(asked: {url: string; secretFile?: string} | undefined, prior: {url: string; secretFile: string} | undefined, defaultSecret: string): Promise<{webhook?: {url: string; secretFile: string}}> {
  if (!asked) return prior ? {webhook: prior} : {}
  if (asked.secretFile) return {webhook: {url: asked.url, secretFile: resolve(asked.secretFile)}}
  if (!(await pathExists(defaultSecret))) await writeFileAtomic(defaultSecret, `${randomBytes(32).toString('hex')}\n`, {mode: 0o600})
  return {webhook: {url: asked.url, secretFile: defaultSecret}}
}
