import {type AbiParameter, type Hex, concat, encodeAbiParameters, getAddress, hexToBigInt, hexToBytes, keccak256, numberToHex, pad, slice, stringToHex} from 'viem'
import {z} from 'zod'

import {XaiError} from '../util/errors.js'
import {parseAbiValue} from './abi-args.js'
import {ContractsErrorCode} from './errors.js'

/** The 32-byte word stored at a slot (at whatever block the reader is bound to). */
export type ReadSlot = (slot: bigint) => Promise<Hex>

export interface DecodeStorageOptions {
  /**
   * Keys to read mappings at. By mapping: `{balanceOf: ['0xf39F…', '0x7099…']}`, the mapping named
   * by its variable (or a struct member path: `config.limits`), each string one key or, for nested
   * mappings, several joined by commas (`{allowance: ['0xA…,0xB…']}` reads allowance[0xA…][0xB…])
   * or a JSON array (`'["a,b","c"]'`, for keys holding commas). A plain list (or the entry `'*'`)
   * applies to every mapping, at every nesting level, whose key type accepts the key (an
   * address-shaped key is taken only as an address, or bytes20, not as an integer or a string).
   */
  keys?: Record<string, string[]> | string[]
  /** Items read per array (static or dynamic); the rest is left out, `truncated: true`. Default 32. */
  maxArrayItems?: number
  /** Slots read per long string or bytes value (32 bytes each); longer ones are truncated. Default 128. */
  maxBytesSlots?: number
}

/**
 * One state variable and its value, JSON-safe: integers as decimal strings, addresses checksummed,
 * bytesN, bytes and user-defined value types as 0x-hex, enums as numbers, strings as text, structs
 * as objects by member name, arrays as {@link StorageArray}, mappings as {@link StorageMapping}, a
 * long string or bytes cut at `maxBytesSlots` as {@link TruncatedBytes}.
 */
export interface StorageVariable {
  label: string
  /** Solidity's name of the type: `uint256`, `mapping(address => uint256)`, `struct Vault.Config`. */
  type: string
  /** Decimal, as solc gives it. */
  slot: string
  /** Byte offset in the slot, from the low-order end. */
  offset: number
  value: unknown
  /** Set when something could not be shown, e.g. a mapping no keys were given for. */
  note?: string
}

/** A mapping's entries at the keys given; a nested mapping's value is again a StorageMapping. */
export interface StorageMapping {
  entries: {key: unknown; value: unknown}[]
}

/** A static or dynamic array: its length and its first `maxArrayItems` items. */
export interface StorageArray {
  /** A number, or a decimal string beyond 2^53. */
  length: number | string
  items: unknown[]
  truncated: boolean
}

/** A string or bytes value longer than `maxBytesSlots` slots: its first part. */
export interface TruncatedBytes {
  length: number | string
  data: string
  truncated: true
}

const decimal = z.string().regex(/^\d+$/, 'expected a decimal integer string')
const entrySchema = z.object({
  label: z.string().min(1),
  slot: decimal,
  offset: z.number().int().min(0).max(31),
  type: z.string().min(1),
  contract: z.string().optional(),
  astId: z.number().optional(),
})
const typeSchema = z.object({
  encoding: z.enum(['inplace', 'mapping', 'dynamic_array', 'bytes']),
  label: z.string(),
  numberOfBytes: decimal,
  members: z.array(entrySchema).optional(),
  base: z.string().optional(),
  key: z.string().optional(),
  value: z.string().optional(),
})
const layoutSchema = z.object({
  storage: z.array(entrySchema),
  // solc gives null for a contract without state variables.
  types: z.record(z.string(), typeSchema).nullable(),
})

type LayoutEntry = z.infer<typeof entrySchema>
type LayoutType = z.infer<typeof typeSchema>

/** solc's storageLayout, validated: every type a variable, member, element, key or value names is in `types`. */
export interface StorageLayout {
  storage: LayoutEntry[]
  types: Record<string, LayoutType>
}

