import {type Address, type Hex, bytesToHex, hexToBytes, isAddress, keccak256, stringToBytes, toFunctionSelector} from 'viem'
import {z} from 'zod'

import {canonicalJson} from '../../util/canonical-json.js'
import {type RuleSetProblem, ruleSetInvalid} from './errors.js'
import {describe, parseAmount} from './parse-amount.js'
import {type RuleSetSource, readRuleSetSource} from './rule-set-source.js'
import {
  COMPARE_OPS,
  type CompareOp,
  type CompiledRuleSet,
  FIELD_TYPES,
  LIST_OPS,
  type ListOp,
  NULLABLE_FIELDS,
  type NormalizedCondition,
  type NormalizedRule,
  type NormalizedRuleSet,
  RULE_STATE_FIELDS,
  type RuleDecision,
  type RuleField,
  type RuleFlag,
  type RuleState,
  type RuleStateField,
  type RuleTx,
  TYPE_OPS,
} from './types.js'

type Path = (string | number)[]

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const SELECTOR = /^0x[0-9a-fA-F]{8}$/
const SIGNATURE = /^[A-Za-z_$][A-Za-z0-9_$]*\(.*\)$/
const OPS: readonly string[] = [...COMPARE_OPS, ...LIST_OPS]

const ruleSchema = z.strictObject({
  id: z.string().regex(NAME, 'an id is letters, digits, ".", "_" and "-", starting with a letter or digit'),
  description: z.string().optional(),
  when: z.unknown().optional(),
  action: z.enum(['allow', 'reject', 'flag']),
  reason: z.string().trim().min(1).optional(),
})

/** The shape of a rule set as written; conditions are checked by the compiler, which knows their types. */
export const ruleSetSchema = z.strictObject({
  version: z.union([z.literal('1'), z.literal(1), z.literal(1n)], {error: 'version must be 1'}),
  name: z.string().regex(NAME, 'a name is letters, digits, ".", "_" and "-", starting with a letter or digit'),
  description: z.string().optional(),
  lists: z.record(z.string().regex(NAME, 'a list name is letters, digits, ".", "_" and "-"'), z.array(z.string())).optional(),
  rules: z.array(ruleSchema),
  default: z.enum(['allow', 'reject']),
})
export type RuleSetInput = z.input<typeof ruleSetSchema>

/** What the evaluator reads from the transaction and the state, fetched lazily and at most once. */
type Value = bigint | string | boolean | null
type Predicate = (ctx: EvalContext) => boolean

interface CompiledCondition {
  normalized: NormalizedCondition
  test: Predicate
  reads: Set<RuleStateField>
}

/**
 * Compiles a rule set, given as YAML text or as an object, into a deterministic predicate over a
 * transaction and the state it sees. Every problem (unknown fields, lists or operators, a
 * comparison the field's type does not allow, an invalid address or amount, a missing reason)
 * is reported at once as RULES_INVALID (exit 2), each naming its rule id and, for YAML, its line.
 *
 * Evaluation uses only bigint and string comparisons; it reads no clock, randomness or I/O.
 *
 * @example
 * const rules = compileRuleSet(readFileSync('templates/rules/large-transfers.yaml', 'utf8'))
 * rules.evaluate(tx, {balance: (a) => balanceOf(a), isContract: (a) => codeOf(a).length > 0})
 * // → {action: 'reject', ruleId: 'large-to-unlisted', reason: 'transfers above 10 ether …', flags: []}
 */
