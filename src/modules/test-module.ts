import {existsSync} from 'node:fs'
import {readFile, readdir} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {type ModuleSourceFinding, checkModuleSource} from './check-module-source.js'
import {ModuleDeterminismError} from './determinism-guard.js'
import {ModulesErrorCode, moduleError} from './errors.js'
import {type NativeModule, moduleCodeHash} from './module.js'
import {loadModuleSource} from './host/load-module.js'
import {type ModuleWorkload, ModuleReplayDivergenceError, replayDeterminism} from './test-kit.js'

export interface TestModuleOptions {
  /** The module folder (with src/<name>.ts). */
  dir: string
  /** How many runs the replay compares (default 2). */
  runs?: number
  /**
   * Loads a TypeScript file as an ES module; by default tsx's `tsImport` when it is installed.
   * Without a loader the replay is skipped and the result says why.
   */
  loadTs?: (path: string) => Promise<Record<string, unknown>>
}

export interface SourceFinding extends ModuleSourceFinding {
  /** The file, relative to the module folder. */
  file: string
}

export interface TestModuleResult {
  folder: string
  /** The main source, relative to the folder. */
  source: string
  codeHash: `0x${string}`
  id?: string
  version?: string
  static: {ok: boolean; files: string[]; findings: SourceFinding[]}
  replay: {ran: true; runs: number; steps: number; events: number; gas: Record<string, {calls: number; min: string; max: string}>} | {ran: false; reason: string}
  /** True when the replay ran the module in the node's QuickJS sandbox (as the chain will). */
  sandboxed?: boolean
}

async function listSources(dir: string, prefix = 'src'): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(join(dir, prefix), {withFileTypes: true})) {
    const path = `${prefix}/${entry.name}`
    if (entry.isDirectory()) out.push(...(await listSources(dir, path)))
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out.sort()
}

async function defaultLoadTs(): Promise<((path: string) => Promise<Record<string, unknown>>) | undefined> {
  try {
    const specifier = 'tsx/esm/api'
    const api = (await import(specifier)) as {tsImport(url: string, parent: string): Promise<Record<string, unknown>>}
    return (path) => api.tsImport(pathToFileURL(path).href, import.meta.url)
  } catch {
    return undefined
  }
}

function isNativeModule(value: unknown): value is NativeModule {
  const mod = value as NativeModule | undefined
  return (
    typeof mod === 'object' && mod !== null && typeof mod.manifest?.id === 'string' && Array.isArray(mod.abi) &&
    typeof mod.calls === 'object' && typeof mod.gas === 'object' && typeof (mod.params as {parse?: unknown})?.parse === 'function'
  )
}

function isWorkload(value: unknown): value is ModuleWorkload {
  const workload = value as ModuleWorkload | undefined
  return typeof workload === 'object' && workload !== null && typeof workload.step === 'function' && Number.isInteger(workload.steps)
}

/**
 * Checks a module folder: the static determinism check of every source under src/, then (when
 * the main source exports `workload`) the determinism replay of that workload on fresh harnesses.
 * Any finding or divergence is a usage error (exit 2) naming the file:line:col or the step.
 */
