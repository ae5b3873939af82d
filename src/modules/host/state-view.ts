import type {Address, Hex} from 'viem'
import {ModuleRevert} from '../module.js'

/**
 * Native modules are synchronous; chain state is read asynchronously. A module run therefore sees
 * the state through a {@link StateView}: reads answer from what has been loaded, and a read of
 * anything not yet loaded is recorded and aborts the run. {@link runWithState} then loads what was
 * missed and runs again from the start. A run is a pure function of the state it reads, so the
 * last run, the one that missed nothing, is the one whose result and writes count, on every node.
 */

/** The chain state a view loads from (the EVM's state manager, a block being built). */
export interface StateSource {
  getStorage(address: Address, slot: bigint): Promise<bigint>
  getBalance(address: Address): Promise<bigint>
  isContract(address: Address): Promise<boolean>
  /** Balance at the end of block `height`. */
  balanceAt(address: Address, height: bigint): Promise<bigint>
}

/** An EVM log: address, topics, data. */
export type ViewLog = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

/** Thrown through module code when a read needs loading; never shown to anyone. */
class NeedsLoading {
  readonly needsLoading = true
}

const NEEDS_LOADING = new NeedsLoading()

/** Reads one run may miss before it is cut short (a loop over values it has not got). */
const MISSES_PER_ROUND = 4_096

/**
 * What has been loaded, shared by the runs of one {@link runWithState}. A missed value read
 * answers a stand-in (0, false) so the run goes on and reveals what else it needs: one round of
 * loading then serves many reads. Nothing a run with stand-ins does is ever kept.
 */
class Loaded {
  private readonly local = new Map<string, unknown>()
  readonly missing = new Map<string, () => Promise<unknown>>()

  /**
   * `shared`: values kept between runs by the caller (a block's module storage): storage words,
   * past balances and loaded code, which only the host changes. Balances and code presence are
   * always read afresh.
   */
  constructor(private readonly shared?: Map<string, unknown>) {}

  private store(key: string): Map<string, unknown> {
    return this.shared && (key.startsWith('s') || key.startsWith('h') || key.startsWith('x')) ? this.shared : this.local
  }

  read<T>(key: string, load: () => Promise<T>, standIn?: T): T {
    const values = this.store(key)
    if (values.has(key)) {
      const value = values.get(key)
      if (value instanceof LoadFailed) throw value.error
      return value as T
    }
    this.missing.set(key, load)
    if (standIn === undefined || this.missing.size > MISSES_PER_ROUND) throw NEEDS_LOADING
    return standIn
  }

  /** Loads everything a run missed; extra loaders (modules' code) come through here too. */
  async fill(): Promise<void> {
    const entries = [...this.missing]
    this.missing.clear()
    // A load may fail because a run read stand-ins (a code hash of zeros); the failure counts only
    // if a run with real values asks for it again.
    for (const [key, load] of entries) {
      const value = await load().catch((error: unknown) => new LoadFailed(error))
      // A failed load is never shared: it may come from a run on stand-ins.
      ;(value instanceof LoadFailed ? this.local : this.store(key)).set(key, value)
    }
  }
}

class LoadFailed {
  constructor(readonly error: unknown) {}
}

/** The key of a storage word in views and in a shared cache. */
export const storageKey = (address: Address, slot: bigint) => `s${address.toLowerCase()}:${slot.toString(16)}`
const balanceKey = (address: Address) => `b${address.toLowerCase()}`

/**
 * State as one run sees it: writes stay in this layer until {@link StateView.merge} puts them into
 * the parent (or, for the root, until {@link runWithState}'s caller applies them).
 */
export class StateView {
  private readonly writes = new Map<string, bigint>()
  private readonly storageWrites = new Map<string, {address: Address; slot: bigint}>()
  private readonly balanceWrites = new Map<string, Address>()
  private readonly codeWrites = new Map<string, {address: Address; code: Uint8Array}>()
  readonly logs: ViewLog[] = []
  /** Hooks that threw in this run (reported only if the run is the one that counts). */
  readonly failures: {module: string; hook: string; error: unknown}[] = []

  constructor(
    private readonly source: StateSource,
    private readonly loaded: Loaded,
    private readonly parent?: StateView,
  ) {}

  /** Loads (or fails the run to load) anything keyed: modules' code, registry records. */
  load<T>(key: string, load: () => Promise<T>): T {
    return this.loaded.read(`x${key}`, load)
  }

  getStorage(address: Address, slot: bigint): bigint {
    const key = storageKey(address, slot)
    for (let layer: StateView | undefined = this; layer; layer = layer.parent) {
      const value = layer.writes.get(key)
      if (value !== undefined) return value
    }
    return this.loaded.read(key, () => this.source.getStorage(address, slot), 0n)
  }

  setStorage(address: Address, slot: bigint, value: bigint): void {
    const key = storageKey(address, slot)
    this.writes.set(key, value)
    this.storageWrites.set(key, {address, slot})
  }

