import {ExitCode, XaiError} from '../util/errors.js'

/**
 * Every error code the governance layer raises. A proposal file that does not parse or validate,
 * an unknown kind, a bad governance parameter, a proposal id that does not exist or a module
 * source whose code hash is not the proposal's is a usage error (2); a file that already exists
 * is an environment error (3); a vote or transition the lifecycle refuses is what the chain would
 * reject (4), and GOV_REJECTED is the chain refusing a proposal or vote sent to it.
 */
export const GovernanceErrorCode = {
  invalidProposal: 'GOV_INVALID_PROPOSAL',
  unknownKind: 'GOV_UNKNOWN_KIND',
  fileExists: 'GOV_FILE_EXISTS',
  fileNotFound: 'GOV_FILE_NOT_FOUND',
  invalidParams: 'GOV_INVALID_PARAMS',
  invalidVote: 'GOV_INVALID_VOTE',
  votingClosed: 'GOV_VOTING_CLOSED',
  alreadyVoted: 'GOV_ALREADY_VOTED',
  invalidTransition: 'GOV_INVALID_TRANSITION',
  proposalNotFound: 'GOV_PROPOSAL_NOT_FOUND',
  codeHashMismatch: 'GOV_CODE_HASH_MISMATCH',
  rejected: 'GOV_REJECTED',
} as const
export type GovernanceErrorCode = (typeof GovernanceErrorCode)[keyof typeof GovernanceErrorCode]

/** A rule of the lifecycle refused an action (a late vote, a second vote, executing a defeated proposal). */
export function lifecycleError(code: GovernanceErrorCode, message: string, details: Record<string, unknown>, hint?: string): XaiError {
  return new XaiError(code, message, {exitCode: ExitCode.chainRejected, details, hint})
}
