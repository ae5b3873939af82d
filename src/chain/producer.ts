import type {Address} from '@ethereumjs/util'

import {errorMessage} from '../errors.js'
import {type Logger, silentLogger} from '../logger.js'
import type {Chain} from './chain.js'
import type {Mempool} from './mempool.js'

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
 * The single-validator block producer: on every tick, the mempool's best transactions are executed
 * into a block and committed. It is the seam a consensus engine replaces: it only uses
 * `chain.buildBlock` / `chain.commitBlock` and the mempool's selection.
 */
export class BlockProducer {
  private readonly chain: Chain
  private readonly mempool: Mempool
  private readonly blockTime: number
  private readonly coinbase?: Address
  private readonly logger: Logger
  private readonly now: () => number
  private timer?: NodeJS.Timeout
  private running?: Promise<void>
  private stopped = true
  private nextAt = 0
  private readonly onTx = (): void => this.kick()

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
    if (this.blockTime === 0) {
      this.mempool.on('tx', this.onTx)
      this.kick()
    } else {
      this.nextAt = this.now() + this.blockTime
      this.schedule()
    }
  }

  async close(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.mempool.off('tx', this.onTx)
    await this.running
  }

  /** Builds and commits one block now with what the mempool has (the `evm_mine` of this node). */
  mine(maxCount?: number): Promise<void> {
    const previous = this.running ?? Promise.resolve()
    const run = previous.then(() => this.produce(maxCount))
    const tracked: Promise<void> = run
      .catch(() => undefined)
      .then(() => {
        if (this.running === tracked) this.running = undefined
      })
    this.running = tracked
    return run
  }

  private schedule(): void {
    if (this.stopped) return
    const delay = Math.max(0, this.nextAt - this.now())
    this.timer = setTimeout(() => {
      this.nextAt += this.blockTime
      // A build that overran its slot does not cause a burst of catch-up blocks.
      if (this.nextAt < this.now()) this.nextAt = this.now() + this.blockTime
      this.mine()
        .catch((err) => this.logger.error('block production failed', {error: errorMessage(err)}))
        .finally(() => this.schedule())
    }, delay)
  }

  /** Automine: one block per transaction, as soon as one is pending and no build is running. */
  private kick(): void {
    if (this.stopped || this.running) return
    if (!this.mempool.hasPending()) return
    this.mine(1)
      .catch((err) => this.logger.error('block production failed', {error: errorMessage(err)}))
      .finally(() => setImmediate(() => this.kick()))
  }

  private async produce(maxCount?: number): Promise<void> {
    const txs = this.mempool.selectForBlock(this.chain.nextBaseFee(), maxCount)
    const started = performance.now()
    const built = await this.chain.buildBlock(txs, {
      timestamp: BigInt(Math.floor(this.now() / 1000)),
      coinbase: this.coinbase,
    })
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
      ms: Math.round(performance.now() - started),
      rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
    })
  }
}
