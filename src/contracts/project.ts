import {stat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'

import {readFile} from 'node:fs/promises'

import {CONFIG_FILE, type XaiConfig, defaultConfig, loadConfig} from './config.js'
import {projectNotFound} from './errors.js'
import {parseFoundryToml} from './remappings.js'

/** A contracts project: its root folder (holding xai.config.json), config and fixed layout. */
export interface Project {
  root: string
  configPath: string
  config: XaiConfig
  paths: ProjectPaths
  /**
   * Set when the artifacts come from another tool (a Foundry or Hardhat project without
   * xai.config.json, or --artifacts DIR): paths.artifacts is that folder, its files are read in
   * their own format, and nothing is compiled by xai.
   */
  external?: {kind: 'foundry' | 'hardhat' | 'folder'; dir: string}
}

export interface ProjectPaths {
  /** Solidity sources: contracts/**\/*.sol */
  contracts: string
  /** artifacts/<sourceName>/<ContractName>.json and artifacts/build-info/<id>.json */
  artifacts: string
  buildInfo: string
  /** cache/compile.json */
  cache: string
  compileCache: string
  /** The TypeScript tests of the contracts. */
  test: string
}

export function projectPaths(root: string): ProjectPaths {
  return {
    contracts: join(root, 'contracts'),
    artifacts: join(root, 'artifacts'),
    buildInfo: join(root, 'artifacts', 'build-info'),
    cache: join(root, 'cache'),
    compileCache: join(root, 'cache', 'compile.json'),
    test: join(root, 'test'),
  }
}

/**
 * The project containing `cwd`: the nearest folder at or above it with an xai.config.json,
 * its config loaded and validated.
 *
 * @example
 * const project = await findProject(process.cwd())
 * project.config.solc.evmVersion // 'prague'
 */
export async function findProject(cwd: string): Promise<Project> {
  const start = resolve(cwd)
  for (let dir = start; ; dir = dirname(dir)) {
    if (await isFile(join(dir, CONFIG_FILE))) return openProject(dir)
    if (dirname(dir) === dir) throw projectNotFound(start)
  }
}

/** The project whose root is exactly `root` (which must hold xai.config.json). */
export async function openProject(root: string): Promise<Project> {
  const dir = resolve(root)
  const configPath = join(dir, CONFIG_FILE)
  if (!(await isFile(configPath))) throw projectNotFound(dir)
  return {root: dir, configPath, config: await loadConfig(configPath), paths: projectPaths(dir)}
}

/** hardhat.config.* files that make a folder a Hardhat project. */
export const HARDHAT_CONFIGS = ['hardhat.config.ts', 'hardhat.config.js', 'hardhat.config.cjs', 'hardhat.config.mjs', 'hardhat.config.cts', 'hardhat.config.mts']

/**
 * The project `deploy`/`call`/`send` work in: the nearest folder at or above `cwd` that has an
 * xai.config.json (an xai project), a foundry.toml (artifacts from its `out` folder, default
 * out/, as `forge build` writes them) or a hardhat.config.* (artifacts/, as `hardhat compile`
 * writes them); in one folder xai.config.json wins. `project` names the folder instead of
 * searching; `artifacts` takes the artifacts from that folder (either format, detected per file)
 * and also works with no project around (the root is then `cwd`). Foreign artifacts are never
 * compiled by xai: build them with the project's own tool first.
 *
 * @example
 * const project = await findDeployProject(process.cwd()) // in a Foundry repo: artifacts from out/
 */
export async function findDeployProject(cwd: string, options: {project?: string; artifacts?: string} = {}): Promise<Project> {
  const start = resolve(cwd)
  let found: Project | undefined
  if (options.project !== undefined) {
    found = await detectProject(resolve(options.project))
    if (found === undefined) throw projectNotFound(resolve(options.project))
  } else {
    for (let dir = start; ; dir = dirname(dir)) {
      found = await detectProject(dir)
      if (found !== undefined || dirname(dir) === dir) break
    }
  }
  if (options.artifacts !== undefined) {
    const dir = resolve(start, options.artifacts)
    const base = found ?? {root: start, configPath: join(start, CONFIG_FILE), config: defaultConfig(), paths: projectPaths(start)}
    return {...base, paths: {...base.paths, artifacts: dir, buildInfo: join(dir, 'build-info')}, external: {kind: 'folder', dir}}
  }
  if (found === undefined) throw projectNotFound(start)
  return found
}

async function detectProject(dir: string): Promise<Project | undefined> {
  if (await isFile(join(dir, CONFIG_FILE))) return openProject(dir)
  const foreign = (kind: 'foundry' | 'hardhat', artifacts: string): Project => ({
    root: dir,
    configPath: join(dir, CONFIG_FILE),
    config: defaultConfig(),
    paths: {...projectPaths(dir), artifacts, buildInfo: join(artifacts, 'build-info')},
    external: {kind, dir: artifacts},
  })
  if (await isFile(join(dir, 'foundry.toml'))) {
    const out = parseFoundryToml(await readFile(join(dir, 'foundry.toml'), 'utf8')).out ?? 'out'
    return foreign('foundry', resolve(dir, out))
  }
  for (const name of HARDHAT_CONFIGS) if (await isFile(join(dir, name))) return foreign('hardhat', join(dir, 'artifacts'))
  return undefined
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
