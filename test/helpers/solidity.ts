import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import solc from 'solc'
import type {Abi, Hex} from 'viem'

/** One compiled contract, ready for viem's deployContract or ethers' ContractFactory. */
export interface CompiledContract {
  contractName: string
  /** The source unit it came from (the key in the standard-JSON `sources`). */
  sourceName: string
  abi: Abi
  /** Creation code, 0x-prefixed. */
  bytecode: Hex
  /** Runtime code, 0x-prefixed: what eth_getCode returns after deployment. */
  deployedBytecode: Hex
}

export interface CompileOptions {
  /** Default 'prague', the fork the chains under test run. */
  evmVersion?: string
  /** Optimizer runs; the optimizer is always on. Default 200. */
  runs?: number
  /** Resolves `import "x"` paths the sources do not contain; default: read from this folder. */
  importRoot?: string
}

/** Raised when solc reports errors; the message lists every error formatted by solc. */
export class SolidityCompileError extends Error {
  override name = 'SolidityCompileError'
  constructor(readonly errors: readonly SolcDiagnostic[]) {
    super(`Solidity compilation failed:\n${errors.map((e) => e.formattedMessage ?? e.message).join('\n')}`)
  }
}

interface SolcDiagnostic {
  severity: 'error' | 'warning' | 'info'
  type: string
  message: string
  formattedMessage?: string
}

interface SolcOutput {
  errors?: SolcDiagnostic[]
  contracts?: Record<string, Record<string, {abi: Abi; evm: {bytecode: {object: string}; deployedBytecode: {object: string}}}>>
}

const cache = new Map<string, Record<string, Record<string, CompiledContract>>>()

/**
 * Compiles Solidity sources with solc-js (standard JSON, optimizer on), caching by input in
 * memory, and returns every contract by source name then contract name.
 *
 * @example
 * const out = compileSolidity({'A.sol': 'contract A { function f() external {} }'})
 * out['A.sol'].A.bytecode // 0x6080…
 */
export function compileSolidity(sources: Record<string, string>, options: CompileOptions = {}): Record<string, Record<string, CompiledContract>> {
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, {content}])),
    settings: {
      evmVersion: options.evmVersion ?? 'prague',
      optimizer: {enabled: true, runs: options.runs ?? 200},
      outputSelection: {'*': {'*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object']}},
    },
  }
  const json = JSON.stringify(input)
  const key = createHash('sha256').update(json).update('\0').update(options.importRoot ?? '').digest('hex')
  const hit = cache.get(key)
  if (hit) return hit

  const importRoot = options.importRoot
  const findImports = (path: string): {contents: string} | {error: string} => {
    if (importRoot === undefined) return {error: `File not found: ${path} (no importRoot given)`}
    try {
      return {contents: readFileSync(resolve(importRoot, path), 'utf8')}
    } catch (err) {
      return {error: `File not found: ${path} (${(err as Error).message})`}
    }
  }
  const output = JSON.parse(solc.compile(json, {import: findImports})) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new SolidityCompileError(errors)

  const result: Record<string, Record<string, CompiledContract>> = {}
  for (const [sourceName, contracts] of Object.entries(output.contracts ?? {})) {
    result[sourceName] = {}
    for (const [contractName, artifact] of Object.entries(contracts)) {
      result[sourceName][contractName] = {
        contractName,
        sourceName,
        abi: artifact.abi,
        bytecode: `0x${artifact.evm.bytecode.object}`,
        deployedBytecode: `0x${artifact.evm.deployedBytecode.object}`,
      }
    }
  }
  cache.set(key, result)
  return result
}

/**
 * Compiles one .sol file (imports resolved next to it) and returns one of its contracts, by
 * default the one named like the file.
 *
 * @example
 * const token = compileContractFile('test/e2e/contracts/TestToken.sol')
 */
export function compileContractFile(path: string, contractName?: string, options: CompileOptions = {}): CompiledContract {
  const absolute = resolve(path)
  const sourceName = basename(absolute)
  const out = compileSolidity({[sourceName]: readFileSync(absolute, 'utf8')}, {importRoot: dirname(absolute), ...options})
  const name = contractName ?? sourceName.replace(/\.sol$/, '')
  const contract = out[sourceName]?.[name]
  if (!contract) {
    throw new Error(`No contract ${name} in ${path}; it has: ${Object.keys(out[sourceName] ?? {}).join(', ') || 'none'}`)
  }
  return contract
}

/** The contracts of test/e2e/contracts by file name (without .sol). */
export function e2eContract(name: 'TestToken' | 'BlockInfo'): CompiledContract {
  return compileContractFile(join(E2E_CONTRACTS_DIR, `${name}.sol`), name)
}

export const E2E_CONTRACTS_DIR = fileURLToPath(new URL('../e2e/contracts/', import.meta.url))