export function compileRuleSet(input: string | object): CompiledRuleSet {
  const source: RuleSetSource = typeof input === 'string' ? readRuleSetSource(input) : {value: input, lineOf: () => null}
  const problems: RuleSetProblem[] = []
  const raw = source.value
  const ruleIdAt = (path: Path): string | null => {
    if (path[0] !== 'rules' || typeof path[1] !== 'number' || !isRecord(raw) || !Array.isArray(raw.rules)) return null
    const rule: unknown = raw.rules[path[1]]
    return isRecord(rule) && typeof rule.id === 'string' ? rule.id : `#${path[1] + 1}`
  }
  const report = (path: Path, message: string): void => {
    problems.push({ruleId: ruleIdAt(path), line: source.lineOf(path), path: path.join('.'), message})
  }

  if (!isRecord(raw)) {
    report([], `a rule set is a mapping with version, name, rules and default, not ${describe(raw)}`)
    throw ruleSetInvalid(problems)
  }
  const parsed = ruleSetSchema.safeParse(raw)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) report([...path, key], `unknown field "${key}"${allowedKeysHint(path)}`)
      } else {
        report(path, `${path.length > 0 ? `${String(path.at(-1))}: ` : ''}${issue.message}`)
      }
    }
    throw ruleSetInvalid(problems)
  }
  const set = parsed.data

  const lists: Record<string, Address[]> = {}
  const listSets = new Map<string, ReadonlySet<string>>()
  for (const [name, entries] of Object.entries(set.lists ?? {})) {
    const members = new Set<string>()
    entries.forEach((entry, index) => {
      const address = normalizeAddress(entry.trim())
      if (address === null) report(['lists', name, index], `list "${name}": "${entry}" is not an address (0x and 40 hex digits, checksummed or lowercase)`)
      else members.add(address)
    })
    lists[name] = [...members].sort() as Address[]
    listSets.set(name, members)
  }

  const ids = new Set<string>()
  const rules: NormalizedRule[] = []
  const tests: Predicate[] = []
  const reads = new Set<RuleStateField>()
  set.rules.forEach((rule, index) => {
    const at: Path = ['rules', index]
    if (ids.has(rule.id)) report([...at, 'id'], `the id "${rule.id}" is used by an earlier rule`)
    ids.add(rule.id)
    if ((rule.action === 'reject' || rule.action === 'flag') && rule.reason === undefined) {
      report([...at, 'action'], `a ${rule.action} rule needs a reason`)
    }
    if (rule.when === undefined) {
      report(at, 'when: a rule needs a condition')
      return
    }
    const condition = compileCondition(rule.when, [...at, 'when'], {report, lists: listSets})
    if (!condition) return
    for (const field of condition.reads) reads.add(field)
    rules.push({
      id: rule.id,
      ...(rule.description === undefined ? {} : {description: rule.description}),
      when: condition.normalized,
      action: rule.action,
      ...(rule.reason === undefined ? {} : {reason: rule.reason}),
    })
    tests.push(condition.test)
  })
  if (problems.length > 0) throw ruleSetInvalid(problems)

  const ruleSet: NormalizedRuleSet = {
    version: 1,
    name: set.name,
    ...(set.description === undefined ? {} : {description: set.description}),
    lists,
    rules,
    default: set.default,
  }
  const requiredState = RULE_STATE_FIELDS.filter((field) => reads.has(field))
  const hash = keccak256(stringToBytes(canonicalJson(ruleSet)))

  return Object.freeze({
    ruleSet,
    hash,
    requiredState,
    evaluate(tx: RuleTx, state: RuleState): RuleDecision {
      const ctx = new EvalContext(tx, state)
      let decided: {action: 'allow' | 'reject'; ruleId: string | null; reason: string | null} | undefined
      const flags: RuleFlag[] = []
      rules.forEach((rule, index) => {
        if (rule.action !== 'flag' && decided) return
        if (!tests[index]!(ctx)) return
        if (rule.action === 'flag') flags.push({ruleId: rule.id, reason: rule.reason ?? ''})
        else decided = {action: rule.action, ruleId: rule.id, reason: rule.reason ?? null}
      })
      decided ??=
        ruleSet.default === 'reject'
          ? {action: 'reject', ruleId: null, reason: `no rule of "${ruleSet.name}" allows this transaction and its default is reject`}
          : undefined
      if (decided?.action === 'reject') return {...decided, flags}
      const [firstFlag] = flags
      if (firstFlag) return {action: 'flag', ruleId: firstFlag.ruleId, reason: firstFlag.reason, flags}
      return decided ? {...decided, flags} : {action: 'allow', ruleId: null, reason: null, flags}
    },
  })
}

/** keccak256 of the canonical JSON of the normalized rule set: what governance activates. */
export function ruleSetHash(compiled: CompiledRuleSet): Hex {
  return compiled.hash
}

/** The state fields (from.balance, to.balance, to.isContract) a rule set reads, in that order. */
export function requiredState(compiled: CompiledRuleSet): readonly RuleStateField[] {
  return compiled.requiredState
}

