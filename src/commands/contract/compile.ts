import {Flags} from '@oclif/core'

import {type TaskUpdate, createTaskList, taskListOutput} from '../../cli/task-list.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {type CompileEvent, type CompileProjectResult, compileProject} from '../../contracts/compile-project.js'
import type {Diagnostic} from '../../contracts/diagnostics.js'
import {ContractsErrorCode} from '../../contracts/errors.js'
import {findProject, openProject} from '../../contracts/project.js'
import {isXaiError} from '../../util/errors.js'

export default class ContractCompile extends XaiCommand<CompileProjectResult> {
  static override summary = 'Compile contracts/**/*.sol into artifacts/, recompiling only what changed.'
  static override description = `Compiles with the newest solc-js the project installed (node_modules, npm aliases such as solc-0.8.20@npm:solc@0.8.20 included) that every pragma accepts, else the one bundled with xai (never downloaded), using the optimizer and EVM version of xai.config.json. Imports starting with ./ or ../ are relative to the importing file; others go through remappings (remappings.txt, foundry.toml, lib/<name>/src), then the project root, then node_modules packages (@openzeppelin/contracts/...).

Writes artifacts/<source>/<Contract>.json (abi, bytecode, deployedBytecode, storageLayout, source maps, compiler settings, build info id) and artifacts/build-info/<id>.json (the solc input). cache/compile.json records each source's hash and imports: a source is recompiled when it or anything it imports changes, or when the settings do; the rest is reported up to date. --force recompiles everything.

Errors are printed as path:line:col: severity: message, the source line and a caret; the command then exits with 2 and leaves the previous artifacts as they were. Warnings are printed and do not fail the compile.`

  static override examples = [
    {description: 'Compile what changed', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Recompile everything', command: '<%= config.bin %> <%= command.id %> --force'},
    {description: 'The ABI of a contract, for scripts', command: '<%= config.bin %> <%= command.id %> --json >/dev/null && jq .abi artifacts/contracts/Token.sol/Token.json'},
    {description: 'Fail a CI step on warnings too', command: "<%= config.bin %> <%= command.id %> --json | jq -e '.warnings | length == 0'"},
    {description: 'A project elsewhere', command: '<%= config.bin %> <%= command.id %> --project ../my-contracts'},
  ]

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'Recompile every source, ignoring the cache', default: false, env: 'XAI_FORCE'}),
    project: Flags.string({description: 'Project folder [default: the nearest folder up from here with xai.config.json]', env: 'XAI_PROJECT'}),
  }

  async run(): Promise<CompileProjectResult> {
    const {flags} = await this.parse(ContractCompile)
    const project = flags.project ? await openProject(flags.project) : await findProject(process.cwd())
    const json = this.jsonEnabled()
    // On a terminal: load solc, compile, write artifacts (nothing at all when every source is up to date); else one line.
    const progress = createTaskList<CompileEvent>({
      output: taskListOutput(json),
      steps: [
        {id: 'load-compiler', title: 'Load solc'},
        {id: 'compile', title: 'Compile'},
        {id: 'write', title: 'Write artifacts'},
      ],
      lazy: true,
      updates: compileUpdate,
      line: (event) => (event.type === 'compile' ? `Compiling ${event.sources.length} source(s) (${event.inputs} with imports)…` : undefined),
    })
    let result: CompileProjectResult
    try {
      result = await progress.run(() => compileProject(project, {force: flags.force, onEvent: progress.onEvent}))
    } catch (err) {
      if (!json && isXaiError(err) && (err.code === ContractsErrorCode.compileFailed || err.code === ContractsErrorCode.importNotFound)) {
        const diagnostics = (err.details?.diagnostics ?? []) as (Diagnostic | string)[]
        process.stderr.write(`${diagnostics.map((d) => (typeof d === 'string' ? d : d.formatted)).join('\n\n')}\n\n`)
      }
      throw err
    }
    if (!json) {
      if (result.warnings.length > 0) process.stderr.write(`${result.warnings.map((w) => w.formatted).join('\n\n')}\n\n`)
      process.stdout.write(formatCompileResult(result, project.config.solc))
    }
    return result
  }
}

/** The human summary: what was compiled with which settings, and what was already up to date. */
export function formatCompileResult(result: CompileProjectResult, solc: {optimizer: {enabled: boolean; runs: number}; evmVersion: string}): string {
  if (result.compiled.length === 0 && result.upToDate.length === 0) return 'No Solidity sources in contracts/\n'
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  const lines: string[] = []
  if (result.compiled.length > 0) {
    const optimizer = solc.optimizer.enabled ? `optimizer ${solc.optimizer.runs} runs` : 'optimizer off'
    lines.push(`Compiled ${plural(result.compiled.length, 'source')} with solc ${result.solcVersion} (${solc.evmVersion}, ${optimizer}):`)
    for (const source of result.compiled) {
      const contracts = result.artifacts.filter((a) => a.sourceName === source).map((a) => a.contractName)
      lines.push(`  ${source}${contracts.length > 0 ? `  → ${contracts.join(', ')}` : ''}`)
    }
  }
  if (result.upToDate.length > 0) {
    lines.push(result.compiled.length === 0 ? `Nothing to compile: ${plural(result.upToDate.length, 'source')} up to date.` : `${plural(result.upToDate.length, 'source')} up to date.`)
  }
  if (result.warnings.length > 0) lines.push(plural(result.warnings.filter((w) => w.severity === 'warning').length, 'warning') + ' (above).')
  return `${lines.join('\n')}\n`
}

/** How a compile event moves the task list. */
function compileUpdate(event: CompileEvent): TaskUpdate | undefined {
  switch (event.type) {
    case 'load-compiler':
      return {type: 'start', id: 'load-compiler', title: `Load solc ${event.version}`}
    case 'compiler-loaded':
      return {type: 'done', id: 'load-compiler', title: `Loaded solc ${event.version.split('+')[0]} (${event.ms} ms)`}
    case 'compile':
      return {type: 'title', id: 'compile', title: `Compile ${event.sources.length} source(s)`}
    case 'compiled':
      return {type: 'done', id: 'compile', title: `Compiled (${event.ms} ms)`}
    case 'write':
      return {type: 'title', id: 'write', title: `Write ${event.artifacts} artifact(s)`}
    default:
      return undefined
  }
}
