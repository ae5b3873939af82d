import {type Abi, type AbiEvent, type Address, type Hex, decodeFunctionData, encodeAbiParameters, encodeEventTopics, decodeFunctionResult, encodeFunctionData, encodeFunctionResult, keccak256, stringToBytes, toHex} from 'viem'
import type {z} from 'zod'

/**
 * The interface every native module implements. A native module is TypeScript code that every
 * validator runs deterministically: it owns a system address (see {@link moduleAddress}), keeps
 * its state in that address's storage, answers ABI-encoded calls sent to that address and may
 * take part in block validity through `validateTx`, `beginBlock` and `endBlock`.
 *
 * Everything that decides chain state is a bigint: no clock (use `ctx.timestamp`, the block's),
 * no randomness, no I/O and no floating point. The module test kit enforces this.
 */

/** `id`: lowercase, `[a-z][a-z0-9-]{1,31}`; `version`: semver; `description`: one line. */
export interface ModuleManifest {
  id: string
  version: string
  description: string
}

/** The module's own storage: 32-byte words of its system address, slot → value; unset reads 0. */
export interface ModuleStorage {
  get(slot: bigint): bigint
  set(slot: bigint, value: bigint): void
}

/** What every hook and call may read. `height` and `timestamp` are the block's, never the clock. */
export interface ModuleReader {
  height: bigint
  timestamp: bigint
  /** The block's proposer (its coinbase). */
  coinbase: Address
  /** The module's own system address. */
  self: Address
  sender: Address
  value: bigint
  params: Readonly<Record<string, unknown>>
  /** Native balance now (within the block, after what ran before). */
  balanceOf(address: Address): bigint
  /** Native balance at the end of block `height`, which must be before the current block. */
  balanceAt(address: Address, height: bigint): bigint
  isContract(address: Address): boolean
}

/**
 * Operations only the built-in modules get (`ctx.system`); a user module never sees them.
 * `mint` credits wei that did not exist (the treasury's share of the burnt base fee); `move`
 * moves wei between any two accounts (MEV redistribution out of the coinbase).
 */
export interface SystemOps {
  mint(to: Address, amount: bigint): void
  move(from: Address, to: Address, amount: bigint): void
  /** Native wei outside module accounts at the start of the block (governance's quorum base). */
  circulatingSupply?(): bigint
  /** Carries out a passed proposal (governance only); throws, changing nothing, when it cannot. */
  execute?(proposal: unknown, proposalId: bigint): void
}

/** What a hook or a call sees: it may read, write its storage, emit, move its own wei, charge gas. */
export interface ModuleContext extends ModuleReader {
  storage: ModuleStorage
  /** Emits an event of the module's ABI (an ordinary log of its address). */
  emit(event: string, args: Record<string, unknown>): void
  /** Pays `amount` wei out of the module's own balance; throws when it holds less. */
  transfer(to: Address, amount: bigint): void
  /** Charges gas on top of the call's base gas; throws when the limit is exceeded. */
  chargeGas(amount: bigint): void
  /**
   * Calls function `name` of another running module (by id or system address) with `args`; the
   * callee sees this module's system address as `ctx.sender` and no value, its gas comes out of
   * this call's gas, and what it writes is undone when it throws (the throw reaches the caller,
   * which may catch it). Present in calls and block hooks, not in validateTx/checkTx.
   */
  call?(target: string, name: string, args?: readonly unknown[]): unknown
  system?: SystemOps
}

/** The view `validateTx` and `checkTx` get: they may read, never write, emit or charge. */
export interface ReadonlyModuleContext extends ModuleReader {
  storage: Pick<ModuleStorage, 'get'>
}

/** A transaction addressed to a module, with its calldata already decoded against the module's ABI. */
export interface ModuleTx {
  from: Address
  value: bigint
  gasLimit: bigint
  data: Hex
  name: string
  args: readonly unknown[]
}

export type {ChainTx, ModuleValidation, TxOutcome} from '../chain/module-hooks.js'
import type {ChainTx, ModuleValidation, TxOutcome} from '../chain/module-hooks.js'

export type ModuleCall = (ctx: ModuleContext, args: readonly unknown[]) => unknown

export interface NativeModule {
  manifest: ModuleManifest
  /** zod schema of its parameters, with defaults (`params.parse({})` gives the defaults). */
  params: z.ZodType
  /** The Solidity-style ABI of its calls and events. */
  abi: Abi
  /** Mempool admission and block validity of a transaction to this module. */
  validateTx?(tx: ModuleTx, ctx: ReadonlyModuleContext): ModuleValidation
  /**
   * Mempool admission and block validity of every transaction of the chain (rule engine,
   * withdrawal guard): a rejected transaction is refused by eth_sendRawTransaction with the
   * reason, and a block holding one is invalid.
   */
  checkTx?(tx: ChainTx, ctx: ReadonlyModuleContext): ModuleValidation
  /**
   * Runs after every transaction included in a block, with what it did and this module's own
   * `checkTx` verdict on it. It may write and emit (its events join the transaction's receipt)
   * but cannot undo the transaction; it is not charged gas.
   */
  afterTx?(tx: ChainTx, outcome: TxOutcome, ctx: ModuleContext, verdict: ModuleValidation): void
  beginBlock?(ctx: ModuleContext): void
  endBlock?(ctx: ModuleContext): void
  /** One handler per ABI function name; synchronous; the return value is ABI-encoded as the call's output. */
  calls: Record<string, ModuleCall>
  /** Base gas per call, by function name. */
  gas: Record<string, bigint>
}

/**
 * A module refusing a call: the call reverts with `reason` (an `Error(reason)` revert, which viem
 * decodes). Throw it through {@link revert}. In a built-in module any other exception is a bug:
 * the call still reverts (every validator the same way) but with "internal error in module <id>",
 * and the node logs and counts it. In a user module every throw is a revert with its message.
 */
