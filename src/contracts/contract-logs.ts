import {type Abi, type AbiEvent, type Address, type Hex, type PublicClient, decodeEventLog, getAddress, numberToHex, toEventSelector, toEventSignature} from 'viem'
import WebSocket from 'ws'

import {XaiError, errorMessage} from '../util/errors.js'
import {toJsonSafe} from './abi-args.js'
import {createChainClient} from './chain-clients.js'
import type {ContractTarget} from './contract-target.js'
import {rpcFailed, shortMessage} from './deploy-contract.js'
import {journalPath, readJournal} from './deployment-journal.js'
import {ContractsErrorCode} from './errors.js'
import type {ResolvedNetwork} from './network.js'
import type {Project} from './project.js'

/** Blocks per eth_getLogs request: below every common node's range limit (ours: 10,000). */
export const LOGS_CHUNK_BLOCKS = 5_000

/** One log of the contract, decoded with its ABI when an event there matches, else raw. JSON-safe. */
export type ContractLogEntry =
  | {blockNumber: string; txHash: Hex | null; logIndex: number; address: Address; event: string; args: unknown}
  | {blockNumber: string; txHash: Hex | null; logIndex: number; address: Address; event: null; topics: Hex[]; data: Hex}

/** A log as eth_getLogs and `eth_subscription` deliver it. */
export interface RpcLog {
  address: Hex
  topics: Hex[]
  data: Hex
  blockNumber: Hex | null
  transactionHash: Hex | null
  logIndex: Hex | null
  removed?: boolean
}

export interface ContractLogsOptions {
  target: ContractTarget
  network: ResolvedNetwork
  /** An event name (`Transfer`: every overload of it) or signature (`Transfer(address,address,uint256)`); all logs without. */
  event?: string
  /** First block (default 0; see deploymentBlock for a better default). */
  fromBlock?: bigint
  /** Last block (default: the head when the query starts; clamped to it). */
  toBlock?: bigint
  /** Blocks per eth_getLogs request (default LOGS_CHUNK_BLOCKS). */
  chunkSize?: number
  client?: PublicClient
  signal?: AbortSignal
}

export interface ContractLogsResult {
  address: Address
  contract: string | null
  chainId: number
  fromBlock: string
  toBlock: string
  logs: ContractLogEntry[]
}

export interface FollowContractLogsOptions extends Omit<ContractLogsOptions, 'toBlock'> {
  /** The node's WebSocket endpoint (see wsUrlFor). */
  wsUrl: string
  /** Called for every log in order: the past ones, then each new one as it arrives. */
  onLog: (entry: ContractLogEntry) => void
  onEvent?: (event: {type: 'subscribed' | 'caught-up'; detail: string}) => void
  /** Stops following: unsubscribes, closes the connection and resolves. */
  signal: AbortSignal
  /** A connection that answers no ping for this long counts as dropped (default 30 s). */
  heartbeatMs?: number
}

export interface FollowContractLogsResult {
  address: Address
  contract: string | null
  chainId: number
  fromBlock: string
  /** The head when the past logs were read (later ones came over the subscription); null if stopped before. */
  caughtUpAt: string | null
  /** Logs printed, past and live. */
  count: number
}

/**
 * The contract's logs from `fromBlock` to `toBlock`, read with eth_getLogs in chunks of
 * `chunkSize` blocks (halved further when a node still finds a chunk too big) and decoded
 * with the contract's ABI; logs no event of the ABI matches are kept raw.
 *
 * @example
 * const {logs} = await readContractLogs({target, network, event: 'Transfer', fromBlock: 12n})
 * logs[0] // {blockNumber: '12', txHash: '0x…', logIndex: 0, address: '0x…', event: 'Transfer', args: {from, to, value: '1000'}}
 */
