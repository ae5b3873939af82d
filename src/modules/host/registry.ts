import {type Address, type Hex, hexToBytes, keccak256, parseAbi, stringToBytes} from 'viem'
import {z} from 'zod'

import {type ModuleStorage, type NativeModule, MODULE_REGISTRY_ADDRESS, isModuleId, moduleAddress, moduleCodeHash} from '../module.js'
import {addressToWord, hexToWord, mappingSlot, namespaceSlot, readBytes, readString, slotAdd, wordToAddress, wordToHex, writeBytes, writeString} from '../storage-codec.js'

/**
 * The module registry: which modules exist, at which version and code hash, from which height,
 * with which parameters; the code of user modules uploaded for governance to activate; the chain
 * parameters and feature flags governance sets. All of it is storage of the registry's system
 * address, so the state root covers it and `eth_getStorageAt` reads it.
 *
 * Layout (slots of MODULE_REGISTRY_ADDRESS):
 * - `ids`: namespaceSlot('xai.registry.ids') holds the count; id i is a string at ids + 1 + i.
 * - entry of module m at base = mappingSlot(namespaceSlot('xai.registry.entry'), address(m)):
 *   +0 code hash, +1 active from (height), +2 version (string), +3 next code hash, +4 next from,
 *   +5 next version (string), +6 deactivate at (0: never), +7 parameters (canonical JSON string),
 *   +8 1 for a built-in module.
 * - code: mappingSlot(namespaceSlot('xai.registry.code'), codeHash) holds the source (bytes).
 * - chain parameters: mappingSlot(namespaceSlot('xai.registry.chain'), keccak(name)).
 * - feature flags: mappingSlot(namespaceSlot('xai.registry.flags'), keccak(name)): 0 unset, 1 on,
 *   2 off; their names as the `ids` list at namespaceSlot('xai.registry.flagNames').
 * - validators: namespaceSlot('xai.registry.validators') holds the count; validator i's address
 *   and voting power at validators + 1 + 2i and + 2 + 2i. The consensus engine takes the set for
 *   block h + 1 from the state after block h.
 * - supply: namespaceSlot('xai.registry.supply') the native supply now;
 *   namespaceSlot('xai.registry.circulating') the supply outside module accounts at the start of
 *   the current block (what governance's quorum is measured against).
 */

export const REGISTRY_VERSION = '1.0.0'

/** The code every module account holds: INVALID, so nothing but the module ever runs there. */
export const MODULE_ACCOUNT_CODE = new Uint8Array([0xfe])
const IDS = namespaceSlot('xai.registry.ids')
const ENTRY = namespaceSlot('xai.registry.entry')
const CODE = namespaceSlot('xai.registry.code')
const CHAIN = namespaceSlot('xai.registry.chain')
const FLAGS = namespaceSlot('xai.registry.flags')
const FLAG_NAMES = namespaceSlot('xai.registry.flagNames')
const VALIDATORS = namespaceSlot('xai.registry.validators')
export const SUPPLY_SLOT = namespaceSlot('xai.registry.supply')
export const CIRCULATING_SLOT = namespaceSlot('xai.registry.circulating')

/** The chain parameters governance may set (see parameter-change proposals). */
export const CHAIN_PARAMETERS = ['blockGasLimit', 'baseFeeMaxChangeDenominator', 'elasticityMultiplier'] as const
export type ChainParameter = (typeof CHAIN_PARAMETERS)[number]

/** Code hash of a built-in module: keccak256("xai-builtin:" + id + "@" + version). */
export function builtinCodeHash(id: string, version: string): Hex {
  return keccak256(stringToBytes(`xai-builtin:${id}@${version}`))
}

export interface ModuleVersion {
  codeHash: Hex
  version: string
  from: bigint
}

export interface RegistryEntry {
  id: string
  address: Address
  builtin: boolean
  current: ModuleVersion
  next?: ModuleVersion
  deactivateAt?: bigint
  params: Record<string, unknown>
}

/** Storage of the registry, read-only or writable. */
type Reader = Pick<ModuleStorage, 'get'>

function entryBase(id: string): bigint {
  return mappingSlot(ENTRY, addressToWord(moduleAddress(id)))
}

export function listModuleIds(storage: Reader): string[] {
  return readList(storage, IDS)
}

function readList(storage: Reader, base: bigint): string[] {
  const count = storage.get(base)
  const out: string[] = []
  for (let i = 0n; i < count; i++) out.push(readString(storage, slotAdd(base, 1n + i)))
  return out
}

function appendList(storage: ModuleStorage, base: bigint, value: string): void {
  const count = storage.get(base)
  writeString(storage, slotAdd(base, 1n + count), value)
  storage.set(base, count + 1n)
}

