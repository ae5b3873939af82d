import type {Block} from '@ethereumjs/block'
import {bytesToHex} from '@ethereumjs/util'

import type {BuiltBlock, Chain} from '../chain/chain.js'
import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {type BlockBundle, hashId} from './block-codec.js'
import {type Evidence, evidenceCommitment} from './messages.js'
import type {ValueId} from './types.js'

/**
 * How far ahead of a validator's clock a proposed block's timestamp may be (geth allows 15 s)
 * unless it is the parent's + 1: further, the validator prevotes nil, so no proposer can move the
 * chain's time ahead of the validators' clocks. A decided block is committed whatever its time
 * (the commit is the proof).
 */
export const MAX_FUTURE_TIMESTAMP_S = 15n

export interface BundleContext {
  /** The head block the bundle must extend. */
  head: Block
  /** This node's clock, in ms. */
  nowMs: number
  /** Whether a committed block already holds this evidence. */
  isCommitted(evidence: Evidence): boolean
}

/**
 * What can be checked of a bundle without executing it: it is the value it claims to be, extends
 * the head, has a timestamp after the parent's and not too far ahead of this node's clock, its
 * extraData commits to its evidence, and that evidence is not already committed. Returns the
 * problem, or undefined when there is none.
 */
export function checkBundleShape(bundle: BlockBundle, value: ValueId, context: BundleContext): string | undefined {
  const {head} = context
  if (bundle.hash !== value) return 'the block hash is not the proposed value'
  if (bundle.header.number !== head.header.number + 1n) return `block number ${bundle.header.number} does not follow the head`
  if (bytesToHex(bundle.header.parentHash) !== bytesToHex(head.hash())) return 'the block does not extend our head'
  if (bundle.header.timestamp <= head.header.timestamp) return `timestamp ${bundle.header.timestamp} is not after the parent's (${head.header.timestamp})`
  // Blocks faster than one a second push the time ahead by the one second each must add: the
  // parent's time + 1 is always allowed.
  const ahead = bundle.header.timestamp - BigInt(Math.floor(context.nowMs / 1000))
  if (ahead > MAX_FUTURE_TIMESTAMP_S && bundle.header.timestamp > head.header.timestamp + 1n) {
    return `timestamp ${bundle.header.timestamp} is ${ahead} s ahead of this node's clock (at most ${MAX_FUTURE_TIMESTAMP_S} s, or the parent's + 1)`
  }
  if (bytesToHex(bundle.header.extraData) !== bytesToHex(evidenceCommitment(bundle.evidence))) return 'extraData does not commit to the evidence'
  for (const e of bundle.evidence) if (context.isCommitted(e)) return 'the block repeats committed evidence'
  return undefined
}

/**
 * Re-executes a bundle's transactions on the head with its header fields. Returns the built block
 * when it is exactly the bundle's block (same hash: roots, gas, bloom) with nothing rejected;
 * otherwise undefined, with the live state back at the head. `height` is for the logs.
 */
export async function executeBundle(chain: Pick<Chain, 'buildBlock' | 'discardBlock'>, bundle: BlockBundle, logger: Logger, height: number): Promise<BuiltBlock | undefined> {
  let built: BuiltBlock
  try {
    built = await chain.buildBlock(bundle.transactions, {
      timestamp: bundle.header.timestamp,
      coinbase: bundle.header.coinbase,
      extraData: bundle.header.extraData,
    })
  } catch (err) {
    logger.warn('executing a proposed block failed', {height, error: errorMessage(err)})
    return undefined
  }
  const hash = hashId(built.record.block.hash())
  if (hash !== bundle.hash || built.rejected.length > 0) {
    logger.warn('proposed block does not re-execute to its header', {
      height: Number(bundle.header.number),
      proposed: bundle.hash,
      executed: hash,
      rejected: built.rejected.length,
      stateRoot: bytesToHex(built.record.block.header.stateRoot),
      proposedStateRoot: bytesToHex(bundle.header.stateRoot),
    })
    await chain.discardBlock(built)
    return undefined
  }
  return built
}
