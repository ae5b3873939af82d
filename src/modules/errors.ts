import {ExitCode, XaiError} from '../util/errors.js'

/**
 * Every error code the modules layer raises. A bad name, a module folder that is not one, and a
 * module that fails its determinism checks are usage errors (2), as is a module id the registry
 * does not know; a folder that already exists, a transaction not mined in time and a node that
 * signs for no account are environment errors (3); a call a module refuses is rejected by the
 * chain (4).
 */
export const ModulesErrorCode = {
  invalidName: 'MODULE_INVALID_NAME',
  folderExists: 'MODULE_FOLDER_EXISTS',
  sourceNotFound: 'MODULE_SOURCE_NOT_FOUND',
  nondeterministicSource: 'MODULE_NONDETERMINISTIC_SOURCE',
  loadFailed: 'MODULE_LOAD_FAILED',
  invalidModule: 'MODULE_INVALID',
  replayDiverged: 'MODULE_REPLAY_DIVERGED',
  determinismViolation: 'MODULE_DETERMINISM_VIOLATION',
  notFound: 'MODULE_NOT_FOUND',
  callRejected: 'MODULE_CALL_REJECTED',
  notMined: 'MODULE_TX_NOT_MINED',
  noSigner: 'MODULE_NO_SIGNER',
} as const
export type ModulesErrorCode = (typeof ModulesErrorCode)[keyof typeof ModulesErrorCode]

export function moduleError(code: ModulesErrorCode, message: string, options: {hint?: string; details?: Record<string, unknown>; cause?: unknown; exitCode?: ExitCode} = {}): XaiError {
  return new XaiError(code, message, {exitCode: ExitCode.usage, ...options})
}
