import type {BuiltBlock, Chain} from '../chain/chain.js'
import {errorMessage} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import {Telemetry, secondsSince} from '../util/telemetry.js'
import {type BlockBundle, encodeBundle, hashId} from './block-codec.js'
import {executeBundle} from './bundle-check.js'
import type {Evidence} from './messages.js'
import type {ValueId} from './types.js'

type Bytes = Uint8Array

interface KnownBundle {
  bytes: Bytes
  bundle: BlockBundle
  valid: boolean
}

/** What the blocks of a height need: the chain to execute on, decoding, the shape check, and the live state freed. */
export interface HeightBlocksPorts {
  chain: Pick<Chain, 'buildBlock' | 'discardBlock'>
  /** Decodes a bundle (throws MessageError on malformed bytes). */
  decodeBundle(bytes: Bytes): BlockBundle
  /** What is wrong with a bundle on our head without executing it (checkBundleShape), or undefined. */
  checkBundle(bundle: BlockBundle, value: ValueId): string | undefined
  /** Frees the chain's live state for an execution (drops the proposer's open block). */
  freeState(): Promise<void>
  logger?: Logger
  /** Re-execution time and invalid-block security events (default: its own, log only). */
  telemetry?: Telemetry
}

/**
 * The proposed blocks of the height being decided: every bundle seen (with valid(v) as judged
 * here), and the one executed block held on the live state, ours or a validated proposal's, to be
 * committed as it is when decided. The chain has one live state, so a new execution drops the
 * held block first.
 */
export class HeightBlocks {
  private readonly bundles = new Map<ValueId, KnownBundle>()
  private held?: {value: ValueId; built: BuiltBlock}
  private readonly logger: Logger
  private readonly telemetry: Telemetry

  constructor(private readonly ports: HeightBlocksPorts) {
    this.logger = ports.logger ?? silentLogger
    this.telemetry = ports.telemetry ?? new Telemetry({logger: this.logger, defaultMetrics: false})
  }

  /** A new height: no bundle known (a held block was committed or dropped already). */
  reset(): void {
    this.bundles.clear()
  }

  /** Whether an executed block is held on the live state. */
  get holding(): boolean {
    return this.held !== undefined
  }

  /** The bundle bytes of a known value (to propose it again as the valid value). */
  bytes(value: ValueId): Bytes | undefined {
    return this.bundles.get(value)?.bytes
  }

  /** This node's own block (built on the live state): held and known as valid. */
  holdOwn(built: BuiltBlock, evidence: Evidence[]): {value: ValueId; bytes: Bytes} {
    const {block} = built.record
    const value = hashId(block.hash())
    const bytes = encodeBundle(block.serialize(), evidence)
    this.held = {value, built}
    this.bundles.set(value, {bytes, bundle: {header: block.header, hash: value, transactions: [...block.transactions], evidence}, valid: true})
    return {value, bytes}
  }

  /**
   * valid(v): the bundle decodes, its block extends our head, its evidence is real and new, and
   * executing its transactions on our state gives exactly its header (roots, gas, bloom, hash).
   * The result of a valid execution is held, to be committed if the block is decided. A value is
   * judged once.
   */
  async validate(value: ValueId, bytes: Bytes, height: number): Promise<boolean> {
    const known = this.bundles.get(value)
    if (known) return known.valid
    let bundle: BlockBundle
    try {
      bundle = this.ports.decodeBundle(bytes)
    } catch (err) {
      this.telemetry.security('invalid-block', 'invalid proposal', {height, value, error: errorMessage(err)})
      return false
    }
    const entry: KnownBundle = {bytes, bundle, valid: false}
    this.bundles.set(value, entry)
    const problem = this.ports.checkBundle(bundle, value)
    if (problem) {
      this.telemetry.security('invalid-block', 'invalid proposal', {height, value, reason: problem})
      return false
    }
    await this.ports.freeState()
    await this.dropHeld()
    const started = performance.now()
    const built = await this.execute(bundle, height)
    this.telemetry.reexecution.observe({source: 'proposal'}, secondsSince(started))
    if (!built) {
      this.telemetry.security('invalid-block', 'invalid proposal: re-executing it does not give its hash', {height, value})
      return false
    }
    this.held = {value, built}
    entry.valid = true
    this.logger.debug('validated proposal', {height, value, txs: bundle.transactions.length, ms: Math.round(performance.now() - started)})
    return true
  }

  /**
   * A proposal replayed from the WAL: its bundle is known from its bytes (not executed again)
   * with the verdict the log holds. Returns valid(v): that verdict (false without one), or false
   * when the bundle does not decode.
   */
  rememberLogged(value: ValueId, bytes: Bytes, logged: boolean | undefined): boolean {
    let valid = logged ?? false
    if (!this.bundles.has(value)) {
      try {
        this.bundles.set(value, {bytes, bundle: this.ports.decodeBundle(bytes), valid})
      } catch {
        valid = false
      }
    }
    return valid
  }

  /**
   * The executed block of decided `value` and its bundle: the held block when it is that value,
   * else the bundle executed now. Undefined (logged) when the value is unknown or does not
   * execute to its hash here.
   */
  async decided(value: ValueId, height: number): Promise<{built: BuiltBlock; bundle: BlockBundle} | undefined> {
    const known = this.bundles.get(value)
    if (!known) {
      this.logger.error('decided a block this node does not hold', {height, value})
      return undefined
    }
    let built = this.held?.value === value ? this.held.built : undefined
    if (built) {
      this.held = undefined
    } else {
      await this.ports.freeState()
      await this.dropHeld()
      built = await this.execute(known.bundle, height)
      if (!built) {
        this.logger.error('the decided block does not execute here', {height, value})
        return undefined
      }
    }
    return {built, bundle: known.bundle}
  }

  /** Re-executes a bundle on the head; undefined (and the live state back at the head) when the result differs. */
  execute(bundle: BlockBundle, height: number): Promise<BuiltBlock | undefined> {
    return executeBundle(this.ports.chain, bundle, this.logger, height)
  }

  /** Discards the held block, if any: the live state returns to the head. */
  async dropHeld(): Promise<void> {
    const held = this.held
    this.held = undefined
    if (held) await this.ports.chain.discardBlock(held.built)
  }
}
