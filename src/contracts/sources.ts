import {createHash} from 'node:crypto'
import {readFile, readdir, stat} from 'node:fs/promises'
import {dirname, join, posix, relative, sep} from 'node:path'

import {ExitCode, XaiError} from '../util/errors.js'
import {formatDiagnostic, locate} from './diagnostics.js'
import {ContractsErrorCode} from './errors.js'
import {type Remapping, applyRemappings} from './remappings.js'

/**
 * Source units are named by their path relative to the project root, with forward slashes
 * (`contracts/Token.sol`): the names solc sees, the keys of the compile cache, and the folders
 * under artifacts/.
 */
export interface SourceFile {
  sourceName: string
  /** Where it was read from (absolute): under the project, or a node_modules package. */
  file: string
  content: string
  /** sha256 of the content, hex. */
  contentHash: string
  /** The source names this file imports, resolved, in order of appearance, without duplicates. */
  imports: string[]
}

export interface ImportStatement {
  /** The path as written between the quotes. */
  path: string
  /** Offset of the quoted path in the source (UTF-16 index). */
  offset: number
}

/** The import statements of a Solidity source (comments ignored). */
export function parseImports(source: string): ImportStatement[] {
  const code = stripComments(source)
  const found: ImportStatement[] = []
  const pattern = /\bimport\s*(?:[^;"']*?\bfrom\s*)?(?:"([^"\n]*)"|'([^'\n]*)')[^;]*;/g
  for (const match of code.matchAll(pattern)) {
    const path = match[1] ?? match[2] ?? ''
    const quote = match[1] === undefined ? "'" : '"'
    found.push({path, offset: match.index + match[0].indexOf(`${quote}${path}${quote}`)})
  }
  return found
}

/**
 * Resolves an import path to a source name the way solc does for our source names: `./` and
 * `../` paths are relative to the importing file's folder; anything else is relative to the
 * project root. Returns undefined for a path that leaves the project.
 *
 * @example
 * resolveImport('contracts/token/Token.sol', '../xai/ERC20.sol') // 'contracts/xai/ERC20.sol'
 * resolveImport('contracts/Token.sol', 'contracts/xai/ERC20.sol') // 'contracts/xai/ERC20.sol'
 */
export function resolveImport(from: string, path: string): string | undefined {
  const relativeImport = path.startsWith('./') || path.startsWith('../')
  const joined = relativeImport ? posix.join(posix.dirname(from), path) : posix.normalize(path)
  if (joined.startsWith('../') || joined === '..' || posix.isAbsolute(joined) || joined === '.') return undefined
  return joined
}

/** sha256 hex of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** Every .sol file under `dir`, as source names relative to `root`, sorted. */
export async function listSolidityFiles(root: string, dir: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (folder: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(folder, {withFileTypes: true})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && entry.name.endsWith('.sol')) found.push(toSourceName(root, path))
    }
  }
  await walk(dir)
  return found.sort()
}

export function toSourceName(root: string, path: string): string {
  return relative(root, path).split(sep).join('/')
}

/** Where an import lands: its source name and file, or why it cannot be found. */
export type ImportResolution = {sourceName: string; file: string} | {problem: string; sourceName?: string}

export interface ImportResolverOptions {
  /** Foundry-style remappings (remappings.txt, foundry.toml, lib/), applied as solc applies them. */
  remappings?: readonly Remapping[]
}

/**
 * Resolves imports as Hardhat and Foundry do, in solc's order: `./` and `../` paths against the
 * importing file's source name, then the remappings (longest context, then longest prefix), then
 * the file is looked up in the project (`contracts/x/A.sol`, `lib/forge-std/src/Test.sol`), else
 * as a package in the nearest `node_modules` at or above the project root that has it, as Node
 * resolves packages (`@openzeppelin/contracts/token/ERC20/ERC20.sol` keeps that source name, as
 * Hardhat names it, and is read from node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol).
 * Nothing may leave the project (or the package folder): `..` past the root is refused.
 */
export function createImportResolver(root: string, options: ImportResolverOptions = {}): (from: string, path: string) => Promise<ImportResolution> {
  const remappings = options.remappings ?? []
  const packageDirs = new Map<string, string | undefined>()
  const findPackage = async (name: string): Promise<string | undefined> => {
    if (packageDirs.has(name)) return packageDirs.get(name)
    let found: string | undefined
    for (let dir = root; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', ...name.split('/'))
      if (await isDirectory(candidate)) {
        found = candidate
        break
      }
      if (dirname(dir) === dir) break
    }
    packageDirs.set(name, found)
    return found
  }
  return async (from, path) => {
    const resolved = resolveImport(from, path)
    if (resolved === undefined) return {problem: 'leaves the project folder'}
    const sourceName = posix.normalize(applyRemappings(remappings, from, resolved))
    if (!isInside(sourceName)) return {problem: `remapped to ${sourceName}, which leaves the project folder`}
    const local = await fileProblem(join(root, ...sourceName.split('/')))
    if (local === undefined) return {sourceName, file: join(root, ...sourceName.split('/'))}
    const segments = sourceName.split('/')
    const packageName = segments[0]!.startsWith('@') ? segments.slice(0, 2).join('/') : segments[0]!
    const rest = segments.slice(packageName.split('/').length)
    const packageDir = rest.length > 0 && isPackageName(packageName) ? await findPackage(packageName) : undefined
    if (packageDir === undefined) {
      const install = rest.length > 0 && isPackageName(packageName) && !sourceName.startsWith('contracts/') ? ` and no package ${packageName} in node_modules (npm i -D ${packageName})` : ''
      return {problem: `${sourceName} ${local}${install}`, sourceName}
    }
    const file = join(packageDir, ...rest)
    const problem = await fileProblem(file)
    if (problem !== undefined) return {problem: `${rest.join('/')} ${problem} in ${relative(root, packageDir).split(sep).join('/')}`, sourceName}
    return {sourceName, file}
  }
}

