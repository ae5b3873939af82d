/**
 * Properties of compiled rule sets over random conditions, transactions and states: evaluation is
 * deterministic and pure (same inputs, same decision and the same state lookups; the inputs are
 * not changed; only the state fields requiredState names are looked up), `not` is the complement,
 * and `all`/`any` behave as boolean conjunction and disjunction (De Morgan included).
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the cases; on failure the message names
 * the seed, so `FC_SEED=<seed> npx vitest run test/property/rule-engine.test.ts` replays it.
 */
import fc from 'fast-check'
import type {Address, Hex} from 'viem'
import {describe, expect, it} from 'vitest'

import {type RuleState, type RuleTx, compileRuleSet} from '../../src/modules/rule-engine/index.js'

const seed = Number(process.env.FC_SEED ?? 0x5eed_7e)
const runs = Number(process.env.FC_RUNS ?? 300)

function check<T>(property: fc.IProperty<T>, numRuns = runs): void {
  try {
    fc.assert(property, {seed, numRuns})
  } catch (err) {
    throw new Error(`rule engine property failed; replay with FC_SEED=${seed}\n${(err as Error).message}`, {cause: err})
  }
}

const ADDRESSES = [
  '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
  '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
] as Address[]
const LIST = ADDRESSES.slice(1, 3)
const SELECTORS = ['0xa9059cbb', '0x095ea7b3'] as Hex[]

