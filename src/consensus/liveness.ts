import {errorMessage} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {type SignedProposal, type SignedVote, encodeMessage} from './messages.js'
import type {ConsensusNetwork} from './engine-options.js'

type Bytes = Uint8Array

/** How often a node says where it is, and repeats its own messages while a round makes no progress. */
export const STATUS_INTERVAL_MS = 1_000
export const REGOSSIP_INTERVAL_MS = 1_000
/** How long a starting node waits for its peers before it takes part in a round anyway. */
export const PEER_WAIT_MS = 2_000

/** What liveness needs: the network, the clock, and where the node is. */
export interface LivenessPorts {
  network: Pick<ConsensusNetwork, 'publish' | 'topicPeers'>
  now(): number
  /** The number of the head block. */
  headNumber(): number
  /** The round being decided once the height has started, else undefined. */
  round(): number | undefined
  /** When the machine last changed state (ms of `now`). */
  lastProgressAt(): number
  /** This node's own proposal and votes in `round`. */
  own(round: number): {proposal?: SignedProposal; votes: SignedVote[]}
  /** Gossips the pending evidence again. */
  regossipEvidence(): void
  closed(): boolean
  logger?: Logger
}

/**
 * Lossy gossip made live. Every second a node gossips its status (its committed height, which
 * starts a sync at peers behind it), and while a round makes no progress it repeats its own
 * proposal and votes of the round and the pending evidence: gossipsub forgets what a cut-off peer
 * missed, and the paper assumes eventual delivery.
 */
export class Liveness {
  private statusTimer?: NodeJS.Timeout
  private regossipTimer?: NodeJS.Timeout
  private readonly logger: Logger

  constructor(private readonly ports: LivenessPorts) {
    this.logger = ports.logger ?? silentLogger
  }

  /**
   * At startup, wait (briefly) until the `others` validators are connected and subscribed to the
   * consensus topic: a round-0 proposal sent before is lost, and the height then takes a propose
   * timeout longer.
   */
  async waitForPeers(others: number): Promise<void> {
    const deadline = this.ports.now() + PEER_WAIT_MS
    while (this.ports.network.topicPeers('consensus') < others && this.ports.now() < deadline && !this.ports.closed()) await new Promise((r) => setTimeout(r, 25))
  }

  start(): void {
    this.statusTimer = setInterval(() => this.publishStatus(), STATUS_INTERVAL_MS)
    this.regossipTimer = setInterval(() => this.regossip(), REGOSSIP_INTERVAL_MS)
  }

  stop(): void {
    if (this.statusTimer) clearInterval(this.statusTimer)
    if (this.regossipTimer) clearInterval(this.regossipTimer)
  }

  publish(topic: 'consensus' | 'evidence', data: Bytes): void {
    this.ports.network.publish(topic, data).catch((err) => this.logger.debug('publish failed', {topic, error: errorMessage(err)}))
  }

  publishStatus(): void {
    if (this.ports.closed()) return
    this.publish('consensus', encodeMessage({kind: 'status', status: {height: this.ports.headNumber(), round: this.ports.round() ?? 0}}))
  }

  /** Repeats this node's messages of the current round (and the pending evidence) when the round has stalled. */
  regossip(): void {
    const round = this.ports.round()
    if (this.ports.closed() || round === undefined || this.ports.now() - this.ports.lastProgressAt() < REGOSSIP_INTERVAL_MS) return
    const {proposal, votes} = this.ports.own(round)
    if (proposal) this.publish('consensus', encodeMessage({kind: 'proposal', proposal}))
    for (const vote of votes) this.publish('consensus', encodeMessage({kind: 'vote', vote}))
    this.ports.regossipEvidence()
  }
}
