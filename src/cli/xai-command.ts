import {Command, Errors, Flags, Interfaces} from '@oclif/core'

import {reportCommandError} from './command-error.js'

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
    const xai = reportCommandError(err, this.jsonEnabled())
    process.exitCode = xai.exitCode
    throw new Errors.ExitError(xai.exitCode)
  }
}

export const rpcFlags = {
  'rpc-url': Flags.string({description: 'JSON-RPC endpoint', env: 'ETH_RPC_URL'}),
}
