/**
 * Every error code xai raises, in one table: the domain that raises it and the exit code the CLI
 * ends with for it (0 ok, 1 bug, 2 usage, 3 environment, 4 chain rejected, 130 interrupted).
 * `XaiError` takes its exit code from here unless a call site has a reason to differ.
 * docs/errors.md is rendered from this table (`npm run docs:errors`); a unit test fails when the
 * two differ. A new code is added here first: `XaiError` accepts no other string.
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
export type ExitKind = keyof typeof ExitCode

export interface ErrorCodeInfo {
  domain: string
  exit: ExitKind
}

export const ERROR_CODES = {
  // storage
  STORAGE_LOCKED: {domain: 'storage', exit: 'environment'},
  STORAGE_OPEN_FAILED: {domain: 'storage', exit: 'environment'},
  // chain
  TX_REJECTED: {domain: 'chain', exit: 'chainRejected'},
  BLOCK_NOT_ON_CHAIN: {domain: 'chain', exit: 'usage'},
  BLOCK_NOT_ON_HEAD: {domain: 'chain', exit: 'bug'},
  BLOCK_SEALED: {domain: 'chain', exit: 'bug'},
  GENESIS_MISMATCH: {domain: 'chain', exit: 'environment'},
  STATE_DUMP_INVALID: {domain: 'chain', exit: 'usage'},
  NODE_CLOSED: {domain: 'chain', exit: 'bug'},
  STORAGE_CORRUPT: {domain: 'chain', exit: 'environment'},
  // cli
  CONFIG_INVALID_VALUE: {domain: 'cli', exit: 'usage'},
  CONFIG_NOT_SET: {domain: 'cli', exit: 'usage'},
  CONFIG_UNKNOWN_KEY: {domain: 'cli', exit: 'usage'},
  INTERNAL: {domain: 'cli', exit: 'bug'},
  OK: {domain: 'cli', exit: 'ok'},
  USAGE: {domain: 'cli', exit: 'usage'},
  // consensus
  CONSENSUS_INVALID_VALIDATOR_SET: {domain: 'consensus', exit: 'usage'},
  NODE_KEY_INVALID: {domain: 'consensus', exit: 'environment'},
  // contracts
  CONTRACT_NO_COMPILER: {domain: 'contracts', exit: 'environment'},
  CONTRACT_TEST_NO_VITEST: {domain: 'contracts', exit: 'environment'},
  CONTRACT_AMBIGUOUS_FUNCTION: {domain: 'contracts', exit: 'usage'},
  CONTRACT_ARTIFACT_AMBIGUOUS: {domain: 'contracts', exit: 'usage'},
  CONTRACT_ARTIFACT_CORRUPT: {domain: 'contracts', exit: 'environment'},
  CONTRACT_ARTIFACT_NOT_FOUND: {domain: 'contracts', exit: 'usage'},
  CONTRACT_COMPILE_FAILED: {domain: 'contracts', exit: 'usage'},
  CONTRACT_CONFIG_INVALID: {domain: 'contracts', exit: 'usage'},
  CONTRACT_DEVNET_NOT_RUNNING: {domain: 'contracts', exit: 'environment'},
  CONTRACT_IMPORT_NOT_FOUND: {domain: 'contracts', exit: 'usage'},
  CONTRACT_INVALID_ARGUMENT: {domain: 'contracts', exit: 'usage'},
  CONTRACT_INVALID_NAME: {domain: 'contracts', exit: 'usage'},
  CONTRACT_INVALID_SIGNER: {domain: 'contracts', exit: 'usage'},
  CONTRACT_JOURNAL_CORRUPT: {domain: 'contracts', exit: 'environment'},
  CONTRACT_JOURNAL_STALE: {domain: 'contracts', exit: 'chainRejected'},
  CONTRACT_NAME_TAKEN: {domain: 'contracts', exit: 'environment'},
  CONTRACT_NOT_DEPLOYABLE: {domain: 'contracts', exit: 'usage'},
  CONTRACT_NOT_DEPLOYED: {domain: 'contracts', exit: 'environment'},
  CONTRACT_NO_SOURCES: {domain: 'contracts', exit: 'usage'},
  CONTRACT_PROJECT_EXISTS: {domain: 'contracts', exit: 'environment'},
  CONTRACT_PROJECT_NOT_FOUND: {domain: 'contracts', exit: 'environment'},
  CONTRACT_REVERTED: {domain: 'contracts', exit: 'chainRejected'},
  CONTRACT_RPC_UNREACHABLE: {domain: 'contracts', exit: 'environment'},
  CONTRACT_STORAGE_LAYOUT_INVALID: {domain: 'contracts', exit: 'environment'},
  CONTRACT_STORAGE_LAYOUT_MISSING: {domain: 'contracts', exit: 'environment'},
  CONTRACT_SUBSCRIPTION_LOST: {domain: 'contracts', exit: 'environment'},
  CONTRACT_TX_REJECTED: {domain: 'contracts', exit: 'chainRejected'},
  CONTRACT_UNKNOWN_EVENT: {domain: 'contracts', exit: 'usage'},
  CONTRACT_UNKNOWN_FUNCTION: {domain: 'contracts', exit: 'usage'},
  CONTRACT_UNKNOWN_NETWORK: {domain: 'contracts', exit: 'usage'},
  CONTRACT_UNKNOWN_TEMPLATE: {domain: 'contracts', exit: 'usage'},
  // devnet
  DEVNET_ALREADY_RUNNING: {domain: 'devnet', exit: 'environment'},
  DEVNET_CORRUPT: {domain: 'devnet', exit: 'environment'},
  DEVNET_GENESIS_INVALID: {domain: 'devnet', exit: 'usage'},
  DEVNET_INTERRUPTED: {domain: 'devnet', exit: 'interrupted'},
  DEVNET_INVALID_NAME: {domain: 'devnet', exit: 'usage'},
  DEVNET_INVALID_PORT: {domain: 'devnet', exit: 'usage'},
  DEVNET_MULTI_NODE_UNSUPPORTED: {domain: 'devnet', exit: 'usage'},
  DEVNET_NODE_EXITED: {domain: 'devnet', exit: 'environment'},
  DEVNET_NODE_FAILED: {domain: 'devnet', exit: 'environment'},
  DEVNET_NODE_NOT_RUNNING: {domain: 'devnet', exit: 'environment'},
  DEVNET_NODE_TIMEOUT: {domain: 'devnet', exit: 'environment'},
  DEVNET_NOT_FOUND: {domain: 'devnet', exit: 'environment'},
  DEVNET_NO_ADMIN_TOKEN: {domain: 'devnet', exit: 'environment'},
  DEVNET_NO_SUCH_NODE: {domain: 'devnet', exit: 'usage'},
  DEVNET_PORT_IN_USE: {domain: 'devnet', exit: 'environment'},
  DEVNET_RUNNING: {domain: 'devnet', exit: 'environment'},
  DEVNET_STATE_FAILED: {domain: 'devnet', exit: 'environment'},
  DEVNET_SETTING_CONFLICT: {domain: 'devnet', exit: 'usage'},
  DEVNET_SETTING_INVALID: {domain: 'devnet', exit: 'usage'},
  DEVNET_SHAPE_MISMATCH: {domain: 'devnet', exit: 'usage'},
  DEVNET_SINGLE_NODE: {domain: 'devnet', exit: 'usage'},
  DEVNET_STOP_FAILED: {domain: 'devnet', exit: 'environment'},
  DEVNET_UNKNOWN_NODE: {domain: 'devnet', exit: 'usage'},
  NODE_GENESIS_NOT_FOUND: {domain: 'node', exit: 'environment'},
  NODE_HOME_LOCKED: {domain: 'node', exit: 'environment'},
  NODE_PORT_IN_USE: {domain: 'node', exit: 'environment'},
  NODE_WEBHOOK_INVALID: {domain: 'node', exit: 'usage'},
  // operations (webhooks, API keys, Prometheus)
  API_KEY_NOT_FOUND: {domain: 'operations', exit: 'usage'},
  PROMETHEUS_NOT_INSTALLED: {domain: 'operations', exit: 'environment'},
  PROMETHEUS_FAILED: {domain: 'operations', exit: 'environment'},
  WEBHOOK_NOT_AUTHENTIC: {domain: 'operations', exit: 'chainRejected'},
  WEBHOOK_DELIVERY_INVALID: {domain: 'operations', exit: 'usage'},
  // fl
  FL_AGGREGATE_INPUT: {domain: 'fl', exit: 'bug'},
  FL_ATTEST_UNAVAILABLE: {domain: 'fl', exit: 'environment'},
  FL_AGGREGATOR_GUARANTEE: {domain: 'fl', exit: 'usage'},
  FL_ATTEST_CA_EXISTS: {domain: 'fl', exit: 'usage'},
  FL_ATTEST_CA_NOT_FOUND: {domain: 'fl', exit: 'usage'},
  FL_ATTEST_NO_TPM: {domain: 'fl', exit: 'environment'},
  FL_ATTEST_NOT_PROVISIONED: {domain: 'fl', exit: 'usage'},
  FL_ATTEST_POLICY_INVALID: {domain: 'fl', exit: 'usage'},
  FL_ATTEST_PROVISION_FAILED: {domain: 'fl', exit: 'environment'},
  FL_ATTEST_REFUSED: {domain: 'fl', exit: 'chainRejected'},
  FL_ATTEST_TOOLS_MISSING: {domain: 'fl', exit: 'environment'},
  FL_ATTEST_TPM_FAILED: {domain: 'fl', exit: 'environment'},
  FL_ATTEST_TPM_SPEC: {domain: 'fl', exit: 'usage'},
  FL_BAD_UPDATE: {domain: 'fl', exit: 'bug'},
  FL_CHAIN_REFUSED: {domain: 'fl', exit: 'chainRejected'},
  FL_CLIENT_FAILED: {domain: 'fl', exit: 'bug'},
  FL_CONFIG_MISMATCH: {domain: 'fl', exit: 'usage'},
  FL_COORDINATOR_UNFUNDED: {domain: 'fl', exit: 'environment'},
  FL_CORRUPT: {domain: 'fl', exit: 'environment'},
  FL_DATASET_INVALID: {domain: 'fl', exit: 'usage'},
  FL_DATASET_NOT_FOUND: {domain: 'fl', exit: 'usage'},
  FL_DP_AGGREGATOR: {domain: 'fl', exit: 'usage'},
  FL_INTERRUPTED: {domain: 'fl', exit: 'interrupted'},
  FL_INVALID_AGGREGATOR: {domain: 'fl', exit: 'usage'},
  FL_INVALID_ATTACK: {domain: 'fl', exit: 'usage'},
  FL_INVALID_CLIP: {domain: 'fl', exit: 'usage'},
  FL_INVALID_COMPRESSION: {domain: 'fl', exit: 'usage'},
  FL_INVALID_CONFIG: {domain: 'fl', exit: 'usage'},
  FL_INVALID_MODEL: {domain: 'fl', exit: 'usage'},
  FL_INVALID_NAME: {domain: 'fl', exit: 'usage'},
  FL_INVALID_NOISE: {domain: 'fl', exit: 'usage'},
  FL_INVALID_PARTITION: {domain: 'fl', exit: 'usage'},
  FL_INVALID_PRIVACY_PARAMS: {domain: 'fl', exit: 'usage'},
  FL_INVALID_SEED: {domain: 'fl', exit: 'usage'},
  FL_INVALID_TPM: {domain: 'fl', exit: 'usage'},
  FL_INVALID_TRAINING: {domain: 'fl', exit: 'usage'},
  FL_MODEL_MISMATCH: {domain: 'fl', exit: 'usage'},
  FL_NNM_OVER_EDGES: {domain: 'fl', exit: 'usage'},
  FL_NON_FINITE_UPDATE: {domain: 'fl', exit: 'usage'},
  FL_NOT_ANCHORED: {domain: 'fl', exit: 'usage'},
  FL_NOT_FOUND: {domain: 'fl', exit: 'environment'},
  FL_POOL_CLOSED: {domain: 'fl', exit: 'bug'},
  FL_TOO_MANY_CLIENTS: {domain: 'fl', exit: 'usage'},
  FL_TOO_MANY_EDGES: {domain: 'fl', exit: 'usage'},
  FL_UPDATE_SIZE_MISMATCH: {domain: 'fl', exit: 'usage'},
  FL_WIRE_CLOSED: {domain: 'fl', exit: 'environment'},
  FL_WIRE_DATA_MISMATCH: {domain: 'fl', exit: 'usage'},
  FL_WIRE_PROTOCOL: {domain: 'fl', exit: 'environment'},
  FL_WIRE_REFUSED: {domain: 'fl', exit: 'chainRejected'},
  // governance
  GOV_ALREADY_VOTED: {domain: 'governance', exit: 'chainRejected'},
  GOV_CODE_HASH_MISMATCH: {domain: 'governance', exit: 'usage'},
  GOV_FILE_EXISTS: {domain: 'governance', exit: 'environment'},
  GOV_FILE_NOT_FOUND: {domain: 'governance', exit: 'usage'},
  GOV_INVALID_PARAMS: {domain: 'governance', exit: 'usage'},
  GOV_INVALID_PROPOSAL: {domain: 'governance', exit: 'usage'},
  GOV_INVALID_TRANSITION: {domain: 'governance', exit: 'chainRejected'},
  GOV_INVALID_VOTE: {domain: 'governance', exit: 'usage'},
  GOV_PROPOSAL_NOT_FOUND: {domain: 'governance', exit: 'usage'},
  GOV_REJECTED: {domain: 'governance', exit: 'chainRejected'},
  GOV_UNKNOWN_KIND: {domain: 'governance', exit: 'usage'},
  GOV_VOTING_CLOSED: {domain: 'governance', exit: 'chainRejected'},
  // modules
  MODULE_CALL_REJECTED: {domain: 'modules', exit: 'chainRejected'},
  MODULE_DETERMINISM_VIOLATION: {domain: 'modules', exit: 'usage'},
  MODULE_FOLDER_EXISTS: {domain: 'modules', exit: 'environment'},
  MODULE_INVALID: {domain: 'modules', exit: 'usage'},
  MODULE_INVALID_NAME: {domain: 'modules', exit: 'usage'},
  MODULE_LOAD_FAILED: {domain: 'modules', exit: 'usage'},
  MODULE_NONDETERMINISTIC_SOURCE: {domain: 'modules', exit: 'usage'},
  MODULE_NOT_FOUND: {domain: 'modules', exit: 'environment'},
  MODULE_NO_SIGNER: {domain: 'modules', exit: 'environment'},
  MODULE_REPLAY_DIVERGED: {domain: 'modules', exit: 'usage'},
  MODULE_SOURCE_NOT_FOUND: {domain: 'modules', exit: 'usage'},
  MODULE_TX_NOT_MINED: {domain: 'modules', exit: 'environment'},
  // node
  GENESIS_INVALID: {domain: 'node', exit: 'environment'},
  GENESIS_MISSING: {domain: 'node', exit: 'environment'},
  NODE_P2P_REQUIRED: {domain: 'node', exit: 'usage'},
  // p2p
  P2P_CLOSED: {domain: 'p2p', exit: 'bug'},
  P2P_DISCONNECTED: {domain: 'p2p', exit: 'environment'},
  P2P_INVALID_OPTIONS: {domain: 'p2p', exit: 'usage'},
  P2P_MESSAGE_TOO_LARGE: {domain: 'p2p', exit: 'bug'},
  P2P_PEER_NOT_CONNECTED: {domain: 'p2p', exit: 'environment'},
  P2P_PORT_IN_USE: {domain: 'p2p', exit: 'environment'},
  P2P_REMOTE_HANDLER_FAILED: {domain: 'p2p', exit: 'environment'},
  P2P_REQUEST_FAILED: {domain: 'p2p', exit: 'environment'},
  P2P_REQUEST_TIMEOUT: {domain: 'p2p', exit: 'environment'},
  P2P_RESPONSE_TOO_LARGE: {domain: 'p2p', exit: 'environment'},
  P2P_START_FAILED: {domain: 'p2p', exit: 'environment'},
  // rest
  REST_ARTIFACT_MISMATCH: {domain: 'rest', exit: 'usage'},
  REST_BODY_TOO_LARGE: {domain: 'rest', exit: 'usage'},
  REST_FORBIDDEN: {domain: 'rest', exit: 'usage'},
  REST_INTERNAL: {domain: 'rest', exit: 'usage'},
  REST_INVALID_JSON: {domain: 'rest', exit: 'usage'},
  REST_INVALID_REQUEST: {domain: 'rest', exit: 'usage'},
  REST_METHOD_NOT_ALLOWED: {domain: 'rest', exit: 'usage'},
  REST_NOT_MINED: {domain: 'rest', exit: 'usage'},
  REST_NO_ACCOUNT: {domain: 'rest', exit: 'usage'},
  REST_NO_PROJECT: {domain: 'rest', exit: 'usage'},
  REST_RATE_LIMITED: {domain: 'rest', exit: 'usage'},
  REST_REJECTED: {domain: 'rest', exit: 'usage'},
  REST_UNAUTHORIZED: {domain: 'rest', exit: 'usage'},
  // rpc
  RPC_ERROR: {domain: 'rpc', exit: 'bug'},
  RPC_LISTEN_FAILED: {domain: 'rpc', exit: 'environment'},
  RPC_PORT_IN_USE: {domain: 'rpc', exit: 'environment'},
  // rules
  RULES_FILE_NOT_FOUND: {domain: 'rules', exit: 'environment'},
  RULES_INVALID: {domain: 'rules', exit: 'usage'},
  RULES_INVALID_TX: {domain: 'rules', exit: 'usage'},
} as const satisfies Record<string, ErrorCodeInfo>

export type ErrorCode = keyof typeof ERROR_CODES
export type ErrorDomain = (typeof ERROR_CODES)[ErrorCode]['domain']
/** The codes of one domain, e.g. `ErrorCodeOf<'devnet'>`. */
export type ErrorCodeOf<D extends ErrorDomain> = {[K in ErrorCode]: (typeof ERROR_CODES)[K]['domain'] extends D ? K : never}[ErrorCode]

