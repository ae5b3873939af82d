import {type AbiParameter, getAddress, isAddress} from 'viem'

import {XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'

/**
 * Command-line arguments turned into the values viem encodes, by ABI type: integers as decimal or
 * 0x-hex strings (bigint), addresses (EIP-55 checksummed or all one case), `true`/`false`, hex for
 * bytes/bytesN, strings as given, arrays and tuples as JSON (`'[1,2]'`, `'{"to":"0x…","value":1}'`
 * or a positional array for a tuple). Fails with CONTRACT_INVALID_ARGUMENT (exit 2) naming the
 * parameter and the expected type.
 *
 * @example
 * parseAbiArgs([{name: 'to', type: 'address'}, {name: 'value', type: 'uint256'}], ['0xf39f…2266', '1000'])
 * // ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 1000n]
 */
export function parseAbiArgs(inputs: readonly AbiParameter[], raw: readonly string[], context = 'the function'): unknown[] {
  if (raw.length !== inputs.length) {
    const expected = inputs.map((input, i) => `${input.name || `arg${i}`}: ${typeLabel(input)}`).join(', ')
    throw invalidArgument(`${context} takes ${inputs.length} argument${inputs.length === 1 ? '' : 's'} (${expected || 'none'}), got ${raw.length}`, {
      expected: inputs.length,
      got: raw.length,
    })
  }
  return inputs.map((input, i) => parseAbiValue(input, raw[i]!, paramLabel(input, i)))
}

/** One command-line string as a value of the ABI parameter `param`; `label` names it in errors. */
export function parseAbiValue(param: AbiParameter, raw: string, label = param.name || 'value'): unknown {
  if (isArrayType(param.type) || param.type === 'tuple') {
    let json: unknown
    try {
      json = JSON.parse(raw)
    } catch {
      throw mismatch(label, param, raw, param.type === 'tuple' ? 'a JSON object or array' : 'a JSON array')
    }
    return fromJson(param, json, label)
  }
  return fromJson(param, raw, label)
}

function fromJson(param: AbiParameter, value: unknown, label: string): unknown {
  const type = param.type
  const array = /^(.*)\[(\d*)\]$/.exec(type)
  if (array) {
    if (!Array.isArray(value)) throw mismatch(label, param, value, 'a JSON array')
    const length = array[2] === '' ? undefined : Number(array[2])
    if (length !== undefined && value.length !== length) throw mismatch(label, param, value, `an array of exactly ${length} elements`)
    const element = {...param, type: array[1]!} as AbiParameter
    return value.map((item, i) => fromJson(element, item, `${label}[${i}]`))
  }
  if (type === 'tuple') {
    const components = (param as {components?: readonly AbiParameter[]}).components ?? []
    if (Array.isArray(value)) {
      if (value.length !== components.length) throw mismatch(label, param, value, `a tuple of ${components.length} values`)
      return components.map((c, i) => fromJson(c, value[i], `${label}.${c.name || i}`))
    }
    if (value === null || typeof value !== 'object') throw mismatch(label, param, value, 'a JSON object or array')
    const record = value as Record<string, unknown>
    const names = components.map((c) => c.name)
    const unknown = Object.keys(record).filter((key) => !names.includes(key))
    if (unknown.length > 0) throw mismatch(label, param, value, `only the fields ${names.join(', ')} (not ${unknown.join(', ')})`)
    const out: Record<string, unknown> = {}
    for (const [i, c] of components.entries()) {
      if (!c.name) throw mismatch(label, param, value, 'a positional JSON array (its fields have no names)')
      if (!(c.name in record)) throw mismatch(label, param, value, `a value for the field "${c.name}"`)
      out[c.name] = fromJson(c, record[c.name], `${label}.${c.name || i}`)
    }
    return out
  }
  const int = /^(u?)int(\d*)$/.exec(type)
  if (int) return parseInteger(param, value, label, int[1] === 'u', int[2] ? Number(int[2]) : 256)
  if (type === 'address') {
    if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw mismatch(label, param, value, 'a 0x-prefixed 20-byte address')
    if (!isAddress(value, {strict: true})) throw mismatch(label, param, value, 'a correctly checksummed address (or all lowercase)')
    return getAddress(value)
  }
  if (type === 'bool') {
    if (value === true || value === 'true') return true
    if (value === false || value === 'false') return false
    throw mismatch(label, param, value, 'true or false')
  }
  if (type === 'string') {
    if (typeof value !== 'string') throw mismatch(label, param, value, 'a string')
    return value
  }
  const bytes = /^bytes(\d*)$/.exec(type)
  if (bytes) {
    if (typeof value !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(value)) throw mismatch(label, param, value, '0x-prefixed hex with an even number of digits')
    const size = (value.length - 2) / 2
    if (bytes[1] && size !== Number(bytes[1])) throw mismatch(label, param, value, `exactly ${bytes[1]} bytes (got ${size})`)
    return value.toLowerCase()
  }
  throw mismatch(label, param, value, `a type xai can parse (${type} is not supported)`)
}

function parseInteger(param: AbiParameter, value: unknown, label: string, unsigned: boolean, bits: number): bigint {
  let n: bigint
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw mismatch(label, param, value, 'an integer (quote large numbers as strings)')
    n = BigInt(value)
  } else if (typeof value === 'string' && /^-?(0x[0-9a-fA-F]+|\d+)$/.test(value.trim())) {
    const text = value.trim()
    const negative = text.startsWith('-')
    n = BigInt(negative ? text.slice(1) : text)
    if (negative) n = -n
  } else {
    throw mismatch(label, param, value, 'a decimal or 0x-hex integer')
  }
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1))
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n
  if (n < min || n > max) throw mismatch(label, param, value, `an integer from ${min} to ${max}`)
  return n
}

function isArrayType(type: string): boolean {
  return type.endsWith(']')
}

/** `uint256`, or `(address to, uint256 value)[]` for tuples. */
export function typeLabel(param: AbiParameter): string {
  if (!param.type.startsWith('tuple')) return param.type
  const components = (param as {components?: readonly AbiParameter[]}).components ?? []
  return `(${components.map((c) => `${typeLabel(c)}${c.name ? ` ${c.name}` : ''}`).join(', ')})${param.type.slice('tuple'.length)}`
}

function paramLabel(param: AbiParameter, index: number): string {
  return `argument ${index + 1}${param.name ? ` (${param.name})` : ''}`
}

function mismatch(label: string, param: AbiParameter, value: unknown, expected: string): XaiError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value)
  return invalidArgument(`Invalid ${label}: expected ${typeLabel(param)}, ${expected}; got ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`, {
    parameter: label,
    type: typeLabel(param),
  })
}

function invalidArgument(message: string, details: Record<string, unknown>): XaiError {
  return new XaiError(ContractsErrorCode.invalidArgument, message, {
    hint: 'Integers as decimal or 0x-hex, addresses as 0x…, bool as true/false, bytes as 0x-hex, arrays and tuples as JSON (quote them for the shell).',
    details,
  })
}

/** A value viem decoded, made JSON-safe: bigints become decimal strings. */
export function toJsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(toJsonSafe)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v)]))
  return value
}
