import {readFile, stat} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'

import {writeFileAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {CONFIG_FILE} from './config.js'
import {ContractsErrorCode} from './errors.js'
import {readTemplateFile, renderContractTemplate} from './templates.js'

export interface InitProjectOptions {
  /** The project folder; created when missing. */
  dir: string
  /** Rewrite the template's files when they exist (other files are never touched). */
  force?: boolean
}

export interface InitProjectResult {
  root: string
  /** Files written, relative to the root. */
  created: string[]
  /** Files that existed and were rewritten (--force). */
  overwritten: string[]
  /** Files that existed and were left as they were (no --force, or already identical). */
  kept: string[]
}

/** Project files of templates/contract/project/ and where they go. */
const PROJECT_FILES: readonly {from: string; to: string}[] = [
  {from: 'xai.config.json', to: CONFIG_FILE},
  // npm leaves .gitignore files out of published packages, so the template is stored without the dot.
  {from: 'gitignore', to: '.gitignore'},
  {from: 'package.json', to: 'package.json'},
  {from: 'tsconfig.json', to: 'tsconfig.json'},
  {from: 'vitest.config.ts', to: 'vitest.config.ts'},
  {from: 'test/helpers/xai.ts', to: 'test/helpers/xai.ts'},
]

/**
 * Creates a contracts project in `dir` from templates/contract/: xai.config.json, .gitignore,
 * package.json, tsconfig.json and vitest.config.ts for the tests, contracts/Counter.sol and test/Counter.test.ts.
 * Refuses a folder that already holds xai.config.json unless `force`, which rewrites the
 * template's files only. Every file is written atomically.
 *
 * @example
 * await initProject({dir: '/tmp/my-contracts'})
 */
export async function initProject(options: InitProjectOptions): Promise<InitProjectResult> {
  const root = resolve(options.dir)
  const existing = await kind(root)
  if (existing === 'other') {
    throw new XaiError(ContractsErrorCode.projectExists, `${root} exists and is not a folder`, {
      hint: 'Pass the folder to create the project in: xai contract init <dir>',
    })
  }
  if (!options.force && (await kind(join(root, CONFIG_FILE))) === 'file') {
    throw new XaiError(ContractsErrorCode.projectExists, `${root} is already a contracts project (it has ${CONFIG_FILE})`, {
      hint: 'Add contracts with `xai contract new <Name>`, or run `xai contract init --force` to rewrite the template files (your other files are kept).',
      details: {root},
    })
  }

  const files: {path: string; content: string}[] = []
  for (const {from, to} of PROJECT_FILES) {
    let content = await readTemplateFile('project', ...from.split('/'))
    if (to === 'package.json') content = content.replace('__PACKAGE_NAME__', packageName(root))
    files.push({path: to, content})
  }
  const counter = await renderContractTemplate('counter', 'Counter')
  files.push({path: 'contracts/Counter.sol', content: counter.contract}, {path: 'test/Counter.test.ts', content: counter.test})

  const result: InitProjectResult = {root, created: [], overwritten: [], kept: []}
  for (const file of files) {
    const target = join(root, ...file.path.split('/'))
    const current = await readFile(target, 'utf8').catch(() => undefined)
    if (current === undefined) {
      await writeFileAtomic(target, file.content)
      result.created.push(file.path)
    } else if (options.force && current !== file.content) {
      await writeFileAtomic(target, file.content)
      result.overwritten.push(file.path)
    } else {
      result.kept.push(file.path)
    }
  }
  return result
}

async function kind(path: string): Promise<'missing' | 'dir' | 'file' | 'other'> {
  try {
    const info = await stat(path)
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other'
  } catch {
    return 'missing'
  }
}

/** An npm package name from the folder name (lowercase; "contracts" when nothing usable is left). */
function packageName(root: string): string {
  const name = basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
  return name.length > 0 ? name.slice(0, 214) : 'contracts'
}
