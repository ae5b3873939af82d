import {CLIError} from '@oclif/core/errors'

import {XaiError, errorMessage, isXaiError} from '../util/errors.js'

/**
 * Prints an error the way every xai command does — `✖ message [CODE]` and `Hint: …` on stderr, or
 * `{"error": …}` on stdout with --json — and returns it as an XaiError, whose exit code the
 * process ends with. Only the oclif error classes are loaded here, not the CLI framework, so an
 * entry point without oclif's runtime reports errors exactly as the commands do.
 */
export function reportCommandError(err: unknown, json: boolean): XaiError {
  const xai = toXaiError(err instanceof Error ? err : new Error(String(err)))
  if (json) {
    process.stdout.write(`${JSON.stringify({error: xai.toJSON()}, null, 2)}\n`)
  } else {
    process.stderr.write(`✖ ${xai.message} [${xai.code}]\n`)
    if (xai.hint) process.stderr.write(`Hint: ${xai.hint}\n`)
  }
  return xai
}

function toXaiError(err: Error & {oclif?: {exit?: number}}): XaiError {
  if (isXaiError(err)) return err
  if (err instanceof CLIError || err.name === 'NonExistentFlagsError' || /flag|argument/i.test(err.constructor.name)) {
    const exit = err.oclif?.exit
    if (exit === 0) return new XaiError('OK', err.message)
    return new XaiError('USAGE', usageMessage(err.message), {
      hint: 'Run the command with --help to see its flags and examples.',
    })
  }
  return new XaiError('INTERNAL', errorMessage(err), {
    cause: err,
    hint: 'This is a bug in xai; the log of the command above may say more.',
  })
}

/**
 * oclif's first line, plus its reason when the first line is only "Parsing --flag" or a heading
 * such as "The following error occurred:" (whose reasons follow on indented lines).
 */
export function usageMessage(message: string): string {
  const [first = message, ...rest] = message.split('\n')
  const reasons = rest.filter((line) => /^\s+\S/.test(line)).map((line) => line.trim())
  if (/^Parsing --\S+\s*$/.test(first) && rest[0]?.trim()) return `${first.trim()}: ${rest[0].trim()}`
  if (/:\s*$/.test(first) && reasons.length > 0) return reasons.join('; ')
  return first
}
