/**
 * One error type for the whole toolkit. Every error carries a stable string code, a message
 * that says what went wrong, a hint that names the fix, and the exit code the CLI uses for it.
 */
import {type ErrorCode, ExitCode, exitCodeOf} from './error-codes.js'

export {ExitCode} from './error-codes.js'
export type {ErrorCode, ErrorCodeOf} from './error-codes.js'

export interface XaiErrorOptions {
  hint?: string
  exitCode?: ExitCode
  cause?: unknown
  details?: Record<string, unknown>
}

export class XaiError extends Error {
  readonly code: ErrorCode
  readonly hint?: string
  readonly exitCode: ExitCode
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: XaiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'XaiError'
    this.code = code
    this.hint = options.hint
    this.exitCode = options.exitCode ?? exitCodeOf(code)
    this.details = options.details
  }

  toJSON(): {code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown>} {
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
