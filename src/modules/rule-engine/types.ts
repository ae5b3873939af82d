import type {Address, Hex} from 'viem'

/** The transaction a rule set judges, as the chain decodes it. */
export interface RuleTx {
  from: Address
  /** null for a contract creation. */
  to: Address | null
  value: bigint
  gasLimit: bigint
  /** maxFeePerGas of an EIP-1559 transaction; gasPrice of a legacy one. */
  maxFeePerGas: bigint
  /** Calldata (init code for a creation), as hex or bytes. */
  data: Hex | Uint8Array
  nonce: bigint
}

/**
 * The state a transaction sees, as synchronous lookups the caller backs (the chain with the
 * state of the block the transaction runs in). An evaluation calls a lookup only for the fields
 * its rule set's conditions name (see requiredState), at most once per address and field, and
 * never for the recipient of a creation (its `to.balance` reads 0 and `to.isContract` false).
 * Addresses are passed lowercase.
 */
export interface RuleState {
  balance(address: Address): bigint
  isContract(address: Address): boolean
}

/** State a rule set may read; requiredState lists the ones it does, so the chain can prefetch. */
export type RuleStateField = 'from.balance' | 'to.balance' | 'to.isContract'
export const RULE_STATE_FIELDS: readonly RuleStateField[] = ['from.balance', 'to.balance', 'to.isContract']

export type RuleAction = 'allow' | 'reject' | 'flag'
export type RuleDefault = 'allow' | 'reject'

export const FIELD_TYPES = {
  'tx.from': 'address',
  'tx.to': 'address',
  'tx.value': 'uint',
  'tx.gasLimit': 'uint',
  'tx.maxFeePerGas': 'uint',
  'tx.data.length': 'uint',
  'tx.selector': 'selector',
  'tx.nonce': 'uint',
  'from.balance': 'uint',
  'to.balance': 'uint',
  'to.isContract': 'bool',
} as const
export type RuleField = keyof typeof FIELD_TYPES
export type RuleFieldType = (typeof FIELD_TYPES)[RuleField]

/** Fields that may be null: the recipient of a creation, the selector of short calldata. */
export const NULLABLE_FIELDS: ReadonlySet<RuleField> = new Set<RuleField>(['tx.to', 'tx.selector'])

export const COMPARE_OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const
export const LIST_OPS = ['in', 'notIn'] as const
export type CompareOp = (typeof COMPARE_OPS)[number]
export type ListOp = (typeof LIST_OPS)[number]

/** Operators each field type accepts. */
export const TYPE_OPS: Readonly<Record<RuleFieldType, readonly (CompareOp | ListOp)[]>> = {
  address: ['eq', 'ne', 'in', 'notIn'],
  uint: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte'],
  selector: ['eq', 'ne'],
  bool: ['eq', 'ne'],
}

/**
 * A condition after compilation, in canonical form: amounts as decimal strings, addresses and
 * selectors lowercase, lists by name. This is what a rule set's hash covers.
 */
export type NormalizedCondition =
  | {all: NormalizedCondition[]}
  | {any: NormalizedCondition[]}
  | {not: NormalizedCondition}
  | {field: RuleField; op: CompareOp; value: string | boolean | null}
  | {field: RuleField; op: ListOp; list: string}

export interface NormalizedRule {
  id: string
  description?: string
  when: NormalizedCondition
  action: RuleAction
  reason?: string
}

export interface NormalizedRuleSet {
  version: 1
  name: string
  description?: string
  /** Each list lowercase, without duplicates, sorted: membership is all that matters. */
  lists: Record<string, Address[]>
  rules: NormalizedRule[]
  default: RuleDefault
}

export interface RuleFlag {
  ruleId: string
  reason: string
}

/**
 * What a rule set decides for one transaction. `action` is the first matching allow/reject rule's
 * action (or the default when none matches), turned into 'flag' when the transaction is allowed
 * but flag rules matched. `ruleId`/`reason` name the deciding rule (for 'flag', the first flag;
 * null for an allow by default; for a reject by default the reason says so). `flags` lists every
 * matching flag rule in order, whatever the action.
 */
export interface RuleDecision {
  action: RuleAction
  ruleId: string | null
  reason: string | null
  flags: RuleFlag[]
}

export interface CompiledRuleSet {
  readonly ruleSet: NormalizedRuleSet
  /** keccak256 of the canonical JSON of ruleSet. */
  readonly hash: Hex
  /** The state fields this rule set's conditions read. */
  readonly requiredState: readonly RuleStateField[]
  evaluate(tx: RuleTx, state: RuleState): RuleDecision
}
