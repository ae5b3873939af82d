import {type Address, type Hex, getAddress} from 'viem'

import {ModuleDeterminismError, runDeterministically as guard} from './determinism-guard.js'
import {
  type ChainTx,
  type ModuleContext,
  type ModuleReader,
  type ModuleStorage,
  type SystemOps,
  type TxOutcome,
  type ModuleTx,
  type ModuleValidation,
  type NativeModule,
  type ReadonlyModuleContext,
  decodeModuleCall,
  encodeModuleCall,
  encodeModuleEvent,
  encodeModuleResult,
  moduleAddress,
} from './module.js'
import {DEFAULT_CALL_GAS, STORAGE_WRITE_GAS, logGas} from './gas-schedule.js'
import {isSandboxed} from './sandbox/marker.js'

export {ModuleDeterminismError} from './determinism-guard.js'

/**
 * The module test kit: runs a {@link NativeModule} on an in-memory storage with an explicit block
 * clock, captures its events, accounts its gas and enforces determinism (see
 * {@link runDeterministically}). `xai module test` and a module's own tests use it.
 */

const WORD_LIMIT = 1n << 256n
const DEFAULT_SENDER: Address = '0x00000000000000000000000000000000000000a1'
const DEFAULT_GAS_LIMIT = 30_000_000n

/** A failed call: the module threw (its message is the reason) or ran out of gas. State is rolled back. */
export class ModuleCallError extends Error {
  constructor(
    readonly call: string,
    message: string,
    options?: {cause?: unknown},
  ) {
    super(`${call}: ${message}`, options)
    this.name = 'ModuleCallError'
  }
}

export interface CapturedEvent {
  /** Block height at which it was emitted. */
  height: bigint
  name: string
  args: Record<string, unknown>
  /** The log as the chain will record it under the module's address. */
  topics: Hex[]
  data: Hex
}

export interface CallOptions {
  sender?: Address
  value?: bigint
  gasLimit?: bigint
}

export interface CallOutcome {
  result: unknown
  /** The ABI-encoded return value. */
  returnData: Hex
  gasUsed: bigint
  events: CapturedEvent[]
}

export interface TestHarnessOptions {
  params?: Record<string, unknown>
  balances?: Record<Address, bigint>
  /** Addresses that hold code (for `ctx.isContract`). */
  contracts?: readonly Address[]
  height?: bigint
  timestamp?: bigint
  coinbase?: Address
  /** Give the module `ctx.system` (mint, move), as the chain does for its built-in modules. */
  system?: boolean
}

export interface TestHarness {
  readonly module: NativeModule
  readonly address: Address
  readonly params: Readonly<Record<string, unknown>>
  readonly height: bigint
  readonly timestamp: bigint
  /** Every event emitted by successful calls and hooks, in order. */
  readonly events: readonly CapturedEvent[]
  /** Total gas used by successful calls. */
  readonly gasUsed: bigint
  /** Calls `name` with `args` (goes through validateTx first, as the mempool would). */
  call(name: string, args?: readonly unknown[], options?: CallOptions): CallOutcome
  /** Runs validateTx on a call (ok when the module has none). */
  validate(tx: {name: string; args?: readonly unknown[]} & CallOptions): ModuleValidation
  /** Runs checkTx on any transaction (ok when the module has none). */
  checkTx(tx: Partial<ChainTx> & {from: Address}): ModuleValidation
  /**
   * Runs a transaction as the chain would around it: checkTx, then (when allowed) moves `value`
   * from sender to recipient as its execution would, then afterTx with `outcome`. Returns the
   * verdict and the events afterTx emitted; a rejected transaction changes nothing.
   */
  runTx(tx: Partial<ChainTx> & {from: Address}, outcome?: Partial<TxOutcome>): {verdict: ModuleValidation; events: CapturedEvent[]}
  beginBlock(): CapturedEvent[]
  endBlock(): CapturedEvent[]
  /** Advances the clock by `blocks` blocks (default 1) and `seconds` (default 12 per block). */
  advance(options?: {blocks?: bigint; seconds?: bigint}): void
  setBalance(address: Address, balance: bigint): void
  balanceOf(address: Address): bigint
  /** Records `address`'s balance at the end of block `height`, for `ctx.balanceAt`. */
  setBalanceAt(address: Address, height: bigint, balance: bigint): void
  storage: ModuleStorage
  /** The non-zero storage words, sorted by slot, as 0x-hex pairs. */
  storageSnapshot(): [Hex, Hex][]
}

