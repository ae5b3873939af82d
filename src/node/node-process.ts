// The node process: what `xai node start` (and so every devnet node) runs. This module is the
// process edge: it owns signals, the PID file and the exit code. It keeps its imports light —
// the node itself, viem and the genesis code load only when they are needed — so a spawned
// node answers JSON-RPC quickly.
import {closeSync, openSync, writeSync} from 'node:fs'
import {access, mkdir, readFile, rm} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {ExitCode, XaiError, errorMessage, isXaiError} from '../util/errors.js'
import {type LogLevel, type Logger, createJsonLogger} from '../util/logger.js'
import {writeFileAtomic, writeJsonAtomic} from '../util/atomic-write.js'
import {isNodeProcess} from '../util/process.js'
import type {NodeP2POptions} from './node.js'
import {nodeHomePaths} from './node-home.js'

export interface NodeProcessOptions {
  /** The node folder (created if missing): db/, node.log, node.pid, genesis.json by default. */
  home: string
  /** genesis.json to start from; without it home/genesis.json, written with the dev accounts if missing. */
  genesisPath?: string
  rpcHost: string
  rpcPort: number
  /** Milliseconds between blocks; 0 = one block per transaction as it arrives. */
  blockTime: number
  logLevel?: LogLevel
  /** Also write log lines here (the CLI passes stderr when it is a terminal). */
  echo?: (line: string) => void
  /** Hold the keys of the dev accounts the genesis funds (eth_accounts, eth_sendTransaction). Default true. */
  unlockDevAccounts?: boolean
  /** A JSON file {mnemonic, derivationPath, count}: the dev accounts to unlock (a devnet's --mnemonic, --accounts). */
  devAccountsFile?: string
  /** Milliseconds the node gets to close after SIGTERM before the process exits anyway. */
  closeTimeoutMs?: number
  /** Milliseconds a node still starting gets, after SIGTERM, to finish before the process exits. */
  startGraceMs?: number
  /** Peer-to-peer settings (used when the genesis names validators). */
  p2p?: NodeP2POptions
  /** A file holding the API key the REST surface's writes need (none: the node takes no REST writes). */
  apiKeyFile?: string
  /** A contracts project whose artifacts REST requests may name. */
  project?: string
  /** POST security events and governance state changes to `url`, signed with the secret in `secretFile`. */
  webhook?: {url: string; secretFile: string}
  /** REST reads need a read-scoped API key too. */
  apiReadAuth?: boolean
}

export interface NodeProcessReady {
  pid: number
  home: string
  rpcUrl: string
  wsUrl: string
  genesisPath: string
}

/** What `xai node start` reports once the node has stopped. */
export interface NodeProcessResult extends NodeProcessReady {
  /** The signal that stopped it. */
  stoppedBy: string
}

/**
 * Runs a node in this process until SIGTERM or SIGINT: prepares its home (genesis, log,
 * node.pid), builds the node, and on a signal closes it, removes node.pid and resolves.
 * An uncaught error is logged and ends the process with exit code 1.
 */
