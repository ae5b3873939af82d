import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'

import {DefaultIntrinsics, type QuickJSContext, type QuickJSHandle, type QuickJSWASMModule, RELEASE_SYNC, newQuickJSWASMModule, newVariant} from 'quickjs-emscripten'

import {isNeedsLoading, needLoad} from '../host/state-view.js'
import {GUEST_PRELUDE} from './guest-prelude.js'
import {decodeValue, encodeValue} from './marshal.js'

/**
 * The sandbox user modules run in: QuickJS compiled to WebAssembly (quickjs-emscripten, sync
 * build). A module is prepared on an instance of its own (a QuickJS runtime and context with its
 * own heap, capped at {@link SANDBOX_MEMORY_LIMIT}, a stack capped at {@link SANDBOX_STACK_LIMIT},
 * the guest prelude and the module's top-level code evaluated), and the instance's linear memory is
 * then copied aside. Each invocation (one call, one hook, one check) calls the prepared dispatcher
 * with an interrupt handler that charges {@link STEP_GAS} each time QuickJS polls it (every
 * ~10,000 interpreter operations: the same count for the same code on every validator); afterwards
 * the memory is copied back, and an instance whose memory grew is dropped (a WebAssembly memory
 * cannot shrink, and where an allocation fails depends on its size). Nothing of the node is
 * inside: the only way out is one host function that takes an operation name and encoded plain
 * data (see marshal.ts) and answers the same way.
 *
 * Memory put back rather than kept: nothing a call leaves behind (module-level variables, patched
 * prototypes, the heap's layout) reaches the next call, so validators that ran different calls
 * (the proposer, re-execution, the mempool's checks, eth_call) cannot diverge: every invocation
 * starts from the same bytes. Everything else an instance holds is the same at every invocation:
 * the WebAssembly stack pointer is back at its base between calls, and the host keeps its handles
 * (the host function, the dispatcher, the global object) from before the snapshot and never frees
 * them while the instance lives. Copying the memory back costs about as much as copying 16 MiB;
 * a fresh instance per invocation cost ~10 times that (see bench/module-sandbox.ts).
 */

export const SANDBOX_MEMORY_LIMIT = 32 * 1024 * 1024
export const SANDBOX_STACK_LIMIT = 256 * 1024
/** Gas per interrupt-handler callback (QuickJS polls it every ~10,000 operations). */
export const STEP_GAS = 100_000n
/** Gas per host call (storage read/write, emit, balances, helpers, ctx.call), on top of what the host charges for the operation itself. */
export const HOST_CALL_GAS = 100n
/** Gas per byte that crosses the boundary (arguments and replies of host calls, the call's result). */
export const BOUNDARY_BYTE_GAS = 3n
/** Largest payload of one host call. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024
/** Module calls nested through ctx.call, the outermost included. */
export const MAX_SANDBOX_DEPTH = 4

/** Out of gas inside the sandbox: ends the run at once (the module cannot catch it). */
export class SandboxOutOfGas extends Error {
  constructor() {
    super('out of gas')
    this.name = 'SandboxOutOfGas'
  }
}

/** The module's code threw, ran out of memory or stack: the reason is deterministic. */
export class SandboxError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SandboxError'
  }
}

export interface SandboxMeter {
  /** Charges gas; throws (any error) when the budget is spent. */
  charge(amount: bigint): void
}

/** An operation the guest asks of the host: throws for the guest to see, returns plain data. */
export type SandboxHandler = (op: string, args: unknown[]) => unknown

/**
 * Linear memory of one QuickJS instance: 16 MiB to start (its data, 5 MiB of shadow stack, the
 * allocator) and at most {@link SANDBOX_MEMORY_LIMIT} more. QuickJS's own `setMemoryLimit` does not
 * count allocations in this build (malloc_usable_size is unavailable: measured, ten 20 MiB strings
 * pass a 32 MiB limit), so the cap is the WebAssembly memory's maximum. An allocation past it fails
 * inside the guest (`InternalError: out of memory`) and the node's own heap is untouched.
 */
const INSTANCE_INITIAL_PAGES = 256
const INSTANCE_MAXIMUM_PAGES = INSTANCE_INITIAL_PAGES + SANDBOX_MEMORY_LIMIT / 65_536
/** Blank instances kept ready to prepare a module on. */
const POOL_SIZE = 4
/** Prepared instances kept, all modules together (16 MiB of WebAssembly memory and a snapshot each); the least recently used idle one goes first. */
const MAX_PREPARED = 16