function checkWord(what: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value >= WORD_LIMIT) throw new RangeError(`${what} must be a bigint in [0, 2^256), got ${String(value)}`)
}

function word(value: bigint): Hex {
  return `0x${value.toString(16).padStart(64, '0')}`
}

/** Creates a harness for `module` with its parameters parsed (defaults applied) and frozen. */
export function createTestHarness(module: NativeModule, options: TestHarnessOptions = {}): TestHarness {
  // A sandboxed module has no clock or randomness to guard (and the guard would reach QuickJS's runtime).
  const runDeterministically = <T>(fn: () => T): T => (isSandboxed(module) ? fn() : guard(fn))
  const address = moduleAddress(module.manifest.id)
  const params = Object.freeze(module.params.parse(options.params ?? {}) as Record<string, unknown>)
  const committed = new Map<bigint, bigint>()
  const balances = new Map<string, bigint>(Object.entries(options.balances ?? {}).map(([key, value]) => [key.toLowerCase(), value]))
  const events: CapturedEvent[] = []
  let height = options.height ?? 1n
  let timestamp = options.timestamp ?? 1_700_000_000n
  let totalGas = 0n


  const storage: ModuleStorage = {
    get(slot) {
      checkWord('slot', slot)
      return committed.get(slot) ?? 0n
    },
    set(slot, value) {
      checkWord('slot', slot)
      checkWord('value', value)
      if (value === 0n) committed.delete(slot)
      else committed.set(slot, value)
    },
  }

  const balanceOf = (who: Address): bigint => balances.get(who.toLowerCase()) ?? 0n
  const contracts = new Set((options.contracts ?? []).map((item) => item.toLowerCase()))
  const history = new Map<string, bigint>()
  const coinbase = getAddress(options.coinbase ?? '0x00000000000000000000000000000000000000c0')
  const isContract = (who: Address): boolean => contracts.has(who.toLowerCase())
  const balanceAt = (who: Address, at: bigint): bigint => {
    if (at >= height) throw new RangeError(`balanceAt: block ${at} is not before the current block ${height}`)
    return history.get(`${who.toLowerCase()}@${at}`) ?? balanceOf(who)
  }
  const reader = (sender: Address, value: bigint): ModuleReader => ({height, timestamp, coinbase, self: address, sender, value, params, balanceOf, balanceAt, isContract})

  function encodeEvent(name: string, args: Record<string, unknown>): CapturedEvent {
    return {height, name, args, ...encodeModuleEvent(module, name, args)}
  }

  /**
   * Runs `fn` under the determinism guard on a write overlay, committing storage and events only
   * if it returns. A call (`chargeWrites`) pays for storage writes and logs as on chain
   * (gas-schedule.ts); hooks do not, as on chain.
   */
  function transact<T>(label: string, sender: Address, value: bigint, gasLimit: bigint, baseGas: bigint, fn: (ctx: ModuleContext) => T, chargeWrites = false): {result: T; gasUsed: bigint; events: CapturedEvent[]} {
    const overlay = new Map<bigint, bigint>()
    const balanceOverlay = new Map<string, bigint>()
    const pending: CapturedEvent[] = []
    let gasUsed = 0n
    const balanceNow = (who: Address): bigint => balanceOverlay.get(who.toLowerCase()) ?? balanceOf(who)
    const move = (from: Address | undefined, to: Address, amount: bigint): void => {
      checkWord('amount', amount)
      if (from !== undefined) {
        const have = balanceNow(from)
        if (have < amount) throw new Error(`insufficient balance: ${from} holds ${have} wei, ${amount} needed`)
        balanceOverlay.set(from.toLowerCase(), have - amount)
      }
      balanceOverlay.set(to.toLowerCase(), balanceNow(to) + amount)
    }
    const system: SystemOps | undefined = options.system ? {mint: (to, amount) => move(undefined, to, amount), move: (from, to, amount) => move(from, to, amount)} : undefined
    const chargeGas = (amount: bigint): void => {
      if (typeof amount !== 'bigint' || amount < 0n) throw new RangeError(`chargeGas: amount must be a non-negative bigint`)
      gasUsed += amount
      if (gasUsed > gasLimit) throw new ModuleCallError(label, `out of gas (${gasUsed} > limit ${gasLimit})`)
    }
    const ctx: ModuleContext = {
      ...reader(sender, value),
      balanceOf: balanceNow,
      transfer: (to, amount) => move(address, to, amount),
      system,
      storage: {
        get: (slot) => {
          checkWord('slot', slot)
          return overlay.has(slot) ? overlay.get(slot)! : storage.get(slot)
        },
        set: (slot, next) => {
          checkWord('slot', slot)
          checkWord('value', next)
          if (chargeWrites) chargeGas(STORAGE_WRITE_GAS)
          overlay.set(slot, next)
        },
      },
      emit: (name, args) => {
        const event = encodeEvent(name, args)
        if (chargeWrites) chargeGas(logGas(event.topics.length, (event.data.length - 2) / 2))
        pending.push(event)
      },
      chargeGas,
    }
    let result: T
    try {
      chargeGas(baseGas)
      result = runDeterministically(() => {
        const out = fn(ctx)
        if (out !== null && typeof out === 'object' && typeof (out as {then?: unknown}).then === 'function') {
          throw new Error('returned a promise: module hooks and calls must be synchronous')
        }
        return out
      })
    } catch (err) {
      if (err instanceof ModuleDeterminismError || err instanceof ModuleCallError) throw err
      throw new ModuleCallError(label, err instanceof Error ? err.message : String(err), {cause: err})
    }
    for (const [slot, next] of overlay) storage.set(slot, next)
    for (const [who, next] of balanceOverlay) balances.set(who, next)
    events.push(...pending)
    return {result, gasUsed, events: pending}
  }

  function readonlyContext(sender: Address, value: bigint): ReadonlyModuleContext {
    return {...reader(sender, value), storage: {get: storage.get}}
  }

  function chainTx(tx: Partial<ChainTx> & {from: Address}): ChainTx {
    return {
      hash: tx.hash ?? '0x0000000000000000000000000000000000000000000000000000000000000000',
      from: getAddress(tx.from),
      to: tx.to ? getAddress(tx.to) : null,
      value: tx.value ?? 0n,
      gasLimit: tx.gasLimit ?? 21_000n,
      maxFeePerGas: tx.maxFeePerGas ?? 0n,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
      data: tx.data ?? '0x',
      nonce: tx.nonce ?? 0n,
    }
  }

  function checkTx(input: Partial<ChainTx> & {from: Address}): ModuleValidation {
    if (!module.checkTx) return {ok: true}
    const tx = chainTx(input)
    return runDeterministically(() => module.checkTx!(tx, readonlyContext(tx.from, tx.value)))
  }

  function validate(tx: {name: string; args?: readonly unknown[]} & CallOptions): ModuleValidation {
    const sender = getAddress(tx.sender ?? DEFAULT_SENDER)
    const value = tx.value ?? 0n
    const data = encodeModuleCall(module, tx.name, tx.args ?? [])
    const decoded = decodeModuleCall(module, data)
    const moduleTx: ModuleTx = {from: sender, value, gasLimit: tx.gasLimit ?? DEFAULT_GAS_LIMIT, data, name: decoded.name, args: decoded.args}
    if (!module.validateTx) return {ok: true}
    return runDeterministically(() => module.validateTx!(moduleTx, readonlyContext(sender, value)))
  }

  const harness: TestHarness = {
    module,
    address,
    params,
    get height() {
      return height
    },
    get timestamp() {
      return timestamp
    },
    get events() {
      return events
    },
    get gasUsed() {
      return totalGas
    },
    storage,
    call(name, args = [], options = {}) {
      const handler = module.calls[name]
      if (!handler) throw new ModuleCallError(name, `the module has no call "${name}"`)
      const verdict = validate({name, args, ...options})
      if (!verdict.ok) throw new ModuleCallError(name, `rejected by validateTx: ${verdict.reason}`)
      const sender = getAddress(options.sender ?? DEFAULT_SENDER)
      // Calldata goes through the ABI both ways, as it will on chain.
      const decoded = decodeModuleCall(module, encodeModuleCall(module, name, args))
      const outcome = transact(name, sender, options.value ?? 0n, options.gasLimit ?? DEFAULT_GAS_LIMIT, module.gas[name] ?? DEFAULT_CALL_GAS, (ctx) => handler(ctx, decoded.args), true)
      totalGas += outcome.gasUsed
      return {result: outcome.result, returnData: encodeModuleResult(module, name, outcome.result), gasUsed: outcome.gasUsed, events: outcome.events}
    },
    validate,
    checkTx,
    runTx(input, outcomeInput = {}) {
      const tx = chainTx(input)
      const verdict = checkTx(tx)
      if (!verdict.ok) return {verdict, events: []}
      const outcome: TxOutcome = {success: outcomeInput.success ?? true, gasUsed: outcomeInput.gasUsed ?? 21_000n, baseFee: outcomeInput.baseFee ?? 0n, priorityFee: outcomeInput.priorityFee ?? 0n}
      if (outcome.success && tx.value > 0n && tx.to !== null) {
        const have = balanceOf(tx.from)
        if (have < tx.value) throw new RangeError(`runTx: ${tx.from} holds ${have} wei, less than the value ${tx.value}`)
        balances.set(tx.from.toLowerCase(), have - tx.value)
        balances.set(tx.to.toLowerCase(), balanceOf(tx.to) + tx.value)
      }
      if (!module.afterTx) return {verdict, events: []}
      const out = transact('afterTx', tx.from, tx.value, DEFAULT_GAS_LIMIT, 0n, (ctx) => module.afterTx!(tx, outcome, ctx, verdict))
      return {verdict, events: out.events}
    },
    beginBlock() {
      if (!module.beginBlock) return []
      return transact('beginBlock', address, 0n, DEFAULT_GAS_LIMIT, 0n, (ctx) => module.beginBlock!(ctx)).events
    },
    endBlock() {
      if (!module.endBlock) return []
      return transact('endBlock', address, 0n, DEFAULT_GAS_LIMIT, 0n, (ctx) => module.endBlock!(ctx)).events
    },
    advance({blocks = 1n, seconds}: {blocks?: bigint; seconds?: bigint} = {}) {
      if (blocks < 0n) throw new RangeError('advance: blocks must be >= 0')
      height += blocks
      timestamp += seconds ?? blocks * 12n
    },
    setBalance(who, balance) {
      balances.set(who.toLowerCase(), balance)
    },
    balanceOf,
    setBalanceAt(who, at, balance) {
      history.set(`${who.toLowerCase()}@${at}`, balance)
    },
    storageSnapshot() {
      return [...committed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([slot, value]) => [word(slot), word(value)])
    },
  }
  return harness
}