export function readEntry(storage: Reader, id: string): RegistryEntry | undefined {
  if (!isModuleId(id)) return undefined
  const base = entryBase(id)
  const codeHash = storage.get(base)
  if (codeHash === 0n) return undefined
  const nextHash = storage.get(slotAdd(base, 3n))
  const deactivateAt = storage.get(slotAdd(base, 6n))
  const paramsText = readString(storage, slotAdd(base, 7n))
  return {
    id,
    address: moduleAddress(id),
    builtin: storage.get(slotAdd(base, 8n)) === 1n,
    current: {codeHash: wordToHex(codeHash), version: readString(storage, slotAdd(base, 2n)), from: storage.get(slotAdd(base, 1n))},
    ...(nextHash !== 0n ? {next: {codeHash: wordToHex(nextHash), version: readString(storage, slotAdd(base, 5n)), from: storage.get(slotAdd(base, 4n))}} : {}),
    ...(deactivateAt !== 0n ? {deactivateAt} : {}),
    params: paramsText === '' ? {} : (JSON.parse(paramsText) as Record<string, unknown>),
  }
}

/** The version of `entry` that runs in block `height`, or undefined when none does. */
export function versionAt(entry: RegistryEntry, height: bigint): ModuleVersion | undefined {
  if (entry.deactivateAt !== undefined && height >= entry.deactivateAt) return undefined
  if (entry.next && height >= entry.next.from) return entry.next
  if (height >= entry.current.from) return entry.current
  return undefined
}

/** Adds a module (a new id) or schedules a new version of an existing one from `from`. */
export function scheduleModule(storage: ModuleStorage, id: string, version: ModuleVersion, options: {builtin?: boolean; params?: Record<string, unknown>} = {}): void {
  const base = entryBase(id)
  const existing = readEntry(storage, id)
  if (!existing) {
    appendList(storage, IDS, id)
    storage.set(base, hexToWord(version.codeHash))
    storage.set(slotAdd(base, 1n), version.from)
    writeString(storage, slotAdd(base, 2n), version.version)
    storage.set(slotAdd(base, 8n), options.builtin ? 1n : 0n)
    writeParams(storage, id, options.params ?? {})
    return
  }
  // A pending version that has taken effect becomes the current one before another is queued.
  if (existing.next && version.from >= existing.next.from) {
    storage.set(base, hexToWord(existing.next.codeHash))
    storage.set(slotAdd(base, 1n), existing.next.from)
    writeString(storage, slotAdd(base, 2n), existing.next.version)
  }
  storage.set(slotAdd(base, 3n), hexToWord(version.codeHash))
  storage.set(slotAdd(base, 4n), version.from)
  writeString(storage, slotAdd(base, 5n), version.version)
  storage.set(slotAdd(base, 6n), 0n)
  if (options.params) writeParams(storage, id, options.params)
}

/** Re-activates a deactivated module from `from` at a version, or activates it anew. */
export function reactivateModule(storage: ModuleStorage, id: string, version: ModuleVersion): void {
  const base = entryBase(id)
  storage.set(base, hexToWord(version.codeHash))
  storage.set(slotAdd(base, 1n), version.from)
  writeString(storage, slotAdd(base, 2n), version.version)
  storage.set(slotAdd(base, 3n), 0n)
  storage.set(slotAdd(base, 4n), 0n)
  writeString(storage, slotAdd(base, 5n), '')
  storage.set(slotAdd(base, 6n), 0n)
}

export function deactivateModule(storage: ModuleStorage, id: string, at: bigint): void {
  storage.set(slotAdd(entryBase(id), 6n), at)
}

export function writeParams(storage: ModuleStorage, id: string, params: Record<string, unknown>): void {
  writeString(storage, slotAdd(entryBase(id), 7n), jsonParams(params))
}

/** Parameters as stored: JSON with object keys sorted and bigints as decimal strings. */
export function jsonParams(params: unknown): string {
  return JSON.stringify(sortKeys(params))
}

function sortKeys(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, item]) => [key, sortKeys(item)]))
  }
  return value
}

export interface RegistryValidator {
  /** Lowercase. */
  address: Address
  power: number
}

/** The validator set as governance keeps it (empty on a chain whose genesis named none). */
export function readValidators(storage: Reader): RegistryValidator[] {
  const count = storage.get(VALIDATORS)
  const out: RegistryValidator[] = []
  for (let i = 0n; i < count; i++) {
    out.push({address: wordToAddress(storage.get(slotAdd(VALIDATORS, 1n + 2n * i))).toLowerCase() as Address, power: Number(storage.get(slotAdd(VALIDATORS, 2n + 2n * i)))})
  }
  return out
}

/** Replaces the validator set (sorted by address, as consensus orders it). */
export function writeValidators(storage: ModuleStorage, validators: readonly RegistryValidator[]): void {
  const before = storage.get(VALIDATORS)
  const sorted = [...validators].sort((a, b) => (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1))
  sorted.forEach((validator, i) => {
    storage.set(slotAdd(VALIDATORS, 1n + 2n * BigInt(i)), addressToWord(validator.address))
    storage.set(slotAdd(VALIDATORS, 2n + 2n * BigInt(i)), BigInt(validator.power))
  })
  for (let i = BigInt(sorted.length); i < before; i++) {
    storage.set(slotAdd(VALIDATORS, 1n + 2n * i), 0n)
    storage.set(slotAdd(VALIDATORS, 2n + 2n * i), 0n)
  }
  storage.set(VALIDATORS, BigInt(sorted.length))
}

