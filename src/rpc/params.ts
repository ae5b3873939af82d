import {bigIntToUnpaddedBytes, hexToBytes} from '@ethereumjs/util'

import {invalidParams} from './errors.js'

/**
 * Parameter validators. Small hand-written checks (no schema library on the hot path): each takes
 * the raw JSON value and the argument's position, returns the decoded value, and throws -32602
 * with a message that names the argument and says what is wrong, in geth's style
 * (`invalid argument 0: …`).
 */

export type Bytes = Uint8Array

export type BlockTag = 'latest' | 'pending' | 'earliest' | 'safe' | 'finalized'

/** A block named by tag, number, or (EIP-1898) by hash. */
export type BlockId = {tag: BlockTag} | {number: bigint} | {hash: Bytes; requireCanonical: boolean}

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/
const DATA = /^0x(?:[0-9a-fA-F]{2})*$/
const TAGS = new Set<string>(['latest', 'pending', 'earliest', 'safe', 'finalized'])

export function fail(index: number, message: string): never {
  throw invalidParams(`invalid argument ${index}: ${message}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'string') return value.length > 80 ? `string "${value.slice(0, 77)}..."` : `string "${value}"`
  return typeof value
}

/** Checks the argument count: `min` required, at most `max`. */
export function arity(params: unknown[], min: number, max: number): void {
  if (params.length > max) throw invalidParams(`too many arguments, want at most ${max}`)
  for (let i = params.length; i < min; i++) throw invalidParams(`missing value for required argument ${i}`)
  for (let i = 0; i < min; i++) if (params[i] === undefined || params[i] === null) throw invalidParams(`missing value for required argument ${i}`)
}

/** A hex quantity (uint256, `0x`-prefixed, at least one digit). */
export function quantity(value: unknown, index: number, field?: string): bigint {
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    fail(index, `${field ? `${field}: ` : ''}expected a 0x-prefixed hex quantity, got ${describe(value)}`)
  }
  return BigInt(value)
}

/** A hex quantity that must fit in 64 bits (gas, nonce, block number). */
export function uint64(value: unknown, index: number, field?: string): bigint {
  const n = quantity(value, index, field)
  if (n >= 1n << 64n) fail(index, `${field ? `${field}: ` : ''}hex number > 64 bits`)
  return n
}

export function optionalQuantity(value: unknown, index: number, field: string): bigint | undefined {
  return value === undefined || value === null ? undefined : quantity(value, index, field)
}

/** `0x`-prefixed bytes, even length. */
export function data(value: unknown, index: number, field?: string): Bytes {
  if (typeof value !== 'string' || !DATA.test(value)) {
    const why = typeof value === 'string' && value.startsWith('0x') && value.length % 2 === 1 ? 'hex string has odd length' : `expected 0x-prefixed hex data, got ${describe(value)}`
    fail(index, `${field ? `${field}: ` : ''}${why}`)
  }
  return hexToBytes(value as `0x${string}`)
}

function fixedBytes(value: unknown, index: number, length: number, what: string, field?: string): Bytes {
  if (typeof value !== 'string' || value.length !== 2 + length * 2 || !DATA.test(value)) {
    fail(index, `${field ? `${field}: ` : ''}expected ${what} (${length} bytes of 0x-prefixed hex), got ${describe(value)}`)
  }
  return hexToBytes(value as `0x${string}`)
}

export function address(value: unknown, index: number, field?: string): Bytes {
  return fixedBytes(value, index, 20, 'an address', field)
}

export function hash(value: unknown, index: number, field?: string): Bytes {
  return fixedBytes(value, index, 32, 'a 32-byte hash', field)
}

export function bool(value: unknown, index: number, field?: string): boolean {
  if (typeof value !== 'boolean') fail(index, `${field ? `${field}: ` : ''}expected true or false, got ${describe(value)}`)
  return value
}

export function optionalBool(value: unknown, index: number, fallback = false): boolean {
  return value === undefined || value === null ? fallback : bool(value, index)
}

/** A block number or tag, as eth_getBlockByNumber takes it. */
export function blockNumberOrTag(value: unknown, index: number, fallback: BlockTag = 'latest'): BlockId {
  if (value === undefined || value === null) return {tag: fallback}
  if (typeof value === 'string') {
    if (TAGS.has(value)) return {tag: value as BlockTag}
    if (QUANTITY.test(value)) {
      const n = BigInt(value)
      if (n >= 1n << 64n) fail(index, 'block number > 64 bits')
      return {number: n}
    }
  }
  fail(index, `expected a block number (hex) or one of latest, pending, earliest, safe, finalized, got ${describe(value)}`)
}

/**
 * A block number, tag, or hash: an EIP-1898 object `{blockHash, requireCanonical?}` /
 * `{blockNumber}`, or (as geth also takes) a bare 32-byte block hash.
 */
export function blockId(value: unknown, index: number, fallback: BlockTag = 'latest'): BlockId {
  if (typeof value === 'string' && value.length === 66 && DATA.test(value)) return {hash: hexToBytes(value as `0x${string}`), requireCanonical: false}
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>
    if (o.blockHash !== undefined && o.blockNumber !== undefined) fail(index, 'cannot specify both blockHash and blockNumber, choose one or the other')
    if (o.blockHash !== undefined) {
      return {hash: hash(o.blockHash, index, 'blockHash'), requireCanonical: optionalBool(o.requireCanonical, index)}
    }
    if (o.blockNumber !== undefined) return blockNumberOrTag(o.blockNumber, index)
    fail(index, 'expected blockHash or blockNumber')
  }
  return blockNumberOrTag(value, index, fallback)
}

/** An EIP-7702 authorization as the tx library takes it: [chainId, address, nonce, yParity, r, s]. */
export type AuthorizationItem = [Bytes, Bytes, Bytes, Bytes, Bytes, Bytes]

/** The transaction-like object eth_call and eth_estimateGas take. */
export interface CallRequest {
  from?: Bytes
  to?: Bytes
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  data?: Bytes
  nonce?: bigint
  accessList?: [Bytes, Bytes[]][]
  authorizationList?: AuthorizationItem[]
  type?: number
}

export function callRequest(value: unknown, index: number): CallRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(index, `expected a transaction call object, got ${describe(value)}`)
  const o = value as Record<string, unknown>
  const req: CallRequest = {}
  if (o.from != null) req.from = address(o.from, index, 'from')
  if (o.to != null) req.to = address(o.to, index, 'to')
  if (o.gas != null) req.gas = uint64(o.gas, index, 'gas')
  if (o.gasPrice != null) req.gasPrice = quantity(o.gasPrice, index, 'gasPrice')
  if (o.maxFeePerGas != null) req.maxFeePerGas = quantity(o.maxFeePerGas, index, 'maxFeePerGas')
  if (o.maxPriorityFeePerGas != null) req.maxPriorityFeePerGas = quantity(o.maxPriorityFeePerGas, index, 'maxPriorityFeePerGas')
  if (req.gasPrice !== undefined && (req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined)) {
    fail(index, 'both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (req.maxFeePerGas !== undefined && req.maxPriorityFeePerGas !== undefined && req.maxPriorityFeePerGas > req.maxFeePerGas) {
    fail(index, `maxFeePerGas (${req.maxFeePerGas}) < maxPriorityFeePerGas (${req.maxPriorityFeePerGas})`)
  }
  if (o.value != null) req.value = quantity(o.value, index, 'value')
  if (o.nonce != null) req.nonce = uint64(o.nonce, index, 'nonce')
  const input = o.input ?? o.data
  if (o.input != null && o.data != null && o.input !== o.data) {
    fail(index, 'both "data" and "input" are set and not equal. Please use "input" to pass transaction call data')
  }
  if (input != null) req.data = data(input, index, o.input != null ? 'input' : 'data')
  if (o.accessList != null) req.accessList = accessList(o.accessList, index)
  if (o.authorizationList != null) req.authorizationList = authorizationList(o.authorizationList, index)
  if (o.type != null) {
    const t = quantity(o.type, index, 'type')
    if (t > 4n) fail(index, `transaction type ${t} not supported`)
    req.type = Number(t)
  }
  return req
}

function accessList(value: unknown, index: number): [Bytes, Bytes[]][] {
  if (!Array.isArray(value)) fail(index, `accessList: expected an array, got ${describe(value)}`)
  return value.map((item) => {
    if (item === null || typeof item !== 'object') fail(index, 'accessList: expected {address, storageKeys} entries')
    const {address: a, storageKeys} = item as {address?: unknown; storageKeys?: unknown}
    const keys = storageKeys == null ? [] : storageKeys
    if (!Array.isArray(keys)) fail(index, 'accessList: storageKeys must be an array')
    return [address(a, index, 'accessList.address'), keys.map((k) => hash(k, index, 'accessList.storageKeys'))]
  })
}

function authorizationList(value: unknown, index: number): AuthorizationItem[] {
  if (!Array.isArray(value)) fail(index, `authorizationList: expected an array, got ${describe(value)}`)
  return value.map((item) => {
    if (item === null || typeof item !== 'object') fail(index, 'authorizationList: expected {chainId, address, nonce, yParity, r, s} entries')
    const a = item as Record<string, unknown>
    const q = (v: unknown, name: string): Bytes => bigIntToUnpaddedBytes(quantity(v, index, `authorizationList.${name}`))
    return [q(a.chainId, 'chainId'), address(a.address, index, 'authorizationList.address'), q(a.nonce, 'nonce'), q(a.yParity ?? a.v, 'yParity'), q(a.r, 'r'), q(a.s, 's')]
  })
}

/** eth_call state overrides: address → {balance, nonce, code, state | stateDiff}. */
export interface AccountOverride {
  balance?: bigint
  nonce?: bigint
  code?: Bytes
  state?: [Bytes, Bytes][]
  stateDiff?: [Bytes, Bytes][]
}

export type StateOverrides = [Bytes, AccountOverride][]

export function stateOverrides(value: unknown, index: number): StateOverrides | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) fail(index, `expected a state override object, got ${describe(value)}`)
  const out: StateOverrides = []
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const addr = address(key, index, 'override address')
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(index, `override for ${key}: expected an object`)
    const o = raw as Record<string, unknown>
    const override: AccountOverride = {}
    if (o.balance != null) override.balance = quantity(o.balance, index, 'balance')
    if (o.nonce != null) override.nonce = uint64(o.nonce, index, 'nonce')
    if (o.code != null) override.code = data(o.code, index, 'code')
    if (o.state != null && o.stateDiff != null) fail(index, `account ${key} has both 'state' and 'stateDiff'`)
    if (o.state != null) override.state = slots(o.state, index, 'state')
    if (o.stateDiff != null) override.stateDiff = slots(o.stateDiff, index, 'stateDiff')
    out.push([addr, override])
  }
  return out
}

function slots(value: unknown, index: number, field: string): [Bytes, Bytes][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(index, `${field}: expected an object of slot → value`)
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => [hash(k, index, `${field} key`), hash(v, index, `${field} value`)])
}

/**
 * Block overrides (eth_call's fourth argument, eth_simulateV1's blockOverrides): the fields of the
 * block environment a call runs in. Both the current names (execution-apis) and geth's older ones
 * (coinbase, random, baseFee) are taken.
 */
export interface BlockOverrides {
  number?: bigint
  difficulty?: bigint
  time?: bigint
  gasLimit?: bigint
  feeRecipient?: Bytes
  prevRandao?: Bytes
  baseFeePerGas?: bigint
  beaconRoot?: Bytes
}

const BLOCK_OVERRIDE_FIELDS = new Set(['number', 'difficulty', 'time', 'gasLimit', 'feeRecipient', 'coinbase', 'prevRandao', 'random', 'baseFeePerGas', 'baseFee', 'blobBaseFee', 'beaconRoot', 'withdrawals'])

export function blockOverrides(value: unknown, index: number): BlockOverrides | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) fail(index, `expected a block override object, got ${describe(value)}`)
  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!BLOCK_OVERRIDE_FIELDS.has(key)) fail(index, `block overrides: unknown field ${JSON.stringify(key)}`)
  }
  if (o.blobBaseFee != null) fail(index, 'block overrides: blobBaseFee cannot be overridden (this chain carries no blobs)')
  if (o.withdrawals != null) fail(index, 'block overrides: withdrawals cannot be overridden (this chain has no withdrawals)')
  const out: BlockOverrides = {}
  if (o.number != null) out.number = uint64(o.number, index, 'number')
  if (o.difficulty != null) out.difficulty = quantity(o.difficulty, index, 'difficulty')
  if (o.time != null) out.time = uint64(o.time, index, 'time')
  if (o.gasLimit != null) out.gasLimit = uint64(o.gasLimit, index, 'gasLimit')
  const recipient = o.feeRecipient ?? o.coinbase
  if (recipient != null) out.feeRecipient = address(recipient, index, o.feeRecipient != null ? 'feeRecipient' : 'coinbase')
  const randao = o.prevRandao ?? o.random
  if (randao != null) out.prevRandao = hash(randao, index, o.prevRandao != null ? 'prevRandao' : 'random')
  const baseFee = o.baseFeePerGas ?? o.baseFee
  if (baseFee != null) out.baseFeePerGas = quantity(baseFee, index, o.baseFeePerGas != null ? 'baseFeePerGas' : 'baseFee')
  if (o.beaconRoot != null) out.beaconRoot = hash(o.beaconRoot, index, 'beaconRoot')
  return out
}

/** An eth_getLogs / eth_newFilter criteria object. */
export interface FilterCriteria {
  fromBlock?: BlockId
  toBlock?: BlockId
  blockHash?: Bytes
  addresses: Bytes[]
  /** Per position: undefined/empty = any, else one of these. */
  topics: (Bytes[] | null)[]
}

export function filterCriteria(value: unknown, index: number): FilterCriteria {
  if (value === undefined || value === null) return {addresses: [], topics: []}
  if (typeof value !== 'object' || Array.isArray(value)) fail(index, `expected a filter object, got ${describe(value)}`)
  const o = value as Record<string, unknown>
  const criteria: FilterCriteria = {addresses: [], topics: []}
  if (o.blockHash != null) {
    if (o.fromBlock != null || o.toBlock != null) fail(index, 'cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other')
    criteria.blockHash = hash(o.blockHash, index, 'blockHash')
  }
  if (o.fromBlock != null) criteria.fromBlock = blockNumberOrTag(o.fromBlock, index)
  if (o.toBlock != null) criteria.toBlock = blockNumberOrTag(o.toBlock, index)
  if (o.address != null) {
    if (Array.isArray(o.address)) criteria.addresses = o.address.map((a) => address(a, index, 'address'))
    else criteria.addresses = [address(o.address, index, 'address')]
  }
  if (o.topics != null) {
    if (!Array.isArray(o.topics)) fail(index, 'topics: expected an array')
    if (o.topics.length > 4) fail(index, 'exceed max topics')
    criteria.topics = o.topics.map((t) => {
      if (t === null) return null
      if (Array.isArray(t)) {
        if (t.some((x) => x === null)) return null
        return t.map((x) => hash(x, index, 'topic'))
      }
      return [hash(t, index, 'topic')]
    })
  }
  return criteria
}
