import {readFileSync} from 'node:fs'

import type {Abi, AbiEvent, AbiFunction} from 'viem'
import {describe, expect, it} from 'vitest'

import {faucet} from '../../../../src/modules/builtin/faucet.js'
import {fl} from '../../../../src/modules/builtin/fl.js'
import {mevRedistribution} from '../../../../src/modules/builtin/mev-redistribution.js'
import {ruleEngine} from '../../../../src/modules/builtin/rule-engine.js'
import {treasury} from '../../../../src/modules/builtin/treasury.js'
import {withdrawalGuard} from '../../../../src/modules/builtin/withdrawal-guard.js'
import {governanceModule} from '../../../../src/modules/host/governance-module.js'
import {registryModule} from '../../../../src/modules/host/registry.js'
import {type NativeModule, isModuleId, isSemver, moduleAddress} from '../../../../src/modules/module.js'

const MODULES: [NativeModule, string][] = [
  [treasury, 'ITreasury.sol'],
  [faucet, 'IFaucet.sol'],
  [withdrawalGuard, 'IWithdrawalGuard.sol'],
  [mevRedistribution, 'IMevRedistribution.sol'],
  [ruleEngine, 'IRuleEngine.sol'],
  [fl, 'IFederatedLearning.sol'],
  [governanceModule, 'IGovernance.sol'],
  [registryModule, 'IModuleRegistry.sol'],
]

/** One function or event of a Solidity interface or an ABI, as a comparable line. */
type Declarations = {functions: Map<string, string>; events: Map<string, string>}

const FUNCTION = /\bfunction\s+(\w+)\s*\(([^)]*)\)\s*external\b([^;]*);/g
const EVENT = /\bevent\s+(\w+)\s*\(([^)]*)\)\s*;/g

function solidityParams(list: string): {type: string; indexed: boolean}[] {
  return list
    .split(',')
    .map((param) => param.trim().split(/\s+/))
    .filter((words) => words[0] !== '')
    .map((words) => ({type: words[0]!, indexed: words.includes('indexed')}))
}

/** The functions and events an interface declares, read with regular expressions (no compiler). */
function readInterface(source: string): Declarations {
  const code = source.replace(/\/\/.*$/gm, '')
  const functions = new Map<string, string>()
  for (const [, name, params, rest] of code.matchAll(FUNCTION)) {
    const mutability = /\bview\b/.test(rest!) ? 'view' : /\bpure\b/.test(rest!) ? 'pure' : /\bpayable\b/.test(rest!) ? 'payable' : 'nonpayable'
    const returns = /\breturns\s*\(([^)]*)\)/.exec(rest!)?.[1] ?? ''
    functions.set(name!, `${name}(${solidityParams(params!).map((p) => p.type).join(',')}) ${mutability} returns (${solidityParams(returns).map((p) => p.type).join(',')})`)
  }
  const events = new Map<string, string>()
  for (const [, name, params] of code.matchAll(EVENT)) {
    events.set(name!, `${name}(${solidityParams(params!).map((p) => `${p.type}${p.indexed ? ' indexed' : ''}`).join(',')})`)
  }
  return {functions, events}
}

function readAbi(abi: Abi): Declarations {
  const functions = new Map<string, string>()
  const events = new Map<string, string>()
  for (const item of abi) {
    if (item.type === 'function') {
      const fn = item as AbiFunction
      functions.set(fn.name, `${fn.name}(${fn.inputs.map((p) => p.type).join(',')}) ${fn.stateMutability} returns (${fn.outputs.map((p) => p.type).join(',')})`)
    } else if (item.type === 'event') {
      const event = item as AbiEvent
      events.set(event.name, `${event.name}(${event.inputs.map((p) => `${p.type}${p.indexed ? ' indexed' : ''}`).join(',')})`)
    }
  }
  return {functions, events}
}

describe('built-in modules: manifests and Solidity interfaces', () => {
  for (const [module, file] of MODULES) {
    describe(module.manifest.id, () => {
      const source = readFileSync(new URL(`../../../../templates/builtin/${file}`, import.meta.url), 'utf8')

      it('has a valid manifest at version 1.0.0, gas for every call and a handler for every ABI function', () => {
        expect(isModuleId(module.manifest.id)).toBe(true)
        expect(isSemver(module.manifest.version)).toBe(true)
        expect(module.manifest.version).toBe('1.0.0')
        const names = module.abi.filter((item) => item.type === 'function').map((item) => (item as AbiFunction).name)
        expect(Object.keys(module.calls).sort()).toEqual([...names].sort())
        expect(Object.keys(module.gas).sort()).toEqual([...names].sort())
        expect(() => module.params.parse({})).not.toThrow()
      })

      it(`${file} declares exactly the functions and events of the ABI`, () => {
        const sol = readInterface(source)
        const abi = readAbi(module.abi)
        expect([...sol.functions.keys()].sort()).toEqual([...abi.functions.keys()].sort())
        expect([...sol.events.keys()].sort()).toEqual([...abi.events.keys()].sort())
        expect(sol.functions).toEqual(abi.functions)
        expect(sol.events).toEqual(abi.events)
      })

      it(`${file} names the module's system address`, () => {
        expect(source).toContain(moduleAddress(module.manifest.id))
      })
    })
  }
})
