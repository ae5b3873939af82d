import {Address, hexToBytes} from '@ethereumjs/util'

import type {BuildOptions, BuiltBlock, Chain, OpenBlock} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import {type Evidence, evidenceCommitment} from './messages.js'
import type {ValidatorAddress} from './types.js'

/** Transactions executed into the proposer's open block between two turns of the event loop. */
export const FEED_BATCH = 128

/**
 * How long a proposer spends executing transactions into its block before it seals it: a share of
 * the block time, so that every validator can re-execute the block well within the round.
 */
export function buildBudgetMs(blockTime: number): number {
  return Math.max(200, Math.min(blockTime, 2_000) * 0.4)
}

/** What the proposer's block needs: the chain, the mempool, the clocks, its coinbase and the event loop. */
export interface ProposerBlockPorts {
  chain: Pick<Chain, 'openBlock'>
  mempool: Pick<Mempool, 'selectForBlock' | 'drop'>
  /** This validator's address: the coinbase of its blocks. */
  coinbase: ValidatorAddress | null
  /** The node's clock in ms (block timestamps). */
  now(): number
  /** Runs a task on the engine's queue (one task at a time). */
  enqueue(task: () => Promise<void>): void
  /** Whether the height being decided has started (the open block then waits for its proposal). */
  started(): boolean
  /** Target ms between commits (it sets the build budget). */
  blockTime: number
  /** A monotonic clock in ms for the build budget (performance.now). */
  clock?: () => number
}

/**
 * The next proposer keeps the next block open between commits, executing transactions into it as
 * they arrive (a batch per turn of the event loop), so proposing only seals it, as the single-node
 * producer does. While a block is open the chain's live state is its own: whoever needs the state
 * (validating a proposal, syncing) drops it first.
 */
export class ProposerBlock {
  private open?: {height: number; block: OpenBlock}
  private feeding = false
  private readonly clock: () => number

  constructor(private readonly ports: ProposerBlockPorts) {
    this.clock = ports.clock ?? (() => performance.now())
  }

  /** The height of the open block, if one is open. */
  get openHeight(): number | undefined {
    return this.open?.height
  }

  /** Opens the block of `height` (no evidence) and starts feeding it from the mempool. */
  async openAhead(height: number): Promise<void> {
    if (this.open) return
    this.open = {height, block: await this.ports.chain.openBlock(this.blockOptions([]))}
    this.scheduleFeed()
  }

  /** A transaction entered the mempool: feed the open block, unless a feed is already due. */
  onPendingTx(): void {
    if (this.open && !this.feeding) this.scheduleFeed()
  }

  /**
   * The block to propose at (height, round) with `evidence`: the open block when it is this
   * height's, the round is 0 and there is no evidence (its timestamp and extraData were fixed when
   * it opened), else a new one. It is filled from the mempool until full or the build budget is
   * spent, then sealed; transactions it rejected leave the mempool.
   */
  async build(height: number, round: number, evidence: Evidence[]): Promise<BuiltBlock> {
    let open = this.open?.height === height && round === 0 && evidence.length === 0 ? this.open.block : undefined
    if (open) {
      this.open = undefined
    } else {
      // The open block is given up first: its transactions are executed on the live state, and a
      // block opened on top of it would carry their effects without them.
      await this.drop()
      open = await this.ports.chain.openBlock(this.blockOptions(evidence))
    }
    await this.feed(open, Infinity, this.clock() + buildBudgetMs(this.ports.blockTime))
    const built = await open.seal()
    if (built.rejected.length > 0) this.ports.mempool.drop(built.rejected.map((r) => r.tx), built.rejected[0]!.error)
    return built
  }

  /** Abandons the open block, if any: the live state returns to the head. */
  async drop(): Promise<void> {
    const open = this.open
    this.open = undefined
    if (open) await open.block.abandon()
  }

  /** The header fields this node gives its block: its clock's time, its address, and the evidence commitment. */
  blockOptions(evidence: Evidence[]): BuildOptions {
    if (!this.ports.coinbase) throw new Error('only a validator proposes blocks')
    return {
      timestamp: BigInt(Math.floor(this.ports.now() / 1000)),
      coinbase: new Address(hexToBytes(this.ports.coinbase)),
      extraData: evidenceCommitment(evidence),
    }
  }

  private scheduleFeed(): void {
    this.feeding = true
    setImmediate(() => {
      this.ports.enqueue(async () => {
        this.feeding = false
        const open = this.open
        if (open && !this.ports.started()) await this.feed(open.block, 1)
      })
    })
  }

  private async feed(open: OpenBlock, maxBatches = Infinity, deadline = Infinity): Promise<void> {
    for (let i = 0; i < maxBatches && open.hasRoom && this.clock() < deadline; i++) {
      const txs = this.ports.mempool.selectForBlock(open.env.baseFeePerGas, FEED_BATCH, open)
      if (txs.length === 0) return
      await open.add(txs)
    }
    if (maxBatches !== Infinity && this.open?.block === open) this.scheduleFeed()
  }
}