export async function readContractLogs(options: ContractLogsOptions): Promise<ContractLogsResult> {
  const {network} = options
  const target = {...options.target, address: getAddress(options.target.address)}
  const topics = eventTopics(target.abi, options.event)
  const client = options.client ?? createChainClient(network)
  const head = await headBlock(client, network.rpcUrl)
  const fromBlock = options.fromBlock ?? 0n
  if (options.toBlock !== undefined && options.toBlock < fromBlock) {
    throw new XaiError(ContractsErrorCode.invalidArgument, `--to-block ${options.toBlock} is before --from-block ${fromBlock}`, {hint: 'Give a range with from ≤ to.'})
  }
  const toBlock = options.toBlock === undefined || options.toBlock > head ? head : options.toBlock
  const logs: ContractLogEntry[] = []
  await scanLogs({client, rpcUrl: network.rpcUrl, address: target.address, topics, from: fromBlock, to: toBlock, chunkSize: options.chunkSize, signal: options.signal}, (log) => {
    logs.push(decodeContractLog(target.abi, log))
  })
  return {address: target.address, contract: target.contract, chainId: network.chainId, fromBlock: fromBlock.toString(), toBlock: toBlock.toString(), logs}
}

/**
 * Prints the contract's past logs, then every new one as the node pushes it over a WebSocket
 * subscription (eth_subscribe "logs"), until `signal` aborts. The subscription opens before
 * the past is read, and live logs at or before the last position read are dropped, so nothing
 * is missed and nothing comes twice. A dropped connection is CONTRACT_SUBSCRIPTION_LOST (exit 3).
 *
 * @example
 * await followContractLogs({target, network, wsUrl: wsUrlFor(network.rpcUrl), onLog: print, signal})
 */
export async function followContractLogs(options: FollowContractLogsOptions): Promise<FollowContractLogsResult> {
  const {network, signal} = options
  const target = {...options.target, address: getAddress(options.target.address)}
  const emit = options.onEvent ?? (() => {})
  const topics = eventTopics(target.abi, options.event)
  const client = options.client ?? createChainClient(network)
  const fromBlock = options.fromBlock ?? 0n
  let count = 0
  let stopped = false
  const print = (log: RpcLog): void => {
    if (stopped) return
    count++
    options.onLog(decodeContractLog(target.abi, log))
  }

  // Live logs wait here while the past is read; `accept` then lets each through once.
  let backlog: RpcLog[] | undefined = []
  let accept: ((position: LogPosition) => boolean) | undefined
  const onLive = (log: RpcLog): void => {
    if (log.removed) return
    if (backlog) {
      backlog.push(log)
      return
    }
    if (accept!(logPosition(log))) print(log)
  }
  const subscription = await subscribeLogs(options.wsUrl, {address: target.address, topics}, onLive, {heartbeatMs: options.heartbeatMs ?? 30_000})
  try {
    emit({type: 'subscribed', detail: options.wsUrl})
    const past = (async () => {
      const head = await headBlock(client, network.rpcUrl)
      await scanLogs({client, rpcUrl: network.rpcUrl, address: target.address, topics, from: fromBlock, to: head, chunkSize: options.chunkSize, signal}, print)
      return head
    })()
    past.catch(() => undefined)
    const head = await Promise.race([past, subscription.dropped, aborted(signal)])
    if (head === undefined) return {address: target.address, contract: target.contract, chainId: network.chainId, fromBlock: fromBlock.toString(), caughtUpAt: null, count}

    // Every block up to the head was read in full: only what comes after it is new.
    accept = createLogCursor({blockNumber: head >= fromBlock ? head : fromBlock - 1n, logIndex: Number.POSITIVE_INFINITY})
    const waiting = backlog
    backlog = undefined
    for (const log of waiting) if (accept(logPosition(log))) print(log)
    emit({type: 'caught-up', detail: head.toString()})

    await Promise.race([subscription.dropped, aborted(signal)])
    return {address: target.address, contract: target.contract, chainId: network.chainId, fromBlock: fromBlock.toString(), caughtUpAt: head.toString(), count}
  } finally {
    stopped = true
    await subscription.close()
  }
}

/**
 * The block the target was deployed in, from the deployment journal, when the target is a
 * contract name whose deployment there records it; null otherwise (an address, no journal).
 */
export async function deploymentBlock(project: Project, target: string, chainId: number, address: Address): Promise<bigint | null> {
  if (/^0x[0-9a-fA-F]{40}$/.test(target)) return null
  const name = target.includes(':') ? target.slice(target.lastIndexOf(':') + 1) : target
  const journal = await readJournal(journalPath(project.root, chainId, name), name, chainId)
  const entry = journal.deployments.findLast((e) => e.status === 'deployed' && e.address !== undefined && e.address.toLowerCase() === address.toLowerCase())
  return entry?.blockNumber === undefined ? null : BigInt(entry.blockNumber)
}