export class ModuleRevert extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'ModuleRevert'
  }
}

/** Reverts the current module call with `reason`. */
export function revert(reason: string): never {
  throw new ModuleRevert(reason)
}

export const MODULE_ID_PATTERN = /^[a-z][a-z0-9-]{1,31}$/
const SEMVER_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/

export function isModuleId(id: string): boolean {
  return MODULE_ID_PATTERN.test(id)
}

export function isSemver(version: string): boolean {
  return SEMVER_PATTERN.test(version)
}

/**
 * Module system addresses: the reserved 16-byte prefix `0x00000000000000000000000000000a11`
 * followed by the first 4 bytes of `keccak256("xai-module:" + id)`. Nothing else lives under this
 * prefix (precompiles are at most 0x…0100). The suffix `00000000` is the module registry's own
 * address; an id hashing to it is rejected.
 */
export const MODULE_ADDRESS_PREFIX = '0x00000000000000000000000000000a11' as const
export const MODULE_REGISTRY_ID = 'registry'
export const MODULE_REGISTRY_ADDRESS: Address = `${MODULE_ADDRESS_PREFIX}00000000`

export class ModuleAddressError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModuleAddressError'
  }
}

/** The system address of module `id` (see {@link MODULE_ADDRESS_PREFIX}); deterministic. */
export function moduleAddress(id: string): Address {
  if (!isModuleId(id)) throw new ModuleAddressError(`Invalid module id "${id}": expected ${MODULE_ID_PATTERN.source}`)
  if (id === MODULE_REGISTRY_ID) return MODULE_REGISTRY_ADDRESS
  const suffix = keccak256(stringToBytes(`xai-module:${id}`)).slice(2, 10)
  const address: Address = `${MODULE_ADDRESS_PREFIX}${suffix}`
  if (address === MODULE_REGISTRY_ADDRESS) throw new ModuleAddressError(`Module id "${id}" maps to the registry's address; choose another id`)
  return address
}

/** True when `address` is under the module prefix (a module's or the registry's). */
export function isModuleAddress(address: string): boolean {
  return address.length === 42 && address.toLowerCase().startsWith(MODULE_ADDRESS_PREFIX)
}

/** The first pair of ids among `ids` whose addresses collide, or undefined. */
export function findModuleAddressCollision(ids: readonly string[]): [string, string] | undefined {
  const seen = new Map<Address, string>([[MODULE_REGISTRY_ADDRESS, MODULE_REGISTRY_ID]])
  for (const id of ids) {
    const address = moduleAddress(id)
    const other = seen.get(address)
    if (other !== undefined && other !== id) return [other, id]
    seen.set(address, id)
  }
  return undefined
}

/** keccak256 of a module's bundled source (UTF-8 for strings): what governance activates. */
export function moduleCodeHash(source: string | Uint8Array): Hex {
  return keccak256(typeof source === 'string' ? stringToBytes(source) : toHex(source))
}

/** ABI calldata of `module.calls[name]` with `args`. */
export function encodeModuleCall(module: Pick<NativeModule, 'abi'>, name: string, args: readonly unknown[] = []): Hex {
  return encodeFunctionData({abi: module.abi, functionName: name, args} as Parameters<typeof encodeFunctionData>[0])
}

/** The call name and arguments of ABI calldata addressed to `module`; throws on unknown selectors. */
export function decodeModuleCall(module: Pick<NativeModule, 'abi'>, data: Hex): {name: string; args: readonly unknown[]} {
  const decoded = decodeFunctionData({abi: module.abi, data})
  return {name: decoded.functionName, args: (decoded.args ?? []) as readonly unknown[]}
}

/** The ABI-encoded output of call `name` returning `result` (`0x` for a function without outputs). */
export function encodeModuleResult(module: Pick<NativeModule, 'abi'>, name: string, result: unknown): Hex {
  const fn = module.abi.find((item) => item.type === 'function' && item.name === name)
  if (!fn || fn.type !== 'function' || fn.outputs.length === 0) return '0x'
  return encodeFunctionResult({abi: [fn], functionName: name, result} as Parameters<typeof encodeFunctionResult>[0])
}

/** The decoded output of call `name` from its ABI-encoded return data. */
export function decodeModuleResult(module: Pick<NativeModule, 'abi'>, name: string, data: Hex): unknown {
  const fn = module.abi.find((item) => item.type === 'function' && item.name === name)
  if (!fn || fn.type !== 'function' || fn.outputs.length === 0) return undefined
  return decodeFunctionResult({abi: [fn], functionName: name, data} as Parameters<typeof decodeFunctionResult>[0])
}

/** The log topics and data of event `name` of the module's ABI with `args` (every input named). */
export function encodeModuleEvent(module: Pick<NativeModule, 'abi'>, name: string, args: Record<string, unknown>): {topics: Hex[]; data: Hex} {
  const abiEvent = module.abi.find((item): item is AbiEvent => item.type === 'event' && item.name === name)
  if (!abiEvent) throw new Error(`emit: "${name}" is not an event of the module's ABI`)
  for (const input of abiEvent.inputs) {
    if (!(input.name! in args)) throw new Error(`emit ${name}: missing argument "${input.name}"`)
  }
  const topics = encodeEventTopics({abi: [abiEvent] as Abi, eventName: name, args} as Parameters<typeof encodeEventTopics>[0]) as Hex[]
  const dataInputs = abiEvent.inputs.filter((input) => !input.indexed)
  const data = encodeAbiParameters(dataInputs, dataInputs.map((input) => args[input.name!]))
  return {topics, data}
}