interface ConditionScope {
  report(path: Path, message: string): void
  lists: ReadonlyMap<string, ReadonlySet<string>>
}

function compileCondition(raw: unknown, path: Path, scope: ConditionScope): CompiledCondition | undefined {
  if (!isRecord(raw)) {
    scope.report(path, `a condition is a mapping ({field, <operator>} or all/any/not), not ${describe(raw)}`)
    return undefined
  }
  const keys = Object.keys(raw)
  for (const combinator of ['all', 'any', 'not'] as const) {
    if (!(combinator in raw)) continue
    const extra = keys.filter((key) => key !== combinator)
    if (extra.length > 0) {
      for (const key of extra) scope.report([...path, key], `unknown field "${key}" beside "${combinator}" (a condition has one combinator or one field comparison)`)
      return undefined
    }
    const value = raw[combinator]
    if (combinator === 'not') {
      const inner = compileCondition(value, [...path, 'not'], scope)
      return inner && {normalized: {not: inner.normalized}, test: (ctx) => !inner.test(ctx), reads: inner.reads}
    }
    if (!Array.isArray(value) || value.length === 0) {
      scope.report([...path, combinator], `${combinator}: expected a non-empty list of conditions, got ${Array.isArray(value) ? 'an empty list' : describe(value)}`)
      return undefined
    }
    const parts = value.map((item, index) => compileCondition(item, [...path, combinator, index], scope))
    if (parts.some((part) => part === undefined)) return undefined
    const compiled = parts as CompiledCondition[]
    const tests = compiled.map((part) => part.test)
    const reads = new Set(compiled.flatMap((part) => [...part.reads]))
    return combinator === 'all'
      ? {normalized: {all: compiled.map((part) => part.normalized)}, test: (ctx) => tests.every((test) => test(ctx)), reads}
      : {normalized: {any: compiled.map((part) => part.normalized)}, test: (ctx) => tests.some((test) => test(ctx)), reads}
  }

  const unknown = keys.filter((key) => key !== 'field' && !OPS.includes(key))
  for (const key of unknown) scope.report([...path, key], `unknown field "${key}" in a condition (expected field and one of ${OPS.join(', ')}, or all/any/not)`)
  if (unknown.length > 0) return undefined
  const field = raw.field
  if (typeof field !== 'string' || !(field in FIELD_TYPES)) {
    scope.report([...path, 'field'], field === undefined ? 'a comparison needs a field' : `unknown field ${describe(field)}; fields: ${Object.keys(FIELD_TYPES).join(', ')}`)
    return undefined
  }
  const ruleField = field as RuleField
  const ops = keys.filter((key) => key !== 'field')
  if (ops.length !== 1) {
    scope.report(path, `${field}: expected exactly one operator (${OPS.join(', ')}), got ${ops.length === 0 ? 'none' : ops.join(', ')}`)
    return undefined
  }
  const op = ops[0] as CompareOp | ListOp
  const opPath = [...path, op]
  const type = FIELD_TYPES[ruleField]
  if (!TYPE_OPS[type].includes(op)) {
    scope.report(opPath, `${field} is ${type === 'uint' ? 'an amount' : `a${type === 'address' ? 'n' : ''} ${type}`} and cannot be compared with ${op}; it accepts ${TYPE_OPS[type].join(', ')}`)
    return undefined
  }
  const reads = new Set<RuleStateField>(RULE_STATE_FIELDS.includes(ruleField as RuleStateField) ? [ruleField as RuleStateField] : [])
  const operand = raw[op]

  if (op === 'in' || op === 'notIn') {
    const members = typeof operand === 'string' ? scope.lists.get(operand) : undefined
    if (typeof operand !== 'string' || !members) {
      const known = [...scope.lists.keys()]
      scope.report(opPath, `${op}: unknown list ${describe(operand)}; ${known.length > 0 ? `lists: ${known.join(', ')}` : 'the rule set declares no lists'}`)
      return undefined
    }
    const inList: Predicate = (ctx) => {
      const value = ctx.get(ruleField)
      return typeof value === 'string' && members.has(value)
    }
    return {normalized: {field: ruleField, op, list: operand}, test: op === 'in' ? inList : (ctx) => !inList(ctx), reads}
  }

  const operandValue = parseOperand(ruleField, operand)
  if (!operandValue.ok) {
    scope.report(opPath, `${field} ${op}: ${operandValue.message}`)
    return undefined
  }
  const expected = operandValue.value
  const normalizedValue = typeof expected === 'bigint' ? expected.toString() : expected
  const normalized: NormalizedCondition = {field: ruleField, op, value: normalizedValue}
  if (typeof expected === 'bigint') {
    const compare = BIGINT_COMPARE[op]
    return {normalized, test: (ctx) => compare(ctx.get(ruleField) as bigint, expected), reads}
  }
  return {normalized, test: op === 'eq' ? (ctx) => ctx.get(ruleField) === expected : (ctx) => ctx.get(ruleField) !== expected, reads}
}

