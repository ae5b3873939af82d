import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'

import {DefaultIntrinsics, type QuickJSContext, type QuickJSHandle, type QuickJSWASMModule, RELEASE_SYNC, newQuickJSWASMModule, newVariant} from 'quickjs-emscripten'

import {isNeedsLoading, needLoad} from '../host/state-view.js'
import {GUEST_PRELUDE} from './guest-prelude.js'
import {decodeValue, encodeValue} from './marshal.js'

/**
 * The sandbox user modules run in: QuickJS compiled to WebAssembly (quickjs-emscripten, sync
 * build). Each invocation (one call, one hook, one check) gets a fresh QuickJS runtime and
 * context with its own heap, capped at {@link SANDBOX_MEMORY_LIMIT}, a stack capped at
 * {@link SANDBOX_STACK_LIMIT}, and an interrupt handler that charges {@link STEP_GAS} each time
 * QuickJS polls it (every ~10,000 interpreter operations: the same count for the same code on
 * every validator). Nothing of the node is inside: the only way out is one host function that
 * takes an operation name and encoded plain data (see marshal.ts) and answers the same way.
 *
 * Fresh context per invocation, rather than one context per module with frozen globals: nothing a
 * call leaves behind (module-level variables, patched prototypes) can reach the next call, so
 * validators that ran different calls (the proposer, re-execution, the mempool's checks, eth_call)
 * cannot diverge. A fresh runtime + context costs ~1 ms; evaluating the prelude and the module's
 * JavaScript is the rest (see bench/module-sandbox.ts).
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
/** Fresh instances kept ready: every invocation on the chain takes one and never gives it back. */
const POOL_SIZE = 4

/** Node's WebAssembly (the project's TypeScript libs leave it untyped). */
const WASM = (globalThis as unknown as {WebAssembly: {compile(bytes: Uint8Array): Promise<object>; Memory: new (descriptor: {initial: number; maximum: number}) => object}}).WebAssembly
let wasmModule: object | undefined
let compiling: Promise<object> | undefined
const pool: QuickJSWASMModule[] = []
let refilling: Promise<void> | undefined
/** An instance reused by runs outside the chain (the test kit, `xai module test`) when the pool is empty. */
let shared: QuickJSWASMModule | undefined
let depth = 0

async function newInstance(): Promise<QuickJSWASMModule> {
  compiling ??= (async () => {
    const require = createRequire(import.meta.url)
    return WASM.compile(await readFile(require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')))
  })()
  wasmModule = await compiling
  const wasmMemory = new WASM.Memory({initial: INSTANCE_INITIAL_PAGES, maximum: INSTANCE_MAXIMUM_PAGES})
  return newQuickJSWASMModule(newVariant(RELEASE_SYNC, {wasmModule, wasmMemory} as never))
}

/** Fills the pool of fresh instances up to `size`. */
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

/**
 * A fresh instance for one invocation: its memory starts the same on every node, so where an
 * allocation fails is the same everywhere. On the chain an empty pool ends the state run, which is
 * repeated once more instances are ready (see needLoad); elsewhere the shared instance serves.
 */
function acquire(): QuickJSWASMModule {
  const fresh = pool.pop()
  if (fresh) {
    if (pool.length < POOL_SIZE && !refilling) void refill().catch(() => {})
    return fresh
  }
  needLoad(() => refill(POOL_SIZE * 2))
  if (!shared) throw new Error('the module sandbox is not initialised (initSandbox)')
  return shared
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

/**
 * Runs `javascript` (a module transpiled to CommonJS: it sees `require` and `exports`) in a fresh
 * sandbox with `setup` (plain data: what to invoke and the context's values), answering the
 * guest's host calls with `handle` and charging every step and host call to `meter`. Returns the
 * invocation's result (plain data); throws a {@link SandboxError} with the reason when the module
 * fails, or the meter's / the host's fatal error when the run was stopped.
 */
export function runInSandbox(javascript: string, setup: Record<string, unknown>, handle: SandboxHandler, meter: SandboxMeter): unknown {
  if (depth >= MAX_SANDBOX_DEPTH) throw new SandboxError(`module calls nest at most ${MAX_SANDBOX_DEPTH} deep`)
  const quickjs = acquire()
  let fatal: unknown
  const fail = (error: unknown): void => {
    if (fatal === undefined) fatal = error
  }
  const runtime = quickjs.newRuntime()
  depth++
  try {
    runtime.setMemoryLimit(SANDBOX_MEMORY_LIMIT)
    runtime.setMaxStackSize(SANDBOX_STACK_LIMIT)
    // QuickJS polls the handler once as soon as a run starts, then every ~10,000 operations: the
    // first poll is free, so a call that does little pays no step gas.
    let polls = 0
    runtime.setInterruptHandler(() => {
      if (fatal !== undefined) return true
      if (polls++ === 0) return false
      try {
        meter.charge(STEP_GAS)
      } catch (err) {
        fail(err)
        return true
      }
      return false
    })
    const vm = runtime.newContext({intrinsics: {...DefaultIntrinsics, Date: false}})
    try {
      const hostFn = vm.newFunction('__xai', (opHandle, payloadHandle) => vm.newString(hostCall(vm, opHandle, payloadHandle)))
      vm.setProp(vm.global, '__xai', hostFn)
      hostFn.dispose()
      const input = vm.newString(encodeValue(setup))
      vm.setProp(vm.global, '__xaiInput', input)
      input.dispose()
      const result = vm.evalCode(`${GUEST_PRELUDE}\n__xaiRun(function (require, exports) {\n${javascript}\n});`, 'module.js')
      if (fatal !== undefined) {
        result.dispose()
        throw fatal
      }
      if (result.error) {
        const reason = describeGuestError(vm, result.error)
        result.error.dispose()
        if (fatal !== undefined) throw fatal
        throw new SandboxError(reason)
      }
      const text = vm.typeof(result.value) === 'string' ? vm.getString(result.value) : undefined
      result.value.dispose()
      if (text === undefined) throw new SandboxError('the sandbox gave no result')
      meter.charge(BOUNDARY_BYTE_GAS * BigInt(text.length))
      return decodeValue(text)
    } finally {
      vm.dispose()
    }
  } finally {
    depth--
    runtime.dispose()
  }

  function hostCall(vm: QuickJSContext, opHandle: QuickJSHandle, payloadHandle: QuickJSHandle): string {
    if (fatal !== undefined) return '{"e":"the call has been stopped"}'
    try {
      if (vm.typeof(opHandle) !== 'string' || vm.typeof(payloadHandle) !== 'string') throw new Error('malformed host call')
      const op = vm.getString(opHandle)
      const payload = vm.getString(payloadHandle)
      if (payload.length > MAX_PAYLOAD_BYTES) throw new Error(`a host call carries at most ${MAX_PAYLOAD_BYTES} bytes`)
      meter.charge(HOST_CALL_GAS + BOUNDARY_BYTE_GAS * BigInt(payload.length))
      const args = decodeValue(payload)
      if (!Array.isArray(args)) throw new Error('malformed host call')
      const reply = encodeValue(handle(op, args))
      meter.charge(BOUNDARY_BYTE_GAS * BigInt(reply.length))
      return `{"v":${reply}}`
    } catch (err) {
      if (isFatal(err)) {
        fail(err)
        return '{"e":"out of gas"}'
      }
      return JSON.stringify({e: (err instanceof Error ? err.message : String(err)).slice(0, 1_000)})
    }
  }
}
