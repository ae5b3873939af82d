import {createHash} from 'node:crypto'
import {readFile, readdir} from 'node:fs/promises'
import {join, posix, relative, sep} from 'node:path'

import {XaiError} from '../util/errors.js'
import {formatDiagnostic, locate} from './diagnostics.js'
import {ContractsErrorCode} from './errors.js'

/**
 * Source units are named by their path relative to the project root, with forward slashes
 * (`contracts/Token.sol`): the names solc sees, the keys of the compile cache, and the folders
 * under artifacts/.
 */
export interface SourceFile {
  sourceName: string
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

/**
 * Reads `roots` and, transitively, every file they import (which may live anywhere in the
 * project). A missing import fails with its location: `file:line:col`, the line and a caret.
 */
export async function loadSourceGraph(root: string, roots: readonly string[]): Promise<Map<string, SourceFile>> {
  const graph = new Map<string, SourceFile>()
  const queue = [...roots]
  const missing: string[] = []
  while (queue.length > 0) {
    const sourceName = queue.shift()!
    if (graph.has(sourceName)) continue
    const content = await readFile(join(root, ...sourceName.split('/')), 'utf8')
    const imports: string[] = []
    for (const statement of parseImports(content)) {
      const resolved = resolveImport(sourceName, statement.path)
      const reason = resolved === undefined ? 'leaves the project folder' : await sourceProblem(root, resolved)
      if (reason !== undefined) {
        const {line, column} = locate(content, statement.offset)
        const message = `Import "${statement.path}" not found: ${resolved === undefined ? reason : `${resolved} ${reason}`}`
        missing.push(formatDiagnostic({severity: 'error', message, file: sourceName, line, column, length: statement.path.length + 2}, content))
        continue
      }
      if (!imports.includes(resolved!)) imports.push(resolved!)
      queue.push(resolved!)
    }
    graph.set(sourceName, {sourceName, content, contentHash: sha256(content), imports})
  }
  if (missing.length > 0) {
    throw new XaiError(ContractsErrorCode.importNotFound, missing.length === 1 ? 'An import cannot be resolved' : `${missing.length} imports cannot be resolved`, {
      hint: 'Imports starting with ./ or ../ are relative to the importing file; others are relative to the project root (e.g. "contracts/xai/Ownable.sol").',
      details: {diagnostics: missing},
    })
  }
  return graph
}

async function sourceProblem(root: string, sourceName: string): Promise<string | undefined> {
  try {
    await readFile(join(root, ...sourceName.split('/')), {flag: 'r'})
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`
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
