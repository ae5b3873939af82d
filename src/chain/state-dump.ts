import {gunzipSync, gzipSync} from 'node:zlib'

import type {MerklePatriciaTrie} from '@ethereumjs/mpt'
import type {MerkleStateManager} from '@ethereumjs/statemanager'
import {RLP} from '@ethereumjs/rlp'
import {Account, Address, KECCAK256_RLP, bytesToHex, equalsBytes, createAccountFromRLP, hexToBytes, setLengthLeft, type PrefixedHexString} from '@ethereumjs/util'

import {XaiError} from '../util/errors.js'
import type {Chain} from './chain.js'
import type {GenesisAccount} from './genesis.js'

/**
 * A state dump in anvil's format (anvil_dumpState / anvil_loadState, `anvil --dump-state`): JSON
 * `{block, accounts: {address: {nonce, balance, code, storage: {slot: value}}}, best_block_number, blocks, transactions}`.
 * anvil_dumpState answers it gzipped and hex-encoded; a `--state` file holds the JSON itself.
 * anvil's dumps also carry `blocks`, `transactions` and `historical_states`: a load ignores them
 * (xai keeps its own history; a dump restores accounts, not blocks).
 */
export interface StateDump {
  /** The block the state is of (informative: a load does not move the chain's head). */
  block?: {number: bigint; timestamp: bigint; gasLimit: bigint; baseFee: bigint; coinbase: string}
  /** Accounts by lowercase address. */
  accounts: Map<string, DumpAccount>
}

export interface DumpAccount {
  nonce: bigint
  balance: bigint
  code: Uint8Array
  /** Non-zero slots: 32-byte slot hex → 32-byte value hex (both lowercase, 0x-prefixed). */
  storage: Map<string, string>
}

/** What a dump of the head left out: trie keys whose address or slot the chain never recorded. */
export interface DumpGaps {
  accounts: number
  slots: number
}

/** Most accounts and slots a dump may hold (a load refuses larger ones before writing anything). */
export const MAX_DUMP_ACCOUNTS = 1_000_000
export const MAX_DUMP_SLOTS = 5_000_000
/** Largest code a dumped account may have (anvil_setCode takes anything; this only bounds memory). */
export const MAX_DUMP_CODE_BYTES = 1 << 20
/** Largest dump, decompressed. */
export const MAX_DUMP_BYTES = 512 * 1024 * 1024

const UINT256_MAX = (1n << 256n) - 1n
const UINT64_MAX = (1n << 64n) - 1n
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const HEX = /^0x[0-9a-fA-F]*$/

function invalid(reason: string): XaiError {
  return new XaiError('STATE_DUMP_INVALID', `Not a usable state dump: ${reason}`, {
    hint: 'Pass a file written by `xai devnet state save`, `anvil --dump-state` or anvil_dumpState (JSON, gzipped JSON, or its hex).',
  })
}

// ----- reading the head state ------------------------------------------------------------------

/**
 * The chain's head state as a dump: every account of the state trie with its nonce, balance, code
 * and storage. Trie keys are hashes; the addresses and slots come from the chain's preimages
 * (recorded as the chain writes its tries). Keys without one — written by a version of xai that did
 * not record them — cannot be named and are counted in `gaps` instead.
 */
export async function dumpChainState(chain: Chain): Promise<{dump: StateDump; gaps: DumpGaps}> {
  const sm = chain.createStateManager()
  await sm.setStateRoot(chain.headStateRoot)
  const trie = (sm as unknown as {_trie: MerklePatriciaTrie})._trie
  const {values} = await trie.getValueMap()
  const accounts = new Map<string, DumpAccount>()
  const gaps: DumpGaps = {accounts: 0, slots: 0}
  const slotNames = new Map<string, string | null>()
  const head = chain.head.header
  for (const [hashedKey, rlp] of Object.entries(values)) {
    const preimage = await chain.preimages.get(hexToBytes(hashedKey as PrefixedHexString))
    if (!preimage || preimage.length !== 20) {
      gaps.accounts++
      continue
    }
    const address = new Address(preimage)
    const account = createAccountFromRLP(hexToBytes(rlp as PrefixedHexString))
    const code = account.isContract() ? await sm.getCode(address) : new Uint8Array(0)
    const storage = new Map<string, string>()
    const stored = equalsBytes(account.storageRoot, KECCAK256_RLP) ? {} : await sm.dumpStorage(address)
    for (const [hashedSlot, value] of Object.entries(stored)) {
      let slot = slotNames.get(hashedSlot)
      if (slot === undefined) {
        const bytes = await chain.preimages.get(hexToBytes(hashedSlot as PrefixedHexString))
        slot = bytes && bytes.length === 32 ? bytesToHex(bytes) : null
        slotNames.set(hashedSlot, slot)
      }
      if (slot === null) {
        gaps.slots++
        continue
      }
      storage.set(slot, bytesToHex(setLengthLeft(RLP.decode(hexToBytes(value as PrefixedHexString)) as Uint8Array, 32)))
    }
    accounts.set(address.toString(), {nonce: account.nonce, balance: account.balance, code, storage})
  }
  const dump: StateDump = {
    block: {number: head.number, timestamp: head.timestamp, gasLimit: head.gasLimit, baseFee: head.baseFeePerGas ?? 0n, coinbase: head.coinbase.toString()},
    accounts,
  }
  return {dump, gaps}
}