/** Node's WebAssembly (the project's TypeScript libs leave it untyped). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
}
const WASM = (globalThis as unknown as {WebAssembly: {compile(bytes: Uint8Array): Promise<object>; Memory: new (descriptor: {initial: number; maximum: number}) => WasmMemory}}).WebAssembly

/** One QuickJS WebAssembly instance with the memory it was given. */
interface Instance {
  quickjs: QuickJSWASMModule
  memory: WasmMemory
}

/** What one invocation (or the preparation) on a prepared instance is answered and charged with. */
interface RunState {
  handle: SandboxHandler
  meter: SandboxMeter
  fatal: unknown
  polls: number
}

/**
 * An instance on which a module has been prepared: runtime and context made, the prelude and the
 * module's JavaScript evaluated, the dispatcher kept. `snapshot` is the instance's memory right
 * then (up to its last non-zero byte); after every invocation it is copied back and the rest
 * zeroed, so each invocation starts from exactly the same bytes, on every node.
 */
interface Prepared {
  program: SandboxProgram
  instance: Instance
  vm: QuickJSContext
  hostFn: QuickJSHandle
  dispatch: QuickJSHandle
  snapshot: Uint8Array
  /** The memory's size when the snapshot was taken: an instance whose memory grew is retired. */
  bytes: number
  busy: boolean
  run: RunState | undefined
  /** Used outside the chain on the shared instance: disposed after one invocation, never restored. */
  once: boolean
}

/** A module's JavaScript with the data its preparation gets, and its prepared instances. */
export interface SandboxProgram {
  readonly javascript: string
  readonly setup: Record<string, unknown>
  /** Answers the host calls the module's top-level code makes while it is prepared (pure helpers only: there is no context yet). */
  readonly prepareHandler: SandboxHandler
  /** Gas the preparation may use (charged to no one: it is the same on every node). */
  readonly prepareGas: bigint
  readonly prepared: Prepared[]
}

let wasmModule: object | undefined
let compiling: Promise<object> | undefined
const pool: Instance[] = []
let refilling: Promise<void> | undefined
/** An instance reused by runs outside the chain (the test kit, `xai module test`) when the pool is empty. */
let shared: Instance | undefined
/** Prepared instances, least recently used first. */
const preparedLru: Prepared[] = []
let depth = 0

