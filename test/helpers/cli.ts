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