export async function testModule(options: TestModuleOptions): Promise<TestModuleResult> {
  const folder = resolve(options.dir)
  if (!existsSync(join(folder, 'src'))) {
    throw moduleError(ModulesErrorCode.sourceNotFound, `${folder} has no src/ folder`, {hint: 'Run the command in (or pass) a folder made by `xai module create <name>`.', details: {folder}})
  }
  const files = await listSources(folder)
  const named = `src/${basename(folder)}.ts`
  const source = files.includes(named) ? named : files.length === 1 ? files[0]! : undefined
  if (!source) {
    throw moduleError(ModulesErrorCode.sourceNotFound, `Cannot tell the module's source in ${folder}/src: expected ${named}`, {
      hint: 'Name the main source after the module folder (src/<folder>.ts).',
      details: {folder, files},
    })
  }

  const findings: SourceFinding[] = []
  for (const file of files) {
    for (const finding of checkModuleSource(await readFile(join(folder, file), 'utf8')).findings) findings.push({file, ...finding})
  }
  const mainText = await readFile(join(folder, source), 'utf8')
  const codeHash = moduleCodeHash(mainText)
  if (findings.length > 0) {
    const first = findings[0]!
    throw moduleError(ModulesErrorCode.nondeterministicSource, `${first.file}:${first.line}:${first.col} ${first.message}${findings.length > 1 ? ` (and ${findings.length - 1} more)` : ''}`, {
      hint: 'Module code must be deterministic: no clock, randomness, timers, I/O or floating point; use ctx.height/ctx.timestamp and bigint.',
      details: {findings: findings.map((finding) => `${finding.file}:${finding.line}:${finding.col} [${finding.rule}] ${finding.message}`)},
    })
  }

  const result: TestModuleResult = {folder, source, codeHash, static: {ok: true, files, findings}, replay: {ran: false, reason: ''}}
  const loadTs = options.loadTs ?? (await defaultLoadTs())
  if (!loadTs) {
    result.replay = {ran: false, reason: 'no TypeScript loader: install tsx to load the module and replay its workload'}
    return result
  }
  let exports: Record<string, unknown>
  try {
    exports = await loadTs(join(folder, source))
  } catch (err) {
    throw moduleError(ModulesErrorCode.loadFailed, `Cannot load ${source}: ${err instanceof Error ? err.message : String(err)}`, {cause: err, hint: 'Check that its imports (xai/modules, viem, zod) resolve from the module folder.'})
  }
  // A folder without "type": "module" is loaded as CommonJS: its exports sit under `default`.
  const nested = exports.default as Record<string, unknown> | undefined
  if (!isNativeModule(exports.default) && nested && isNativeModule(nested.default)) exports = nested
  const module = exports.default
  if (!isNativeModule(module)) {
    throw moduleError(ModulesErrorCode.invalidModule, `${source} does not export a NativeModule as its default export`, {hint: 'export default {manifest, params, abi, calls, gas} satisfying NativeModule from xai/modules.'})
  }
  result.id = module.manifest.id
  result.version = module.manifest.version
  if (!isWorkload(exports.workload)) {
    result.replay = {ran: false, reason: `${source} exports no workload`}
    return result
  }
  // The workload comes from the TypeScript loaded here; the module itself runs in the sandbox the
  // node runs it in, with the same metering.
  let sandboxed: NativeModule
  try {
    sandboxed = await loadModuleSource(mainText)
  } catch (err) {
    throw moduleError(ModulesErrorCode.loadFailed, `${source} does not load in the module sandbox: ${err instanceof Error ? err.message : String(err)}`, {cause: err, hint: 'The node runs user modules in QuickJS: imports are xai/modules, zod and viem\'s helpers; zod schemas cannot hold functions.'})
  }
  result.sandboxed = true
  try {
    const report = replayDeterminism(sandboxed, exports.workload, options.runs ?? 2)
    const gas = Object.fromEntries(Object.entries(report.gas).map(([name, g]) => [name, {calls: g.calls, min: g.min.toString(), max: g.max.toString()}]))
    result.replay = {ran: true, runs: report.runs, steps: report.steps, events: report.events, gas}
  } catch (err) {
    if (err instanceof ModuleReplayDivergenceError) {
      throw moduleError(ModulesErrorCode.replayDiverged, `Replay not deterministic: ${err.message}`, {
        hint: 'The module keeps state outside its storage or depends on something other than its inputs (module-level variables, iteration order of shared objects).',
        details: {step: err.step, call: err.description, run: err.run},
      })
    }
    if (err instanceof ModuleDeterminismError) {
      throw moduleError(ModulesErrorCode.determinismViolation, err.message, {details: {touched: err.touched}})
    }
    throw err
  }
  return result
}
