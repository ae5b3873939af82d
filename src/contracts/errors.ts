import {XaiError} from '../util/errors.js'

/**
 * Every error code the contracts layer raises. Exit codes: malformed input (a bad name, an
 * invalid config, Solidity that does not compile, a missing import) is a usage error (2); a state
 * of the filesystem that stops the command (no project, a project or contract that already
 * exists) is an environment error (3).
 */
export const ContractsErrorCode = {
  projectNotFound: 'CONTRACT_PROJECT_NOT_FOUND',
  projectExists: 'CONTRACT_PROJECT_EXISTS',
  configInvalid: 'CONTRACT_CONFIG_INVALID',
  invalidName: 'CONTRACT_INVALID_NAME',
  nameTaken: 'CONTRACT_NAME_TAKEN',
  unknownTemplate: 'CONTRACT_UNKNOWN_TEMPLATE',
  noSources: 'CONTRACT_NO_SOURCES',
  importNotFound: 'CONTRACT_IMPORT_NOT_FOUND',
  compileFailed: 'CONTRACT_COMPILE_FAILED',
  noCompiler: 'CONTRACT_NO_COMPILER',
  artifactNotFound: 'CONTRACT_ARTIFACT_NOT_FOUND',
  artifactAmbiguous: 'CONTRACT_ARTIFACT_AMBIGUOUS',
  artifactCorrupt: 'CONTRACT_ARTIFACT_CORRUPT',
  unknownNetwork: 'CONTRACT_UNKNOWN_NETWORK',
  devnetNotRunning: 'CONTRACT_DEVNET_NOT_RUNNING',
  rpcUnreachable: 'CONTRACT_RPC_UNREACHABLE',
  invalidSigner: 'CONTRACT_INVALID_SIGNER',
  invalidArgument: 'CONTRACT_INVALID_ARGUMENT',
  unknownFunction: 'CONTRACT_UNKNOWN_FUNCTION',
  ambiguousFunction: 'CONTRACT_AMBIGUOUS_FUNCTION',
  unknownEvent: 'CONTRACT_UNKNOWN_EVENT',
  notDeployed: 'CONTRACT_NOT_DEPLOYED',
  notDeployable: 'CONTRACT_NOT_DEPLOYABLE',
  reverted: 'CONTRACT_REVERTED',
  txRejected: 'CONTRACT_TX_REJECTED',
  journalCorrupt: 'CONTRACT_JOURNAL_CORRUPT',
  journalStale: 'CONTRACT_JOURNAL_STALE',
  subscriptionLost: 'CONTRACT_SUBSCRIPTION_LOST',
  storageLayoutMissing: 'CONTRACT_STORAGE_LAYOUT_MISSING',
  storageLayoutInvalid: 'CONTRACT_STORAGE_LAYOUT_INVALID',
} as const
export type ContractsErrorCode = (typeof ContractsErrorCode)[keyof typeof ContractsErrorCode]

export function projectNotFound(from: string): XaiError {
  return new XaiError(ContractsErrorCode.projectNotFound, `No xai.config.json in ${from} or any folder above it`, {
    hint: 'Create a contracts project with `xai contract init` (or run the command inside one, or pass --project).',
    details: {from},
  })
}
