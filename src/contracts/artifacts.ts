import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import type {Abi, Hex} from 'viem'

import {XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'
import type {Project} from './project.js'
import {toSourceName} from './sources.js'

export const ARTIFACT_FORMAT = 'xai-artifact-1'

/** One compiled contract: artifacts/<sourceName>/<contractName>.json */
export interface Artifact {
  _format: typeof ARTIFACT_FORMAT
  contractName: string
  /** The source unit, relative to the project root: contracts/Token.sol */
  sourceName: string
  abi: Abi
  /** Creation code, 0x-prefixed ("0x" for interfaces and abstract contracts). */
  bytecode: Hex
  /** Runtime code, 0x-prefixed: what eth_getCode returns after deployment. */
  deployedBytecode: Hex
  /** Library placeholders in the bytecode to fill before deploying (solc's linkReferences). */
  linkReferences: Record<string, Record<string, {start: number; length: number}[]>>
  deployedLinkReferences: Record<string, Record<string, {start: number; length: number}[]>>
  /** solc's storage layout: slots, offsets and types of the state variables. */
  storageLayout: unknown
  sourceMap: string
  deployedSourceMap: string
  compiler: {version: string; settings: {optimizer: {enabled: boolean; runs: number}; evmVersion: string}}
  /** Id of artifacts/build-info/<id>.json: the exact solc input that produced this artifact. */
  buildInfo: string
}

/** An artifact's identity and where it is. */
export interface ArtifactRef {
  contractName: string
  sourceName: string
  /** `sourceName:contractName`, unique in a project. */
  fullyQualifiedName: string
  /** Relative to the project root: artifacts/contracts/Token.sol/Token.json */
  path: string
}

/** Build info: everything needed to reproduce (or verify) a compile. */
export interface BuildInfo {
  _format: 'xai-build-info-1'
  id: string
  solcVersion: string
  solcLongVersion: string
  input: unknown
}

export function artifactPath(project: Project, sourceName: string, contractName: string): string {
  return join(project.paths.artifacts, ...sourceName.split('/'), `${contractName}.json`)
}

/** Every artifact in the project, sorted by fully qualified name. */
export async function listArtifacts(project: Project): Promise<ArtifactRef[]> {
  const found: ArtifactRef[] = []
  const walk = async (dir: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (path !== project.paths.buildInfo) await walk(path)
      } else if (entry.isFile() && entry.name.endsWith('.json') && !entry.name.startsWith('.') && dir.endsWith('.sol')) {
        const sourceName = toSourceName(project.paths.artifacts, dir)
        const contractName = entry.name.slice(0, -'.json'.length)
        found.push({contractName, sourceName, fullyQualifiedName: `${sourceName}:${contractName}`, path: toSourceName(project.root, path)})
      }
    }
  }
  await walk(project.paths.artifacts)
  return found.sort((a, b) => a.fullyQualifiedName.localeCompare(b.fullyQualifiedName))
}

/**
 * The artifact of a contract, by name (`Token`) or fully qualified name
 * (`contracts/Token.sol:Token`, needed when two sources declare the same name).
 *
 * @example
 * const {abi, bytecode} = await readArtifact(project, 'Token')
 */
export async function readArtifact(project: Project, name: string): Promise<Artifact> {
  const all = await listArtifacts(project)
  const matches = name.includes(':') ? all.filter((a) => a.fullyQualifiedName === name) : all.filter((a) => a.contractName === name)
  if (matches.length === 0) {
    const names = [...new Set(all.map((a) => a.contractName))]
    throw new XaiError(ContractsErrorCode.artifactNotFound, `No compiled contract named ${name}`, {
      hint: all.length === 0 ? 'Compile first: xai contract compile' : `Known contracts: ${names.join(', ')} (run \`xai contract compile\` if ${name} is new).`,
      details: {name, candidates: names},
    })
  }
  if (matches.length > 1) {
    const candidates = matches.map((a) => a.fullyQualifiedName)
    throw new XaiError(ContractsErrorCode.artifactAmbiguous, `${matches.length} compiled contracts are named ${name}: ${candidates.join(', ')}`, {
      hint: `Name one by source: ${candidates[0]}`,
      details: {name, candidates},
    })
  }
  const file = join(project.root, matches[0]!.path)
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Artifact
  } catch (err) {
    throw new XaiError(ContractsErrorCode.artifactCorrupt, `Cannot read the artifact ${matches[0]!.path}: ${(err as Error).message}`, {
      hint: 'Rebuild it: xai contract compile --force',
      cause: err,
    })
  }
}
