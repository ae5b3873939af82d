import {stat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'

import {CONFIG_FILE, type XaiConfig, loadConfig} from './config.js'
import {projectNotFound} from './errors.js'

/** A contracts project: its root folder (holding xai.config.json), config and fixed layout. */
export interface Project {
  root: string
  configPath: string
  config: XaiConfig
  paths: ProjectPaths
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

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
