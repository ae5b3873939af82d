import {Command, Errors, Flags, Interfaces} from '@oclif/core'

import {ExitCode, XaiError, errorMessage, isXaiError} from '../errors.js'

export type XaiFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof XaiCommand)['baseFlags'] & T['flags']>

/**
 * Base of every xai command: `--json` prints the command's result as one JSON document on
 * stdout; errors are printed as `✖ message [CODE]` with a hint (or as `{"error": …}` with
 * `--json`) and end the process with the exit code their kind calls for.
 */
export abstract class XaiCommand<T> extends Command {
  static override enableJsonFlag = true

  /** Aborted on SIGINT/SIGTERM so long-running commands can stop cleanly. */
  protected readonly abort = new AbortController()

  protected get signal(): AbortSignal {
    return this.abort.signal
  }

  abstract override run(): Promise<T>

  /** Commentary for humans: stderr, and nothing at all with --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    const xai = toXaiError(err)
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({error: xai.toJSON()}, null, 2)}\n`)
    } else {
      process.stderr.write(`✖ ${xai.message} [${xai.code}]\n`)
      if (xai.hint) process.stderr.write(`Hint: ${xai.hint}\n`)
    }
    process.exitCode = xai.exitCode
    throw new Errors.ExitError(xai.exitCode)
  }
}

function toXaiError(err: Error & {oclif?: {exit?: number}}): XaiError {
  if (isXaiError(err)) return err
  if (err instanceof Errors.CLIError || err.name === 'NonExistentFlagsError' || /flag|argument/i.test(err.constructor.name)) {
    const exit = err.oclif?.exit
    if (exit === 0) return new XaiError('OK', err.message, {exitCode: ExitCode.ok})
    return new XaiError('USAGE', usageMessage(err.message), {
      exitCode: ExitCode.usage,
      hint: 'Run the command with --help to see its flags and examples.',
    })
  }
  return new XaiError('INTERNAL', errorMessage(err), {
    exitCode: ExitCode.bug,
    cause: err,
    hint: 'This is a bug in xai; the log of the command above may say more.',
  })
}

/** oclif's first line, plus its reason when the first line is only "Parsing --flag". */
function usageMessage(message: string): string {
  const [first = message, second] = message.split('\n')
  return /^Parsing --\S+\s*$/.test(first) && second?.trim() ? `${first.trim()}: ${second.trim()}` : first
}

export const rpcFlags = {
  'rpc-url': Flags.string({description: 'JSON-RPC endpoint', env: 'ETH_RPC_URL'}),
}
