import {createRequire} from 'node:module'

import type {CustomCrypto} from '@ethereumjs/common'
import {ecrecover as jsEcrecover} from '@ethereumjs/util'

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array
}

/**
 * Signature recovery is the hottest path of a node (every transaction once, at admission). The
 * `secp256k1` package ships a prebuilt native binding that is about ten times faster than pure JS;
 * use it where it loads and fall back to the JS implementation elsewhere.
 */
export function createCustomCrypto(options: {native?: boolean} = {}): {crypto: CustomCrypto; native: boolean} {
  const native = options.native === false ? undefined : loadNative()
  if (!native) return {crypto: {}, native: false}
  const ecrecover = (msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array => {
    const recovery = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (2n * chainId + 35n)
    if (recovery !== 0n && recovery !== 1n) return jsEcrecover(msgHash, v, r, s, chainId)
    const sig = new Uint8Array(64)
    sig.set(r, 32 - r.length)
    sig.set(s, 64 - s.length)
    try {
      return native.ecdsaRecover(sig, Number(recovery), msgHash, false).subarray(1)
    } catch {
      // The native binding rejects some inputs the JS code handles with a precise error.
      return jsEcrecover(msgHash, v, r, s, chainId)
    }
  }
  return {crypto: {ecrecover}, native: true}
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    const require = createRequire(import.meta.url)
    return require('secp256k1/bindings') as NativeSecp256k1
  } catch {
    return undefined
  }
}
