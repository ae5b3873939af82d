import {existsSync} from 'node:fs'
import {readFile, readdir} from 'node:fs/promises'
import {join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeFileAtomic} from '../util/atomic-write.js'
import {ExitCode} from '../util/errors.js'
import {ModulesErrorCode, moduleError} from './errors.js'
import {MODULE_ID_PATTERN, isModuleId, moduleAddress, moduleCodeHash} from './module.js'

export interface CreateModuleOptions {
  /** The module id, also its folder's name: `[a-z][a-z0-9-]{1,31}`. */
  name: string
  /** The folder the module folder goes in. */
  dir: string
  /** Overwrite the files of an existing module folder. */
  force?: boolean
}

export interface CreateModuleResult {
  id: string
  /** The module folder, absolute. */
  folder: string
  /** Files written, relative to the folder. */
  files: string[]
  /** keccak256 of src/<name>.ts, as written into proposals/activate.yaml. */
  codeHash: `0x${string}`
  address: `0x${string}`
}

/** templates/module/, found relative to this file in src/ (tsx, tests) and in dist/ alike. */
export function moduleTemplateDir(): string {
  return fileURLToPath(new URL('../../templates/module/', import.meta.url))
}

/** `my-counter` → `MyCounter`. */
export function pascalCase(id: string): string {
  return id
    .split('-')
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')
}

async function listTemplate(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(join(dir, prefix), {withFileTypes: true})) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isDirectory()) out.push(...(await listTemplate(dir, path)))
    else out.push(path)
  }
  return out.sort()
}

/**
 * Writes a new module folder `<dir>/<name>/` from templates/module/: the source, its Solidity
 * interface, its tests, a README and an activation proposal carrying the source's code hash.
 * Each file is written atomically; an existing folder is refused unless `force`.
 */
export async function createModule(options: CreateModuleOptions): Promise<CreateModuleResult> {
  const {name} = options
  if (!isModuleId(name) || name.endsWith('-') || name.includes('--')) {
    throw moduleError(ModulesErrorCode.invalidName, `Invalid module name "${name}"`, {
      hint: `A module name is lowercase letters, digits and single dashes, starting with a letter, 2 to 32 characters (${MODULE_ID_PATTERN.source}), e.g. my-counter.`,
      details: {name},
    })
  }
  const folder = resolve(options.dir, name)
  if (existsSync(folder) && !options.force) {
    throw moduleError(ModulesErrorCode.folderExists, `${folder} already exists`, {
      exitCode: ExitCode.environment,
      hint: 'Choose another name or --dir, or pass --force to overwrite the template files in it.',
      details: {folder},
    })
  }
  const templates = moduleTemplateDir()
  const address = moduleAddress(name)
  const rename = (path: string): string => path.replaceAll('__name__', name).replaceAll('__Name__', pascalCase(name))
  const fill = (text: string): string => text.replaceAll('__name__', name).replaceAll('__Name__', pascalCase(name)).replaceAll('__ADDRESS__', address)

  const files = await listTemplate(templates)
  const contents = new Map<string, string>()
  for (const file of files) contents.set(rename(file), fill(await readFile(join(templates, file), 'utf8')))
  const sourcePath = `src/${name}.ts`
  const codeHash = moduleCodeHash(contents.get(sourcePath)!)
  for (const [file, text] of contents) contents.set(file, text.replaceAll('__CODE_HASH__', codeHash))

  for (const [file, text] of contents) await writeFileAtomic(join(folder, file), text)
  return {id: name, folder, files: [...contents.keys()].sort(), codeHash, address}
}

/** A path for humans: relative to `from` when inside it. */
export function displayPath(path: string, from: string): string {
  const rel = relative(from, path)
  return rel && !rel.startsWith('..') ? rel : path
}
