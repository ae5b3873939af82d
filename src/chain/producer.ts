import {type Address, bytesToHex} from '@ethereumjs/util'

import {errorMessage} from '../util/errors.js'
import type {Telemetry} from '../util/telemetry.js'
import {type Logger, silentLogger} from '../util/logger.js'
import type {BlockRecord, BuiltBlock, Chain, OpenBlock} from './chain.js'
import type {Mempool} from './mempool.js'
import {Mutex} from '../util/mutex.js'

/** Transactions executed into the open block between two turns of the event loop. */
const FEED_BATCH = 128

export interface BlockProducerOptions {
  chain: Chain
  mempool: Mempool
  /** Milliseconds between blocks; 0 mines one block per transaction as soon as it arrives. */
  blockTime: number
  coinbase?: Address
  logger?: Logger
  /** Block execution time (seal, or build in automine) goes to its xai_chain_block_execution_seconds. */
  telemetry?: Telemetry
  /** Wall clock in ms (tests may pin it). */
  now?: () => number
}

/**
 * How blocks are made: one per transaction as it arrives (`auto`), every `ms` (`interval`), or
 * only when asked (`manual`: evm_mine, anvil_mine). Switchable at run time (evm_setAutomine,
 * evm_setIntervalMining), as anvil's.
 */
export type MiningMode = {kind: 'auto'} | {kind: 'interval'; ms: number} | {kind: 'manual'}

/** The development clock's settings (evm_increaseTime, evm_setNextBlockTimestamp, anvil_setBlockTimestampInterval). */
export interface TimeSettings {
  /** Seconds added to the wall clock. */
  offset: bigint
  /** The exact timestamp of the next block, once. */
  next?: bigint
  /** Each block's timestamp is its parent's plus this many seconds. */
  interval?: bigint
}

/**
 * The single-validator block producer. With a block time, the next block is open all the time:
 * transactions execute into it as they arrive, and on every tick it is sealed and committed and the
 * following one opened, so a block's execution overlaps the wait for its slot instead of delaying
 * it. With block time 0 (automine) each transaction is mined into its own block as it arrives.
 * It is the seam a consensus engine replaces: it only uses the chain's block building and commit
 * and the mempool's selection. On a development chain it also holds what anvil's cheat methods
 * steer: the mining mode, the clock, the coinbase.
 */
export class BlockProducer {
  private readonly chain: Chain
  private readonly mempool: Mempool
  private _mode: MiningMode
  /** The fee recipient of the blocks made (anvil_setCoinbase). */
  coinbase?: Address
  private readonly logger: Logger
  private readonly now: () => number
  private timer?: NodeJS.Timeout
  /** Bumped on every mode switch: a tick scheduled under an older mode does nothing. */
  private generation = 0
  /** Block work (open, seal, commit, automine) one piece at a time. */
  private readonly blockWork = new Mutex()
  /**
   * Feeds of the open block, one at a time: a transaction selected by one feed is not in the block
   * until that feed's execution ends, and a second feed would select it again.
   */
  private readonly feeds = new Mutex()
  private stopped = true
  private nextAt = 0
  private open?: OpenBlock
  private feedQueued = false
  private time: TimeSettings = {offset: 0n}
  private readonly onTx = (): void => {
    if (this._mode.kind === 'auto') this.kick()
    else if (this._mode.kind === 'interval') this.queueFeed()
  }

  constructor(private readonly options: BlockProducerOptions) {
    this.chain = options.chain
    this.mempool = options.mempool
    this._mode = options.blockTime === 0 ? {kind: 'auto'} : {kind: 'interval', ms: options.blockTime}
    this.coinbase = options.coinbase
    this.logger = options.logger ?? silentLogger
    this.now = options.now ?? Date.now
    this.chain.pendingTimestamp = () => this.nextTimestamp()
  }

  get mode(): MiningMode {
    return this._mode
  }

  /** Whether each transaction is mined into its own block as it arrives. */
  get automine(): boolean {
    return this._mode.kind === 'auto'
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.mempool.on('tx', this.onTx)
    this.enterMode()
  }

