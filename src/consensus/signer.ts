import type {Logger} from '../util/logger.js'
import {hashId} from './block-codec.js'
import type {ValidatorKey} from './keys.js'
import {type SignedProposal, type SignedVote, encodeMessage, signProposal, signVote} from './messages.js'
import type {Proposal, Vote} from './types.js'
import type {SignerGuard} from './wal-replay.js'
import type {WalEntry} from './wal.js'

type Bytes = Uint8Array

/** What signing needs: the key, the guard, the WAL (written and flushed first) and the network. */
export interface SignerPorts {
  chainId: number
  key: ValidatorKey
  guard: SignerGuard
  wal(): {append(entry: WalEntry): void; sync(): void}
  /** Gossips a consensus message (fire and forget). */
  publish(wire: Bytes): void
  /** Test only: also sign and send a conflicting vote for every vote. */
  doubleSign?: boolean
  logger: Logger
}

/**
 * Signs what the machine asks this validator to say. Nothing leaves the node before it is in the
 * WAL and flushed, and the guard keeps it from signing a second, different vote for one (round,
 * type) or anything the WAL being replayed already holds.
 */
export class Signer {
  constructor(private readonly ports: SignerPorts) {}

  /** Signs, logs and gossips `vote`; the signed vote to feed back to the machine, or undefined when the guard refuses. */
  vote(vote: Omit<Vote, 'validator'>): SignedVote | undefined {
    const {chainId, key, guard, logger} = this.ports
    const verdict = guard.checkVote(vote)
    if (verdict === 'conflict') logger.error('refused to sign a second, different vote', {height: vote.height, round: vote.round, type: vote.type})
    if (verdict !== 'sign') return undefined // 'logged': the WAL holds it; it is replayed in order
    const signed = signVote(chainId, key, vote)
    const wire = encodeMessage({kind: 'vote', vote: signed})
    const wal = this.ports.wal()
    wal.append({t: 'msg', wire})
    wal.sync()
    guard.recordVote(signed)
    this.ports.publish(wire)
    if (this.ports.doubleSign) {
      const other = vote.value === null ? hashId(new Uint8Array(32).fill(0xee)) : null
      this.ports.publish(encodeMessage({kind: 'vote', vote: signVote(chainId, key, {...vote, value: other})}))
      logger.warn('signed a conflicting vote (test double-sign mode)', {height: vote.height, round: vote.round, type: vote.type})
    }
    return signed
  }

  /** Signs, logs (as valid) and gossips a proposal of `block` (the bundle bytes). */
  proposal(proposal: Omit<Proposal, 'proposer'>, block: Bytes): SignedProposal {
    const signed = signProposal(this.ports.chainId, this.ports.key, proposal, block)
    const wire = encodeMessage({kind: 'proposal', proposal: signed})
    const wal = this.ports.wal()
    wal.append({t: 'msg', wire, valid: true})
    wal.sync()
    this.ports.guard.recordProposal(signed)
    this.ports.publish(wire)
    return signed
  }
}
