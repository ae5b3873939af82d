import {XaiError} from '../util/errors.js'

/** JSON-RPC error codes, with the meanings geth gives them (clients classify errors by code). */
export const RpcErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** geth's catch-all for server-side failures (header not found, insufficient funds, …). */
  server: -32000,
  /** Request exceeds a defined limit (result too large, too many filters, …). */
  limitExceeded: -32005,
  /** eth_call / eth_estimateGas reverted: `data` carries the revert bytes. */
  executionReverted: 3,
} as const

/**
 * An error a JSON-RPC method answers with. The message and code follow geth, because viem,
 * ethers and cast decide what went wrong from them.
 */
export class RpcError extends XaiError {
  readonly rpcCode: number
  readonly data?: unknown

  constructor(rpcCode: number, message: string, options: {data?: unknown; cause?: unknown} = {}) {
    super('RPC_ERROR', message, {cause: options.cause})
    this.name = 'RpcError'
    this.rpcCode = rpcCode
    this.data = options.data
  }
}

export function invalidParams(message: string): RpcError {
  return new RpcError(RpcErrorCode.invalidParams, message)
}

export function methodNotFound(method: string): RpcError {
  return new RpcError(RpcErrorCode.methodNotFound, `the method ${method} does not exist/is not available`)
}

export function serverError(message: string, data?: unknown): RpcError {
  return new RpcError(RpcErrorCode.server, message, {data})
}

export function limitExceeded(message: string): RpcError {
  return new RpcError(RpcErrorCode.limitExceeded, message)
}

export function isRpcError(err: unknown): err is RpcError {
  return err instanceof RpcError
}