// ---------------------------------------------------------------------------------------------
// Determinism replay

/** One step of a workload: a call, a block hook, or a clock advance. */
export type WorkloadStep =
  | {kind: 'call'; name: string; args?: readonly unknown[]; sender?: Address; value?: bigint}
  | {kind: 'beginBlock'}
  | {kind: 'endBlock'}
  | {kind: 'advance'; blocks?: bigint; seconds?: bigint}

/** A seeded pseudo-random source (SplitMix64 over bigint): the same seed gives the same sequence. */
export interface SeededRandom {
  /** A uniformly distributed 64-bit bigint. */
  next(): bigint
  /** An integer in [0, bound) (`bound` > 0). */
  below(bound: bigint): bigint
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T
}

const MASK64 = (1n << 64n) - 1n

export function seededRandom(seed: bigint): SeededRandom {
  let state = seed & MASK64
  const next = (): bigint => {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64
    let z = state
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64
    return z ^ (z >> 31n)
  }
  return {
    next,
    below(bound) {
      if (bound <= 0n) throw new RangeError('below: bound must be > 0')
      return next() % bound
    },
    pick(items) {
      if (items.length === 0) throw new RangeError('pick: no items')
      return items[Number(next() % BigInt(items.length))]!
    },
  }
}

/**
 * A random workload: `step(rng, index)` returns the next step; `steps` of them are run from
 * `seed`. A module may export one (as `workload`) for `xai module test`.
 */
