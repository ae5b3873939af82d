import type {EVMResult, Log, Message} from '@ethereumjs/evm'
import {bigIntToUnpaddedBytes, hexToBytes, setLengthLeft} from '@ethereumjs/util'
import type {VM} from '@ethereumjs/vm'

import {invalidParams} from './errors.js'
import {type BlockOverrides, type CallRequest, type StateOverrides, blockOverrides, bool, callRequest, fail, stateOverrides} from './params.js'

/** One entry of eth_simulateV1's blockStateCalls. */
export interface SimulatedBlockInput {
  blockOverrides?: BlockOverrides
  stateOverrides?: StateOverrides
  calls: CallRequest[]
}

export interface SimulateOptions {
  blocks: SimulatedBlockInput[]
  /** Check nonces, fees against the base fee and balances as for a real transaction (default false). */
  validation: boolean
  /** Add an ERC-20-style Transfer log from 0xeeee…eeee for every value transfer. */
  traceTransfers: boolean
  returnFullTransactions: boolean
}

/** geth's caps: at most 256 blocks per simulation; ours also bounds the calls. */
export const MAX_SIMULATED_BLOCKS = 256
export const MAX_SIMULATED_CALLS = 1_000

const SIMULATE_FIELDS = new Set(['blockStateCalls', 'validation', 'traceTransfers', 'returnFullTransactions'])
const BLOCK_FIELDS = new Set(['blockOverrides', 'stateOverrides', 'calls'])

/** Parses eth_simulateV1's first argument (execution-apis). */
export function simulateOptions(value: unknown, index: number): SimulateOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(index, 'expected a simulation object {blockStateCalls, validation, traceTransfers, returnFullTransactions}')
  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) if (!SIMULATE_FIELDS.has(key)) fail(index, `unknown field ${JSON.stringify(key)}`)
  if (!Array.isArray(o.blockStateCalls)) fail(index, 'blockStateCalls: expected an array')
  if (o.blockStateCalls.length > MAX_SIMULATED_BLOCKS) throw invalidParams(`too many blocks: ${o.blockStateCalls.length} (at most ${MAX_SIMULATED_BLOCKS})`)
  let calls = 0
  const blocks = o.blockStateCalls.map((raw, b): SimulatedBlockInput => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(index, `blockStateCalls[${b}]: expected an object`)
    const entry = raw as Record<string, unknown>
    for (const key of Object.keys(entry)) if (!BLOCK_FIELDS.has(key)) fail(index, `blockStateCalls[${b}]: unknown field ${JSON.stringify(key)}`)
    const list = entry.calls ?? []
    if (!Array.isArray(list)) fail(index, `blockStateCalls[${b}].calls: expected an array`)
    calls += list.length
    if (calls > MAX_SIMULATED_CALLS) throw invalidParams(`too many calls (at most ${MAX_SIMULATED_CALLS} in one simulation)`)
    const out: SimulatedBlockInput = {calls: list.map((c) => callRequest(c, index))}
    const bo = blockOverrides(entry.blockOverrides, index)
    if (bo) out.blockOverrides = bo
    const so = stateOverrides(entry.stateOverrides, index)
    if (so) out.stateOverrides = so
    return out
  })
  const flag = (name: string): boolean => (o[name] === undefined || o[name] === null ? false : bool(o[name], index, name))
  return {blocks, validation: flag('validation'), traceTransfers: flag('traceTransfers'), returnFullTransactions: flag('returnFullTransactions')}
}

/** The pseudo-address transfer logs come from (execution-apis), and ERC-20's Transfer topic. */
export const TRANSFER_LOG_ADDRESS = hexToBytes('0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee')
const TRANSFER_TOPIC = hexToBytes('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef')

/**
 * traceTransfers: every call or create that moves value and succeeds gets a Transfer log placed
 * first among the logs of its frame, so the parent frame takes it in at the moment of the call
 * and a reverted frame drops it with its other logs. Returns the function that stops listening.
 */
export function traceTransfers(vm: VM): () => void {
  const events = vm.evm.events!
  const stack: Message[] = []
  const before = (m: Message): void => {
    stack.push(m)
  }
  const after = (r: EVMResult): void => {
    const m = stack.pop()
    if (!m || m.value === 0n || m.delegatecall || r.execResult.exceptionError) return
    const to = m.to ?? r.createdAddress
    if (!to) return
    const log: Log = [TRANSFER_LOG_ADDRESS, [TRANSFER_TOPIC, setLengthLeft(m.caller.bytes, 32), setLengthLeft(to.bytes, 32)], setLengthLeft(bigIntToUnpaddedBytes(m.value), 32)]
    r.execResult.logs = [log, ...(r.execResult.logs ?? [])]
  }
  events.on('beforeMessage', before)
  events.on('afterMessage', after)
  return () => {
    events.off('beforeMessage', before)
    events.off('afterMessage', after)
  }
}