export async function runNodeProcess(
  options: NodeProcessOptions,
  hooks: {onReady?: (ready: NodeProcessReady) => void} = {},
): Promise<NodeProcessResult> {
  const home = resolve(options.home)
  await mkdir(home, {recursive: true})
  const homePaths = nodeHomePaths(home)
  const pidFile = homePaths.pidFile
  const logFd = openSync(homePaths.log, 'a')
  const logger = createJsonLogger(
    (line) => {
      try {
        writeSync(logFd, line)
      } catch {
        // The log is best effort; never let it take the node down.
      }
      options.echo?.(line)
    },
    {level: options.logLevel ?? 'info', bindings: {pid: process.pid}},
  )

  let node: {rpcUrl: string; wsUrl: string; close(): Promise<void>} | undefined
  let closing: Promise<void> | undefined
  let stopSignal: NodeJS.Signals | undefined
  /** node.pid is ours to remove only once this process has written it. */
  let pidFileWritten = false
  const removePidFile = async (): Promise<void> => {
    if (pidFileWritten) await rm(pidFile, {force: true}).catch(() => undefined)
  }
  let wake: (() => void) | undefined
  const stopped = new Promise<void>((resolveStopped) => {
    wake = resolveStopped
  })

  /** Closes the node once, however many times it is asked to. */
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const timeout = options.closeTimeoutMs ?? 8_000
      const current = node
      if (current) {
        await Promise.race([
          current.close(),
          new Promise<void>((r) => setTimeout(r, timeout).unref()).then(() => logger.warn('node close timed out', {timeoutMs: timeout})),
        ]).catch((err) => logger.error('node close failed', {error: err}))
      }
      await removePidFile()
    })()
    return closing
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal) {
      if (signal === 'SIGINT') {
        logger.warn('second interrupt; exiting without waiting', {signal})
        process.exit(ExitCode.interrupted)
      }
      return
    }
    stopSignal = signal
    logger.info('stopping node', {signal})
    wake?.()
  }
  const onFatal = (err: unknown): void => {
    logger.error('uncaught error; exiting', {error: err instanceof Error ? err : String(err)})
    void close().finally(() => {
      closeSync(logFd)
      process.exit(ExitCode.bug)
    })
    // If closing hangs, the process still ends (and so releases its port).
    setTimeout(() => process.exit(ExitCode.bug), (options.closeTimeoutMs ?? 8_000) + 1_000).unref()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('uncaughtException', onFatal)
  process.on('unhandledRejection', onFatal)

  try {
    await claimHome(pidFile, home)
    const genesisPath = await ensureGenesis(home, options.genesisPath, logger)
    await writeFileAtomic(pidFile, `${process.pid}\n`)
    pidFileWritten = true
    logger.info('starting node', {home, genesisPath, rpcHost: options.rpcHost, rpcPort: options.rpcPort, blockTime: options.blockTime})

    const {createNode} = await import('./node.js')
    const unlockedAccounts =
      options.unlockDevAccounts === false ? [] : options.devAccountsFile === undefined ? await fundedDevAccounts(genesisPath) : await devAccountsFromFile(options.devAccountsFile)
    const creating = createNode({
      home,
      genesisPath,
      rpcHost: options.rpcHost,
      rpcPort: options.rpcPort,
      blockTime: options.blockTime,
      unlockedAccounts,
      logger,
      p2p: options.p2p,
      rest: {apiKey: options.apiKeyFile === undefined ? undefined : await readApiKey(options.apiKeyFile), projectRoot: options.project === undefined ? undefined : resolve(options.project)},
      ...(options.webhook ? {webhook: await webhookSettings(options.webhook)} : {}),
      restReadAuth: options.apiReadAuth,
    }).catch((err: unknown) => {
      throw asNodeStartError(err, options)
    })
    // Stopped while still starting: give the node a moment to finish (so it can close cleanly),
    // then leave without it rather than make the caller wait for SIGKILL.
    const startGraceMs = options.startGraceMs ?? 3_000
    const gaveUp = Symbol('gave up')
    const created = await Promise.race([creating, stopped.then(() => new Promise<typeof gaveUp>((r) => setTimeout(r, startGraceMs, gaveUp).unref()))])
    if (created === gaveUp) {
      creating.catch(() => undefined)
      logger.warn('stopped before the node finished starting; exiting without it', {signal: stopSignal, waitedMs: startGraceMs})
      await removePidFile()
      closeSync(logFd)
      process.exit(ExitCode.ok)
    }
    node = created
    const ready: NodeProcessReady = {pid: process.pid, home, rpcUrl: node.rpcUrl, wsUrl: node.wsUrl, genesisPath}
    logger.info('node ready', {rpcUrl: node.rpcUrl, wsUrl: node.wsUrl})
    if (!stopSignal) hooks.onReady?.(ready)

    await stopped
    await close()
    logger.info('node stopped', {signal: stopSignal})
    return {...ready, stoppedBy: stopSignal ?? 'SIGTERM'}
  } catch (err) {
    logger.error('node failed', {error: err instanceof Error ? err : String(err), code: isXaiError(err) ? err.code : undefined})
    await close()
    throw err
  } finally {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    process.off('uncaughtException', onFatal)
    process.off('unhandledRejection', onFatal)
    try {
      closeSync(logFd)
    } catch {
      // already closed by onFatal
    }
    // Whatever handle a library forgot to close, a stopped node does not linger (or hold its port).
    setTimeout(() => process.exit(), 3_000).unref()
  }
}

/** Refuses a home another live node process is using (two nodes on one database corrupt it). */
async function claimHome(pidFile: string, home: string): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => undefined)
  if (text === undefined) return
  const pid = Number.parseInt(text.trim(), 10)
  if (!Number.isInteger(pid) || pid === process.pid) return
  if (await isNodeProcess(pid, home)) {
    throw new XaiError('NODE_HOME_LOCKED', `Another node (PID ${pid}) is running on ${home}`, {
      hint: `Stop it first (kill ${pid}, or xai devnet down if a devnet started it), or use another --home.`,
      details: {pid, home},
    })
  }
}

/** The genesis path to start from, writing the default dev genesis into home when there is none. */
async function ensureGenesis(home: string, genesisPath: string | undefined, logger: Logger): Promise<string> {
  if (genesisPath !== undefined) {
    const path = resolve(genesisPath)
    if (!(await exists(path))) {
      throw new XaiError('NODE_GENESIS_NOT_FOUND', `No genesis file at ${path}`, {
        hint: 'Pass an existing genesis.json with --genesis, or leave --genesis out to get the default dev genesis in the home folder.',
        details: {path},
      })
    }
    return path
  }
  const path = join(home, 'genesis.json')
  if (await exists(path)) return path
  // Only now pay for viem and the genesis builder.
  const [{deriveDevAccounts}, {createDevGenesis}, {addModulesToGenesis}, {defaultGenesisModules}] = await Promise.all([
    import('../util/dev-accounts.js'),
    import('../chain/genesis.js'),
    import('../modules/host/genesis-modules.js'),
    import('../modules/builtin/index.js'),
  ])
  const genesis = addModulesToGenesis(createDevGenesis({accounts: deriveDevAccounts().map((account) => account.address)}), defaultGenesisModules())
  await writeJsonAtomic(path, genesis)
  logger.info('wrote default dev genesis', {path, chainId: genesis.config.chainId})
  return path
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

function asNodeStartError(err: unknown, options: NodeProcessOptions): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return new XaiError('NODE_PORT_IN_USE', `Cannot listen on ${options.rpcHost}:${options.rpcPort}: ${errorMessage(err)}`, {
      hint: `Something else uses port ${options.rpcPort}; pick another with --rpc-port.`,
      cause: err,
    })
  }
  return err
}

