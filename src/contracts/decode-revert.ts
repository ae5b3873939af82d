import {type Abi, BaseError, type Hex, decodeErrorResult} from 'viem'

import {toJsonSafe} from './abi-args.js'

/** Why a call reverted, as far as the revert data and the ABI tell. */
export type DecodedRevert =
  | {kind: 'custom'; name: string; args: unknown; signature: string; data: Hex}
  | {kind: 'error'; reason: string; data: Hex}
  | {kind: 'panic'; code: string; reason: string; data: Hex}
  | {kind: 'unknown'; data: Hex | null; message: string}

const PANIC_REASONS: Record<number, string> = {
  0x01: 'assertion failed',
  0x11: 'arithmetic overflow or underflow',
  0x12: 'division or modulo by zero',
  0x21: 'invalid enum value',
  0x22: 'invalid storage byte array',
  0x31: 'pop on an empty array',
  0x32: 'array index out of bounds',
  0x41: 'out of memory',
  0x51: 'call to an uninitialised function',
}

/** The revert data somewhere in an error's cause chain (viem wraps the RPC error several times). */
export function revertData(err: unknown): Hex | undefined {
  const seen = new Set<unknown>()
  const visit = (e: unknown): Hex | undefined => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return undefined
    seen.add(e)
    const data = (e as {data?: unknown}).data
    if (typeof data === 'string' && /^0x[0-9a-fA-F]*$/.test(data) && data.length >= 10) return data as Hex
    if (data !== null && typeof data === 'object') {
      const inner = (data as {data?: unknown}).data
      if (typeof inner === 'string' && /^0x[0-9a-fA-F]*$/.test(inner) && inner.length >= 10) return inner as Hex
    }
    return visit((e as {cause?: unknown}).cause)
  }
  return visit(err)
}

/** Decodes revert data against the ABI plus Error(string) and Panic(uint256). */
export function decodeRevertData(abi: Abi, data: Hex): DecodedRevert {
  try {
    const decoded = decodeErrorResult({abi, data})
    if (decoded.errorName === 'Error') return {kind: 'error', reason: String((decoded.args as readonly unknown[])[0]), data}
    if (decoded.errorName === 'Panic') {
      const code = Number((decoded.args as readonly bigint[])[0])
      return {kind: 'panic', code: `0x${code.toString(16).padStart(2, '0')}`, reason: PANIC_REASONS[code] ?? 'panic', data}
    }
    const inputs = (decoded.abiItem as Extract<Abi[number], {type: 'error'}>).inputs
    const args = inputs.every((input) => input.name)
      ? Object.fromEntries(inputs.map((input, i) => [input.name!, toJsonSafe((decoded.args as readonly unknown[])[i])]))
      : toJsonSafe(decoded.args ?? [])
    return {kind: 'custom', name: decoded.errorName, args, signature: `${decoded.errorName}(${inputs.map((i) => i.type).join(',')})`, data}
  } catch {
    return {kind: 'unknown', data, message: `reverted with data ${data.slice(0, 10)}… the ABI does not describe`}
  }
}

/** The decoded reason of a failed eth_call / eth_estimateGas, from the error viem threw. */
export function decodeRevert(abi: Abi, err: unknown): DecodedRevert {
  const data = revertData(err)
  if (data) return decodeRevertData(abi, data)
  const message = err instanceof BaseError ? err.shortMessage : err instanceof Error ? err.message : String(err)
  const reason = /execution reverted(?::\s*(.*))?/i.exec(message)
  if (reason?.[1]) return {kind: 'error', reason: reason[1].trim(), data: '0x'}
  return {kind: 'unknown', data: null, message}
}

/** Whether an RPC failure is a revert (rather than, say, a transport error). */
export function isRevert(err: unknown): boolean {
  if (revertData(err)) return true
  const seen = new Set<unknown>()
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e)
    const code = (e as {code?: unknown}).code
    const message = (e as {message?: unknown}).message
    if (code === 3 || (typeof message === 'string' && /revert/i.test(message))) return true
  }
  return false
}

/** One line for humans: `InsufficientBalance(from=0x…, balance=0, needed=5)`. */
export function formatRevert(revert: DecodedRevert): string {
  switch (revert.kind) {
    case 'custom': {
      const args = Array.isArray(revert.args)
        ? revert.args.map((v) => String(v)).join(', ')
        : Object.entries(revert.args as Record<string, unknown>)
            .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
            .join(', ')
      return `${revert.name}(${args})`
    }
    case 'error':
      return `Error("${revert.reason}")`
    case 'panic':
      return `Panic(${revert.code}: ${revert.reason})`
    default:
      return revert.message
  }
}
