import * as viem from 'viem'
import {type Abi, type Address, getAddress, isAddress} from 'viem'

import {VIEM_PURE_HELPERS, checkModuleSource} from '../check-module-source.js'
import {
  type ChainTx,
  type ModuleContext,
  type ModuleValidation,
  type NativeModule,
  type ReadonlyModuleContext,
  MODULE_ADDRESS_PREFIX,
  MODULE_REGISTRY_ADDRESS,
  MODULE_REGISTRY_ID,
  isModuleAddress,
  isModuleId,
  isSemver,
  moduleAddress,
  moduleCodeHash,
} from '../module.js'
import {type ZodChain} from '../sandbox/marshal.js'
import {markSandboxed} from '../sandbox/marker.js'
import {HOST_CALL_GAS, type SandboxProgram, SandboxError, SandboxOutOfGas, createSandboxProgram, initSandbox, runInSandbox} from '../sandbox/sandbox.js'
import {replayZod} from '../sandbox/zod-replay.js'
import {encodeValue} from '../sandbox/marshal.js'
import * as storageCodec from '../storage-codec.js'

/**
 * Turns the source of a user module, as stored in the registry, into a running module. The
 * source is checked by the same static determinism check `xai module test` runs, its TypeScript
 * is stripped to JavaScript (no type checking: the author's tests did that), and from then on it
 * runs only inside the QuickJS sandbox (../sandbox/sandbox.ts): a fresh context per call, hook and
 * check, gas metered while it runs, 32 MiB of memory. The NativeModule this returns is a host-side
 * shell whose calls and hooks enter the sandbox; its manifest, ABI, gas table and params schema are
 * what the module described of itself in a first sandboxed run (plain data; the params schema is
 * replayed on the host's zod, see ../sandbox/zod-replay.ts).
 */

export class ModuleLoadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModuleLoadError'
  }
}

/**
 * Gas a hook (beginBlock, endBlock, afterTx) or a check (validateTx, checkTx) may use: they have no
 * transaction gas limit. On chain the host meters a hook's context with the same budget, so the
 * modules a hook reaches through `ctx.call` are paid from it too (host.ts, hookCharge).
 */
export const HOOK_GAS_LIMIT = 2_000_000n
/** Gas the first run that describes the module may use. */
const DESCRIBE_GAS_LIMIT = 10_000_000n

type TypeScript = typeof import('typescript')
let typescript: Promise<TypeScript> | undefined

async function loadTypeScript(): Promise<TypeScript> {
  typescript ??= import('typescript').then((mod) => ((mod as {default?: TypeScript}).default ?? mod) as TypeScript)
  return typescript
}

const VIEM_CONSTANTS: Record<string, unknown> = {zeroAddress: viem.zeroAddress, maxUint256: viem.maxUint256}
const VIEM_FUNCTIONS = [...VIEM_PURE_HELPERS].filter((name) => typeof (viem as Record<string, unknown>)[name] === 'function')
const XAI_FUNCTIONS: Record<string, (...args: never[]) => unknown> = {
  moduleAddress, isModuleAddress, isModuleId, moduleCodeHash, mappingSlot: storageCodec.mappingSlot, namespaceSlot: storageCodec.namespaceSlot,
  slotAdd: storageCodec.slotAdd, addressToWord: storageCodec.addressToWord, wordToAddress: storageCodec.wordToAddress, hexToWord: storageCodec.hexToWord,
  wordToHex: storageCodec.wordToHex,
}
const XAI_CONSTANTS = {MODULE_ADDRESS_PREFIX, MODULE_REGISTRY_ADDRESS, MODULE_REGISTRY_ID}
const STORAGE_HELPERS = new Set(['readBytes', 'writeBytes', 'readString', 'writeString'])

/** The part of the setup every invocation carries: which helpers the guest's shims offer. */
const HELPERS = {viem: VIEM_FUNCTIONS, viemConstants: VIEM_CONSTANTS, xai: Object.keys(XAI_FUNCTIONS), xaiConstants: XAI_CONSTANTS}

