import {type Hex, parseAbi} from 'viem'
import {z} from 'zod'

import {canonicalJson} from '../../util/canonical-json.js'
import {errorMessage} from '../../util/errors.js'
import {type NativeModule, type ReadonlyModuleContext, isModuleAddress} from '../module.js'
import {compileRuleSet} from '../rule-engine/compile-rule-set.js'
import type {CompiledRuleSet, RuleTx} from '../rule-engine/types.js'
import type {ModuleWorkload} from '../test-kit.js'

/**
 * rule-engine: judges every transaction of the chain against the active rule set (YAML, see
 * templates/rules/), compiled to deterministic predicates; governance activates a rule set by a
 * parameter-change proposal setting `ruleSet` to the parsed YAML.
 *
 * checkTx compiles the rule set (once per content: compiled sets are cached by the canonical
 * JSON of the parameter, the only module-level state, and it is a pure function of its key) and
 * evaluates the transaction against it, reading balances and code through the block's state. A
 * rejection refuses the transaction with `rule <id>: <reason>` (`rule default: …` when no rule
 * allows it and the default is reject); an allowed transaction carries the matching flag rules as
 * `<id>: <reason>`, and afterTx emits RuleFlagged for each. Transactions from or to a module
 * address are never judged, so a rule set cannot lock governance out of replacing it.
 *
 * Storage layout: none; the rule set is a parameter and the events are logs.
 */

export const RULE_ENGINE_ID = 'rule-engine'
/** What ruleSetHash() returns when no rule set is active. */
const NO_RULE_SET: Hex = `0x${'00'.repeat(32)}`

/** Compiled rule sets by the canonical JSON of their parameter; bounded, and pure in its key. */
const compiled = new Map<string, CompiledRuleSet>()
const CACHE_LIMIT = 8

function compileCached(ruleSet: object): CompiledRuleSet {
  const key = canonicalJson(ruleSet)
  const hit = compiled.get(key)
  if (hit) return hit
  const fresh = compileRuleSet(ruleSet)
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value!)
  compiled.set(key, fresh)
  return fresh
}

const params = z.object({
  /** The active rule set: the YAML rule set parsed to JSON; null: no rules. */
  ruleSet: z
    .record(z.string(), z.unknown())
    .nullable()
    .default(null)
    .superRefine((ruleSet, ctx) => {
      if (ruleSet === null) return
      try {
        compileCached(ruleSet)
      } catch (err) {
        ctx.addIssue({code: 'custom', message: `ruleSet does not compile: ${errorMessage(err)}`})
      }
    }),
})
export type RuleEngineParams = z.output<typeof params>

export const ruleEngineAbi = parseAbi(['function ruleSetHash() view returns (bytes32)', 'event RuleFlagged(bytes32 indexed txHash, string rule)'])

function activeRuleSet(ctx: Pick<ReadonlyModuleContext, 'params'>): CompiledRuleSet | null {
  const {ruleSet} = ctx.params as RuleEngineParams
  return ruleSet === null ? null : compileCached(ruleSet)
}

export const ruleEngine: NativeModule = {
  manifest: {id: RULE_ENGINE_ID, version: '1.0.0', description: 'Judges every transaction against the rule set activated by governance'},
  params,
  abi: ruleEngineAbi,
  gas: {ruleSetHash: 2_100n},
  validateTx(tx) {
    if (tx.value !== 0n) return {ok: false, reason: `rule-engine: ${tx.name}() takes no value`}
    return {ok: true}
  },
  checkTx(tx, ctx) {
    if (isModuleAddress(tx.from) || (tx.to !== null && isModuleAddress(tx.to))) return {ok: true}
    let rules: CompiledRuleSet | null
    try {
      rules = activeRuleSet(ctx)
    } catch (err) {
      // Parameters are checked when they are set, so this is a chain misconfiguration: fail closed.
      return {ok: false, reason: `rule engine: the active rule set does not compile: ${errorMessage(err)}`}
    }
    if (rules === null) return {ok: true}
    const ruleTx: RuleTx = {from: tx.from, to: tx.to, value: tx.value, gasLimit: tx.gasLimit, maxFeePerGas: tx.maxFeePerGas, data: tx.data, nonce: tx.nonce}
    const decision = rules.evaluate(ruleTx, {balance: (address) => ctx.balanceOf(address), isContract: (address) => ctx.isContract(address)})
    if (decision.action === 'reject') return {ok: false, reason: `rule ${decision.ruleId ?? 'default'}: ${decision.reason ?? 'rejected'}`}
    return {ok: true, flags: decision.flags.map((flag) => `${flag.ruleId}: ${flag.reason}`)}
  },
  afterTx(tx, _outcome, ctx, verdict) {
    if (!verdict.ok) return
    for (const rule of verdict.flags ?? []) ctx.emit('RuleFlagged', {txHash: tx.hash, rule})
  },
  calls: {
    ruleSetHash(ctx): Hex {
      return activeRuleSet(ctx)?.hash ?? NO_RULE_SET
    },
  },
}

/** A random workload for the determinism replay (the kit's workloads hold calls and blocks only). */
export const ruleEngineWorkload: ModuleWorkload = {
  steps: 16,
  seed: 19n,
  params: {
    ruleSet: {
      version: 1,
      name: 'workload',
      rules: [{id: 'large', when: {field: 'tx.value', gt: '10 ether'}, action: 'reject', reason: 'too large'}],
      default: 'allow',
    },
  },
  step(rng) {
    return rng.below(2n) === 0n ? {kind: 'advance'} : {kind: 'call', name: 'ruleSetHash'}
  },
}
