import {readFileSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

import semver from 'semver'

import {ExitCode, XaiError} from '../util/errors.js'
import type {SolcError} from './diagnostics.js'
import {ContractsErrorCode} from './errors.js'
import {stripComments} from './sources.js'

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

/** A solc-js the compile may use: the bundled one, or one the project installed. */
export interface SolcCandidate {
  /** Package version, e.g. 0.8.20. */
  version: string
  /** The package folder; undefined for the bundled solc. */
  dir?: string
  /** How to name it: "bundled" or the node_modules folder (solc, solc-0.8.20 for an npm alias). */
  label: string
}

/**
 * The solc-js packages a project installed: every node_modules/<folder> at or above `root`
 * whose package.json is named "solc" (npm aliases such as `solc-0.8.20@npm:solc@0.8.20` let a
 * project hold several), nearest first, newest first within a folder.
 */
export function findProjectCompilers(root: string): SolcCandidate[] {
  const found: SolcCandidate[] = []
  for (let dir = root; ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules')
    let entries: string[] = []
    try {
      entries = readdirSync(modules)
    } catch {
      // no node_modules here
    }
    const here: SolcCandidate[] = []
    for (const entry of entries) {
      if (entry.startsWith('.') || entry.startsWith('@')) continue
      try {
        const pkg = JSON.parse(readFileSync(join(modules, entry, 'package.json'), 'utf8')) as {name?: unknown; version?: unknown}
        if (pkg.name === 'solc' && typeof pkg.version === 'string' && semver.valid(pkg.version)) here.push({version: pkg.version, dir: join(modules, entry), label: entry})
      } catch {
        // not a package
      }
    }
    found.push(...here.sort((a, b) => semver.rcompare(a.version, b.version)))
    if (dirname(dir) === dir) break
  }
  return found
}

/** The version ranges of a source's `pragma solidity …;` statements (comments ignored). */
export function solidityPragmas(source: string): string[] {
  return [...stripComments(source).matchAll(/\bpragma\s+solidity\s+([^;]+);/g)].map((m) => m[1]!.trim())
}

/**
 * The compiler for a set of sources: the newest the project installed whose version satisfies
 * every source's pragma, else the bundled one if it does; else an error naming what to install.
 *
 * @example
 * selectCompiler([{source: 'contracts/A.sol', range: '^0.8.20'}], [], {version: '0.8.37', label: 'bundled'}).label // 'bundled'
 */
export function selectCompiler(pragmas: readonly {source: string; range: string}[], installed: readonly SolcCandidate[], bundled: SolcCandidate): SolcCandidate {
  const invalid = pragmas.find((p) => semver.validRange(p.range) === null)
  if (invalid) {
    throw new XaiError(ContractsErrorCode.compileFailed, `${invalid.source}: "pragma solidity ${invalid.range};" is not a version range`, {exitCode: ExitCode.usage, details: {source: invalid.source}})
  }
  const fits = (c: SolcCandidate): boolean => pragmas.every((p) => semver.satisfies(c.version, p.range))
  const chosen = installed.find(fits) ?? (fits(bundled) ? bundled : undefined)
  if (chosen) return chosen
  const unmet = pragmas.filter((p) => !semver.satisfies(bundled.version, p.range))
  const wanted = semver.minVersion(unmet[0]!.range)?.version ?? unmet[0]!.range
  const available = [...installed.map((c) => `${c.version} (node_modules/${c.label})`), `${bundled.version} (bundled)`]
  throw new XaiError(ContractsErrorCode.noCompiler, `No available solc satisfies ${[...new Set(pragmas.map((p) => p.range))].join(' and ')} (${unmet.map((p) => `${p.source}: ${p.range}`).slice(0, 3).join(', ')})`, {
    exitCode: ExitCode.usage,
    hint: `Install one in the project, e.g. npm i -D solc-${wanted}@npm:solc@${wanted} (available: ${available.join(', ')}). Nothing is downloaded at run time.`,
    details: {available, unmet},
  })
}

const loadedFrom = new Map<string, SolcCompiler>()

/** A project's solc-js package, loaded from its folder (CommonJS). */
export function loadSolcFrom(dir: string): Promise<SolcCompiler> {
  let compiler = loadedFrom.get(dir)
  if (!compiler) {
    compiler = createRequire(join(dir, 'package.json'))(dir) as SolcCompiler
    loadedFrom.set(dir, compiler)
  }
  return Promise.resolve(compiler)
}