/** The dev accounts (standard test mnemonic) that the genesis funds; none for another genesis. */
async function fundedDevAccounts(genesisPath: string): Promise<{address: `0x${string}`; privateKey: `0x${string}`}[]> {
  let alloc: Record<string, unknown>
  try {
    alloc = (JSON.parse(await readFile(genesisPath, 'utf8')) as {alloc?: Record<string, unknown>}).alloc ?? {}
  } catch {
    return [] // createNode reports an unreadable genesis precisely
  }
  const funded = new Set(Object.keys(alloc).map((a) => a.toLowerCase().replace(/^(?!0x)/, '0x')))
  if (!funded.has('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')) return []
  const {deriveDevAccounts} = await import('../util/dev-accounts.js')
  return deriveDevAccounts().filter((account) => funded.has(account.address.toLowerCase()))
}

/** The accounts a dev-accounts file names: {mnemonic, derivationPath, count}, derived as `devnet up` derived them. */
async function devAccountsFromFile(path: string): Promise<{address: `0x${string}`; privateKey: `0x${string}`}[]> {
  const fail = (reason: string, cause?: unknown): XaiError =>
    new XaiError('DEVNET_NODE_FAILED', `The dev accounts file ${path} ${reason}`, {hint: 'xai devnet up writes <devnet>/dev-accounts.json; recreate it by running xai devnet up again.', cause})
  let value: {mnemonic?: unknown; derivationPath?: unknown; count?: unknown}
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as typeof value
  } catch (err) {
    throw fail(`cannot be read as JSON (${errorMessage(err)})`, err)
  }
  const {mnemonic, derivationPath, count} = value ?? {}
  if (typeof mnemonic !== 'string' || typeof derivationPath !== 'string' || typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 1_000) {
    throw fail('does not hold {mnemonic, derivationPath, count (0 to 1000)}')
  }
  const {deriveDevAccounts} = await import('../util/dev-accounts.js')
  try {
    return deriveDevAccounts({mnemonic, basePath: derivationPath, count})
  } catch (err) {
    throw fail(`names accounts that cannot be derived (${errorMessage(err)})`, err)
  }
}

/** The API key in a file (its first line); a missing or empty file is a clear start error. */
async function readApiKey(path: string): Promise<string> {
  let key: string
  try {
    key = (await readFile(path, 'utf8')).split('\n')[0]!.trim()
  } catch (err) {
    throw new XaiError('DEVNET_NODE_FAILED', `Cannot read the API key file ${path}: ${errorMessage(err)}`, {hint: 'Pass a file holding the key (xai devnet up writes <devnet>/api.key).', cause: err})
  }
  if (key.length < 16) {
    throw new XaiError('DEVNET_NODE_FAILED', `The API key in ${path} is ${key.length === 0 ? 'empty' : 'shorter than 16 characters'}`, {exitCode: ExitCode.usage, hint: 'Use a long random key, e.g. openssl rand -base64 24.'})
  }
  return key
}

/** The webhook URL checked and its secret read from its file (never from the command line). */
async function webhookSettings(webhook: {url: string; secretFile: string}): Promise<{url: string; secret: string}> {
  let url: URL
  try {
    url = new URL(webhook.url)
  } catch (err) {
    throw new XaiError('NODE_WEBHOOK_INVALID', `The webhook URL ${JSON.stringify(webhook.url)} is not a URL`, {hint: 'Pass an http:// or https:// URL, e.g. --webhook https://alerts.example.com/xai.', cause: err})
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new XaiError('NODE_WEBHOOK_INVALID', `The webhook URL must be http or https, not ${url.protocol}`, {hint: 'Pass an http:// or https:// URL.'})
  }
  let secret: string
  try {
    secret = (await readFile(webhook.secretFile, 'utf8')).split('\n')[0]!.trim()
  } catch (err) {
    throw new XaiError('NODE_WEBHOOK_INVALID', `Cannot read the webhook secret file ${webhook.secretFile}: ${errorMessage(err)}`, {hint: 'Pass a file holding the shared secret (xai devnet up --webhook writes <devnet>/webhook.secret).', cause: err})
  }
  if (secret.length < 16) {
    throw new XaiError('NODE_WEBHOOK_INVALID', `The webhook secret in ${webhook.secretFile} is ${secret.length === 0 ? 'empty' : 'shorter than 16 characters'}`, {hint: 'Use a long random secret, e.g. openssl rand -hex 32 > webhook.secret.'})
  }
  return {url: url.toString(), secret}
}
