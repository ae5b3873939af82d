import type {BuiltBlock, Chain} from '../chain/chain.js'
import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import type {WriteOp} from '../storage/database.js'
import {encodeConsensusRecord} from './consensus-record.js'
import type {Commit, Evidence} from './messages.js'
import type {ValidatorAddress, ValidatorInfo} from './types.js'
import {ValidatorSet} from './validator-set.js'

type Bytes = Uint8Array

/**
 * Makes `built` the head with its consensus record — and, when it holds evidence, the updated
 * index of heights holding evidence (`evidenceIndex`) — in the block's own atomic batch. A failed write discards the block (the live state returns to the head).
 */
export async function commitWithRecord(
  chain: Pick<Chain, 'blocks' | 'commitBlock' | 'discardBlock'>,
  built: BuiltBlock,
  commit: Commit,
  evidence: Evidence[],
  evidenceIndex?: {key: bigint; value: Bytes},
): Promise<void> {
  const ops: WriteOp[] = [chain.blocks.consensusOp(built.record.block.header.number, encodeConsensusRecord(commit, evidence))]
  if (evidenceIndex) ops.push(chain.blocks.consensusOp(evidenceIndex.key, evidenceIndex.value))
  try {
    await chain.commitBlock(built, ops)
  } catch (err) {
    await chain.discardBlock(built)
    throw err
  }
}

/**
 * The validator set of the next height, read from the head state after a commit (governance
 * changes it): a new set when the list differs from `current`, else `current` itself. A failed
 * read, or an empty or missing list, keeps `current`.
 */
export async function nextValidatorSet(
  current: ValidatorSet,
  read: (() => Promise<readonly ValidatorInfo[] | undefined>) | undefined,
  context: {logger: Logger; height: number; self: ValidatorAddress | null},
): Promise<ValidatorSet> {
  let list: readonly ValidatorInfo[] | undefined
  try {
    list = await read?.()
  } catch (err) {
    context.logger.error('reading the validator set failed; keeping the current one', {error: errorMessage(err)})
    return current
  }
  if (!list || list.length === 0) return current
  const same = list.length === current.size && list.every((v) => current.power(v.address) === v.power)
  if (same) return current
  const next = new ValidatorSet(list)
  context.logger.info('validator set changed', {
    height: context.height,
    validators: next.validators.map((v) => `${v.address}:${v.power}`),
    self: context.self ? next.has(context.self) : null,
  })
  return next
}