/**
 * The events `spec` names: a name (every overload of it) or a signature. Unknown: a usage error
 * listing the contract's events.
 *
 * @example
 * selectEvents(abi, 'Transfer(address,address,uint256)')[0].name // 'Transfer'
 */
export function selectEvents(abi: Abi, spec: string): AbiEvent[] {
  const events = abi.filter((item): item is AbiEvent => item.type === 'event')
  const wanted = spec.replace(/\s+/g, '')
  const matches = wanted.includes('(') ? events.filter((e) => toEventSignature(e) === wanted) : events.filter((e) => e.name === wanted)
  if (matches.length === 0) {
    const candidates = events.map((e) => toEventSignature(e))
    throw new XaiError(ContractsErrorCode.unknownEvent, `No event ${spec} in the ABI`, {
      hint: candidates.length === 0 ? 'This ABI has no events.' : `Events: ${candidates.join(', ')}`,
      details: {event: spec, candidates},
    })
  }
  const anonymous = matches.find((e) => e.anonymous)
  if (anonymous) {
    throw new XaiError(ContractsErrorCode.unknownEvent, `${toEventSignature(anonymous)} is anonymous: its logs carry no signature to filter by`, {
      hint: 'Leave out --event to see every log of the contract.',
      details: {event: spec},
    })
  }
  return matches
}

/** The topics filter for `spec` (see selectEvents): [] for every log, else the events' selectors. */
export function eventTopics(abi: Abi, spec: string | undefined): (Hex | Hex[])[] {
  if (spec === undefined) return []
  const selectors = selectEvents(abi, spec).map((e) => toEventSelector(e))
  return [selectors.length === 1 ? selectors[0]! : selectors]
}