interface Described {
  manifest: {id: string; version: string; description: string}
  abi: Abi
  gas: Record<string, bigint>
  params: z4Schema
  calls: string[]
  hooks: Record<'validateTx' | 'checkTx' | 'afterTx' | 'beginBlock' | 'endBlock', boolean>
}
type z4Schema = NativeModule['params']

/**
 * A meter over a context: its own budget, if any, and the context's chargeGas. A call has no
 * budget of its own: its context's chargeGas is the bound (the transaction's gas limit, itself at
 * most the block's gas limit, which governance sets with `blockGasLimit`; in a hook, the hook's
 * budget; in the test kit, the call's gas limit).
 */
function meterFor(ctx: {chargeGas?: (amount: bigint) => void}, limit: bigint | undefined): {charge(amount: bigint): void} {
  let used = 0n
  return {
    charge(amount) {
      used += amount
      if (limit !== undefined && used > limit) throw new SandboxOutOfGas()
      ctx.chargeGas?.(amount)
    },
  }
}

function asAddress(value: unknown, what: string): Address {
  if (typeof value !== 'string' || !isAddress(value, {strict: false})) throw new TypeError(`${what}: expected an address`)
  return getAddress(value)
}

function asBigint(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${what}: expected a bigint`)
  return value
}

function asSlot(value: unknown, what: string): bigint {
  const slot = asBigint(value, what)
  if (slot < 0n || slot >= 1n << 256n) throw new RangeError(`${what}: a slot is a bigint in [0, 2^256)`)
  return slot
}

/** Answers the guest's host calls against the host-side context `ctx`. */
function handlerFor(ctx: ModuleContext | ReadonlyModuleContext, meter: {charge(amount: bigint): void}) {
  const writable = (ctx as ModuleContext).emit !== undefined
  const full = ctx as ModuleContext
  const needWritable = (op: string): void => {
    if (!writable || typeof (ctx.storage as ModuleContext['storage']).set !== 'function') throw new Error(`${op} is not allowed here: validateTx and checkTx only read`)
  }
  return (op: string, args: unknown[]): unknown => {
    switch (op) {
      case 'get':
        return ctx.storage.get(asSlot(args[0], 'storage.get'))
      case 'set':
        needWritable('storage.set')
        full.storage.set(asSlot(args[0], 'storage.set'), asBigint(args[1], 'storage.set'))
        return undefined
      case 'emit': {
        needWritable('emit')
        const [name, values] = args
        if (typeof name !== 'string' || values === null || typeof values !== 'object' || Array.isArray(values)) throw new TypeError('emit(name, args): args is an object of the event\'s inputs')
        full.emit(name, values as Record<string, unknown>)
        return undefined
      }
      case 'transfer':
        needWritable('transfer')
        full.transfer(asAddress(args[0], 'transfer'), asBigint(args[1], 'transfer'))
        return undefined
      case 'gas': {
        const amount = asBigint(args[0], 'chargeGas')
        if (amount < 0n) throw new RangeError('chargeGas: amount must be a non-negative bigint')
        meter.charge(amount)
        return undefined
      }
      case 'balanceOf':
        return ctx.balanceOf(asAddress(args[0], 'balanceOf'))
      case 'balanceAt':
        return ctx.balanceAt(asAddress(args[0], 'balanceAt'), asBigint(args[1], 'balanceAt'))
      case 'isContract':
        return ctx.isContract(asAddress(args[0], 'isContract'))
      case 'call': {
        needWritable('ctx.call')
        if (!full.call) throw new Error('ctx.call is not available here')
        const [target, name, callArgs] = args
        if (typeof target !== 'string' || typeof name !== 'string' || !Array.isArray(callArgs)) throw new TypeError('ctx.call(moduleIdOrAddress, name, args[])')
        return full.call(target, name, callArgs)
      }
      case 'viem': {
        const [name, helperArgs] = args
        if (typeof name !== 'string' || !VIEM_FUNCTIONS.includes(name) || !Array.isArray(helperArgs)) throw new Error(`viem.${String(name)} is not available to modules`)
        return ((viem as Record<string, unknown>)[name] as (...a: unknown[]) => unknown)(...helperArgs)
      }
      case 'xai': {
        const [name, helperArgs] = args
        if (typeof name !== 'string' || !Array.isArray(helperArgs)) throw new Error('malformed helper call')
        if (STORAGE_HELPERS.has(name)) {
          if (name.startsWith('write')) needWritable(name)
          const fn = (storageCodec as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!
          return fn(ctx.storage, asSlot(helperArgs[0], name), ...helperArgs.slice(1))
        }
        if (!Object.hasOwn(XAI_FUNCTIONS, name)) throw new Error(`${name} is not available to modules`)
        return (XAI_FUNCTIONS[name] as (...a: unknown[]) => unknown)(...helperArgs)
      }
      case 'zod': {
        const [schema, method, value] = args
        if (schema === null || typeof schema !== 'object' || !Object.hasOwn(schema, 'zodChain')) throw new TypeError('not a zod schema')
        const real = replayZod((schema as ZodChain).zodChain, encodeValue(schema))
        if (method === 'parse') return real.parse(value)
        if (method === 'safeParse') {
          const out = real.safeParse(value)
          return out.success ? {success: true, data: out.data} : {success: false, error: {message: out.error.message, issues: out.error.issues.map((issue) => ({code: issue.code, path: issue.path.map(String), message: issue.message}))}}
        }
        throw new Error('zod: only parse and safeParse run in the sandbox')
      }
      default:
        throw new Error(`unknown host call ${op}`)
    }
  }
}

function envOf(ctx: ModuleContext | ReadonlyModuleContext): Record<string, unknown> {
  return {height: ctx.height, timestamp: ctx.timestamp, coinbase: ctx.coinbase, self: ctx.self, sender: ctx.sender, value: ctx.value, params: ctx.params}
}

/** Runs one invocation of the module in the sandbox against the host context `ctx`. */
function invoke(program: SandboxProgram, invocation: Record<string, unknown>, ctx: ModuleContext | ReadonlyModuleContext, limit: bigint | undefined): unknown {
  const meter = meterFor(ctx as {chargeGas?: (amount: bigint) => void}, limit)
  meter.charge(HOST_CALL_GAS)
  return runInSandbox(program, {...invocation, env: envOf(ctx)}, handlerFor(ctx, meter), meter)
}

function asValidation(value: unknown, hook: string): ModuleValidation {
  const verdict = value as {ok?: unknown; reason?: unknown; flags?: unknown} | undefined
  if (verdict?.ok === true) {
    const flags = Array.isArray(verdict.flags) ? verdict.flags.filter((flag): flag is string => typeof flag === 'string') : undefined
    return flags ? {ok: true, flags} : {ok: true}
  }
  if (verdict?.ok === false) return {ok: false, reason: typeof verdict.reason === 'string' ? verdict.reason : `${hook} refused the transaction`}
  throw new Error(`${hook} must return {ok: true} or {ok: false, reason}`)
}

/** What the module said of itself, checked as the hostile input it is. */
function checkDescription(value: unknown): Omit<Described, 'params'> & {params: ZodChain} {
  const d = value as Record<string, unknown> | null
  const manifest = d?.manifest as Record<string, unknown> | undefined
  if (!manifest || typeof manifest.id !== 'string' || !isModuleId(manifest.id) || typeof manifest.version !== 'string' || !isSemver(manifest.version)) {
    throw new ModuleLoadError('the module source does not export a native module as its default export (manifest.id and manifest.version)')
  }
  if (!Array.isArray(d!.abi) || !d!.abi.every((item) => item !== null && typeof item === 'object' && typeof (item as {type?: unknown}).type === 'string')) throw new ModuleLoadError('the module\'s abi is not an ABI')
  const gasIn = d!.gas as Record<string, unknown> | null
  if (gasIn === null || typeof gasIn !== 'object') throw new ModuleLoadError('the module\'s gas is not a table of bigints')
  const gas: Record<string, bigint> = Object.create(null)
  for (const [name, amount] of Object.entries(gasIn)) {
    if (typeof amount !== 'bigint' || amount < 0n) throw new ModuleLoadError(`the module's gas for ${name} is not a non-negative bigint`)
    gas[name] = amount
  }
  if (!Array.isArray(d!.calls) || !d!.calls.every((name) => typeof name === 'string')) throw new ModuleLoadError('the module has no calls object')
  const params = d!.params as ZodChain | null
  if (params === null || typeof params !== 'object' || !Object.hasOwn(params, 'zodChain')) throw new ModuleLoadError('the module\'s params is not a zod schema built with z')
  const hooks = (d!.hooks ?? {}) as Described['hooks']
  return {
    manifest: {id: manifest.id, version: manifest.version, description: typeof manifest.description === 'string' ? manifest.description : ''},
    abi: d!.abi as Abi,
    gas,
    params,
    calls: d!.calls as string[],
    hooks: {validateTx: hooks.validateTx === true, checkTx: hooks.checkTx === true, afterTx: hooks.afterTx === true, beginBlock: hooks.beginBlock === true, endBlock: hooks.endBlock === true},
  }
}