export interface ModuleWorkload {
  steps: number
  seed?: bigint
  params?: Record<string, unknown>
  balances?: Record<Address, bigint>
  step(rng: SeededRandom, index: number): WorkloadStep
}

export interface ReplayReport {
  runs: number
  steps: number
  /** Gas of the successful calls of the first run, by call name. */
  gas: Record<string, {calls: number; min: bigint; max: bigint}>
  /** The final state of run 1: its non-zero storage words and how many events were emitted. */
  finalStorage: [Hex, Hex][]
  events: number
}

/** Raised by {@link replayDeterminism} at the first step whose state or events differ between runs. */
export class ModuleReplayDivergenceError extends Error {
  constructor(
    readonly step: number,
    readonly description: string,
    readonly run: number,
    readonly detail: string,
  ) {
    super(`Run ${run} diverged from run 1 at step ${step} (${description}): ${detail}`)
    this.name = 'ModuleReplayDivergenceError'
  }
}

interface StepRecord {
  description: string
  /** The call's name and gas, for a call that succeeded. */
  gas?: {name: string; used: bigint}
  outcome: string
  storage: string
  events: string
}

function describeStep(step: WorkloadStep): string {
  return step.kind === 'call' ? `call ${step.name}(${(step.args ?? []).map(stringify).join(', ')})` : step.kind
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? `${item}n` : item)) ?? 'undefined'
}

