import {readdir, rm, rmdir, stat} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {setImmediate as yieldToEventLoop} from 'node:timers/promises'

import type {Abi, Hex} from 'viem'

import {writeJsonAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {ARTIFACT_FORMAT, type Artifact, type ArtifactRef, type BuildInfo, artifactPath, listArtifacts} from './artifacts.js'
import {type CompileCache, COMPILE_CACHE_FORMAT, readCompileCache, writeCompileCache} from './compile-cache.js'
import {type Diagnostic, toDiagnostic} from './diagnostics.js'
import {ContractsErrorCode} from './errors.js'
import type {Project} from './project.js'
import {formatRemapping, loadRemappings} from './remappings.js'
import {type SolcCandidate, type SolcCompiler, type SolcInput, type SolcOutput, bundledSolcVersion, findProjectCompilers, loadSolc, loadSolcFrom, selectCompiler, solidityPragmas} from './solc.js'
import {closureHash, dependencyClosure, listSolidityFiles, loadSourceGraph, sha256} from './sources.js'

/** Bumped when what goes into an artifact changes, so every cached source is rebuilt. */
const OUTPUT_VERSION = 1

const OUTPUT_SELECTION = [
  'abi',
  'storageLayout',
  'evm.bytecode.object',
  'evm.bytecode.sourceMap',
  'evm.bytecode.linkReferences',
  'evm.deployedBytecode.object',
  'evm.deployedBytecode.sourceMap',
  'evm.deployedBytecode.linkReferences',
]

/** Progress of a compile, in order: plan, then (when something is stale) load, compile, write. */
export type CompileEvent =
  | {type: 'plan'; compile: string[]; upToDate: string[]}
  | {type: 'load-compiler'; version: string}
  | {type: 'compiler-loaded'; version: string; ms: number}
  | {type: 'compile'; sources: string[]; inputs: number}
  | {type: 'compiled'; ms: number}
  | {type: 'write'; artifacts: number}

export interface CompileProjectOptions {
  /** Recompile every source, ignoring the cache. */
  force?: boolean
  onEvent?: (event: CompileEvent) => void
  /** The compiler; default the bundled solc-js, loaded on first need. */
  loadCompiler?: () => Promise<SolcCompiler>
}

export interface CompileProjectResult {
  /** Sources (under contracts/) compiled by this run, sorted. */
  compiled: string[]
  /** Sources whose artifacts were already current. */
  upToDate: string[]
  /** solc's warnings (and infos) for the sources compiled by this run. */
  warnings: Diagnostic[]
  /** Every artifact of the project after this run. */
  artifacts: ArtifactRef[]
  /** The bundled solc version (e.g. 0.8.37), and its long form when it was loaded. */
  solcVersion: string
  solcLongVersion: string | null
  /** The build info written by this run, if it compiled anything. */
  buildInfo: string | null
}

/**
 * Compiles the project's contracts/**\/*.sol with the bundled solc-js (standard JSON, settings
 * from xai.config.json) into artifacts/<source>/<Contract>.json, incrementally: a source is
 * recompiled only when it or something it imports changed (cache/compile.json), or when the
 * compiler or settings did. Nothing is written unless the compile succeeds, so a failing compile
 * leaves the previous artifacts in place. Fails with CONTRACT_COMPILE_FAILED (details.diagnostics)
 * or CONTRACT_IMPORT_NOT_FOUND.
 *
 * @example
 * const project = await findProject(process.cwd())
 * const {compiled, upToDate} = await compileProject(project)
 */
export async function compileProject(project: Project, options: CompileProjectOptions = {}): Promise<CompileProjectResult> {
  const emit = options.onEvent ?? (() => {})
  const settings = {optimizer: {...project.config.solc.optimizer}, evmVersion: project.config.solc.evmVersion}
  const remappings = await loadRemappings(project.root)
  const solcRemappings = remappings.map(formatRemapping)
  const settingsHash = sha256(JSON.stringify({settings, outputs: OUTPUT_SELECTION, version: OUTPUT_VERSION, remappings: solcRemappings}))

  const roots = await listSolidityFiles(project.root, project.paths.contracts)
  const graph = await loadSourceGraph(project.root, roots, {remappings})
  // One compiler for the project: the newest it installed that every pragma accepts, else the bundled one.
  const pragmas = [...graph.values()].flatMap((file) => solidityPragmas(file.content).map((range) => ({source: file.sourceName, range})))
  const bundled: SolcCandidate = {version: bundledSolcVersion(), label: 'bundled'}
  const compiler = options.loadCompiler ? bundled : selectCompiler(pragmas, findProjectCompilers(project.root), bundled)
  const solcVersion = compiler.dir === undefined ? compiler.version : `${compiler.version} (node_modules/${compiler.label})`
  const previous = await readCompileCache(project.paths.compileCache)
  const reusable = !options.force && previous?.solcVersion === solcVersion && previous.settingsHash === settingsHash ? previous : undefined

  const closures = new Map(roots.map((root) => [root, closureHash(graph, root)]))
  const stale: string[] = []
  const upToDate: string[] = []
  for (const root of roots) {
    const entry = reusable?.sources[root]
    const fresh = entry !== undefined && entry.closureHash === closures.get(root) && (await allExist(entry.contracts.map((c) => artifactPath(project, root, c))))
    ;(fresh ? upToDate : stale).push(root)
  }
  emit({type: 'plan', compile: stale, upToDate})

  let warnings: Diagnostic[] = []
  let solcLongVersion: string | null = null
  let buildInfo: string | null = null
  const written = new Map<string, string[]>()

  if (stale.length > 0) {
    emit({type: 'load-compiler', version: solcVersion})
    const loadStarted = performance.now()
    const solc = await (options.loadCompiler ?? (compiler.dir === undefined ? loadSolc : () => loadSolcFrom(compiler.dir!)))()
    solcLongVersion = solc.version()
    emit({type: 'compiler-loaded', version: solcLongVersion, ms: Math.round(performance.now() - loadStarted)})

    const inputs = [...dependencyClosure(graph, stale)].sort()
    const input: SolcInput = {
      language: 'Solidity',
      sources: Object.fromEntries(inputs.map((name) => [name, {content: graph.get(name)!.content}])),
      settings: {
        optimizer: settings.optimizer,
        evmVersion: settings.evmVersion,
        ...(solcRemappings.length > 0 ? {remappings: solcRemappings} : {}),
        outputSelection: Object.fromEntries(stale.map((name) => [name, {'*': OUTPUT_SELECTION}])),
      },
    }
    const json = JSON.stringify(input)
    emit({type: 'compile', sources: stale, inputs: inputs.length})
    await yieldToEventLoop() // let a progress renderer draw before solc blocks the thread
    const compileStarted = performance.now()
    const output = JSON.parse(solc.compile(json, {import: (path) => ({error: `File not found: ${path} (imports are resolved before compiling)`})})) as SolcOutput
    emit({type: 'compiled', ms: Math.round(performance.now() - compileStarted)})

    const contents = new Map([...graph].map(([name, file]) => [name, file.content]))
    const diagnostics = dedupe((output.errors ?? []).map((error) => toDiagnostic(error, contents)))
    const errors = diagnostics.filter((d) => d.severity === 'error')
    if (errors.length > 0) {
      const files = [...new Set(errors.flatMap((e) => (e.file ? [e.file] : [])))]
      throw new XaiError(
        ContractsErrorCode.compileFailed,
        `Compilation failed: ${errors.length} error${errors.length === 1 ? '' : 's'}${files.length > 0 ? ` in ${files.join(', ')}` : ''}`,
        {
          hint: 'Fix the errors above and compile again; the artifacts of the last successful compile are unchanged.',
          details: {diagnostics},
        },
      )
    }
    warnings = diagnostics

    buildInfo = sha256(`${solcLongVersion}\0${json}`).slice(0, 32)
    const info: BuildInfo = {_format: 'xai-build-info-1', id: buildInfo, solcVersion, solcLongVersion, input}
    await writeJsonAtomic(join(project.paths.buildInfo, `${buildInfo}.json`), info)

    const count = stale.reduce((n, name) => n + Object.keys(output.contracts?.[name] ?? {}).length, 0)
    emit({type: 'write', artifacts: count})
    for (const sourceName of stale) {
      const contracts = output.contracts?.[sourceName] ?? {}
      const names = Object.keys(contracts).sort()
      for (const contractName of names) {
        const out = contracts[contractName]!
        const artifact: Artifact = {
          _format: ARTIFACT_FORMAT,
          contractName,
          sourceName,
          abi: out.abi as Abi,
          bytecode: `0x${out.evm.bytecode.object}` as Hex,
          deployedBytecode: `0x${out.evm.deployedBytecode.object}` as Hex,
          linkReferences: out.evm.bytecode.linkReferences ?? {},
          deployedLinkReferences: out.evm.deployedBytecode.linkReferences ?? {},
          storageLayout: out.storageLayout ?? null,
          sourceMap: out.evm.bytecode.sourceMap ?? '',
          deployedSourceMap: out.evm.deployedBytecode.sourceMap ?? '',
          compiler: {version: solcLongVersion, settings},
          buildInfo,
        }
        await writeJsonAtomic(artifactPath(project, sourceName, contractName), artifact)
      }
      written.set(sourceName, names)
      await removeStaleArtifacts(project, sourceName, new Set(names))
    }
  }

  // Sources that disappeared since the last compile lose their artifacts.
  for (const [sourceName, entry] of Object.entries(previous?.sources ?? {})) {
    if (closures.has(sourceName) || entry.contracts.length === 0) continue
    await removeStaleArtifacts(project, sourceName, new Set())
  }

  const cache: CompileCache = {_format: COMPILE_CACHE_FORMAT, solcVersion, settingsHash, sources: {}}
  for (const [sourceName, file] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    const isRoot = closures.has(sourceName)
    const kept = reusable?.sources[sourceName]
    cache.sources[sourceName] = {
      contentHash: file.contentHash,
      imports: file.imports,
      closureHash: closureHash(graph, sourceName),
      contracts: !isRoot ? [] : (written.get(sourceName) ?? kept?.contracts ?? []),
      buildInfo: !isRoot ? null : written.has(sourceName) ? buildInfo : (kept?.buildInfo ?? null),
    }
  }
  await writeCompileCache(project.paths.compileCache, cache)
  await removeUnusedBuildInfo(project, new Set(Object.values(cache.sources).flatMap((e) => (e.buildInfo ? [e.buildInfo] : []))))

  return {
    compiled: stale,
    upToDate,
    warnings,
    artifacts: (await listArtifacts(project)).filter((a) => closures.has(a.sourceName)),
    solcVersion,
    solcLongVersion,
    buildInfo,
  }
}

async function allExist(paths: string[]): Promise<boolean> {
  for (const path of paths) {
    try {
      await stat(path)
    } catch {
      return false
    }
  }
  return true
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  return diagnostics.filter((d) => !seen.has(d.formatted) && seen.add(d.formatted) !== undefined)
}

/** Deletes artifacts/<sourceName>/*.json not in `keep`, and the folder (and empty parents) when empty. */
async function removeStaleArtifacts(project: Project, sourceName: string, keep: ReadonlySet<string>): Promise<void> {
  const dir = join(project.paths.artifacts, ...sourceName.split('/'))
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch {
    return
  }
  for (const entry of entries) {
    if (entry.endsWith('.json') && !keep.has(entry.slice(0, -'.json'.length))) await rm(join(dir, entry), {force: true})
  }
  for (let folder = dir; folder.startsWith(`${project.paths.artifacts}/`) || folder.startsWith(`${project.paths.artifacts}\\`); folder = dirname(folder)) {
    try {
      await rmdir(folder)
    } catch {
      break
    }
  }
}

async function removeUnusedBuildInfo(project: Project, used: ReadonlySet<string>): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(project.paths.buildInfo)
  } catch {
    return
  }
  for (const entry of entries) {
    if (entry.endsWith('.json') && !used.has(entry.slice(0, -'.json'.length))) await rm(join(project.paths.buildInfo, entry), {force: true})
  }
}