/** The exit code the CLI uses for `code`. */
export function exitCodeOf(code: ErrorCode): ExitCode {
  return ExitCode[ERROR_CODES[code].exit]
}

/** True when `value` is one of the codes in the table (e.g. a code carried in a worker's message). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value)
}

const EXIT_MEANING: Record<ExitKind, string> = {
  ok: 'success',
  bug: 'a bug in xai (please report it)',
  usage: 'the command was used wrongly (a flag, an argument, a file)',
  environment: 'the environment is not as needed (no devnet, a port in use, a node down)',
  chainRejected: 'the chain refused (a revert, a failed proposal, a round without quorum)',
  interrupted: 'interrupted (Ctrl-C)',
}

/** docs/errors.md: the table above as Markdown, grouped by domain. */
export function renderErrorCodeTable(): string {
  const lines = [
    '# Error codes',
    '',
    'Generated from `src/util/error-codes.ts` by `npm run docs:errors`; a unit test fails when this file is out of date.',
    'Every error xai prints carries one of these codes (`✖ message [CODE]`, and `code` in `--json` output); the CLI exits with the code\'s exit status.',
    '',
    '| exit | meaning |',
    '| --- | --- |',
    ...Object.entries(EXIT_MEANING).map(([kind, meaning]) => `| ${ExitCode[kind as ExitKind]} | ${meaning} |`),
    '',
  ]
  const domains = [...new Set(Object.values(ERROR_CODES).map((info) => info.domain))]
  for (const domain of domains) {
    lines.push(`## ${domain}`, '', '| code | exit |', '| --- | --- |')
    for (const [code, info] of Object.entries(ERROR_CODES)) if (info.domain === domain) lines.push(`| \`${code}\` | ${ExitCode[info.exit]} (${info.exit}) |`)
    lines.push('')
  }
  return lines.join('\n')
}