  private enterMode(): void {
    const mode = this._mode
    if (mode.kind === 'auto') {
      this.kick()
    } else if (mode.kind === 'interval') {
      this.nextAt = this.now() + mode.ms
      this.blockWork.run(() => this.openNext()).catch((err) => this.logger.error('opening a block failed', {error: errorMessage(err)}))
      this.schedule()
    }
  }

  /** Switches the mining mode at run time; an open block is given up (its transactions stay pending). */
  async setMode(mode: MiningMode): Promise<void> {
    await this.blockWork.run(async () => {
      this.generation++
      if (this.timer) clearTimeout(this.timer)
      this.timer = undefined
      await this.closeOpen()
      this._mode = mode
    })
    if (!this.stopped) this.enterMode()
  }

  async close(): Promise<void> {
    this.stopped = true
    this.generation++
    if (this.timer) clearTimeout(this.timer)
    this.mempool.off('tx', this.onTx)
    await this.blockWork.drain()
    await this.feeds.drain()
    const open = this.open
    this.open = undefined
    await open?.abandon()
  }

  /**
   * Runs `task` with no block open (the live state is the head's), then reopens one in interval
   * mode: what cheat methods that change state, time or the block environment run inside.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.blockWork.run(async () => {
      await this.closeOpen()
      try {
        return await task()
      } finally {
        if (this._mode.kind === 'interval' && !this.stopped) await this.openNext()
        // What the task made minable (a pool restored by a revert, a balance set) is mined now.
        if (this._mode.kind === 'auto') setImmediate(() => this.kick())
      }
    })
  }

  /** Gives the open block up; its transactions are still in the pool and go into the next one. */
  private async closeOpen(): Promise<void> {
    await this.feeds.run(async () => {
      const open = this.open
      this.open = undefined
      await open?.abandon()
    })
  }

  // ----- the development clock ---------------------------------------------------------------

  get timeSettings(): TimeSettings {
    return {...this.time}
  }

  set timeSettings(value: TimeSettings) {
    this.time = {...value}
  }

  /** evm_increaseTime: moves the clock forward; returns the total offset in seconds. */
  increaseTime(seconds: bigint): bigint {
    this.time.offset += seconds
    return this.time.offset
  }

  setNextBlockTimestamp(timestamp: bigint | undefined): void {
    this.time.next = timestamp
  }

  setBlockTimestampInterval(seconds: bigint | undefined): void {
    this.time.interval = seconds
  }

  /** The timestamp the next block gets (before the chain's rule that it exceeds its parent's). */
  nextTimestamp(wallMs = this.now()): bigint {
    if (this.time.next !== undefined) return this.time.next
    const head = this.chain.head.header.timestamp
    if (this.time.interval !== undefined) return head + this.time.interval
    const t = BigInt(Math.floor(wallMs / 1000)) + this.time.offset
    return t > head ? t : head + 1n
  }

  /** After a block: an exact timestamp was used once, and the clock continues from it (anvil). */
  private consumedTimestamp(timestamp: bigint): void {
    if (this.time.next === undefined) return
    this.time.offset = timestamp - BigInt(Math.floor(this.now() / 1000))
    this.time.next = undefined
  }