/**
 * Reads `roots` and, transitively, every file they import (from the project, its lib/ folders
 * through remappings, or node_modules packages). A missing import fails with its location:
 * `file:line:col`, the line and a caret.
 */
export async function loadSourceGraph(root: string, roots: readonly string[], options: ImportResolverOptions = {}): Promise<Map<string, SourceFile>> {
  const resolve = createImportResolver(root, options)
  const graph = new Map<string, SourceFile>()
  const files = new Map(roots.map((name) => [name, join(root, ...name.split('/'))]))
  const queue = [...roots]
  const missing: string[] = []
  while (queue.length > 0) {
    const sourceName = queue.shift()!
    if (graph.has(sourceName)) continue
    const file = files.get(sourceName)!
    const content = await readFile(file, 'utf8')
    const imports: string[] = []
    for (const statement of parseImports(content)) {
      const resolution = await resolve(sourceName, statement.path)
      if ('problem' in resolution) {
        const {line, column} = locate(content, statement.offset)
        const message = `Import "${statement.path}" not found: ${resolution.problem}`
        missing.push(formatDiagnostic({severity: 'error', message, file: sourceName, line, column, length: statement.path.length + 2}, content))
        continue
      }
      if (!files.has(resolution.sourceName)) files.set(resolution.sourceName, resolution.file)
      if (!imports.includes(resolution.sourceName)) imports.push(resolution.sourceName)
      queue.push(resolution.sourceName)
    }
    graph.set(sourceName, {sourceName, file, content, contentHash: sha256(content), imports})
  }
  if (missing.length > 0) {
    throw new XaiError(ContractsErrorCode.importNotFound, missing.length === 1 ? 'An import cannot be resolved' : `${missing.length} imports cannot be resolved`, {
      exitCode: ExitCode.usage,
      hint: 'Imports starting with ./ or ../ are relative to the importing file; others are relative to the project root (e.g. "contracts/xai/Ownable.sol"), remapped by remappings.txt / foundry.toml / lib/<name>/src, or a package in node_modules (e.g. "@openzeppelin/contracts/token/ERC20/ERC20.sol").',
      details: {diagnostics: missing},
    })
  }
  return graph
}

function isInside(sourceName: string): boolean {
  return !(sourceName.startsWith('../') || sourceName === '..' || posix.isAbsolute(sourceName) || sourceName === '.')
}

function isPackageName(name: string): boolean {
  return /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}

async function fileProblem(path: string): Promise<string | undefined> {
  try {
    await readFile(path, {flag: 'r'})
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`
  }
}

/**
 * Hash of a source and everything it imports, transitively: it changes when the file or any of
 * its dependencies changes, which is what makes a source stale.
 */
export function closureHash(graph: ReadonlyMap<string, SourceFile>, sourceName: string): string {
  const seen = new Set<string>()
  const visit = (name: string): void => {
    if (seen.has(name)) return
    seen.add(name)
    for (const dep of graph.get(name)?.imports ?? []) visit(dep)
  }
  visit(sourceName)
  const hash = createHash('sha256')
  for (const name of [...seen].sort()) hash.update(`${name}\0${graph.get(name)?.contentHash ?? ''}\n`)
  return hash.digest('hex')
}

/** `sourceName` and everything it imports, transitively. */
export function dependencyClosure(graph: ReadonlyMap<string, SourceFile>, sourceNames: Iterable<string>): Set<string> {
  const seen = new Set<string>()
  const visit = (name: string): void => {
    if (seen.has(name)) return
    seen.add(name)
    for (const dep of graph.get(name)?.imports ?? []) visit(dep)
  }
  for (const name of sourceNames) visit(name)
  return seen
}

/**
 * A copy of `source` with comments blanked out (newlines kept, so offsets still match) and
 * string literals left alone.
 */
export function stripComments(source: string): string {
  let out = ''
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    const next = source[i + 1]
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') {
        out += ' '
        i++
      }
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2)
      const stop = end === -1 ? source.length : end + 2
      for (; i < stop; i++) out += source[i] === '\n' ? '\n' : ' '
    } else if (c === '"' || c === "'") {
      let j = i + 1
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1
      out += source.slice(i, j + 1)
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}
