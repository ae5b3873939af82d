import {createRequire} from 'node:module'

import type {SolcError} from './diagnostics.js'

/** The part of solc-js this layer uses. */
export interface SolcCompiler {
  /** The long version, e.g. 0.8.37+commit.f401782d.Emscripten.clang */
  version(): string
  compile(input: string, callbacks?: {import?: (path: string) => {contents: string} | {error: string}}): string
}

/** solc's standard JSON input, as this layer builds it. */
export interface SolcInput {
  language: 'Solidity'
  sources: Record<string, {content: string}>
  settings: {
    optimizer: {enabled: boolean; runs: number}
    evmVersion: string
    remappings?: string[]
    outputSelection: Record<string, Record<string, string[]>>
    metadata?: {bytecodeHash?: 'ipfs' | 'bzzr1' | 'none'; appendCBOR?: boolean}
  }
}

export interface SolcBytecodeOutput {
  object: string
  sourceMap?: string
  linkReferences?: Record<string, Record<string, {start: number; length: number}[]>>
}

export interface SolcContractOutput {
  abi: unknown[]
  metadata?: string
  storageLayout?: unknown
  evm: {bytecode: SolcBytecodeOutput; deployedBytecode: SolcBytecodeOutput}
}

export interface SolcOutput {
  errors?: SolcError[]
  sources?: Record<string, {id: number}>
  contracts?: Record<string, Record<string, SolcContractOutput>>
}

const require = createRequire(import.meta.url)

/**
 * The version of the bundled solc package (e.g. 0.8.37), read without loading the compiler:
 * it keys the compile cache, so an up-to-date project never pays for loading solc.
 */
export function bundledSolcVersion(): string {
  return (require('solc/package.json') as {version: string}).version
}

let loading: Promise<SolcCompiler> | undefined

/**
 * The bundled solc-js compiler (never downloaded), loaded on first use: loading the WebAssembly
 * build takes about a second, so only a compile that has work to do calls this.
 */
export function loadSolc(): Promise<SolcCompiler> {
  loading ??= import('solc').then((module) => {
    const solc = (module as {default?: unknown}).default ?? module
    return solc as SolcCompiler
  })
  return loading
}
