import {readFile} from 'node:fs/promises'

import type {Hex} from 'viem'

import {compileRuleSet} from './compile-rule-set.js'
import {describeCondition} from './describe-condition.js'
import {invalidRuleTx, ruleFileNotFound} from './errors.js'
import {parseRuleTx} from './parse-rule-tx.js'
import type {RuleAction, RuleDecision, RuleDefault, RuleStateField} from './types.js'

export interface CheckRuleFileParameters {
  /** Path of the YAML rule set. */
  file: string
  /** A transaction to evaluate, as JSON text (see parseRuleTx). */
  tx?: string
}

export interface CheckRuleFileResult {
  file: string
  name: string
  description: string | null
  hash: Hex
  default: RuleDefault
  requiredState: RuleStateField[]
  lists: {name: string; size: number}[]
  rules: {id: string; action: RuleAction; when: string; reason: string | null; description: string | null}[]
  /** Present when a transaction was given. */
  decision?: RuleDecision
}

/**
 * Reads and compiles a rule file and, given a transaction, evaluates it: the service behind
 * `xai rules check`. Only this reads the file; the compiler itself does no I/O.
 */
export async function checkRuleFile(params: CheckRuleFileParameters): Promise<CheckRuleFileResult> {
  let text: string
  try {
    text = await readFile(params.file, 'utf8')
  } catch (err) {
    throw ruleFileNotFound(params.file, err)
  }
  const compiled = compileRuleSet(text)
  const {ruleSet} = compiled
  const result: CheckRuleFileResult = {
    file: params.file,
    name: ruleSet.name,
    description: ruleSet.description ?? null,
    hash: compiled.hash,
    default: ruleSet.default,
    requiredState: [...compiled.requiredState],
    lists: Object.entries(ruleSet.lists).map(([name, members]) => ({name, size: members.length})),
    rules: ruleSet.rules.map((rule) => ({
      id: rule.id,
      action: rule.action,
      when: describeCondition(rule.when),
      reason: rule.reason ?? null,
      description: rule.description ?? null,
    })),
  }
  if (params.tx !== undefined) {
    let json: unknown
    try {
      json = JSON.parse(params.tx)
    } catch (err) {
      throw invalidRuleTx(`--tx is not JSON (${(err as Error).message})`)
    }
    const {tx, state} = parseRuleTx(json)
    result.decision = compiled.evaluate(tx, state)
  }
  return result
}
