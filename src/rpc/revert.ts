import {bytesToHex} from '@ethereumjs/util'

import {RpcError, RpcErrorCode} from './errors.js'

type Bytes = Uint8Array

const ERROR_SELECTOR = '08c379a0' // Error(string)
const PANIC_SELECTOR = '4e487b71' // Panic(uint256)

/** Solidity's panic codes, worded as geth words them. */
const PANIC_REASONS: Record<number, string> = {
  0x00: 'generic panic',
  0x01: 'assert(false)',
  0x11: 'arithmetic underflow or overflow',
  0x12: 'division or modulo by zero',
  0x21: 'enum overflow',
  0x22: 'invalid encoded storage byte array accessed',
  0x31: 'out-of-bounds array access; popping on an empty array',
  0x32: 'out-of-bounds access of an array or bytesN',
  0x41: 'out of memory',
  0x51: 'uninitialized function',
}

/** The human reason in revert data: Error(string)'s message or a Panic's meaning, if decodable. */
export function decodeRevertReason(data: Bytes): string | undefined {
  if (data.length < 4) return undefined
  const selector = bytesToHex(data.subarray(0, 4)).slice(2)
  if (selector === ERROR_SELECTOR) {
    if (data.length < 4 + 64) return undefined
    const view = data.subarray(4)
    const offset = readSmallUint(view.subarray(0, 32))
    if (offset === undefined || offset + 32 > view.length) return undefined
    const length = readSmallUint(view.subarray(offset, offset + 32))
    if (length === undefined || offset + 32 + length > view.length) return undefined
    try {
      return new TextDecoder('utf-8', {fatal: true}).decode(view.subarray(offset + 32, offset + 32 + length))
    } catch {
      return undefined
    }
  }
  if (selector === PANIC_SELECTOR && data.length === 4 + 32) {
    const code = readSmallUint(data.subarray(4))
    if (code === undefined) return undefined
    return PANIC_REASONS[code] ?? `unknown panic code: 0x${code.toString(16)}`
  }
  return undefined
}

function readSmallUint(word: Bytes): number | undefined {
  if (word.length !== 32) return undefined
  for (let i = 0; i < 26; i++) if (word[i] !== 0) return undefined
  let n = 0
  for (let i = 26; i < 32; i++) n = n * 256 + word[i]!
  return n
}

/** The error eth_call and eth_estimateGas answer with on a revert: code 3 and the revert bytes. */
export function revertError(data: Bytes): RpcError {
  const reason = decodeRevertReason(data)
  return new RpcError(RpcErrorCode.executionReverted, reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`, {
    data: bytesToHex(data),
  })
}