type Condition = Record<string, unknown>
const small = fc.bigInt({min: 0n, max: 20n})
const uintField = fc.constantFrom('tx.value', 'tx.gasLimit', 'tx.maxFeePerGas', 'tx.data.length', 'tx.nonce', 'from.balance', 'to.balance')
const leaf: fc.Arbitrary<Condition> = fc.oneof(
  fc.tuple(uintField, fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'), small).map(([field, op, value]) => ({field, [op]: value.toString()})),
  fc.tuple(fc.constantFrom('tx.from', 'tx.to'), fc.constantFrom('in', 'notIn')).map(([field, op]) => ({field, [op]: 'l'})),
  fc.tuple(fc.constantFrom('tx.from', 'tx.to'), fc.constantFrom('eq', 'ne'), fc.constantFrom(...ADDRESSES)).map(([field, op, value]) => ({field, [op]: value})),
  fc.tuple(fc.constantFrom('eq', 'ne'), fc.constantFrom<Hex | null>(null, ...SELECTORS)).map(([op, value]) => ({field: 'tx.selector', [op]: value})),
  fc.tuple(fc.constantFrom('eq', 'ne'), fc.boolean()).map(([op, value]) => ({field: 'to.isContract', [op]: value})),
  fc.constant({field: 'tx.to', eq: null}),
)
const condition: fc.Arbitrary<Condition> = fc.letrec<{c: Condition}>((tie) => ({
  c: fc.oneof(
    {depthSize: 'small', withCrossShrink: true},
    leaf,
    fc.array(tie('c'), {minLength: 1, maxLength: 3}).map((all) => ({all})),
    fc.array(tie('c'), {minLength: 1, maxLength: 3}).map((any) => ({any})),
    tie('c').map((not) => ({not})),
  ),
})).c

/** Sender and recipient differ, so every balance lookup names the field it serves. */
const txArb: fc.Arbitrary<RuleTx> = fc
  .record({
    fromIndex: fc.nat({max: 3}),
    toIndex: fc.option(fc.nat({max: 2}), {nil: null}),
    value: small,
    gasLimit: small,
    maxFeePerGas: small,
    nonce: small,
    data: fc.oneof(fc.constant('0x' as Hex), fc.constantFrom(...SELECTORS).chain((selector) => fc.nat({max: 8}).map((extra) => `${selector}${'ab'.repeat(extra)}` as Hex)), fc.constant('0x0102' as Hex)),
  })
  .map(({fromIndex, toIndex, data, ...rest}) => ({
    from: ADDRESSES[fromIndex]!,
    to: toIndex === null ? null : ADDRESSES.filter((_, index) => index !== fromIndex)[toIndex]!,
    data,
    ...rest,
  }))
const worldArb = fc.record({balances: fc.array(small, {minLength: 4, maxLength: 4}), contracts: fc.array(fc.boolean(), {minLength: 4, maxLength: 4})})

type World = {balances: bigint[]; contracts: boolean[]}
function recording(world: World): RuleState & {calls: string[]} {
  const calls: string[] = []
  const index = (address: Address): number => ADDRESSES.indexOf(address.toLowerCase() as Address)
  return {
    calls,
    balance: (address) => (calls.push(`balance:${address}`), world.balances[index(address)] ?? 0n),
    isContract: (address) => (calls.push(`isContract:${address}`), world.contracts[index(address)] ?? false),
  }
}

function ruleSet(rules: {when: Condition; action: string}[], fallback = 'allow'): object {
  return {version: 1, name: 'p', lists: {l: LIST}, rules: rules.map((rule, i) => ({id: `r${i}`, ...rule, reason: rule.action === 'allow' ? undefined : `reason ${i}`})), default: fallback}
}

function holds(when: Condition, tx: RuleTx, world: World): boolean {
  return compileRuleSet(ruleSet([{when, action: 'reject'}])).evaluate(tx, recording(world)).action === 'reject'
}

const actions = fc.constantFrom('allow', 'reject', 'flag')

describe('rule engine properties', () => {
  it('evaluation is deterministic and pure, and looks up only the state its rule set requires', () => {
    check(
      fc.property(fc.array(fc.record({when: condition, action: actions}), {minLength: 1, maxLength: 5}), fc.constantFrom('allow', 'reject'), txArb, worldArb, (rules, fallback, tx, world) => {
        const compiled = compileRuleSet(ruleSet(rules, fallback))
        const txCopy = structuredClone(tx)
        const first = recording(world)
        const second = recording(world)
        const a = compiled.evaluate(tx, first)
        const b = compiled.evaluate(tx, second)
        expect(b).toEqual(a)
        expect(second.calls).toEqual(first.calls)
        expect(tx).toEqual(txCopy)
        // A fresh compilation of the same rule set decides the same.
        expect(compileRuleSet(ruleSet(rules, fallback)).evaluate(tx, recording(world))).toEqual(a)
        const required = new Set(compiled.requiredState)
        for (const call of first.calls) {
          const [kind, address] = call.split(':')
          const field = kind === 'isContract' ? 'to.isContract' : address === tx.from ? 'from.balance' : 'to.balance'
          expect(required.has(field), `${call} for ${field} not in ${[...required].join(',')}`).toBe(true)
          if (field !== 'from.balance') expect(address).toBe(tx.to)
        }
        expect(new Set(first.calls).size).toBe(first.calls.length)
      }),
    )
  })

  it('not is the complement', () => {
    check(fc.property(condition, txArb, worldArb, (c, tx, world) => holds({not: c}, tx, world) === !holds(c, tx, world)))
  })

  it('all and any are conjunction and disjunction, and obey De Morgan', () => {
    check(
      fc.property(condition, condition, txArb, worldArb, (a, b, tx, world) => {
        const ha = holds(a, tx, world)
        const hb = holds(b, tx, world)
        expect(holds({all: [a, b]}, tx, world)).toBe(ha && hb)
        expect(holds({any: [a, b]}, tx, world)).toBe(ha || hb)
        expect(holds({all: [a]}, tx, world)).toBe(ha)
        expect(holds({any: [a, a]}, tx, world)).toBe(ha)
        expect(holds({not: {all: [a, b]}}, tx, world)).toBe(holds({any: [{not: a}, {not: b}]}, tx, world))
        expect(holds({not: {any: [a, b]}}, tx, world)).toBe(holds({all: [{not: a}, {not: b}]}, tx, world))
        expect(holds({all: [a, {any: [b, {not: b}]}]}, tx, world)).toBe(ha)
      }),
      200,
    )
  })

  it('the first matching allow/reject rule decides and every matching flag is reported', () => {
    check(
      fc.property(fc.array(fc.record({when: condition, action: actions}), {minLength: 1, maxLength: 5}), fc.constantFrom('allow', 'reject'), txArb, worldArb, (rules, fallback, tx, world) => {
        const decision = compileRuleSet(ruleSet(rules, fallback)).evaluate(tx, recording(world))
        const matching = rules.map((rule, i) => ({...rule, id: `r${i}`})).filter((rule) => holds(rule.when, tx, world))
        const decider = matching.find((rule) => rule.action !== 'flag')
        const flags = matching.filter((rule) => rule.action === 'flag').map((rule) => rule.id)
        expect(decision.flags.map((flag) => flag.ruleId)).toEqual(flags)
        const base = decider?.action ?? fallback
        expect(decision.action).toBe(base === 'reject' ? 'reject' : flags.length > 0 ? 'flag' : 'allow')
        if (base === 'reject') expect(decision.ruleId).toBe(decider?.id ?? null)
      }),
      150,
    )
  })
})
