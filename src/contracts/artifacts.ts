import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import type {Abi, Hex} from 'viem'

import {ExitCode, XaiError} from '../util/errors.js'
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
        // Hardhat's Token.dbg.json and Foundry's per-version Token.0.8.20.json are not contracts.
        if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(contractName)) continue
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
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new XaiError(ContractsErrorCode.artifactCorrupt, `Cannot read the artifact ${matches[0]!.path}: ${(err as Error).message}`, {
      hint: 'Rebuild it: xai contract compile --force',
      cause: err,
    })
  }
  if ((parsed as Partial<Artifact> | null)?._format === ARTIFACT_FORMAT) return parsed as Artifact
  try {
    return fromForeignArtifact(parsed, matches[0]!)
  } catch (err) {
    throw new XaiError(ContractsErrorCode.artifactCorrupt, `Cannot read the artifact ${matches[0]!.path}: ${(err as Error).message}`, {
      exitCode: ExitCode.usage,
      hint: project.external ? `Rebuild it with the project's own tool (forge build / npx hardhat compile).` : 'Rebuild it: xai contract compile --force',
    })
  }
}

type LinkReferences = Artifact['linkReferences']

/**
 * A Foundry (`out/<File>.sol/<Name>.json`: abi, bytecode.object, deployedBytecode.object) or
 * Hardhat (`artifacts/<source>/<Name>.json`: abi, bytecode, deployedBytecode as hex strings)
 * artifact, checked and turned into ours. Anything else is refused with the reason.
 *
 * @example
 * fromForeignArtifact({abi: [], bytecode: {object: '0x6080'}, deployedBytecode: {object: '0x6080'}}, ref).bytecode // '0x6080'
 */
export function fromForeignArtifact(value: unknown, ref: Pick<ArtifactRef, 'contractName' | 'sourceName'>): Artifact {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object')
  const doc = value as Record<string, unknown>
  if (!Array.isArray(doc.abi)) throw new Error('no "abi" array (is it a Foundry out/ or Hardhat artifacts/ file?)')
  const code = (field: 'bytecode' | 'deployedBytecode'): {object: Hex; sourceMap: string; linkReferences: LinkReferences} => {
    const raw = doc[field]
    const holder = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : undefined
    const object = holder ? holder.object : raw
    if (typeof object !== 'string') throw new Error(`"${field}" is neither a hex string (Hardhat) nor {object} (Foundry)`)
    const hex = object.startsWith('0x') ? object : `0x${object}`
    // Unlinked library placeholders (__$…$__) are kept: deploy refuses them with its own message.
    if (!/^0x([0-9a-fA-F]|__\$[0-9a-fA-F]{34}\$__)*$/.test(hex) || hex.length % 2 !== 0) throw new Error(`"${field}" is not hex`)
    const linkSource = holder ? holder.linkReferences : doc[field === 'bytecode' ? 'linkReferences' : 'deployedLinkReferences']
    const sourceMap = holder ? holder.sourceMap : undefined
    return {object: hex as Hex, sourceMap: typeof sourceMap === 'string' ? sourceMap : '', linkReferences: isRecord(linkSource) ? (linkSource as LinkReferences) : {}}
  }
  const bytecode = code('bytecode')
  const deployed = code('deployedBytecode')
  const metadata = typeof doc.metadata === 'string' ? safeJson(doc.metadata) : doc.metadata
  const compilerVersion = isRecord(metadata) && isRecord(metadata.compiler) && typeof metadata.compiler.version === 'string' ? metadata.compiler.version : 'unknown'
  const target = isRecord(metadata) && isRecord(metadata.settings) && isRecord(metadata.settings.compilationTarget) ? Object.keys(metadata.settings.compilationTarget)[0] : undefined
  return {
    _format: ARTIFACT_FORMAT,
    contractName: typeof doc.contractName === 'string' ? doc.contractName : ref.contractName,
    sourceName: typeof doc.sourceName === 'string' ? doc.sourceName : (target ?? ref.sourceName),
    abi: doc.abi as Abi,
    bytecode: bytecode.object,
    deployedBytecode: deployed.object,
    linkReferences: bytecode.linkReferences,
    deployedLinkReferences: deployed.linkReferences,
    storageLayout: doc.storageLayout ?? null,
    sourceMap: bytecode.sourceMap,
    deployedSourceMap: deployed.sourceMap,
    compiler: {version: compilerVersion, settings: {optimizer: {enabled: false, runs: 0}, evmVersion: 'unknown'}},
    buildInfo: '',
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
