/**
 * The rule engine: rule sets written in YAML, compiled to deterministic predicates over a
 * transaction and the state it sees. Pure: no clock, randomness, I/O or floating point.
 */
export {canonicalJson} from '../../util/canonical-json.js'
export {compileRuleSet, requiredState, ruleSetHash, ruleSetSchema, type RuleSetInput} from './compile-rule-set.js'
export {describeCondition} from './describe-condition.js'
export {RulesErrorCode, type RuleSetProblem} from './errors.js'
export {AMOUNT_UNITS, parseAmount} from './parse-amount.js'
export {parseRuleTx} from './parse-rule-tx.js'
export * from './types.js'
export {checkRuleFile, type CheckRuleFileParameters, type CheckRuleFileResult} from './check-rule-file.js'
