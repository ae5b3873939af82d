import {type Commit, type Evidence, type SignedVote, commitFromPrecommits} from './messages.js'
import type {ValueId, Vote, VoteType} from './types.js'

type Bytes = Uint8Array

/**
 * The signatures of the votes seen at the height being decided. The machine works on unsigned
 * votes; what it decides (a commit) and what it catches (an equivocation) are turned back into
 * signed proofs here.
 */
export class VoteBook {
  /** By `${type}:${round}:${validator}:${value}`. */
  private readonly signatures = new Map<string, Bytes>()

  clear(): void {
    this.signatures.clear()
  }

  remember(v: SignedVote): void {
    this.signatures.set(voteKey(v.vote.type, v.vote.round, v.vote.validator, v.vote.value), v.signature)
  }

  signature(vote: Vote): Bytes | undefined {
    return this.signatures.get(voteKey(vote.type, vote.round, vote.validator, vote.value))
  }

  /** The evidence of an equivocation the machine reported, when both votes' signatures were seen. */
  evidence(first: Vote, second: Vote): Evidence | undefined {
    const a = this.signature(first)
    const b = this.signature(second)
    if (!a || !b) return undefined
    return {first: {vote: first, signature: a}, second: {vote: second, signature: b}}
  }

  /** The commit of a decision: the deciding precommits whose signatures were seen. */
  commit(precommits: Vote[]): Commit {
    const signatures = precommits.map((v) => this.signatures.get(voteKey('precommit', v.round, v.validator, v.value)))
    return commitFromPrecommits(precommits.flatMap((vote, i) => (signatures[i] ? [{vote, signature: signatures[i]}] : [])))
  }
}

function voteKey(type: VoteType, round: number, validator: string, value: ValueId | null): string {
  return `${type}:${round}:${validator}:${value ?? 'nil'}`
}