/** [from, to] cut into consecutive ranges of at most `size` blocks. */
export function blockRanges(from: bigint, to: bigint, size: number): {from: bigint; to: bigint}[] {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, not ${size}`)
  const step = BigInt(size)
  const ranges: {from: bigint; to: bigint}[] = []
  for (let start = from; start <= to; start += step) {
    ranges.push({from: start, to: start + step - 1n < to ? start + step - 1n : to})
  }
  return ranges
}

/** Where a log sits in the chain. */
export interface LogPosition {
  blockNumber: bigint
  logIndex: number
}

/**
 * A cursor that starts after `after` and accepts only logs past the last one it accepted:
 * what keeps a live stream from repeating what was already printed.
 *
 * @example
 * const accept = createLogCursor({blockNumber: 10n, logIndex: Infinity})
 * accept({blockNumber: 10n, logIndex: 3}) // false: block 10 was read in full
 * accept({blockNumber: 11n, logIndex: 0}) // true
 * accept({blockNumber: 11n, logIndex: 0}) // false: already accepted
 */
export function createLogCursor(after: LogPosition): (position: LogPosition) => boolean {
  let last = after
  return (position) => {
    const later = position.blockNumber > last.blockNumber || (position.blockNumber === last.blockNumber && position.logIndex > last.logIndex)
    if (later) last = position
    return later
  }
}

/** One log decoded with `abi`, or kept raw when no event there matches it. */
export function decodeContractLog(abi: Abi, log: RpcLog): ContractLogEntry {
  const where = {
    blockNumber: log.blockNumber === null ? '' : BigInt(log.blockNumber).toString(),
    txHash: log.transactionHash,
    logIndex: log.logIndex === null ? -1 : Number(BigInt(log.logIndex)),
    address: getAddress(log.address),
  }
  try {
    const decoded = decodeEventLog({abi, data: log.data, topics: log.topics as [Hex, ...Hex[]], strict: true})
    return {...where, event: String(decoded.eventName), args: toJsonSafe(decoded.args)}
  } catch {
    return {...where, event: null, topics: log.topics, data: log.data}
  }
}

/**
 * A --from-block/--to-block value: decimal or 0x-hex; `earliest` is 0 and `latest` (to-block
 * only) is undefined, the head.
 */
export function parseBlockNumber(text: string, flag: string): bigint | undefined {
  const value = text.trim().toLowerCase()
  if (value === 'earliest') return 0n
  if (value === 'latest' && flag === '--to-block') return undefined
  if (/^(0x[0-9a-f]+|\d+)$/.test(value)) return BigInt(value)
  throw new XaiError(ContractsErrorCode.invalidArgument, `${flag} ${text} is not a block number`, {
    hint: `A decimal or 0x-hex block number${flag === '--to-block' ? ', or latest' : ', or earliest'}.`,
  })
}

/** The WebSocket URL of a node serving both on one port: http → ws, https → wss. */
export function wsUrlFor(rpcUrl: string): string {
  const url = new URL(rpcUrl)
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return url.toString()
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new XaiError(ContractsErrorCode.invalidArgument, `Cannot derive a WebSocket URL from ${rpcUrl}`, {hint: 'Pass --ws-url ws://host:port.'})
  }
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.toString()
}

/** Checks a --ws-url. */
export function assertWsUrl(wsUrl: string): string {
  let protocol: string | undefined
  try {
    protocol = new URL(wsUrl).protocol
  } catch {
    protocol = undefined
  }
  if (protocol !== 'ws:' && protocol !== 'wss:') {
    throw new XaiError(ContractsErrorCode.invalidArgument, `--ws-url ${wsUrl} is not a ws(s) URL`, {hint: 'e.g. --ws-url ws://127.0.0.1:8545'})
  }
  return wsUrl
}

// ----- reading the past -------------------------------------------------------------------------

interface ScanOptions {
  client: PublicClient
  rpcUrl: string
  address: Address
  topics: (Hex | Hex[])[]
  from: bigint
  to: bigint
  chunkSize?: number
  signal?: AbortSignal
}

/** eth_getLogs over [from, to] chunk by chunk, in order; a chunk the node finds too big is halved. */
async function scanLogs(options: ScanOptions, onLog: (log: RpcLog) => void): Promise<void> {
  const pending = blockRanges(options.from, options.to, options.chunkSize ?? LOGS_CHUNK_BLOCKS).reverse()
  for (let range = pending.pop(); range !== undefined; range = pending.pop()) {
    if (options.signal?.aborted) return
    let logs: RpcLog[]
    try {
      logs = (await options.client.request({
        method: 'eth_getLogs',
        params: [{address: options.address, topics: options.topics, fromBlock: numberToHex(range.from), toBlock: numberToHex(range.to)}],
      })) as RpcLog[]
    } catch (err) {
      if (range.to > range.from && isTooMuch(err)) {
        const middle = (range.from + range.to) / 2n
        pending.push({from: middle + 1n, to: range.to}, {from: range.from, to: middle})
        continue
      }
      throw rpcFailed(`eth_getLogs (blocks ${range.from}–${range.to})`, options.rpcUrl, err)
    }
    for (const log of logs) if (!log.removed) onLog(log)
  }
}

async function headBlock(client: PublicClient, rpcUrl: string): Promise<bigint> {
  try {
    return await client.getBlockNumber({cacheTime: 0})
  } catch (err) {
    throw rpcFailed('eth_blockNumber', rpcUrl, err)
  }
}

/** A node's "range too wide / too many results" answer (-32005 on geth, ours and most providers). */
function isTooMuch(err: unknown): boolean {
  const seen = new Set<unknown>()
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e)
    if ((e as {code?: unknown}).code === -32005) return true
  }
  return /range|more than|too many|limit|exceed/i.test(shortMessage(err))
}

function logPosition(log: RpcLog): LogPosition {
  return {blockNumber: log.blockNumber === null ? -1n : BigInt(log.blockNumber), logIndex: log.logIndex === null ? -1 : Number(BigInt(log.logIndex))}
}

/** Resolves (with undefined) when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(undefined), {once: true}))
}

// ----- the subscription -------------------------------------------------------------------------

interface LogSubscription {
  /** Rejects with CONTRACT_SUBSCRIPTION_LOST when the connection drops; never resolves. */
  dropped: Promise<never>
  /** Unsubscribes and closes the connection. Idempotent. */
  close(): Promise<void>
}

type WsMessage = {id?: unknown; result?: unknown; error?: {code: number; message: string}; method?: string; params?: {subscription?: string; result?: unknown}}

/** eth_subscribe("logs", filter) over a connection of its own; `onLog` gets each notification. */
async function subscribeLogs(url: string, filter: {address: Address; topics: (Hex | Hex[])[]}, onLog: (log: RpcLog) => void, options: {heartbeatMs: number}): Promise<LogSubscription> {
  const socket = new WebSocket(url, {handshakeTimeout: 10_000, perMessageDeflate: false})
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
  } catch (err) {
    socket.terminate()
    throw new XaiError(ContractsErrorCode.rpcUnreachable, `Cannot open a WebSocket to ${url}: ${errorMessage(err)}`, {
      hint: 'Following logs needs the node\'s WebSocket endpoint; pass --ws-url if it is not on the RPC URL\'s port.',
      cause: err,
      details: {wsUrl: url},
    })
  }

  let closing = false
  let fail!: (err: XaiError) => void
  const dropped = new Promise<never>((_resolve, reject) => {
    fail = reject
  })
  dropped.catch(() => undefined)
  const lost = (reason: string, cause?: unknown): void => {
    if (closing) return
    closing = true
    clearInterval(heartbeat)
    fail(
      new XaiError(ContractsErrorCode.subscriptionLost, `Lost the log subscription: ${reason}`, {
        hint: 'The node stopped or the connection broke; every log up to the last one printed was delivered. To go on, run the command again with --from-block set to the block after the last log printed.',
        cause,
        details: {wsUrl: url},
      }),
    )
    for (const waiter of replies.values()) waiter(undefined)
    socket.terminate()
  }

  let subscription: string | undefined
  /** Notifications that came before the answer naming their subscription. */
  const early: WsMessage[] = []
  const replies = new Map<number, (message: WsMessage | undefined) => void>()
  let nextId = 1
  socket.on('message', (data) => {
    let message: WsMessage
    try {
      message = JSON.parse(data.toString()) as WsMessage
    } catch {
      return
    }
    if (message.method === 'eth_subscription') {
      if (subscription === undefined) early.push(message)
      else if (message.params?.subscription === subscription) onLog(message.params.result as RpcLog)
      return
    }
    if (typeof message.id === 'number') replies.get(message.id)?.(message)
  })
  socket.on('close', (code, reason) => lost(`the node closed the WebSocket connection to ${url} (code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`))
  socket.on('error', (err) => lost(`the WebSocket connection to ${url} failed: ${err.message}`, err))

  let answered = true
  socket.on('pong', () => {
    answered = true
  })
  const heartbeat = setInterval(() => {
    if (!answered) {
      lost(`${url} answered no ping for ${options.heartbeatMs} ms`)
      return
    }
    answered = false
    socket.ping()
  }, options.heartbeatMs)

  const request = (method: string, params: unknown[], timeoutMs: number): Promise<WsMessage | undefined> => {
    const id = nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs)
      const settle = (message: WsMessage | undefined): void => {
        clearTimeout(timer)
        replies.delete(id)
        resolve(message)
      }
      replies.set(id, settle)
      socket.send(JSON.stringify({jsonrpc: '2.0', id, method, params}))
    })
  }

  const close = async (): Promise<void> => {
    if (closing) return
    closing = true
    clearInterval(heartbeat)
    if (subscription !== undefined && socket.readyState === WebSocket.OPEN) await request('eth_unsubscribe', [subscription], 2_000)
    if (socket.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate()
        resolve()
      }, 2_000)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.close()
    })
  }

  const answer = await Promise.race([request('eth_subscribe', ['logs', filter], 30_000), dropped])
  if (!answer || answer.error || typeof answer.result !== 'string') {
    await close()
    throw new XaiError(ContractsErrorCode.rpcUnreachable, `The node at ${url} refused the log subscription: ${answer?.error ? `${answer.error.message} (${answer.error.code})` : 'no answer to eth_subscribe'}`, {
      hint: 'The endpoint must support eth_subscribe over WebSocket; check --ws-url.',
      details: {wsUrl: url},
    })
  }
  subscription = answer.result
  for (const message of early.splice(0)) if (message.params?.subscription === subscription) onLog(message.params.result as RpcLog)
  return {dropped, close}
}