async function newInstance(): Promise<Instance> {
  compiling ??= (async () => {
    const require = createRequire(import.meta.url)
    return WASM.compile(await readFile(require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')))
  })()
  wasmModule = await compiling
  const memory = new WASM.Memory({initial: INSTANCE_INITIAL_PAGES, maximum: INSTANCE_MAXIMUM_PAGES})
  return {quickjs: await newQuickJSWASMModule(newVariant(RELEASE_SYNC, {wasmModule, wasmMemory: memory} as never)), memory}
}

/** Fills the pool of blank instances up to `size`. */
async function refill(size = POOL_SIZE): Promise<void> {
  while (refilling) await refilling
  refilling = (async () => {
    while (pool.length < size) pool.push(await newInstance())
  })()
  try {
    await refilling
  } finally {
    refilling = undefined
  }
}

/** Loads QuickJS (once per process; from node_modules, never the network) and readies instances. */
export async function initSandbox(): Promise<void> {
  await refill()
  shared ??= await newInstance()
}

/** A module's JavaScript (transpiled to CommonJS: it sees `require` and `exports`) ready to be prepared in instances. */
export function createSandboxProgram(javascript: string, setup: Record<string, unknown>, prepareHandler: SandboxHandler, prepareGas: bigint): SandboxProgram {
  return {javascript, setup, prepareHandler, prepareGas, prepared: []}
}

/** Errors that end a run for good: out of gas, or the host needing state loaded first. */
function isFatal(error: unknown): boolean {
  // host.ts's CallReverted('out of gas'), the test kit's ModuleCallError('call: out of gas (…)')
  return isNeedsLoading(error) || error instanceof SandboxOutOfGas || (error instanceof Error && /^(?:[\w.]+: )?out of gas\b/.test(error.message))
}

function describeGuestError(vm: QuickJSContext, handle: QuickJSHandle): string {
  try {
    const type = vm.typeof(handle)
    if (type === 'string') return vm.getString(handle).slice(0, 1_000)
    if (type === 'number') return String(vm.getNumber(handle))
    if (type !== 'object') return `the module threw a ${type}`
    const name = vm.getProp(handle, 'name')
    const message = vm.getProp(handle, 'message')
    const nameText = vm.typeof(name) === 'string' ? vm.getString(name) : ''
    const messageText = vm.typeof(message) === 'string' ? vm.getString(message) : 'the module threw an object'
    name.dispose()
    message.dispose()
    if (nameText === 'InternalError' && messageText === 'out of memory') return `out of memory: a module call may use at most ${SANDBOX_MEMORY_LIMIT / 1024 / 1024} MiB`
    if (nameText === 'InternalError' && messageText === 'stack overflow') return `stack overflow: a module call may use at most ${SANDBOX_STACK_LIMIT / 1024} KiB of stack`
    return messageText.slice(0, 1_000)
  } catch {
    return 'the module threw an error that cannot be read'
  }
}

/** The guest's one host function: hostile input in, plain data out, every byte charged. */
function hostCall(state: RunState | undefined, vm: QuickJSContext, opHandle: QuickJSHandle, payloadHandle: QuickJSHandle): string {
  if (!state || state.fatal !== undefined) return '{"e":"the call has been stopped"}'
  try {
    if (vm.typeof(opHandle) !== 'string' || vm.typeof(payloadHandle) !== 'string') throw new Error('malformed host call')
    const op = vm.getString(opHandle)
    const payload = vm.getString(payloadHandle)
    if (payload.length > MAX_PAYLOAD_BYTES) throw new Error(`a host call carries at most ${MAX_PAYLOAD_BYTES} bytes`)
    state.meter.charge(HOST_CALL_GAS + BOUNDARY_BYTE_GAS * BigInt(payload.length))
    const args = decodeValue(payload)
    if (!Array.isArray(args)) throw new Error('malformed host call')
    const reply = encodeValue(state.handle(op, args))
    state.meter.charge(BOUNDARY_BYTE_GAS * BigInt(reply.length))
    return `{"v":${reply}}`
  } catch (err) {
    if (isFatal(err)) {
      if (state.fatal === undefined) state.fatal = err
      return '{"e":"out of gas"}'
    }
    return JSON.stringify({e: (err instanceof Error ? err.message : String(err)).slice(0, 1_000)})
  }
}

/**
 * QuickJS polls the handler once as soon as a run starts, then every ~10,000 operations: the first
 * poll is free, so an invocation that does little pays no step gas.
 */
function poll(state: RunState | undefined): boolean {
  if (!state) return false
  if (state.fatal !== undefined) return true
  if (state.polls++ === 0) return false
  try {
    state.meter.charge(STEP_GAS)
  } catch (err) {
    state.fatal = err
    return true
  }
  return false
}

/**
 * Prepares `program` on `instance`: a runtime and context with the limits, the host function, the
 * prelude and the module's top-level code (metered by the program's own preparation gas). Throws
 * the module's error when its top-level code fails (the same on every node).
 */
function prepare(program: SandboxProgram, instance: Instance, once: boolean): Prepared {
  const runtime = instance.quickjs.newRuntime()
  let vm: QuickJSContext | undefined
  try {
    runtime.setMemoryLimit(SANDBOX_MEMORY_LIMIT)
    runtime.setMaxStackSize(SANDBOX_STACK_LIMIT)
    const context = runtime.newContext({intrinsics: {...DefaultIntrinsics, Date: false}})
    vm = context
    // Handles the host keeps across invocations are made now, so they are part of the snapshot.
    const global = context.global
    void context.undefined
    const prepared: Prepared = {program, instance, vm: context, hostFn: context.undefined, dispatch: context.undefined, snapshot: new Uint8Array(0), bytes: 0, busy: true, run: undefined, once}
    runtime.setInterruptHandler(() => poll(prepared.run))
    // Kept (never disposed while the instance lives): the guest can never free it in between.
    prepared.hostFn = context.newFunction('__xai', (opHandle, payloadHandle) => context.newString(hostCall(prepared.run, context, opHandle, payloadHandle)))
    context.setProp(global, '__xai', prepared.hostFn)
    const input = context.newString(encodeValue(program.setup))
    context.setProp(global, '__xaiInput', input)
    input.dispose()
    let used = 0n
    const meter: SandboxMeter = {
      charge(amount) {
        used += amount
        if (used > program.prepareGas) throw new SandboxOutOfGas()
      },
    }
    prepared.run = {handle: program.prepareHandler, meter, fatal: undefined, polls: 0}
    const result = context.evalCode(`${GUEST_PRELUDE}\n__xaiRun(function (require, exports) {\n${program.javascript}\n});`, 'module.js')
    const {fatal} = prepared.run
    prepared.run = undefined
    if (fatal !== undefined) {
      result.dispose()
      throw fatal
    }
    if (result.error) {
      const reason = describeGuestError(context, result.error)
      result.error.dispose()
      throw new SandboxError(reason)
    }
    if (context.typeof(result.value) !== 'function') {
      result.value.dispose()
      throw new SandboxError('the module did not load')
    }
    prepared.dispatch = result.value
    if (!once) {
      const bytes = new Uint8Array(instance.memory.buffer)
      let end = bytes.length
      while (end > 0 && bytes[end - 1] === 0) end--
      prepared.snapshot = bytes.slice(0, end)
      prepared.bytes = bytes.length
    }
    return prepared
  } catch (err) {
    // A blank instance that failed is dropped whole; the shared one is tidied for its next use.
    if (once) {
      vm?.dispose()
      runtime.dispose()
    }
    throw err
  }
}

/** The module's top-level code runs the same on every node: a failure (it loaded once already) is the module's, never the caller's out of gas. */
function prepareOrRefuse(program: SandboxProgram, instance: Instance, once: boolean): Prepared {
  try {
    return prepare(program, instance, once)
  } catch (err) {
    if (err instanceof SandboxError) throw err
    throw new SandboxError(`the module's top-level code failed: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Drops a prepared instance (its memory goes with it). */
function retire(prepared: Prepared): void {
  const list = prepared.program.prepared
  if (list.includes(prepared)) list.splice(list.indexOf(prepared), 1)
  if (preparedLru.includes(prepared)) preparedLru.splice(preparedLru.indexOf(prepared), 1)
}

/**
 * An idle prepared instance of `program`: one kept from before, or a blank instance prepared now.
 * On the chain an empty pool ends the state run, which is repeated once more instances are ready
 * (see needLoad); elsewhere the shared instance serves once.
 */
function acquire(program: SandboxProgram): Prepared {
  const idle = program.prepared.find((prepared) => !prepared.busy)
  if (idle) {
    idle.busy = true
    preparedLru.splice(preparedLru.indexOf(idle), 1)
    preparedLru.push(idle)
    return idle
  }
  const blank = pool.pop()
  if (!blank) {
    needLoad(() => refill(POOL_SIZE * 2))
    if (!shared) throw new Error('the module sandbox is not initialised (initSandbox)')
    return prepareOrRefuse(program, shared, true)
  }
  if (pool.length < POOL_SIZE && !refilling) void refill().catch(() => {})
  const prepared = prepareOrRefuse(program, blank, false)
  program.prepared.push(prepared)
  preparedLru.push(prepared)
  const oldest = preparedLru.find((candidate) => !candidate.busy)
  if (preparedLru.length > MAX_PREPARED && oldest) retire(oldest)
  return prepared
}

/** After an invocation: the instance's memory back to the snapshot, or the instance retired. */
function release(prepared: Prepared): void {
  prepared.busy = false
  if (prepared.once) {
    prepared.dispatch.dispose()
    prepared.hostFn.dispose()
    prepared.vm.dispose()
    prepared.vm.runtime.dispose()
    return
  }
  const bytes = new Uint8Array(prepared.instance.memory.buffer)
  // A memory that grew cannot shrink, and where a later allocation fails depends on its size.
  if (bytes.length !== prepared.bytes) {
    retire(prepared)
    return
  }
  bytes.set(prepared.snapshot)
  bytes.fill(0, prepared.snapshot.length)
}

/**
 * Runs one invocation of `program` (plain data: what to invoke and the context's values) on a
 * prepared instance, answering the guest's host calls with `handle` and charging every step and
 * host call to `meter`. Returns the invocation's result (plain data); throws a
 * {@link SandboxError} with the reason when the module fails, or the meter's / the host's fatal
 * error when the run was stopped. The instance's memory is put back to the snapshot afterwards.
 */
export function runInSandbox(program: SandboxProgram, invocation: Record<string, unknown>, handle: SandboxHandler, meter: SandboxMeter): unknown {
  if (depth >= MAX_SANDBOX_DEPTH) throw new SandboxError(`module calls nest at most ${MAX_SANDBOX_DEPTH} deep`)
  const prepared = acquire(program)
  const {vm} = prepared
  const state: RunState = {handle, meter, fatal: undefined, polls: 0}
  prepared.run = state
  depth++
  try {
    const input = vm.newString(encodeValue(invocation))
    const result = vm.callFunction(prepared.dispatch, vm.undefined, input)
    input.dispose()
    if (state.fatal !== undefined) {
      result.dispose()
      throw state.fatal
    }
    if (result.error) {
      const reason = describeGuestError(vm, result.error)
      result.error.dispose()
      if (state.fatal !== undefined) throw state.fatal
      throw new SandboxError(reason)
    }
    const text = vm.typeof(result.value) === 'string' ? vm.getString(result.value) : undefined
    result.value.dispose()
    if (text === undefined) throw new SandboxError('the sandbox gave no result')
    meter.charge(BOUNDARY_BYTE_GAS * BigInt(text.length))
    return decodeValue(text)
  } finally {
    depth--
    prepared.run = undefined
    release(prepared)
  }
}
