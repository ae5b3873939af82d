/** Fakes and builders shared by the unit tests of the consensus engine's parts. */
import type {BuiltBlock, Chain} from '../../../src/chain/chain.js'
import {hashId} from '../../../src/consensus/block-codec.js'
import {commitWithRecord} from '../../../src/consensus/block-commit.js'
import {type ValidatorKey, keccak_256, validatorKeyFromPrivate} from '../../../src/consensus/keys.js'
import {type Commit, type Evidence, commitFromPrecommits, signVote} from '../../../src/consensus/messages.js'
import type {ValueId, VoteType} from '../../../src/consensus/types.js'
import {ValidatorSet} from '../../../src/consensus/validator-set.js'
import type {Logger} from '../../../src/util/logger.js'

export const CHAIN_ID = 31337

/** `n` validator keys derived from `seed` (the same every run). */
export function validatorKeys(n: number, seed = 'validator'): ValidatorKey[] {
  return Array.from({length: n}, (_, i) => validatorKeyFromPrivate(keccak_256(new TextEncoder().encode(`xai-test/${seed}/${i}`))))
}

export function setOf(keys: ValidatorKey[]): ValidatorSet {
  return new ValidatorSet(keys.map((k) => ({address: k.address, power: 1})))
}

export function valueOf(byte: number): ValueId {
  return hashId(new Uint8Array(32).fill(byte))
}

/** Two signed votes of `key` for one (height, round, type) with different values. */
export function equivocation(key: ValidatorKey, height: number, round = 0, type: VoteType = 'prevote', values: [ValueId | null, ValueId | null] = [valueOf(1), valueOf(2)]): Evidence {
  return {
    first: signVote(CHAIN_ID, key, {type, height, round, value: values[0]}),
    second: signVote(CHAIN_ID, key, {type, height, round, value: values[1]}),
  }
}

/** A commit of `value` at (height, round) signed by `signers`. */
export function commitBy(signers: ValidatorKey[], height: number, value: ValueId, round = 0): Commit {
  return commitFromPrecommits(signers.map((key) => signVote(CHAIN_ID, key, {type: 'precommit', height, round, value})))
}

/** Builds and commits `count` blocks (with `txs(i)` in block i) on `chain`, each with a commit by `signers`. */
export async function commitBlocks(chain: Chain, count: number, signers: ValidatorKey[], txs: (height: number) => BuiltBlock['record']['block']['transactions'] = () => []): Promise<void> {
  for (let i = 0; i < count; i++) {
    const height = Number(chain.head.header.number) + 1
    const built = await chain.buildBlock([...txs(height)], {timestamp: chain.head.header.timestamp + 1n})
    const value = hashId(built.record.block.hash())
    await commitWithRecord(chain, built, commitBy(signers, height, value), [])
  }
}

/** A logger that keeps what it is told, for asserting on warnings and errors. */
export class RecordingLogger implements Logger {
  readonly lines: {level: string; message: string; context?: Record<string, unknown>}[] = []
  debug(message: string, context?: Record<string, unknown>): void {
    this.lines.push({level: 'debug', message, context})
  }
  info(message: string, context?: Record<string, unknown>): void {
    this.lines.push({level: 'info', message, context})
  }
  warn(message: string, context?: Record<string, unknown>): void {
    this.lines.push({level: 'warn', message, context})
  }
  error(message: string, context?: Record<string, unknown>): void {
    this.lines.push({level: 'error', message, context})
  }
  messages(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message)
  }
}