const BIGINT_COMPARE: Record<CompareOp, (a: bigint, b: bigint) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
}

function parseOperand(field: RuleField, operand: unknown): {ok: true; value: Value} | {ok: false; message: string} {
  const type = FIELD_TYPES[field]
  if (NULLABLE_FIELDS.has(field) && (operand === null || operand === 'null' || operand === '~')) return {ok: true, value: null}
  switch (type) {
    case 'uint':
      return parseAmount(operand)
    case 'address': {
      const address = typeof operand === 'string' ? normalizeAddress(operand.trim()) : null
      return address === null
        ? {ok: false, message: `${describe(operand)} is not an address (0x and 40 hex digits, checksummed or lowercase${NULLABLE_FIELDS.has(field) ? ', or null for a creation' : ''})`}
        : {ok: true, value: address}
    }
    case 'selector': {
      if (typeof operand === 'string' && SELECTOR.test(operand.trim())) return {ok: true, value: operand.trim().toLowerCase()}
      if (typeof operand === 'string' && SIGNATURE.test(operand.trim())) {
        try {
          return {ok: true, value: toFunctionSelector(operand.trim()).toLowerCase()}
        } catch {
          // Falls through to the message below.
        }
      }
      return {ok: false, message: `${describe(operand)} is not a selector (0x and 8 hex digits, a signature such as "transfer(address,uint256)", or null)`}
    }
    case 'bool':
      if (operand === true || operand === 'true') return {ok: true, value: true}
      if (operand === false || operand === 'false') return {ok: true, value: false}
      return {ok: false, message: `${describe(operand)} is not true or false`}
  }
}

/** Lowercase form of a checksummed or lowercase address; null for anything else. */
function normalizeAddress(text: string): Address | null {
  return isAddress(text, {strict: true}) ? (text.toLowerCase() as Address) : null
}

function allowedKeysHint(path: Path): string {
  if (path.length === 0) return '; a rule set has version, name, description, lists, rules and default'
  if (path[0] === 'rules' && path.length === 2) return '; a rule has id, description, when, action and reason'
  return ''
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One evaluation's view of the transaction and state: each value computed once, state only when read. */
class EvalContext {
  private readonly cache = new Map<RuleField, Value>()

  constructor(
    private readonly tx: RuleTx,
    private readonly state: RuleState,
  ) {}

  get(field: RuleField): Value {
    if (this.cache.has(field)) return this.cache.get(field)!
    const value = this.read(field)
    this.cache.set(field, value)
    return value
  }

  private read(field: RuleField): Value {
    const {tx, state} = this
    const to = tx.to === null ? null : (tx.to.toLowerCase() as Address)
    switch (field) {
      case 'tx.from':
        return tx.from.toLowerCase()
      case 'tx.to':
        return to
      case 'tx.value':
        return tx.value
      case 'tx.gasLimit':
        return tx.gasLimit
      case 'tx.maxFeePerGas':
        return tx.maxFeePerGas
      case 'tx.nonce':
        return tx.nonce
      case 'tx.data.length':
        return BigInt(dataBytes(tx.data).length)
      case 'tx.selector': {
        const bytes = dataBytes(tx.data)
        return bytes.length < 4 ? null : bytesToHex(bytes.subarray(0, 4))
      }
      case 'from.balance':
        return state.balance(tx.from.toLowerCase() as Address)
      case 'to.balance':
        return to === null ? 0n : state.balance(to)
      case 'to.isContract':
        return to === null ? false : state.isContract(to)
    }
  }
}

function dataBytes(data: Hex | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : hexToBytes(data)
}
