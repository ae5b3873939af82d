import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'

import type {EVMInterface} from '@ethereumjs/evm'

/**
 * The EVM analyses a contract's code for jump destinations (and decodes every PUSH) each time a
 * message runs it: for an ERC-20 balanceOf that is about a quarter of the whole eth_call. The
 * analysis is a pure function of the code bytes and the EVM's opcode table, and the call state
 * manager returns the same code array for the same code hash, so it can be kept per EVM and code
 * array. Only EVMs registered here use the cache (the chain's block-building VM and the RPC layer's
 * call VMs); every other EVM in the process runs the stock analysis.
 *
 * The method lives on the interpreter, which @ethereumjs/evm does not export, so it is reached by
 * file next to the package entry. If that ever fails (a layout change), calls simply run without
 * the cache.
 */

type Analysis = unknown
type AnalyseFn = (this: {_evm: object}, code: Uint8Array) => Analysis

const caches = new WeakMap<object, WeakMap<Uint8Array, Analysis>>()
let installed: Promise<boolean> | undefined

function interpreterUrl(): string {
  const require = createRequire(import.meta.url)
  const entry = require.resolve('@ethereumjs/evm').replace(`${join('dist', 'cjs')}`, join('dist', 'esm'))
  return pathToFileURL(join(dirname(entry), 'interpreter.js')).href
}

async function install(): Promise<boolean> {
  try {
    const mod = (await import(interpreterUrl())) as {Interpreter?: {prototype: {_getValidJumpDestinations?: AnalyseFn}}}
    const proto = mod.Interpreter?.prototype
    const original = proto?._getValidJumpDestinations
    if (!proto || typeof original !== 'function') return false
    proto._getValidJumpDestinations = function (this: {_evm: object}, code: Uint8Array): Analysis {
      const cache = caches.get(this._evm)
      if (!cache) return original.call(this, code)
      let analysis = cache.get(code)
      if (analysis === undefined) {
        analysis = original.call(this, code)
        cache.set(code, analysis)
      }
      return analysis
    }
    return true
  } catch {
    return false
  }
}

/** Lets `evm` reuse jump-destination analyses per code array. Resolves whether the cache is active. */
export async function enableJumpCache(evm: EVMInterface): Promise<boolean> {
  installed ??= install()
  const ok = await installed
  if (ok && !caches.has(evm)) caches.set(evm, new WeakMap())
  return ok
}