/**
 * Writes a dump into a state manager as anvil_loadState does: each account's nonce, balance and
 * code are set, and its dumped slots written over its storage (slots the dump does not name stay).
 */
export async function applyStateDump(sm: MerkleStateManager, dump: StateDump): Promise<void> {
  for (const [hex, entry] of dump.accounts) {
    const address = new Address(hexToBytes(hex as PrefixedHexString))
    const account = (await sm.getAccount(address)) ?? new Account()
    account.nonce = entry.nonce
    account.balance = entry.balance
    await sm.putAccount(address, account)
    await sm.putCode(address, entry.code)
    for (const [slot, value] of entry.storage) {
      await sm.putStorage(address, hexToBytes(slot as PrefixedHexString), stripZeros(hexToBytes(value as PrefixedHexString)))
    }
  }
}

/** A dump's accounts as genesis allocations (a new devnet started from a state file). */
export function stateDumpToAlloc(dump: StateDump): Record<string, GenesisAccount> {
  const alloc: Record<string, GenesisAccount> = {}
  for (const [address, entry] of dump.accounts) {
    alloc[address] = {
      balance: `0x${entry.balance.toString(16)}`,
      ...(entry.nonce > 0n ? {nonce: `0x${entry.nonce.toString(16)}`} : {}),
      ...(entry.code.length > 0 ? {code: bytesToHex(entry.code)} : {}),
      ...(entry.storage.size > 0 ? {storage: Object.fromEntries(entry.storage)} : {}),
    }
  }
  return alloc
}

// ----- the format -------------------------------------------------------------------------------

/** The dump as anvil writes it (JSON-ready). */
export function stateDumpToJson(dump: StateDump): Record<string, unknown> {
  const accounts: Record<string, unknown> = {}
  for (const [address, entry] of [...dump.accounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    accounts[address] = {
      nonce: jsonInteger(entry.nonce),
      balance: `0x${entry.balance.toString(16)}`,
      code: bytesToHex(entry.code),
      storage: Object.fromEntries([...entry.storage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    }
  }
  const block = dump.block
  return {
    ...(block
      ? {
          block: {
            number: `0x${block.number.toString(16)}`,
            beneficiary: block.coinbase,
            timestamp: `0x${block.timestamp.toString(16)}`,
            gas_limit: jsonInteger(block.gasLimit),
            basefee: jsonInteger(block.baseFee),
            difficulty: '0x0',
            prevrandao: `0x${'00'.repeat(32)}`,
          },
        }
      : {}),
    accounts,
    // anvil requires the field and looks its number up among the dump's own blocks; an xai dump
    // carries none (block.number is the head it was taken at), so 0, which anvil --load-state takes.
    best_block_number: 0,
    blocks: [],
    transactions: [],
  }
}

/** anvil_dumpState's answer: the JSON, gzipped, hex-encoded. */
export function encodeStateBlob(dump: StateDump): `0x${string}` {
  return `0x${gzipSync(Buffer.from(JSON.stringify(stateDumpToJson(dump)))).toString('hex')}`
}

/**
 * Reads a dump in any form anvil and xai produce: the JSON text, gzipped JSON, or either as a
 * 0x-hex string (anvil_dumpState's answer). Hostile input is refused with the reason.
 */
export function decodeStateBlob(input: string | Uint8Array, options: {maxBytes?: number} = {}): StateDump {
  const maxBytes = options.maxBytes ?? MAX_DUMP_BYTES
  let bytes: Uint8Array
  if (typeof input === 'string') {
    const text = input.trim()
    if (text.startsWith('0x') || text.startsWith('0X')) {
      if (!HEX.test(text) || text.length % 2 !== 0) throw invalid('the hex string is not even-length hex')
      bytes = hexToBytes(text.toLowerCase() as PrefixedHexString)
    } else {
      bytes = Buffer.from(text, 'utf8')
    }
  } else {
    bytes = input
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, {maxOutputLength: maxBytes})
    } catch (err) {
      throw invalid(`it is not valid gzip or unpacks to more than ${maxBytes / 1024 / 1024} MiB (${(err as Error).message})`)
    }
  }
  if (bytes.length > maxBytes) throw invalid(`it is larger than ${maxBytes / 1024 / 1024} MiB`)
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8').trim()
  if (text.startsWith('0x')) return decodeStateBlob(text, options) // a file holding anvil_dumpState's answer
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw invalid(`it is not JSON (${(err as Error).message})`)
  }
  return parseStateDump(value)
}

