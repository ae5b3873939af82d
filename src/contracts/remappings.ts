import {readFile, readdir, stat} from 'node:fs/promises'
import {join, posix} from 'node:path'

import {ExitCode, XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'

/**
 * One solc import remapping, `[context:]prefix=target`, as Foundry's remappings.txt and
 * foundry.toml write them: an import path (after relative paths are resolved) starting with
 * `prefix`, in a file whose source name starts with `context`, has `prefix` replaced by
 * `target` (a path relative to the project root).
 */
export interface Remapping {
  context: string
  prefix: string
  target: string
  /** Where it came from: remappings.txt, foundry.toml or lib/<name> (inferred). */
  origin: string
}

/**
 * Parses remapping lines (`forge-std/=lib/forge-std/src/`, `ctx:@oz/=node_modules/@oz/`);
 * blank lines and `#` comments are skipped. A malformed line is an error naming it.
 *
 * @example
 * parseRemappings('forge-std/=lib/forge-std/src/\n')[0] // {context: '', prefix: 'forge-std/', target: 'lib/forge-std/src/', origin: 'remappings.txt'}
 */
export function parseRemappings(text: string, origin = 'remappings.txt'): Remapping[] {
  const found: Remapping[] = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') return
    const parsed = parseRemapping(line, origin)
    if (parsed === undefined) {
      throw new XaiError(ContractsErrorCode.configInvalid, `${origin}:${index + 1}: "${line}" is not a remapping`, {
        exitCode: ExitCode.usage,
        hint: 'A remapping is [context:]prefix=target, e.g. forge-std/=lib/forge-std/src/',
        details: {file: origin, line: index + 1},
      })
    }
    found.push(parsed)
  })
  return found
}

/** One `[context:]prefix=target`, or undefined when it is not one. */
export function parseRemapping(text: string, origin: string): Remapping | undefined {
  const eq = text.indexOf('=')
  if (eq <= 0) return undefined
  const left = text.slice(0, eq).trim()
  const target = text.slice(eq + 1).trim()
  const colon = left.indexOf(':')
  const context = colon === -1 ? '' : left.slice(0, colon)
  const prefix = colon === -1 ? left : left.slice(colon + 1)
  if (prefix === '' || target === '' || /\s/.test(prefix) || /\s/.test(target)) return undefined
  return {context, prefix, target: target.replace(/^\.\//, ''), origin}
}

/** `[context:]prefix=target`, as solc's settings.remappings takes it. */
export function formatRemapping(remapping: Remapping): string {
  return `${remapping.context ? `${remapping.context}:` : ''}${remapping.prefix}=${remapping.target}`
}

/**
 * Applies the best remapping to a resolved import path the way solc does: the longest matching
 * context wins, then the longest matching prefix. Returns the path unchanged when none matches.
 *
 * @example
 * applyRemappings([{context: '', prefix: 'forge-std/', target: 'lib/forge-std/src/', origin: 'x'}], 'contracts/A.sol', 'forge-std/Test.sol') // 'lib/forge-std/src/Test.sol'
 */
export function applyRemappings(remappings: readonly Remapping[], from: string, path: string): string {
  let best: Remapping | undefined
  for (const r of remappings) {
    if (!from.startsWith(r.context) || !path.startsWith(r.prefix)) continue
    if (best === undefined || r.context.length > best.context.length || (r.context.length === best.context.length && r.prefix.length > best.prefix.length)) best = r
  }
  return best === undefined ? path : best.target + path.slice(best.prefix.length)
}

/** What foundry.toml's [profile.default] says that this layer uses. */
export interface FoundryProfile {
  src?: string
  out?: string
  libs?: string[]
  remappings?: string[]
}

/**
 * The [profile.default] table of a foundry.toml (also top-level keys, which Foundry reads as the
 * default profile): string and string-array values only, the subset remappings, libs, src and
 * out use. Other keys and tables are ignored.
 */
export function parseFoundryToml(text: string): FoundryProfile {
  const profile: FoundryProfile = {}
  let table = ''
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = stripTomlComment(lines[i]!).trim()
    if (line === '') continue
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (header) {
      table = header[1]!.replace(/\s+/g, '').replace(/"/g, '')
      continue
    }
    if (table !== '' && table !== 'profile.default') continue
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line)
    if (!kv) continue
    let value = kv[2]!
    if (value.startsWith('[')) {
      while (!balanced(value) && i + 1 < lines.length) value += ` ${stripTomlComment(lines[++i]!).trim()}`
    }
    const key = kv[1]!
    if (key === 'src' || key === 'out') {
      const s = tomlString(value)
      if (s !== undefined) profile[key] = s
    } else if (key === 'libs' || key === 'remappings') {
      const list = tomlStringArray(value)
      if (list !== undefined) profile[key] = list
    }
  }
  return profile
}

function stripTomlComment(line: string): string {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '#') return line.slice(0, i)
  }
  return line
}

