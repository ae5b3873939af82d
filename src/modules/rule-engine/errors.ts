import {XaiError} from '../../util/errors.js'

/**
 * Every error code the rule engine raises. A rule set that does not compile and a transaction
 * that cannot be read are usage errors (2); a rule file that cannot be read is an environment
 * error (3).
 */
export const RulesErrorCode = {
  invalid: 'RULES_INVALID',
  fileNotFound: 'RULES_FILE_NOT_FOUND',
  invalidTx: 'RULES_INVALID_TX',
} as const
export type RulesErrorCode = (typeof RulesErrorCode)[keyof typeof RulesErrorCode]

/** One problem found while compiling a rule set: where it is and what is wrong. */
export interface RuleSetProblem {
  /** The id of the rule it is in, or null when it is outside the rules (name, lists, default…). */
  ruleId: string | null
  /** 1-based line in the YAML text, or null when the rule set was given as an object. */
  line: number | null
  /** Path in the rule set, e.g. `rules.2.when.all.0.gt`. */
  path: string
  message: string
}

export function formatProblem(problem: RuleSetProblem): string {
  const where = problem.ruleId === null ? 'Rule set' : `Rule "${problem.ruleId}"`
  const line = problem.line === null ? '' : ` (line ${problem.line})`
  return `${where}${line}: ${problem.message}`
}

export function ruleSetInvalid(problems: RuleSetProblem[]): XaiError {
  const [first] = problems
  const message =
    problems.length === 1 && first ? formatProblem(first) : `The rule set has ${problems.length} errors:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`
  return new XaiError(RulesErrorCode.invalid, message, {
    hint: 'Fix the rule at the line named above; the rule sets in templates/rules/ show every field and operator.',
    details: {problems},
  })
}

export function ruleFileNotFound(path: string, cause: unknown): XaiError {
  return new XaiError(RulesErrorCode.fileNotFound, `Cannot read the rule file ${path}`, {
    hint: 'Check the path; rule sets are YAML files such as templates/rules/large-transfers.yaml.',
    details: {path},
    cause,
  })
}

export function invalidRuleTx(message: string): XaiError {
  return new XaiError(RulesErrorCode.invalidTx, `Invalid transaction: ${message}`, {
    hint: `Pass --tx as JSON, e.g. '{"from":"0x…","to":"0x…","value":"2 ether","from":{"balance":"5 ether"}}'; see \`xai rules check --help\`.`,
  })
}
