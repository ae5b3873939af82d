import {randomBytes} from 'node:crypto'

import type {BlockRecord} from '../chain/block-store.js'
import type {Chain} from '../chain/chain.js'
import type {Mempool, PooledTx} from '../chain/mempool.js'
import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {type RpcError, invalidParams, limitExceeded, serverError} from './errors.js'
import {type RpcLog, formatHeader, formatTransaction, hex} from './format.js'
import type {RpcLimits} from './limits.js'
import {CompiledFilter} from './logs.js'
import type {BlockId, FilterCriteria} from './params.js'

/** A client connection that can receive notifications (a WebSocket). */
export interface RpcConnection {
  readonly id: number
  /** Sends one JSON text message; must not throw. */
  send(message: string): void
  /** The ids of this connection's subscriptions. */
  readonly subscriptions: Set<string>
}

type PolledFilter =
  | {kind: 'block'; lastPoll: number; items: string[]}
  | {kind: 'pending'; lastPoll: number; items: string[]}
  | {kind: 'logs'; lastPoll: number; items: RpcLog[]; criteria: FilterCriteria; compiled: CompiledFilter; from?: bigint; to?: bigint}

export type SubscriptionKind = 'newHeads' | 'logs' | 'newPendingTransactions'

interface Subscription {
  id: string
  kind: SubscriptionKind
  connection: RpcConnection
  compiled?: CompiledFilter
  fullTx?: boolean
}

const newId = (): string => `0x${randomBytes(16).toString('hex')}`

/**
 * Polled filters (eth_newFilter & co.) and push subscriptions (eth_subscribe), fed by the chain's
 * block event and the mempool's tx event. Filters idle longer than the timeout are removed; every
 * queue and count is bounded.
 */
export class FilterManager {
  private readonly filters = new Map<string, PolledFilter>()
  private readonly subscriptions = new Map<string, Subscription>()
  private readonly sweeper: NodeJS.Timeout
  private readonly onBlock = (record: BlockRecord): void => {
    try {
      this.deliverBlock(record)
    } catch (err) {
      this.logger.error('filter delivery failed', {error: errorMessage(err)})
    }
  }
  private readonly onTx = (pooled: PooledTx): void => {
    try {
      this.deliverTx(pooled)
    } catch (err) {
      this.logger.error('filter delivery failed', {error: errorMessage(err)})
    }
  }

  constructor(
    private readonly chain: Chain,
    private readonly mempool: Mempool,
    private readonly limits: RpcLimits,
    private readonly logger: Logger,
  ) {
    chain.on('block', this.onBlock)
    mempool.on('tx', this.onTx)
    this.sweeper = setInterval(() => this.sweep(), Math.min(30_000, Math.max(1_000, limits.filterTimeoutMs / 4)))
    this.sweeper.unref()
  }

  close(): void {
    clearInterval(this.sweeper)
    this.chain.off('block', this.onBlock)
    this.mempool.off('tx', this.onTx)
    this.filters.clear()
    this.subscriptions.clear()
  }

  get filterCount(): number {
    return this.filters.size
  }

  get subscriptionCount(): number {
    return this.subscriptions.size
  }

  // ----- eth_getLogs --------------------------------------------------------------------------

  private blockNumber(id: BlockId | undefined, head: bigint): bigint {
    if (!id) return head
    if ('tag' in id) return id.tag === 'earliest' ? 0n : head
    if ('number' in id) return id.number
    throw invalidParams('block hash is not allowed here')
  }

  /** The logs matching `criteria`, bounded by the block range and result limits. */
  async getLogs(criteria: FilterCriteria): Promise<RpcLog[]> {
    const compiled = new CompiledFilter({addresses: criteria.addresses, topics: criteria.topics})
    const out: RpcLog[] = []
    const limit = this.limits.maxLogs
    const tooMany = (): RpcError => limitExceeded(`query returned more than ${limit} results`)
    if (criteria.blockHash) {
      const record = await this.chain.getBlock(criteria.blockHash)
      if (!record) throw serverError('unknown block')
      if (!compiled.collect(record, out, limit)) throw tooMany()
      return out
    }
    const head = this.chain.head.header.number
    const from = this.blockNumber(criteria.fromBlock, head)
    let to = this.blockNumber(criteria.toBlock, head)
    if (from > to) throw serverError('invalid block range params')
    if (to > head) to = head
    if (from > to) return out
    const span = to - from + 1n
    if (span > BigInt(this.limits.maxLogsBlockRange)) {
      throw limitExceeded(`block range too large: ${span} blocks requested, at most ${this.limits.maxLogsBlockRange} allowed; narrow fromBlock/toBlock`)
    }
    for (let n = from; n <= to; n++) {
      const record = await this.chain.getBlock(n)
      if (!record) continue
      if (!compiled.collect(record, out, limit)) throw tooMany()
    }
    return out
  }

  // ----- polled filters -----------------------------------------------------------------------

  private install(filter: PolledFilter): string {
    if (this.filters.size >= this.limits.maxFilters) {
      this.sweep()
      if (this.filters.size >= this.limits.maxFilters) throw limitExceeded(`too many filters installed (at most ${this.limits.maxFilters}); uninstall some with eth_uninstallFilter`)
    }
    const id = newId()
    this.filters.set(id, filter)
    return id
  }