/** Nesting deeper than this is a layout that refers to itself. */
const MAX_DEPTH = 64
const WORD_MODULUS = 1n << 256n

/**
 * Validates solc's storageLayout output (the `storageLayout` of an artifact). A malformed one is
 * CONTRACT_STORAGE_LAYOUT_INVALID (exit 3).
 */
export function parseStorageLayout(layout: unknown): StorageLayout {
  const parsed = layoutSchema.safeParse(layout)
  if (!parsed.success) {
    throw invalidLayout(parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`))
  }
  const result: StorageLayout = {storage: parsed.data.storage, types: parsed.data.types ?? {}}
  const problems: string[] = []
  const known = (id: string | undefined, where: string): boolean => {
    if (id !== undefined && Object.hasOwn(result.types, id)) return true
    problems.push(`${where} names the type ${id ?? '(none)'}, which is not in types`)
    return false
  }
  const slotFits = (entry: LayoutEntry, where: string): void => {
    if (BigInt(entry.slot) >= WORD_MODULUS) problems.push(`${where} is at slot ${entry.slot}, beyond 2^256`)
  }
  for (const entry of result.storage) {
    known(entry.type, `variable ${entry.label}`)
    slotFits(entry, `variable ${entry.label}`)
  }
  for (const [id, type] of Object.entries(result.types)) {
    const size = Number(type.numberOfBytes)
    if (type.encoding === 'mapping') {
      if (known(type.key, `mapping ${id}`)) {
        const key = result.types[type.key!]!
        if (!(key.encoding === 'bytes' || isValueType(key))) problems.push(`mapping ${id} has the key type ${type.key}, which is not a value type, string or bytes`)
      }
      known(type.value, `mapping ${id}`)
    } else if (type.encoding === 'dynamic_array') {
      known(type.base, `array ${id}`)
    } else if (type.encoding === 'inplace') {
      if (type.members) {
        for (const member of type.members) {
          known(member.type, `struct ${id} member ${member.label}`)
          slotFits(member, `struct ${id} member ${member.label}`)
        }
      } else if (type.base !== undefined) {
        known(type.base, `array ${id}`)
        if (staticLength(type) === undefined) problems.push(`array ${id} has no length in its label ${type.label}`)
      } else if (size < 1 || size > 32) {
        problems.push(`value type ${id} takes ${type.numberOfBytes} bytes (1 to 32 fit a slot)`)
      }
    }
  }
  if (problems.length > 0) throw invalidLayout(problems.slice(0, 3))
  return result
}

/**
 * Reads and decodes a contract's state variables through solc's storage layout: packed value
 * types, short and long strings and bytes, structs, static and dynamic arrays (the first
 * `maxArrayItems` items), and mappings at the keys given (a mapping cannot be listed: without
 * keys it shows no entries and a note). Each slot is read once per call.
 *
 * @example
 * const read = (slot: bigint) => client.getStorageAt({address, slot: numberToHex(slot, {size: 32})}).then((w) => w ?? '0x')
 * const variables = await decodeStorage(artifact.storageLayout, read, {keys: {balanceOf: [alice]}})
 * // [{label: 'name', type: 'string', slot: '0', offset: 0, value: 'MyToken'}, …,
 * //  {label: 'balanceOf', type: 'mapping(address => uint256)', slot: '3', offset: 0, value: {entries: [{key: alice, value: '1000'}]}}]
 */
export async function decodeStorage(layout: unknown, readSlot: ReadSlot, options: DecodeStorageOptions = {}): Promise<StorageVariable[]> {
  const parsed = parseStorageLayout(layout)
  const {labeled, bare} = normalizeKeys(options.keys)
  validateKeys(parsed, labeled, bare)
  const cache = new Map<bigint, Promise<Hex>>()
  const context: DecodeContext = {
    layout: parsed,
    labeled,
    bare,
    maxArrayItems: options.maxArrayItems ?? 32,
    maxBytesSlots: options.maxBytesSlots ?? 128,
    read(slot) {
      let word = cache.get(slot)
      if (!word) {
        word = readSlot(slot).then(toWord)
        cache.set(slot, word)
      }
      return word
    },
  }
  return Promise.all(
    parsed.storage.map(async (entry): Promise<StorageVariable> => {
      const variable: VariableState = {keyless: new Set()}
      const value = await decodeNode(context, variable, entry.type, BigInt(entry.slot), entry.offset, entry.label, [], 0)
      const result: StorageVariable = {label: entry.label, type: parsed.types[entry.type]!.label, slot: entry.slot, offset: entry.offset, value}
      if (variable.keyless.size > 0) result.note = keylessNote(parsed, [...variable.keyless])
      return result
    }),
  )
}

/** How to give the keys of the mappings read without any: by name where they have one (`roots`). */
function keylessNote(layout: StorageLayout, roots: (string | undefined)[]): string {
  const named = roots.flatMap((root) => {
    const depth = root === undefined ? undefined : mappingPath(layout, root).keyTypes?.length
    return depth === undefined ? [] : [`--slot-key ${root}=${Array.from({length: depth}, () => '<key>').join(',')}`]
  })
  const unnamed = named.length < roots.length ? ['--slot-key <key> (for every mapping, also those in arrays and mapping values)'] : []
  return `Mappings are read only at the keys given: ${[...named, ...unnamed].join('; ')}`
}

interface DecodeContext {
  layout: StorageLayout
  labeled: Map<string, string[][]>
  bare: string[]
  maxArrayItems: number
  maxBytesSlots: number
  read(slot: bigint): Promise<Hex>
}

/** What decoding one variable found worth a note. */
interface VariableState {
  /** Mappings read without any key: the name of the mapping each is (or is nested in), undefined when it has none. */
  keyless: Set<string | undefined>
}

async function decodeNode(context: DecodeContext, variable: VariableState, id: string, slot: bigint, offset: number, path: string, pending: string[][], depth: number): Promise<unknown> {
  if (depth > MAX_DEPTH) throw invalidLayout([`types nest more than ${MAX_DEPTH} levels deep at ${path}`])
  const type = context.layout.types[id]!
  switch (type.encoding) {
    case 'inplace': {
      if (type.members) {
        const members = type.members
        const values = await Promise.all(
          members.map((member) => decodeNode(context, variable, member.type, addSlot(slot, BigInt(member.slot)), member.offset, `${path}.${member.label}`, [], depth + 1)),
        )
        return Object.fromEntries(members.map((member, i) => [member.label, values[i]]))
      }
      if (type.base !== undefined) return decodeArray(context, variable, type.base, staticLength(type)!, slot, path, depth)
      return decodeValue(context, id, type, slot, offset, path)
    }
    case 'bytes':
      return decodeBytes(context, type, slot)
    case 'dynamic_array': {
      const length = hexToBigInt(await context.read(slot))
      return decodeArray(context, variable, type.base!, length, dataSlot(slot), path, depth)
    }
    case 'mapping':
      // Only a mapping reached through variables and struct members has a name --slot-key can use.
      return decodeMapping(context, variable, type, slot, path, path.includes('[') ? undefined : path, pending, depth)
  }
}

async function decodeArray(context: DecodeContext, variable: VariableState, baseId: string, length: bigint, first: bigint, path: string, depth: number): Promise<StorageArray> {
  const base = context.layout.types[baseId]!
  const size = Number(base.numberOfBytes)
  const count = length < BigInt(context.maxArrayItems) ? Number(length) : context.maxArrayItems
  // Value types under 32 bytes share slots; anything else starts a slot and takes whole slots.
  const perSlot = isValueType(base) && size < 32 ? Math.floor(32 / size) : 1
  const slotsPerItem = perSlot > 1 ? 1 : Math.max(1, Math.ceil(size / 32))
  const items = await Promise.all(
    Array.from({length: count}, (_, i) => {
      const slot = perSlot > 1 ? addSlot(first, BigInt(Math.floor(i / perSlot))) : addSlot(first, BigInt(i) * BigInt(slotsPerItem))
      const offset = perSlot > 1 ? (i % perSlot) * size : 0
      return decodeNode(context, variable, baseId, slot, offset, `${path}[${i}]`, [], depth + 1)
    }),
  )
  return {length: jsonLength(length), items, truncated: BigInt(count) < length}
}

async function decodeMapping(
  context: DecodeContext,
  variable: VariableState,
  type: LayoutType,
  slot: bigint,
  path: string,
  root: string | undefined,
  pending: string[][],
  depth: number,
): Promise<StorageMapping> {
  if (depth > MAX_DEPTH) throw invalidLayout([`types nest more than ${MAX_DEPTH} levels deep at ${path}`])
  const keyType = context.layout.types[type.key!]!
  const groups = new Map<Hex, {key: MappingKey; rest: string[][]}>()
  const add = (key: MappingKey, rest: string[] | undefined): void => {
    let group = groups.get(key.encoded)
    if (!group) {
      group = {key, rest: []}
      groups.set(key.encoded, group)
    }
    if (rest && rest.length > 0) group.rest.push(rest)
  }
  for (const tuple of [...pending, ...(context.labeled.get(path) ?? [])]) {
    add(parseMappingKey(type.key!, keyType, tuple[0]!, `key of ${path}`), tuple.slice(1))
  }
  for (const raw of context.bare) {
    const key = acceptBareKey(type.key!, keyType, raw)
    if (key) add(key, undefined)
  }
  if (groups.size === 0) {
    variable.keyless.add(root)
    return {entries: []}
  }
  const slotWord = numberToHex(slot, {size: 32})
  const valueType = context.layout.types[type.value!]!
  const entries = await Promise.all(
    [...groups.values()].map(async ({key, rest}) => {
      const at = hexToBigInt(keccak256(concat([key.encoded, slotWord])))
      const entryPath = `${path}[${String(key.display)}]`
      const value =
        valueType.encoding === 'mapping'
          ? await decodeMapping(context, variable, valueType, at, entryPath, root, rest, depth + 1)
          : await decodeNode(context, variable, type.value!, at, 0, entryPath, rest, depth + 1)
      return {key: key.display, value}
    }),
  )
  return {entries}
}

async function decodeBytes(context: DecodeContext, type: LayoutType, slot: bigint): Promise<unknown> {
  const word = await context.read(slot)
  const last = Number.parseInt(word.slice(-2), 16)
  let data: Hex
  let length: bigint
  let truncated = false
  if ((last & 1) === 0) {
    // Short form: the data in the high-order bytes, twice the length in the lowest byte.
    const size = Math.min(last / 2, 31)
    data = size === 0 ? '0x' : slice(word, 0, size)
    length = BigInt(size)
  } else {
    // Long form: 2·length + 1 in the slot, the data from keccak256(slot) on.
    length = (hexToBigInt(word) - 1n) / 2n
    const slots = (length + 31n) / 32n
    const count = slots < BigInt(context.maxBytesSlots) ? Number(slots) : context.maxBytesSlots
    const first = dataSlot(slot)
    const words = await Promise.all(Array.from({length: count}, (_, i) => context.read(addSlot(first, BigInt(i)))))
    const take = length < BigInt(count * 32) ? Number(length) : count * 32
    data = take === 0 ? '0x' : slice(concat(words), 0, take)
    truncated = BigInt(take) < length
  }
  const value = type.label === 'string' ? new TextDecoder().decode(hexToBytes(data)) : data
  return truncated ? ({length: jsonLength(length), data: value, truncated: true} satisfies TruncatedBytes) : value
}

async function decodeValue(context: DecodeContext, id: string, type: LayoutType, slot: bigint, offset: number, path: string): Promise<unknown> {
  const size = Number(type.numberOfBytes)
  if (offset + size > 32) throw invalidLayout([`${path} (${type.label}, ${size} bytes) does not fit its slot at offset ${offset}`])
  const word = await context.read(slot)
  const bytes = slice(word, 32 - offset - size, 32 - offset)
  const kind = valueKind(id, type)
  switch (kind.kind) {
    case 'uint':
      return hexToBigInt(bytes).toString()
    case 'int': {
      const raw = hexToBigInt(bytes)
      const bits = BigInt(size * 8)
      return (raw >= 1n << (bits - 1n) ? raw - (1n << bits) : raw).toString()
    }
    case 'bool':
      return hexToBigInt(bytes) !== 0n
    case 'address':
      return getAddress(size === 20 ? bytes : pad(bytes, {size: 20}))
    case 'enum':
      return Number(hexToBigInt(bytes))
    case 'fixedBytes':
    case 'udvt':
    case 'raw':
      return bytes
  }
}

type ValueKind = {kind: 'uint' | 'int'; bits: number} | {kind: 'bool' | 'address' | 'enum' | 'raw'} | {kind: 'fixedBytes' | 'udvt'; size: number}

/** What a value type is, from its solc type id (`t_uint8`, `t_contract(Token)12`, `t_userDefinedValueType(Price)3`, …). */
function valueKind(id: string, type: LayoutType): ValueKind {
  const size = Number(type.numberOfBytes)
  const int = /^t_(u?)int(\d+)$/.exec(id)
  if (int) return {kind: int[1] === 'u' ? 'uint' : 'int', bits: Number(int[2])}
  if (id === 't_bool') return {kind: 'bool'}
  if (id === 't_address' || id === 't_address_payable' || id.startsWith('t_contract(')) return {kind: 'address'}
  if (id.startsWith('t_enum(')) return {kind: 'enum'}
  if (/^t_bytes\d+$/.test(id)) return {kind: 'fixedBytes', size}
  // The layout does not say what a user-defined value type wraps: its bytes as they are.
  if (id.startsWith('t_userDefinedValueType(')) return {kind: 'udvt', size}
  return {kind: 'raw'}
}

function isValueType(type: LayoutType): boolean {
  return type.encoding === 'inplace' && type.members === undefined && type.base === undefined
}

interface MappingKey {
  /** What is hashed with the slot: the 32-byte ABI word of a value type, the raw bytes of a string or bytes key. */
  encoded: Hex
  /** The key as shown: as its value would be (checksummed address, decimal string, …). */
  display: string | number | boolean
}

/** A command-line key as a key of the mapping type `keyId`; a bad one is CONTRACT_INVALID_ARGUMENT (exit 2). */
function parseMappingKey(keyId: string, keyType: LayoutType, raw: string, label: string): MappingKey {
  const parse = (type: string): unknown => parseAbiValue({type} as AbiParameter, raw, label)
  if (keyType.encoding === 'bytes') {
    if (keyType.label === 'string') return {encoded: stringToHex(raw), display: raw}
    const bytes = parse('bytes') as Hex
    return {encoded: bytes, display: bytes}
  }
  const kind = valueKind(keyId, keyType)
  switch (kind.kind) {
    case 'uint':
    case 'int': {
      const type = `${kind.kind}${kind.bits}`
      const value = parse(type) as bigint
      return {encoded: encodeAbiParameters([{type}], [value]), display: value.toString()}
    }
    case 'bool': {
      const value = parse('bool') as boolean
      return {encoded: encodeAbiParameters([{type: 'bool'}], [value]), display: value}
    }
    case 'address': {
      const value = parse('address') as Hex
      return {encoded: pad(value.toLowerCase() as Hex, {size: 32}), display: value}
    }
    case 'enum': {
      const value = parse('uint8') as bigint
      return {encoded: pad(numberToHex(value), {size: 32}), display: Number(value)}
    }
    case 'fixedBytes': {
      const value = parse(`bytes${kind.size}`) as Hex
      return {encoded: pad(value, {size: 32, dir: 'right'}), display: value}
    }
    case 'udvt': {
      const type = `${raw.trim().startsWith('-') ? 'int' : 'uint'}${kind.size * 8}`
      const value = parse(type) as bigint
      return {encoded: encodeAbiParameters([{type}], [value]), display: value.toString()}
    }
    case 'raw':
      throw invalidKey(`${label}: mappings keyed by ${keyType.label} cannot be read`, {type: keyType.label})
  }
}

const ADDRESS_SHAPE = /^0x[0-9a-fA-F]{40}$/

/** A key given for every mapping, as a key of this one: undefined when its type does not take it. */
function acceptBareKey(keyId: string, keyType: LayoutType, raw: string): MappingKey | undefined {
  if (ADDRESS_SHAPE.test(raw.trim()) && (keyType.encoding === 'bytes' || !['address', 'fixedBytes'].includes(valueKind(keyId, keyType).kind))) return undefined
  try {
    return parseMappingKey(keyId, keyType, raw, 'key')
  } catch {
    return undefined
  }
}

/** `{balanceOf: ['0xA', '0xB'], allowance: ['0xA,0xB'], '*': ['0xC']}` → key tuples by mapping path, and the keys for every mapping. */
function normalizeKeys(keys: DecodeStorageOptions['keys']): {labeled: Map<string, string[][]>; bare: string[]} {
  const labeled = new Map<string, string[][]>()
  const bare: string[] = []
  if (keys === undefined) return {labeled, bare}
  if (Array.isArray(keys)) {
    for (const spec of keys) bare.push(...splitKeySpec(spec, 'key'))
    return {labeled, bare}
  }
  for (const [label, specs] of Object.entries(keys)) {
    if (label === '*') {
      for (const spec of specs) bare.push(...splitKeySpec(spec, 'key'))
      continue
    }
    labeled.set(label, [...(labeled.get(label) ?? []), ...specs.map((spec) => splitKeySpec(spec, label))])
  }
  return {labeled, bare}
}

/** `0xA,0xB` or `["0xA","0xB"]` → the keys, in order. */
function splitKeySpec(spec: string, label: string): string[] {
  const text = spec.trim()
  let parts: string[]
  if (text.startsWith('[')) {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw invalidKey(`Keys for ${label} are not a JSON array: ${spec}`, {label, spec})
    }
    if (!Array.isArray(json) || json.some((item) => !['string', 'number', 'boolean'].includes(typeof item))) {
      throw invalidKey(`Keys for ${label} must be a JSON array of strings, numbers or booleans: ${spec}`, {label, spec})
    }
    parts = json.map(String)
  } else {
    parts = text.split(',').map((part) => part.trim())
  }
  if (parts.length === 0 || parts.some((part) => part === '')) throw invalidKey(`An empty key for ${label}: "${spec}"`, {label, spec})
  return parts
}

/** Where a mapping named by a variable or struct-member path is, and its key types outermost first. */
function mappingPath(layout: StorageLayout, path: string): {keyTypes?: string[]; problem?: string} {
  const [head, ...members] = path.split('.')
  const entry = layout.storage.find((e) => e.label === head)
  if (!entry) return {problem: `no state variable is named ${head}`}
  let id = entry.type
  let where = head!
  for (const member of members) {
    const found = layout.types[id]!.members?.find((m) => m.label === member)
    if (!found) return {problem: `${where} (${layout.types[id]!.label}) has no member ${member}`}
    id = found.type
    where = `${where}.${member}`
  }
  const keyTypes: string[] = []
  for (let type = layout.types[id]!; type.encoding === 'mapping' && keyTypes.length <= MAX_DEPTH; type = layout.types[type.value!]!) {
    keyTypes.push(type.key!)
  }
  if (keyTypes.length === 0) return {problem: `${path} is a ${layout.types[id]!.label}, not a mapping`}
  return {keyTypes}
}

/** Every mapping reachable through variables and struct members, as `path (key, key)`. */
function mappingNames(layout: StorageLayout): string[] {
  const names: string[] = []
  const walk = (id: string, path: string, depth: number): void => {
    const type = layout.types[id]!
    if (depth > MAX_DEPTH) return
    if (type.encoding === 'mapping') {
      const keys = mappingPath(layout, path).keyTypes ?? []
      names.push(`${path} (${keys.map((key) => layout.types[key]!.label).join(', ')})`)
    } else if (type.members) {
      for (const member of type.members) walk(member.type, `${path}.${member.label}`, depth + 1)
    }
  }
  for (const entry of layout.storage) walk(entry.type, entry.label, 0)
  return names
}

/** Every labelled key names a mapping, fits its depth and parses as its key type; every bare key fits some mapping. */
function validateKeys(layout: StorageLayout, labeled: Map<string, string[][]>, bare: string[]): void {
  const mappings = (): string => {
    const names = mappingNames(layout)
    return names.length === 0 ? 'This contract has no mappings.' : `Its mappings: ${names.join('; ')}.`
  }
  for (const [path, tuples] of labeled) {
    const found = mappingPath(layout, path)
    if (!found.keyTypes) {
      throw new XaiError(ContractsErrorCode.invalidArgument, `Cannot read keys of ${path}: ${found.problem}`, {
        hint: `Name a mapping by its variable (balanceOf=0x…) or struct member path (config.limits=1). ${mappings()}`,
        details: {label: path},
      })
    }
    const keyTypes = found.keyTypes
    for (const tuple of tuples) {
      if (tuple.length > keyTypes.length) {
        const types = keyTypes.map((key) => layout.types[key]!.label).join(', ')
        throw invalidKey(`${path} takes ${keyTypes.length} key${keyTypes.length === 1 ? '' : 's'} (${types}), got ${tuple.length}: ${tuple.join(',')}`, {label: path, keys: tuple})
      }
      tuple.forEach((raw, i) => parseMappingKey(keyTypes[i]!, layout.types[keyTypes[i]!]!, raw, `key ${i + 1} of ${path}`))
    }
  }
  const keyTypes = Object.values(layout.types)
    .filter((type) => type.encoding === 'mapping')
    .map((type) => type.key!)
  for (const raw of bare) {
    if (!keyTypes.some((id) => acceptBareKey(id, layout.types[id]!, raw))) {
      throw invalidKey(`No mapping of this contract takes the key ${raw}`, {key: raw})
    }
  }
}

/** The slot `n` further on, wrapping at 2^256 as the EVM does. */
function addSlot(slot: bigint, n: bigint): bigint {
  return (slot + n) % WORD_MODULUS
}

/** Where a dynamic array's items or a long string's bytes start: keccak256(slot). */
function dataSlot(slot: bigint): bigint {
  return hexToBigInt(keccak256(numberToHex(slot, {size: 32})))
}

function staticLength(type: LayoutType): bigint | undefined {
  const match = /\[(\d+)\]$/.exec(type.label)
  return match ? BigInt(match[1]!) : undefined
}

function jsonLength(length: bigint): number | string {
  return length <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(length) : length.toString()
}

/** A word as a node returns it, as exactly 32 bytes of lowercase hex. */
function toWord(word: Hex | undefined): Hex {
  if (word === undefined || word === '0x') return `0x${'0'.repeat(64)}`
  const lower = word.toLowerCase() as Hex
  return lower.length === 66 ? lower : pad(lower, {size: 32})
}

function invalidLayout(problems: string[]): XaiError {
  return new XaiError(ContractsErrorCode.storageLayoutInvalid, `The storage layout is invalid: ${problems.join('; ')}`, {
    hint: "It must be solc's storageLayout output; recompile the contract: xai contract compile --force",
    details: {problems},
  })
}

function invalidKey(message: string, details: Record<string, unknown>): XaiError {
  return new XaiError(ContractsErrorCode.invalidArgument, message, {
    hint: 'Give mapping keys as --slot-key <mapping>=<key>[,<key>…] (nested mappings take one key per level), or --slot-key <key> for every mapping whose key type takes it.',
    details,
  })
}
