import {type Address, type Hex, isAddress, isHex} from 'viem'

import {invalidRuleTx} from './errors.js'
import {parseAmount} from './parse-amount.js'
import type {RuleState, RuleTx} from './types.js'

/**
 * A transaction and the state it sees, written as JSON (for `xai rules check --tx` and tools):
 * `{from, to?, value?, gasLimit?, maxFeePerGas?, data?, nonce?, state?}` with the state as
 * `state: {from: {balance}, to: {balance, isContract}}`; or inline, `from` as `{address, balance}`
 * and `to` as `{address, balance, isContract}`. `to` null or left out is a creation. Amounts are whole numbers or strings with units ("2 ether"). Defaults: value 0,
 * gasLimit 21000, maxFeePerGas 0, data "0x", nonce 0, balances 0, isContract false.
 * The state answers only for those two addresses (0 and false for any other).
 */
export function parseRuleTx(input: unknown): {tx: RuleTx; state: RuleState} {
  if (!isRecord(input)) throw invalidRuleTx('expected a JSON object')
  const known = new Set(['from', 'to', 'value', 'gasLimit', 'maxFeePerGas', 'data', 'nonce', 'state'])
  for (const key of Object.keys(input)) if (!known.has(key)) throw invalidRuleTx(`unknown field "${key}" (fields: ${[...known].join(', ')})`)
  const separate = input.state ?? {}
  if (!isRecord(separate)) throw invalidRuleTx('"state" must be {from: {balance}, to: {balance, isContract}}')
  for (const key of Object.keys(separate)) if (key !== 'from' && key !== 'to') throw invalidRuleTx(`unknown field "state.${key}" (fields: from, to)`)

  const from = party(merge(input.from, separate.from, 'from'), 'from', false)
  if (!from) throw invalidRuleTx('"from" is required')
  const to = party(merge(input.to, separate.to, 'to'), 'to', true)
  if (!to && separate.to !== undefined) throw invalidRuleTx('"state.to" is given but the transaction has no "to" (a creation)')
  const data = input.data ?? '0x'
  if (typeof data !== 'string' || !isHex(data, {strict: true}) || data.length % 2 !== 0) throw invalidRuleTx('"data" must be hex with whole bytes, e.g. "0xa9059cbb…"')
  const tx: RuleTx = {
    from: from.address,
    to: to?.address ?? null,
    value: amount(input.value, 'value', 0n),
    gasLimit: amount(input.gasLimit, 'gasLimit', 21_000n),
    maxFeePerGas: amount(input.maxFeePerGas, 'maxFeePerGas', 0n),
    data: data as Hex,
    nonce: amount(input.nonce, 'nonce', 0n),
  }
  const balances = new Map<string, bigint>()
  const contracts = new Map<string, boolean>()
  if (to) {
    balances.set(to.address, to.balance)
    contracts.set(to.address, to.isContract)
  }
  balances.set(from.address, from.balance)
  const state: RuleState = {
    balance: (address) => balances.get(address.toLowerCase()) ?? 0n,
    isContract: (address) => contracts.get(address.toLowerCase()) ?? false,
  }
  return {tx, state}
}

function party(value: unknown, name: string, nullable: boolean): {address: Address; balance: bigint; isContract: boolean} | null {
  if (value === undefined || value === null) {
    if (nullable) return null
    throw invalidRuleTx(`"${name}" is required`)
  }
  const fields = typeof value === 'string' ? {address: value} : isRecord(value) ? value : undefined
  if (!fields) throw invalidRuleTx(`"${name}" must be an address or {address, balance${name === 'to' ? ', isContract' : ''}}`)
  const allowed = name === 'to' ? ['address', 'balance', 'isContract'] : ['address', 'balance']
  for (const key of Object.keys(fields)) if (!allowed.includes(key)) throw invalidRuleTx(`unknown field "${name}.${key}" (fields: ${allowed.join(', ')})`)
  const address = fields.address
  if (typeof address !== 'string' || !isAddress(address, {strict: true})) throw invalidRuleTx(`"${name}.address" must be an address (checksummed or lowercase)`)
  const isContract = fields.isContract ?? false
  if (typeof isContract !== 'boolean') throw invalidRuleTx(`"${name}.isContract" must be true or false`)
  return {address: address.toLowerCase() as Address, balance: amount(fields.balance, `${name}.balance`, 0n), isContract}
}

/** The party as written inline, with the fields of its `state` entry added. */
function merge(inline: unknown, state: unknown, name: string): unknown {
  if (state === undefined || inline === undefined || inline === null) return inline
  if (!isRecord(state)) throw invalidRuleTx(`"state.${name}" must be an object`)
  if ('address' in state) throw invalidRuleTx(`"state.${name}" holds state only (balance${name === 'to' ? ', isContract' : ''}); the address is "${name}"`)
  const base = typeof inline === 'string' ? {address: inline} : inline
  if (!isRecord(base)) return inline
  for (const key of Object.keys(state)) if (key in base) throw invalidRuleTx(`"${name}.${key}" is given twice`)
  return {...base, ...state}
}

function amount(value: unknown, name: string, fallback: bigint): bigint {
  if (value === undefined) return fallback
  const parsed = parseAmount(value)
  if (!parsed.ok) throw invalidRuleTx(`"${name}": ${parsed.message}`)
  return parsed.value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