function balanced(value: string): boolean {
  let depth = 0
  let quote: string | undefined
  for (const c of value) {
    if (quote) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '[') depth++
    else if (c === ']') depth--
  }
  return depth <= 0
}

function tomlString(value: string): string | undefined {
  const m = /^(?:"((?:[^"\\]|\\.)*)"|'([^']*)')$/.exec(value.trim())
  return m ? (m[1] ?? m[2]) : undefined
}

function tomlStringArray(value: string): string[] | undefined {
  const inner = /^\[(.*)\]$/s.exec(value.trim())
  if (!inner) return undefined
  const items: string[] = []
  for (const m of inner[1]!.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)) items.push(m[1] ?? m[2]!)
  return items
}

/**
 * The remappings of a project as Foundry builds them: remappings.txt and foundry.toml's
 * `remappings` (both, the file's first), then one inferred per folder under each of the `libs`
 * (default `lib/`): `<name>/=lib/<name>/src/` when it has a src/ folder, else `<name>/=lib/<name>/`.
 * An explicit remapping of the same prefix beats an inferred one.
 */
export async function loadRemappings(root: string): Promise<Remapping[]> {
  const explicit: Remapping[] = []
  const txt = await readText(join(root, 'remappings.txt'))
  if (txt !== undefined) explicit.push(...parseRemappings(txt, 'remappings.txt'))
  const toml = await readText(join(root, 'foundry.toml'))
  const profile = toml === undefined ? {} : parseFoundryToml(toml)
  for (const line of profile.remappings ?? []) {
    const r = parseRemapping(line, 'foundry.toml')
    if (r === undefined) {
      throw new XaiError(ContractsErrorCode.configInvalid, `foundry.toml: remapping "${line}" is not [context:]prefix=target`, {exitCode: ExitCode.usage, details: {file: 'foundry.toml'}})
    }
    if (!explicit.some((e) => e.context === r.context && e.prefix === r.prefix)) explicit.push(r)
  }
  const inferred: Remapping[] = []
  for (const lib of profile.libs ?? ['lib']) {
    const libDir = posix.normalize(lib).replace(/\/$/, '')
    if (libDir.startsWith('..') || posix.isAbsolute(libDir) || libDir === 'node_modules') continue
    let entries
    try {
      entries = await readdir(join(root, ...libDir.split('/')), {withFileTypes: true})
    } catch {
      continue
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue
      const prefix = `${entry.name}/`
      if (explicit.some((e) => e.context === '' && e.prefix === prefix) || inferred.some((e) => e.prefix === prefix)) continue
      const hasSrc = await isDirectory(join(root, ...libDir.split('/'), entry.name, 'src'))
      inferred.push({context: '', prefix, target: `${libDir}/${entry.name}/${hasSrc ? 'src/' : ''}`, origin: `${libDir}/${entry.name}`})
    }
  }
  return [...explicit, ...inferred]
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}
