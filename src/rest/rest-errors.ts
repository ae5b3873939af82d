import {ExitCode, XaiError, type XaiErrorOptions} from '../util/errors.js'
import {GovernanceErrorCode} from '../governance/errors.js'
import {ModulesErrorCode} from '../modules/errors.js'
import {ContractsErrorCode} from '../contracts/errors.js'

/** Error codes of the node's REST surface (beside the contracts layer's, which pass through). */
export const RestErrorCode = {
  invalidRequest: 'REST_INVALID_REQUEST',
  invalidJson: 'REST_INVALID_JSON',
  tooLarge: 'REST_BODY_TOO_LARGE',
  unauthorized: 'REST_UNAUTHORIZED',
  forbidden: 'REST_FORBIDDEN',
  rateLimited: 'REST_RATE_LIMITED',
  methodNotAllowed: 'REST_METHOD_NOT_ALLOWED',
  noProject: 'REST_NO_PROJECT',
  noAccount: 'REST_NO_ACCOUNT',
  rejected: 'REST_REJECTED',
  artifactMismatch: 'REST_ARTIFACT_MISMATCH',
  notMined: 'REST_NOT_MINED',
  internal: 'REST_INTERNAL',
} as const

const STATUS: Record<string, number> = {
  [RestErrorCode.invalidRequest]: 400,
  [RestErrorCode.invalidJson]: 400,
  [RestErrorCode.tooLarge]: 413,
  [RestErrorCode.unauthorized]: 401,
  [RestErrorCode.forbidden]: 403,
  [RestErrorCode.rateLimited]: 429,
  [RestErrorCode.methodNotAllowed]: 405,
  [RestErrorCode.noProject]: 404,
  [RestErrorCode.noAccount]: 400,
  [RestErrorCode.rejected]: 422,
  [RestErrorCode.artifactMismatch]: 422,
  [RestErrorCode.notMined]: 504,
  [RestErrorCode.internal]: 500,
  [ContractsErrorCode.artifactNotFound]: 404,
  [ContractsErrorCode.notDeployed]: 404,
  [ModulesErrorCode.notFound]: 404,
  [GovernanceErrorCode.proposalNotFound]: 404,
  [ModulesErrorCode.notMined]: 504,
}

export function restError(code: (typeof RestErrorCode)[keyof typeof RestErrorCode], message: string, options: XaiErrorOptions = {}): XaiError {
  return new XaiError(code, message, {exitCode: ExitCode.usage, ...options})
}

/** The HTTP status of an error: by its code, else by its exit code (usage 400, chain 422). */
export function statusOf(error: XaiError): number {
  const byCode = STATUS[error.code]
  if (byCode !== undefined) return byCode
  if (error.exitCode === ExitCode.usage) return 400
  if (error.exitCode === ExitCode.chainRejected) return 422
  if (error.exitCode === ExitCode.environment) return 503
  return 500
}