  newFilter(criteria: FilterCriteria): string {
    if (criteria.blockHash) {
      // geth rejects blockHash here too: a filter follows new blocks.
      throw invalidParams('invalid argument 0: blockHash is not supported by eth_newFilter; use eth_getLogs')
    }
    // A number or `earliest` bounds the filter; latest/pending/safe/finalized leave that side open.
    const bound = (id: BlockId | undefined): bigint | undefined =>
      !id ? undefined : 'number' in id ? id.number : 'tag' in id && id.tag === 'earliest' ? 0n : undefined
    const from = bound(criteria.fromBlock)
    const to = bound(criteria.toBlock)
    return this.install({
      kind: 'logs',
      lastPoll: Date.now(),
      items: [],
      criteria,
      compiled: new CompiledFilter({addresses: criteria.addresses, topics: criteria.topics}),
      from,
      to,
    })
  }

  newBlockFilter(): string {
    return this.install({kind: 'block', lastPoll: Date.now(), items: []})
  }

  newPendingTransactionFilter(): string {
    return this.install({kind: 'pending', lastPoll: Date.now(), items: []})
  }

  private get(id: string): PolledFilter {
    const filter = this.filters.get(id.toLowerCase())
    if (!filter) throw serverError('filter not found')
    filter.lastPoll = Date.now()
    return filter
  }

  /** eth_getFilterChanges: what arrived since the last poll. */
  changes(id: string): unknown[] {
    const filter = this.get(id)
    const items = filter.items
    filter.items = []
    return items
  }

  /** eth_getFilterLogs: every log the filter's criteria match (a log filter only). */
  async filterLogs(id: string): Promise<RpcLog[]> {
    const filter = this.get(id)
    if (filter.kind !== 'logs') throw serverError('filter not found')
    return this.getLogs(filter.criteria)
  }

  uninstall(id: string): boolean {
    return this.filters.delete(id.toLowerCase())
  }

  private sweep(): void {
    const cutoff = Date.now() - this.limits.filterTimeoutMs
    for (const [id, filter] of this.filters) if (filter.lastPoll < cutoff) this.filters.delete(id)
  }

  private push<T>(queue: T[], item: T): void {
    queue.push(item)
    if (queue.length > this.limits.maxFilterQueue) queue.splice(0, queue.length - this.limits.maxFilterQueue)
  }

  // ----- subscriptions ------------------------------------------------------------------------

  subscribe(connection: RpcConnection, kind: SubscriptionKind, options: {criteria?: FilterCriteria; fullTx?: boolean}): string {
    if (connection.subscriptions.size >= this.limits.maxSubscriptionsPerConnection) {
      throw limitExceeded(`too many subscriptions on this connection (at most ${this.limits.maxSubscriptionsPerConnection})`)
    }
    if (this.subscriptions.size >= this.limits.maxSubscriptions) throw limitExceeded('too many subscriptions on this node')
    const id = newId()
    const sub: Subscription = {id, kind, connection, fullTx: options.fullTx}
    if (kind === 'logs') {
      const criteria = options.criteria ?? {addresses: [], topics: []}
      sub.compiled = new CompiledFilter({addresses: criteria.addresses, topics: criteria.topics})
    }
    this.subscriptions.set(id, sub)
    connection.subscriptions.add(id)
    return id
  }

  unsubscribe(connection: RpcConnection, id: string): boolean {
    const key = id.toLowerCase()
    const sub = this.subscriptions.get(key)
    if (!sub || sub.connection !== connection) return false
    this.subscriptions.delete(key)
    connection.subscriptions.delete(key)
    return true
  }

  /** Drops every subscription of a closed connection. */
  dropConnection(connection: RpcConnection): void {
    for (const id of connection.subscriptions) this.subscriptions.delete(id)
    connection.subscriptions.clear()
  }

  private notify(sub: Subscription, result: unknown): void {
    sub.connection.send(`{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${sub.id}","result":${JSON.stringify(result)}}}`)
  }

  // ----- delivery -----------------------------------------------------------------------------

  private deliverBlock(record: BlockRecord): void {
    const {block} = record
    const number = block.header.number
    let blockHash: string | undefined
    let header: Record<string, unknown> | undefined
    const noLogs = record.receipts.every((r) => r.logs.length === 0)
    const logsOf = (compiled: CompiledFilter): RpcLog[] => {
      const out: RpcLog[] = []
      compiled.collect(record, out, this.limits.maxFilterQueue)
      return out
    }
    for (const filter of this.filters.values()) {
      if (filter.kind === 'block') {
        blockHash ??= hex(block.hash())
        this.push(filter.items, blockHash)
      } else if (filter.kind === 'logs') {
        if (noLogs) continue
        if (filter.from !== undefined && number < filter.from) continue
        if (filter.to !== undefined && number > filter.to) continue
        for (const log of logsOf(filter.compiled)) this.push(filter.items, log)
      }
    }
    for (const sub of this.subscriptions.values()) {
      if (sub.kind === 'newHeads') {
        header ??= formatHeader(block.header)
        this.notify(sub, header)
      } else if (sub.kind === 'logs') {
        if (noLogs) continue
        for (const log of logsOf(sub.compiled!)) this.notify(sub, log)
      }
    }
  }

  private deliverTx(pooled: PooledTx): void {
    let hash: string | undefined
    let full: Record<string, unknown> | undefined
    for (const filter of this.filters.values()) {
      if (filter.kind === 'pending') {
        hash ??= hex(pooled.hash)
        this.push(filter.items, hash)
      }
    }
    for (const sub of this.subscriptions.values()) {
      if (sub.kind !== 'newPendingTransactions') continue
      if (sub.fullTx) {
        full ??= formatTransaction(pooled.tx, pooled.sender)
        this.notify(sub, full)
      } else {
        hash ??= hex(pooled.hash)
        this.notify(sub, hash)
      }
    }
  }
}
