import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'

import {XAI_CLI, cliEnv} from './devnet.js'

/** What a CLI run printed and how it ended, for e2e tests that spawn `bin/run.js`. */
export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Parses stdout as exactly one JSON document, failing with the whole output when it is not. */
export function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.exitCode}):\n${result.stdout}\n--- stderr ---\n${result.stderr}`)
  }
}

/** The whole output of a run, for assertion messages. */
export function explain(result: CliResult): string {
  return `exit ${result.exitCode}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`
}

/** Runs the CLI under test (`bin/run.js`, built) in `cwd` with the tests' environment; never rejects. */
export async function runXai(args: string[], cwd: string, timeout = 120_000): Promise<CliResult> {
  const result = await execa(process.execPath, [XAI_CLI, ...args], {cwd, env: cliEnv(), extendEnv: false, reject: false, timeout, stdin: 'ignore'})
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}

/**
 * A contracts project made by the CLI in a new temporary folder (`<tmp>/proj`): init, then an
 * ERC-20 `Token` from its template, compiled unless `compile` is false.
 */
export async function tokenProject(prefix: string, options: {compile?: boolean} = {}): Promise<{tmp: string; project: string}> {
  const tmp = await mkdtemp(join(tmpdir(), prefix))
  const project = join(tmp, 'proj')
  const steps: [string[], string][] = [
    [['contract', 'init', 'proj'], tmp],
    [['contract', 'new', 'Token', '--template', 'erc20'], project],
    ...(options.compile === false ? [] : [[['contract', 'compile'], project] as [string[], string]]),
  ]
  for (const [args, cwd] of steps) {
    const result = await runXai(args, cwd)
    if (result.exitCode !== 0) throw new Error(`xai ${args.join(' ')} failed:\n${explain(result)}`)
  }
  return {tmp, project}
}
