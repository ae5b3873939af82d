import {type Abi, type AbiFunction, toFunctionSignature} from 'viem'

import {XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'

/** `transfer(address,uint256)`: the canonical signature of a function. */
export function functionSignature(fn: AbiFunction): string {
  return toFunctionSignature(fn)
}

/**
 * The ABI function `spec` names: a name (`transfer`) or, for overloads, a signature
 * (`transfer(address,uint256)`). An overloaded name is settled by the number of arguments when that
 * is unambiguous. Unknown or ambiguous: a usage error listing the candidates.
 *
 * @example
 * selectFunction(abi, 'balanceOf', 1).name // 'balanceOf'
 */
export function selectFunction(abi: Abi, spec: string, argCount?: number): AbiFunction {
  const functions = abi.filter((item): item is AbiFunction => item.type === 'function')
  const wanted = spec.replace(/\s+/g, '')
  const matches = wanted.includes('(') ? functions.filter((fn) => functionSignature(fn) === wanted) : functions.filter((fn) => fn.name === wanted)
  if (matches.length === 1) return matches[0]!
  if (matches.length === 0) {
    const name = wanted.split('(')[0]!
    const sameName = functions.filter((fn) => fn.name === name).map(functionSignature)
    const candidates = sameName.length > 0 ? sameName : functions.map(functionSignature)
    throw new XaiError(ContractsErrorCode.unknownFunction, `No function ${spec} in the ABI`, {
      hint: candidates.length === 0 ? 'This ABI has no functions.' : `Functions: ${candidates.join(', ')}`,
      details: {function: spec, candidates},
    })
  }
  const byCount = argCount === undefined ? [] : matches.filter((fn) => fn.inputs.length === argCount)
  if (byCount.length === 1) return byCount[0]!
  const candidates = matches.map(functionSignature)
  throw new XaiError(ContractsErrorCode.ambiguousFunction, `${spec} is overloaded: ${candidates.join(', ')}`, {
    hint: `Name one by its signature, e.g. '${candidates[0]}'`,
    details: {function: spec, candidates},
  })
}