export function codeSlot(codeHash: Hex): bigint {
  return mappingSlot(CODE, hexToWord(codeHash))
}

export function storeCode(storage: ModuleStorage, source: Uint8Array): Hex {
  const hash = moduleCodeHash(source)
  writeBytes(storage, codeSlot(hash), source)
  return hash
}

export function readCode(storage: Reader, codeHash: Hex): Uint8Array | undefined {
  const bytes = readBytes(storage, codeSlot(codeHash))
  return bytes.length === 0 ? undefined : bytes
}

export function readChainParam(storage: Reader, name: ChainParameter): bigint | undefined {
  const value = storage.get(mappingSlot(CHAIN, BigInt(keccak256(stringToBytes(name)))))
  return value === 0n ? undefined : value
}

export function writeChainParam(storage: ModuleStorage, name: ChainParameter, value: bigint): void {
  storage.set(mappingSlot(CHAIN, BigInt(keccak256(stringToBytes(name)))), value)
}

export function readFeatureFlag(storage: Reader, name: string): boolean | undefined {
  const value = storage.get(mappingSlot(FLAGS, BigInt(keccak256(stringToBytes(name)))))
  return value === 0n ? undefined : value === 1n
}

export function writeFeatureFlag(storage: ModuleStorage, name: string, enabled: boolean): void {
  const slot = mappingSlot(FLAGS, BigInt(keccak256(stringToBytes(name))))
  if (storage.get(slot) === 0n) appendList(storage, FLAG_NAMES, name)
  storage.set(slot, enabled ? 1n : 2n)
}

export function listFeatureFlags(storage: Reader): Record<string, boolean> {
  return Object.fromEntries(readList(storage, FLAG_NAMES).map((name) => [name, readFeatureFlag(storage, name) ?? false]))
}

const registryAbi = parseAbi([
  'function modules() view returns (string[])',
  'function moduleInfo(string id) view returns (address addr, string version, bytes32 codeHash, uint256 activeFrom, string nextVersion, bytes32 nextCodeHash, uint256 nextFrom, uint256 deactivateAt, string params)',
  'function storeCode(bytes source) returns (bytes32)',
  'function hasCode(bytes32 codeHash) view returns (bool)',
  'function featureFlag(string name) view returns (bool)',
  'function chainParam(string name) view returns (uint256)',
  'event CodeStored(bytes32 indexed codeHash, address indexed by, uint256 size)',
])

/** Gas per 32-byte word of stored code, on top of the base. */
const CODE_WORD_GAS = 5_000n

/** The registry as a module: its calls, so viem and cast read it like a contract. */
export const registryModule: NativeModule = {
  manifest: {id: 'registry', version: REGISTRY_VERSION, description: 'Which native modules run, at which version, with which parameters'},
  params: z.object({}),
  abi: registryAbi,
  gas: {modules: 2_000n, moduleInfo: 2_000n, storeCode: 21_000n, hasCode: 2_000n, featureFlag: 2_000n, chainParam: 2_000n},
  validateTx(tx) {
    if (tx.value !== 0n) return {ok: false, reason: 'the module registry does not accept value'}
    return {ok: true}
  },
  calls: {
    modules: (ctx) => listModuleIds(ctx.storage),
    moduleInfo(ctx, [id]) {
      const entry = readEntry(ctx.storage, id as string)
      if (!entry) throw new Error(`no module "${String(id)}"`)
      return [
        entry.address,
        entry.current.version,
        entry.current.codeHash,
        entry.current.from,
        entry.next?.version ?? '',
        entry.next?.codeHash ?? wordToHex(0n),
        entry.next?.from ?? 0n,
        entry.deactivateAt ?? 0n,
        jsonParams(entry.params),
      ]
    },
    storeCode(ctx, [source]) {
      const bytes = hexToBytes(source as Hex)
      if (bytes.length === 0) throw new Error('empty source')
      ctx.chargeGas(BigInt(Math.ceil(bytes.length / 32)) * CODE_WORD_GAS)
      const hash = storeCode(ctx.storage, bytes)
      ctx.emit('CodeStored', {codeHash: hash, by: ctx.sender, size: BigInt(bytes.length)})
      return hash
    },
    hasCode: (ctx, [hash]) => readCode(ctx.storage, hash as Hex) !== undefined,
    featureFlag: (ctx, [name]) => readFeatureFlag(ctx.storage, name as string) ?? false,
    chainParam(ctx, [name]) {
      if (!(CHAIN_PARAMETERS as readonly string[]).includes(name as string)) throw new Error(`no chain parameter "${String(name)}"; there are ${CHAIN_PARAMETERS.join(', ')}`)
      return readChainParam(ctx.storage, name as ChainParameter) ?? 0n
    },
  },
}

export {MODULE_REGISTRY_ADDRESS}
