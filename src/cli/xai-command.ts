import {Command, Errors, Flags, Interfaces} from '@oclif/core'

import {reportCommandError} from './command-error.js'
import {applyUserConfig} from './user-config.js'

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

  /** User settings (`xai config`) fill in the XAI_* variables the environment leaves unset, before flags are parsed. */
  override async init(): Promise<void> {
    const {warning} = applyUserConfig(process.env)
    if (warning) process.stderr.write(`${warning}\n`)
    await super.init()
  }

  /** --json, or the user setting json=true (XAI_JSON=true). */
  override jsonEnabled(): boolean {
    return super.jsonEnabled() || process.env.XAI_JSON === 'true' || process.env.XAI_JSON === '1'
  }

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
