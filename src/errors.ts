/**
 * One error type for the whole toolkit. Every error carries a stable string code, a message
 * that says what went wrong, a hint that names the fix, and the exit code the CLI uses for it.
 */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  environment: 3,
  chainRejected: 4,
  interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface XaiErrorOptions {
  hint?: string
  exitCode?: ExitCode
  cause?: unknown
  details?: Record<string, unknown>
}

export class XaiError extends Error {
  readonly code: string
  readonly hint?: string
  readonly exitCode: ExitCode
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, options: XaiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'XaiError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode ?? ExitCode.bug
    this.details = options.details
  }

  toJSON(): {code: string; message: string; hint?: string; details?: Record<string, unknown>} {
    return {code: this.code, message: this.message, hint: this.hint, details: this.details}
  }
}

export function isXaiError(err: unknown): err is XaiError {
  return err instanceof XaiError
}

/** The message of anything thrown, for logs and wrapped errors. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