/** The module source's JavaScript: statically checked, TypeScript stripped. */
export async function compileModuleSource(source: string): Promise<string> {
  const check = checkModuleSource(source)
  if (!check.ok) {
    const first = check.findings[0]!
    throw new ModuleLoadError(`the module source fails the determinism check at ${first.line}:${first.col}: ${first.message}${check.findings.length > 1 ? ` (and ${check.findings.length - 1} more)` : ''}`)
  }
  const ts = await loadTypeScript()
  const {outputText, diagnostics} = ts.transpileModule(source, {
    compilerOptions: {module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: false, verbatimModuleSyntax: false},
    reportDiagnostics: true,
  })
  if (diagnostics && diagnostics.length > 0) {
    throw new ModuleLoadError(`the module source does not parse: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, ' ')}`)
  }
  return outputText
}

export async function loadModuleSource(source: string): Promise<NativeModule> {
  const javascript = await compileModuleSource(source)
  await initSandbox()
  const noContext = {height: 0n, timestamp: 0n, coinbase: viem.zeroAddress, self: viem.zeroAddress, sender: viem.zeroAddress, value: 0n, params: {}, storage: {get: () => 0n}, balanceOf: () => 0n, balanceAt: () => 0n, isContract: () => false} satisfies ReadonlyModuleContext
  // The module's top-level code runs once per prepared instance, with no context (only pure helpers).
  const program = createSandboxProgram(javascript, HELPERS, handlerFor(noContext, {charge() {}}), DESCRIBE_GAS_LIMIT)
  let described: ReturnType<typeof checkDescription>
  let params: NativeModule['params']
  try {
    described = checkDescription(invoke(program, {kind: 'describe'}, noContext, DESCRIBE_GAS_LIMIT))
    params = replayZod(described.params.zodChain, encodeValue(described.params))
  } catch (err) {
    if (err instanceof ModuleLoadError) throw err
    throw new ModuleLoadError(`the module failed to load: ${err instanceof Error ? err.message : String(err)}`)
  }
  const calls: NativeModule['calls'] = Object.create(null)
  for (const name of described.calls) {
    calls[name] = (ctx, args) => invoke(program, {kind: 'call', name, args: [...args]}, ctx, undefined)
  }
  const module: NativeModule = {manifest: described.manifest, abi: described.abi, gas: described.gas, params, calls}
  const {hooks} = described
  if (hooks.validateTx) module.validateTx = (tx, ctx) => asValidation(invoke(program, {kind: 'validateTx', tx: {...tx, args: [...tx.args]}}, ctx, HOOK_GAS_LIMIT), 'validateTx')
  if (hooks.checkTx) module.checkTx = (tx: ChainTx, ctx) => asValidation(invoke(program, {kind: 'checkTx', tx: {...tx}}, ctx, HOOK_GAS_LIMIT), 'checkTx')
  if (hooks.afterTx) module.afterTx = (tx, outcome, ctx, verdict) => void invoke(program, {kind: 'afterTx', tx: {...tx}, outcome: {...outcome}, verdict: {...verdict}}, ctx, HOOK_GAS_LIMIT)
  if (hooks.beginBlock) module.beginBlock = (ctx) => void invoke(program, {kind: 'beginBlock'}, ctx, HOOK_GAS_LIMIT)
  if (hooks.endBlock) module.endBlock = (ctx) => void invoke(program, {kind: 'endBlock'}, ctx, HOOK_GAS_LIMIT)
  markSandboxed(module)
  return module
}

export {SandboxError}
