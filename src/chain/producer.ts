import {type Address, bytesToHex} from '@ethereumjs/util'

import {errorMessage} from '../util/errors.js'
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
  /** Wall clock in ms (tests may pin it). */
  now?: () => number
}

/**
 * The single-validator block producer. With a block time, the next block is open all the time:
 * transactions execute into it as they arrive, and on every tick it is sealed and committed and the
 * following one opened, so a block's execution overlaps the wait for its slot instead of delaying
 * it. With block time 0 (automine) each transaction is mined into its own block as it arrives.
 * It is the seam a consensus engine replaces: it only uses the chain's block building and commit
 * and the mempool's selection.
 */
export class BlockProducer {
  private readonly chain: Chain
  private readonly mempool: Mempool
  private readonly blockTime: number
  private readonly coinbase?: Address
  private readonly logger: Logger
  private readonly now: () => number
  private timer?: NodeJS.Timeout
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
  private readonly onTx = (): void => (this.blockTime === 0 ? this.kick() : this.queueFeed())

  constructor(options: BlockProducerOptions) {
    this.chain = options.chain
    this.mempool = options.mempool
    this.blockTime = options.blockTime
    this.coinbase = options.coinbase
    this.logger = options.logger ?? silentLogger
    this.now = options.now ?? Date.now
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.mempool.on('tx', this.onTx)
    if (this.blockTime === 0) {
      this.kick()
    } else {
      this.nextAt = this.now() + this.blockTime
      this.blockWork.run(() => this.openNext()).catch((err) => this.logger.error('opening a block failed', {error: errorMessage(err)}))
      this.schedule()
    }
  }

  async close(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.mempool.off('tx', this.onTx)
    await this.blockWork.drain()
    await this.feeds.drain()
    const open = this.open
    this.open = undefined
    await open?.abandon()
  }

  /**
   * Automine: resolves once `hash` is in a committed block, or can no longer be (dropped, or
   * behind a nonce gap), or after `timeoutMs`.
   */
  whenSettled(hash: Uint8Array, timeoutMs = 10_000): Promise<void> {
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

  /** Seals and commits a block now with what the mempool has (the `evm_mine` of this node). */
  mine(maxCount?: number): Promise<void> {
    return this.blockWork.run(() => (this.blockTime === 0 ? this.produceNow(maxCount) : this.sealOpen()))
  }

  private schedule(): void {
    if (this.stopped) return
    const delay = Math.max(0, this.nextAt - this.now())
    this.timer = setTimeout(() => {
      this.nextAt += this.blockTime
      // A block that overran its slot does not cause a burst of catch-up blocks.
      if (this.nextAt < this.now()) this.nextAt = this.now() + this.blockTime
      this.mine()
        .catch((err) => this.logger.error('block production failed', {error: errorMessage(err)}))
        .finally(() => this.schedule())
    }, delay)
  }

  /** Opens the block that the next tick will seal, and feeds it what is already pending. */
  private async openNext(): Promise<void> {
    if (this.stopped) return
    this.open = await this.chain.openBlock({timestamp: BigInt(Math.floor(this.nextAt / 1000)), coinbase: this.coinbase})
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
    if (this.stopped || this.blockWork.busy) return
    if (!this.mempool.hasPending()) return
    this.mine(1)
      .catch((err) => this.logger.error('block production failed', {error: errorMessage(err)}))
      .finally(() => setImmediate(() => this.kick()))
  }

  private async produceNow(maxCount?: number): Promise<void> {
    const txs = this.mempool.selectForBlock(this.chain.nextBaseFee(), maxCount)
    const started = performance.now()
    const built = await this.chain.buildBlock(txs, {timestamp: BigInt(Math.floor(this.now() / 1000)), coinbase: this.coinbase})
    await this.commit(built, started)
  }

  private async commit(built: BuiltBlock, started: number): Promise<void> {
    if (built.rejected.length > 0) {
      this.mempool.drop(
        built.rejected.map((r) => r.tx),
        built.rejected[0]!.error,
      )
    }
    let record
    try {
      record = await this.chain.commitBlock(built)
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
      sealMs: Math.round(performance.now() - started),
      rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    })
  }
}