  /**
   * Automine: resolves once `hash` is in a committed block, or can no longer be (dropped, or
   * behind a nonce gap), or after `timeoutMs`. Other modes resolve at once.
   */
  whenSettled(hash: Uint8Array, timeoutMs = 10_000): Promise<void> {
    if (this._mode.kind !== 'auto') return Promise.resolve()
    return new Promise((resolve) => {
      const key = bytesToHex(hash)
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        this.chain.off('block', onBlock)
        if (timer) clearTimeout(timer)
        resolve()
      }
      const onBlock = (record: BlockRecord) => {
        if (record.block.transactions.some((tx) => bytesToHex(tx.hash()) === key) || !this.mempool.isExecutable(hash)) done()
      }
      if (!this.mempool.isExecutable(hash) || this.stopped) return resolve()
      this.chain.on('block', onBlock)
      timer = setTimeout(done, timeoutMs)
    })
  }

  /**
   * Mines `count` blocks now (evm_mine, anvil_mine), the first with what the mempool holds; with
   * `interval` the clock moves that many seconds before each block, as anvil_mine does.
   */
  mine(count = 1, interval?: bigint): Promise<void> {
    return this.exclusive(async () => {
      for (let i = 0; i < count; i++) {
        if (interval !== undefined) this.time.offset += interval
        await this.produceNow()
      }
    })
  }

  private schedule(): void {
    if (this.stopped || this._mode.kind !== 'interval') return
    const ms = this._mode.ms
    const generation = this.generation
    const delay = Math.max(0, this.nextAt - this.now())
    this.timer = setTimeout(() => {
      if (generation !== this.generation) return
      this.nextAt += ms
      // A block that overran its slot does not cause a burst of catch-up blocks.
      if (this.nextAt < this.now()) this.nextAt = this.now() + ms
      this.blockWork
        .run(() => (generation === this.generation ? this.sealOpen() : Promise.resolve()))
        .catch((err) => this.logger.error('block production failed', {error: errorMessage(err)}))
        .finally(() => {
          if (generation === this.generation) this.schedule()
        })
    }, delay)
  }

  /** Opens the block that the next tick will seal, and feeds it what is already pending. */
  private async openNext(): Promise<void> {
    if (this.stopped || this._mode.kind !== 'interval') return
    this.open = await this.chain.openBlock({timestamp: this.nextTimestamp(this.nextAt), coinbase: this.coinbase})
    this.queueFeed()
  }

  /** Executes newly pending transactions into the open block, soon and in one batch. */
  private queueFeed(): void {
    if (this.feedQueued || !this.open) return
    this.feedQueued = true
    setImmediate(() => {
      this.feedQueued = false
      this.feeds.run(() => this.feed()).catch((err) => this.logger.error('executing transactions failed', {error: errorMessage(err)}))
    })
  }

  private async feed(): Promise<void> {
    for (;;) {
      const open = this.open
      if (!open || !open.hasRoom || this.stopped) return
      const txs = this.mempool.selectForBlock(open.env.baseFeePerGas, FEED_BATCH, open)
      if (txs.length === 0) return
      await open.add(txs)
      // Let waiting requests (new transactions among them) in between batches.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  private async sealOpen(): Promise<void> {
    if (!this.open) await this.openNext()
    if (!this.open) return
    await this.feeds.run(() => this.feed()) // whatever arrived up to the tick
    // Synchronously after the last feed: a feed queued later finds no open block.
    const open = this.open!
    this.open = undefined
    const started = performance.now()
    await this.commit(await open.seal(), started)
    await this.openNext()
  }

  /** Automine: one block per transaction, as soon as one is pending and no build is running. */
  private kick(): void {
    if (this.stopped || this.blockWork.busy || this._mode.kind !== 'auto') return
    if (!this.mempool.hasPending()) return
    this.blockWork
      .run(() => (this._mode.kind === 'auto' ? this.produceNow(1) : Promise.resolve()))
      .catch((err) => this.logger.error('block production failed', {error: errorMessage(err)}))
      .finally(() => setImmediate(() => this.kick()))
  }

  private async produceNow(maxCount?: number): Promise<void> {
    const txs = this.mempool.selectForBlock(this.chain.nextBaseFee(), maxCount)
    const started = performance.now()
    const built = await this.chain.buildBlock(txs, {timestamp: this.nextTimestamp(), coinbase: this.coinbase})
    await this.commit(built, started)
  }

  private async commit(built: BuiltBlock, started: number): Promise<void> {
    const sealMs = performance.now() - started
    this.options.telemetry?.blockExecution.observe(sealMs / 1000)
    if (built.rejected.length > 0) {
      this.mempool.drop(
        built.rejected.map((r) => r.tx),
        built.rejected[0]!.error,
      )
    }
    let record
    try {
      record = await this.chain.commitBlock(built)
      this.consumedTimestamp(record.block.header.timestamp)
    } catch (err) {
      // The live state moved with the build; put it back on the head before anything else runs.
      await this.chain.discardBlock(built)
      throw err
    }
    this.logger.info('committed block', {
      height: record.block.header.number,
      hash: record.block.hash(),
      txs: record.block.transactions.length,
      gasUsed: record.block.header.gasUsed,
      sealMs: Math.round(sealMs),
      rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    })
  }
}