/** Checks a parsed dump field by field; the first problem is the error. */
export function parseStateDump(value: unknown): StateDump {
  if (!isObject(value)) throw invalid('the top level is not a JSON object')
  if (!isObject(value.accounts)) throw invalid('"accounts" is missing or not an object')
  const entries = Object.entries(value.accounts)
  if (entries.length > MAX_DUMP_ACCOUNTS) throw invalid(`it holds ${entries.length} accounts, more than ${MAX_DUMP_ACCOUNTS}`)
  const accounts = new Map<string, DumpAccount>()
  let slots = 0
  for (const [key, raw] of entries) {
    if (!ADDRESS.test(key)) throw invalid(`account key "${key.slice(0, 60)}" is not a 0x-prefixed 20-byte address`)
    const address = key.toLowerCase()
    if (accounts.has(address)) throw invalid(`account ${address} appears twice`)
    if (!isObject(raw)) throw invalid(`account ${address} is not an object`)
    const nonce = raw.nonce === undefined ? 0n : integer(raw.nonce, `account ${address}: nonce`, UINT64_MAX)
    const balance = raw.balance === undefined ? 0n : integer(raw.balance, `account ${address}: balance`, UINT256_MAX)
    if (typeof raw.code === 'string' && raw.code.length % 2 === 1) throw invalid(`account ${address}: code has an odd number of hex digits`)
    const code = raw.code === undefined || raw.code === null ? new Uint8Array(0) : hexData(raw.code, `account ${address}: code`, MAX_DUMP_CODE_BYTES)
    const storage = new Map<string, string>()
    if (raw.storage !== undefined && raw.storage !== null) {
      if (!isObject(raw.storage)) throw invalid(`account ${address}: storage is not an object`)
      for (const [slotKey, slotValue] of Object.entries(raw.storage)) {
        if (++slots > MAX_DUMP_SLOTS) throw invalid(`it holds more than ${MAX_DUMP_SLOTS} storage slots`)
        const slot = bytesToHex(setLengthLeft(hexData(slotKey, `account ${address}: storage key "${slotKey.slice(0, 80)}"`, 32), 32))
        const word = setLengthLeft(hexData(slotValue, `account ${address}: storage ${slot}`, 32), 32)
        if (storage.has(slot)) throw invalid(`account ${address}: storage slot ${slot} appears twice`)
        if (word.some((b) => b !== 0)) storage.set(slot, bytesToHex(word))
      }
    }
    accounts.set(address, {nonce, balance, code, storage})
  }
  let block: StateDump['block']
  if (isObject(value.block)) {
    const b = value.block
    block = {
      number: b.number === undefined ? 0n : integer(b.number, 'block.number', UINT64_MAX),
      timestamp: b.timestamp === undefined ? 0n : integer(b.timestamp, 'block.timestamp', UINT64_MAX),
      gasLimit: b.gas_limit === undefined ? 0n : integer(b.gas_limit, 'block.gas_limit', UINT64_MAX),
      baseFee: b.basefee === undefined ? 0n : integer(b.basefee, 'block.basefee', UINT256_MAX),
      coinbase: typeof b.beneficiary === 'string' && ADDRESS.test(b.beneficiary) ? b.beneficiary.toLowerCase() : `0x${'00'.repeat(20)}`,
    }
  }
  return {...(block ? {block} : {}), accounts}
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A non-negative integer as a JSON number (safe), a 0x-hex string or a decimal string, at most `max`. */
export function integer(value: unknown, what: string, max: bigint): bigint {
  let n: bigint
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} is ${value}, not a non-negative integer below 2^53 (give larger numbers as hex strings)`)
    n = BigInt(value)
  } else if (typeof value === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(value)) {
    n = BigInt(value)
  } else if (typeof value === 'string' && /^[0-9]{1,78}$/.test(value)) {
    n = BigInt(value)
  } else {
    throw invalid(`${what} is not an integer (a JSON number, a 0x-hex or a decimal string): ${JSON.stringify(value)?.slice(0, 80)}`)
  }
  if (n > max) throw invalid(`${what} is ${n}, above its limit ${max}`)
  return n
}

function hexData(value: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string' || !HEX.test(value)) throw invalid(`${what} is not a 0x-prefixed hex string`)
  const digits = value.length - 2
  if (digits > maxBytes * 2) throw invalid(`${what} is longer than ${maxBytes} bytes`)
  return hexToBytes((digits % 2 === 1 ? `0x0${value.slice(2)}` : value.toLowerCase()) as PrefixedHexString)
}

function stripZeros(bytes: Uint8Array): Uint8Array {
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  return bytes.subarray(i)
}

function jsonInteger(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : `0x${n.toString(16)}`
}