function runWorkload(module: NativeModule, workload: ModuleWorkload): StepRecord[] {
  const harness = createTestHarness(module, {params: workload.params, balances: workload.balances})
  const rng = seededRandom(workload.seed ?? 1n)
  const records: StepRecord[] = []
  for (let index = 0; index < workload.steps; index++) {
    const step = workload.step(rng, index)
    let outcome: string
    let gas: StepRecord['gas']
    try {
      if (step.kind === 'call') {
        const out = harness.call(step.name, step.args ?? [], {sender: step.sender, value: step.value})
        outcome = `ok ${out.returnData} gas ${out.gasUsed}`
        gas = {name: step.name, used: out.gasUsed}
      } else if (step.kind === 'beginBlock') {
        harness.beginBlock()
        outcome = 'ok'
      } else if (step.kind === 'endBlock') {
        harness.endBlock()
        outcome = 'ok'
      } else {
        harness.advance({blocks: step.blocks, seconds: step.seconds})
        outcome = 'ok'
      }
    } catch (err) {
      if (err instanceof ModuleDeterminismError) throw err
      outcome = `error ${err instanceof Error ? err.message : String(err)}`
    }
    records.push({
      description: describeStep(step),
      gas,
      outcome,
      storage: stringify(harness.storageSnapshot()),
      events: stringify(harness.events.map((event) => [event.topics, event.data])),
    })
  }
  return records
}

/**
 * Runs `workload` `runs` times, each on a fresh harness, and compares the outcome, storage and
 * events after every step. A module whose behaviour depends on anything but its inputs (the clock,
 * randomness, hidden module-level state) diverges, and the error names the first differing step.
 */
export function replayDeterminism(module: NativeModule, workload: ModuleWorkload, runs = 2): ReplayReport {
  if (runs < 2) throw new RangeError('replayDeterminism: runs must be >= 2')
  const first = runWorkload(module, workload)
  for (let run = 2; run <= runs; run++) {
    const again = runWorkload(module, workload)
    for (let index = 0; index < first.length; index++) {
      const a = first[index]!
      const b = again[index]!
      const detail =
        a.description !== b.description ? `the workload produced "${b.description}" instead`
        : a.outcome !== b.outcome ? `outcome "${b.outcome}" instead of "${a.outcome}"`
        : a.storage !== b.storage ? `storage ${b.storage} instead of ${a.storage}`
        : a.events !== b.events ? 'different events'
        : undefined
      if (detail) throw new ModuleReplayDivergenceError(index, a.description, run, detail)
    }
  }
  const last = first.at(-1)
  const gas: ReplayReport['gas'] = {}
  for (const {gas: used} of first) {
    if (!used) continue
    const entry = (gas[used.name] ??= {calls: 0, min: used.used, max: used.used})
    entry.calls++
    if (used.used < entry.min) entry.min = used.used
    if (used.used > entry.max) entry.max = used.used
  }
  return {runs, steps: first.length, finalStorage: last ? (JSON.parse(last.storage) as [Hex, Hex][]) : [], events: last ? (JSON.parse(last.events) as unknown[]).length : 0, gas}
}