  getBalance(address: Address): bigint {
    const key = balanceKey(address)
    for (let layer: StateView | undefined = this; layer; layer = layer.parent) {
      const value = layer.writes.get(key)
      if (value !== undefined) return value
    }
    return this.loaded.read(key, () => this.source.getBalance(address), 0n)
  }

  setBalance(address: Address, value: bigint): void {
    if (value < 0n) throw new RangeError(`balance of ${address} would be negative`)
    const key = balanceKey(address)
    this.writes.set(key, value)
    this.balanceWrites.set(key, address)
  }

  /** Sets an account's code (the marker that keeps a module's account from being pruned as empty). */
  setCode(address: Address, code: Uint8Array): void {
    this.codeWrites.set(address.toLowerCase(), {address, code})
  }

  /** Moves wei; `from` undefined mints. Throws when `from` holds less than `amount`. */
  move(from: Address | undefined, to: Address, amount: bigint): void {
    if (amount < 0n) throw new RangeError('amount must not be negative')
    if (amount === 0n) return
    if (from !== undefined) {
      const have = this.getBalance(from)
      if (have < amount) throw new ModuleRevert(`insufficient balance: ${from} holds ${have} wei, ${amount} needed`)
      this.setBalance(from, have - amount)
    }
    this.setBalance(to, this.getBalance(to) + amount)
  }

  isContract(address: Address): boolean {
    return this.loaded.read(`c${address.toLowerCase()}`, () => this.source.isContract(address), false)
  }

  balanceAt(address: Address, height: bigint): bigint {
    return this.loaded.read(`h${address.toLowerCase()}@${height}`, () => this.source.balanceAt(address, height), 0n)
  }

  /** A layer over this one, for a part that may fail alone (a call inside a hook). */
  fork(): StateView {
    return new StateView(this.source, this.loaded, this)
  }

  /** Puts this layer's writes, logs and mints into its parent. */
  merge(): void {
    const parent = this.parent
    if (!parent) throw new Error('merge: the root view has no parent')
    for (const [key, where] of this.storageWrites) parent.setStorage(where.address, where.slot, this.writes.get(key)!)
    for (const [key, address] of this.balanceWrites) parent.setBalance(address, this.writes.get(key)!)
    for (const {address, code} of this.codeWrites.values()) parent.setCode(address, code)
    parent.logs.push(...this.logs)
    parent.failures.push(...this.failures)
  }

  /** The writes of this (root) layer, to apply to the chain state. */
  changes(): {storage: {address: Address; slot: bigint; value: bigint}[]; balances: {address: Address; value: bigint}[]; code: {address: Address; code: Uint8Array}[]} {
    return {
      code: [...this.codeWrites.values()],
      storage: [...this.storageWrites].map(([key, where]) => ({...where, value: this.writes.get(key)!})),
      balances: [...this.balanceWrites].map(([key, address]) => ({address, value: this.writes.get(key)!})),
    }
  }

  get hasWrites(): boolean {
    return this.writes.size > 0 || this.logs.length > 0 || this.codeWrites.size > 0
  }
}

export type RunOutcome<T> = {ok: true; result: T; view: StateView} | {ok: false; error: unknown; view: StateView}

/** How many times a run may go back for data before it is refused (a module reading without end). */
const MAX_ROUNDS = 100_000

/**
 * Runs `fn` on a fresh view of `source` until a run misses nothing, and returns that run's result
 * (or error) and its view, whose writes the caller applies or drops.
 */
export async function runWithState<T>(source: StateSource, fn: (view: StateView) => T, shared?: Map<string, unknown>): Promise<RunOutcome<T>> {
  const loaded = new Loaded(shared)
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const view = new StateView(source, loaded)
    let outcome: RunOutcome<T>
    const outer = active
    active = loaded
    try {
      outcome = {ok: true, result: fn(view), view}
    } catch (error) {
      outcome = {ok: false, error, view}
    } finally {
      active = outer
    }
    // Module code may have caught the signal; whatever it missed is loaded and the run repeated.
    if (loaded.missing.size === 0) {
      if (!outcome.ok && outcome.error instanceof NeedsLoading) throw new Error('a state read was lost')
      return outcome
    }
    await loaded.fill()
  }
  return {ok: false, error: new Error(`gave up after ${MAX_ROUNDS} rounds of state reads`), view: new StateView(source, loaded)}
}

/** The loads of the run going on now (runs are synchronous: one at a time). */
let active: Loaded | undefined
let requests = 0

/**
 * Inside a run: records `load` as something the run missed and ends the run; it is repeated once
 * `load` is done (the module sandbox asks for fresh interpreter instances this way). Outside a
 * run: returns false and the caller does without.
 */
export function needLoad(load: () => Promise<unknown>): false {
  if (!active) return false
  active.missing.set(`r${requests++}`, load)
  throw NEEDS_LOADING
}

/** True for the internal signal that a run needs more state (so hooks rethrow it, never report it). */
export function isNeedsLoading(error: unknown): boolean {
  return error instanceof NeedsLoading
}

export type {Hex}
