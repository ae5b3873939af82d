import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {toFunctionSelector} from 'viem'
import {describe, expect, it} from 'vitest'

import {XaiError} from '../../../src/util/errors.js'
import {type RuleField, type RuleTx, compileRuleSet, requiredState, ruleSetHash} from '../../../src/modules/rule-engine/index.js'
import {REPO_ROOT} from '../../helpers/devnet.js'
import {ALICE, BOB, CAROL, ETHER, oneRule, recordingState, tx} from './helpers.js'

function hits(when: string, t: RuleTx, state = recordingState(), extra = ''): boolean {
  const decision = compileRuleSet(oneRule(when, extra)).evaluate(t, state)
  return decision.action === 'reject'
}

function compileError(text: string | object): XaiError {
  try {
    compileRuleSet(text)
  } catch (err) {
    if (err instanceof XaiError) return err
    throw err
  }
  throw new Error('the rule set compiled')
}

describe('compileRuleSet: fields and operators', () => {
  const uintFields: [RuleField, Partial<RuleTx>, bigint][] = [
    ['tx.value', {value: 5n}, 5n],
    ['tx.gasLimit', {gasLimit: 5n}, 5n],
    ['tx.maxFeePerGas', {maxFeePerGas: 5n}, 5n],
    ['tx.nonce', {nonce: 5n}, 5n],
    ['tx.data.length', {data: '0x0102030405'}, 5n],
  ]
  for (const [field, overrides] of uintFields) {
    it(`${field}: eq ne lt lte gt gte compare as bigints`, () => {
      const t = tx(overrides)
      expect(hits(`{field: ${field}, eq: 5}`, t)).toBe(true)
      expect(hits(`{field: ${field}, eq: 4}`, t)).toBe(false)
      expect(hits(`{field: ${field}, ne: 4}`, t)).toBe(true)
      expect(hits(`{field: ${field}, ne: 5}`, t)).toBe(false)
      expect(hits(`{field: ${field}, lt: 6}`, t)).toBe(true)
      expect(hits(`{field: ${field}, lt: 5}`, t)).toBe(false)
      expect(hits(`{field: ${field}, lte: 5}`, t)).toBe(true)
      expect(hits(`{field: ${field}, lte: 4}`, t)).toBe(false)
      expect(hits(`{field: ${field}, gt: 4}`, t)).toBe(true)
      expect(hits(`{field: ${field}, gt: 5}`, t)).toBe(false)
      expect(hits(`{field: ${field}, gte: 5}`, t)).toBe(true)
      expect(hits(`{field: ${field}, gte: 6}`, t)).toBe(false)
    })
  }

  it('compares amounts beyond 2^53 exactly', () => {
    const t = tx({value: 2n ** 200n + 1n})
    expect(hits(`{field: tx.value, gt: "${2n ** 200n}"}`, t)).toBe(true)
    expect(hits(`{field: tx.value, eq: ${2n ** 200n + 1n}}`, t)).toBe(true)
    expect(hits(`{field: tx.value, gt: ${2n ** 200n + 1n}}`, t)).toBe(false)
  })

  it('from.balance and to.balance read the state of sender and recipient', () => {
    const state = recordingState({[ALICE]: 7n * ETHER, [BOB]: 3n * ETHER})
    expect(hits('{field: from.balance, eq: 7 ether}', tx(), state)).toBe(true)
    expect(hits('{field: to.balance, eq: 3 ether}', tx(), state)).toBe(true)
    expect(hits('{field: to.balance, gt: 3 ether}', tx(), state)).toBe(false)
  })

  it('to.isContract compares with true and false', () => {
    const state = recordingState({}, {[BOB]: true})
    expect(hits('{field: to.isContract, eq: true}', tx(), state)).toBe(true)
    expect(hits('{field: to.isContract, ne: true}', tx(), state)).toBe(false)
    expect(hits('{field: to.isContract, eq: false}', tx({to: CAROL}), state)).toBe(true)
  })

  it('a creation has tx.to null, to.balance 0 and to.isContract false, without state lookups for it', () => {
    const state = recordingState({[BOB]: 5n})
    const creation = tx({to: null})
    expect(hits('{field: tx.to, eq: null}', creation, state)).toBe(true)
    expect(hits('{field: tx.to, ne: null}', tx(), state)).toBe(true)
    expect(hits('{field: to.balance, eq: 0}', creation, state)).toBe(true)
    expect(hits('{field: to.isContract, eq: false}', creation, state)).toBe(true)
    expect(state.calls).toEqual([])
  })

  it('addresses compare case-insensitively, written checksummed or lowercase', () => {
    expect(hits(`{field: tx.from, eq: "${ALICE}"}`, tx({from: ALICE.toLowerCase() as typeof ALICE}))).toBe(true)
    expect(hits(`{field: tx.from, eq: "${ALICE.toLowerCase()}"}`, tx())).toBe(true)
    expect(hits(`{field: tx.to, eq: ${BOB}}`, tx())).toBe(true)
    expect(hits(`{field: tx.to, ne: ${BOB}}`, tx())).toBe(false)
    expect(hits(`{field: tx.to, eq: ${BOB}}`, tx({to: null}))).toBe(false)
  })

  it('tx.selector is the first 4 bytes of calldata (hex or a signature), null for shorter data', () => {
    const transfer = toFunctionSelector('transfer(address,uint256)')
    const call = tx({data: `${transfer}${'00'.repeat(64)}`})
    expect(hits(`{field: tx.selector, eq: "${transfer}"}`, call)).toBe(true)
    expect(hits(`{field: tx.selector, eq: "${transfer.toUpperCase().replace('0X', '0x')}"}`, call)).toBe(true)
    expect(hits('{field: tx.selector, eq: "transfer(address,uint256)"}', call)).toBe(true)
    expect(hits('{field: tx.selector, ne: "approve(address,uint256)"}', call)).toBe(true)
    expect(hits('{field: tx.selector, eq: null}', tx({data: '0x010203'}))).toBe(true)
    expect(hits('{field: tx.selector, eq: null}', call)).toBe(false)
    expect(hits(`{field: tx.selector, eq: "${transfer}"}`, tx({data: Uint8Array.from([0xa9, 0x05, 0x9c, 0xbb, 1])}))).toBe(true)
  })

  it('in / notIn test list membership, case-insensitively; null is in no list', () => {
    const lists = `lists:\n  friends: [${BOB.toLowerCase()}, ${CAROL}]\n`
    expect(hits('{field: tx.to, in: friends}', tx(), recordingState(), lists)).toBe(true)
    expect(hits('{field: tx.to, notIn: friends}', tx(), recordingState(), lists)).toBe(false)
    expect(hits('{field: tx.from, in: friends}', tx(), recordingState(), lists)).toBe(false)
    expect(hits('{field: tx.from, notIn: friends}', tx(), recordingState(), lists)).toBe(true)
    expect(hits('{field: tx.to, in: friends}', tx({to: null}), recordingState(), lists)).toBe(false)
    expect(hits('{field: tx.to, notIn: friends}', tx({to: null}), recordingState(), lists)).toBe(true)
  })

  it('all, any and not combine conditions', () => {
    const t = tx({value: 5n, nonce: 1n})
    expect(hits('{all: [{field: tx.value, eq: 5}, {field: tx.nonce, eq: 1}]}', t)).toBe(true)
    expect(hits('{all: [{field: tx.value, eq: 5}, {field: tx.nonce, eq: 2}]}', t)).toBe(false)
    expect(hits('{any: [{field: tx.value, eq: 6}, {field: tx.nonce, eq: 1}]}', t)).toBe(true)
    expect(hits('{any: [{field: tx.value, eq: 6}, {field: tx.nonce, eq: 2}]}', t)).toBe(false)
    expect(hits('{not: {field: tx.value, eq: 5}}', t)).toBe(false)
    expect(hits('{not: {not: {field: tx.value, eq: 5}}}', t)).toBe(true)
  })
})

describe('compileRuleSet: amounts with units', () => {
  const cases: [string, bigint][] = [
    ['"10 ether"', 10n * ETHER],
    ['10 ether', 10n * ETHER],
    ['"1.5 ether"', 15n * 10n ** 17n],
    ['"5 gwei"', 5_000_000_000n],
    ['"5gwei"', 5_000_000_000n],
    ['"3 wei"', 3n],
    ['"2 kwei"', 2000n],
    ['"2 mwei"', 2_000_000n],
    ['"2 szabo"', 2n * 10n ** 12n],
    ['"2 finney"', 2n * 10n ** 15n],
    ['"0.000000001 ether"', 10n ** 9n],
    ['"1_000"', 1000n],
    ['"0x2a"', 42n],
    ['123', 123n],
  ]
  for (const [written, wei] of cases) {
    it(`${written} is ${wei} wei`, () => {
      const compiled = compileRuleSet(oneRule(`{field: tx.value, eq: ${written}}`))
      expect(compiled.ruleSet.rules[0]!.when).toEqual({field: 'tx.value', op: 'eq', value: wei.toString()})
    })
  }

  it('object input accepts bigints and safe integers', () => {
    const set = {version: 1, name: 't', rules: [{id: 'a', when: {field: 'tx.value', gt: 10n ** 30n}, action: 'allow'}, {id: 'b', when: {field: 'tx.nonce', lt: 7}, action: 'allow'}], default: 'reject'}
    const compiled = compileRuleSet(set)
    expect(compiled.ruleSet.rules.map((rule) => rule.when)).toEqual([
      {field: 'tx.value', op: 'gt', value: (10n ** 30n).toString()},
      {field: 'tx.nonce', op: 'lt', value: '7'},
    ])
  })

  for (const [written, message] of [
    ['"1.5 wei"', 'not a whole number of wei'],
    ['"0.0000000000000000001 ether"', 'not a whole number of wei'],
    ['"10 eth"', 'unknown unit "eth"'],
    ['"-1"', 'not an amount'],
    ['"ten"', 'not an amount'],
    [`"${2n ** 256n}"`, 'does not fit in 256 bits'],
  ] as const) {
    it(`${written} is rejected: ${message}`, () => {
      const err = compileError(oneRule(`{field: tx.value, gt: ${written}}`))
      expect(err.message).toContain(message)
      expect(err.message).toContain('Rule "r" (line 5)')
    })
  }

  it('an inexact number from an object is rejected', () => {
    const err = compileError({version: 1, name: 't', rules: [{id: 'a', when: {field: 'tx.value', gt: 1.5}, action: 'allow'}], default: 'allow'})
    expect(err.message).toContain('not an exact integer')
    expect(err.message).toContain('Rule "a":')
  })
})

describe('evaluate: precedence and default', () => {
  const set = `version: 1
name: precedence
rules:
  - id: flag-big
    when: {field: tx.value, gte: 100}
    action: flag
    reason: big
  - id: allow-nonce-0
    when: {field: tx.nonce, eq: 0}
    action: allow
  - id: reject-big
    when: {field: tx.value, gte: 100}
    action: reject
    reason: too big
  - id: flag-huge
    when: {field: tx.value, gte: 1000}
    action: flag
    reason: huge
default: DEFAULT
`
  const allowByDefault = compileRuleSet(set.replace('DEFAULT', 'allow'))
  const rejectByDefault = compileRuleSet(set.replace('DEFAULT', 'reject'))

  it('the first matching allow/reject rule decides', () => {
    expect(allowByDefault.evaluate(tx({value: 150n, nonce: 1n}), recordingState())).toEqual({action: 'reject', ruleId: 'reject-big', reason: 'too big', flags: [{ruleId: 'flag-big', reason: 'big'}]})
    expect(allowByDefault.evaluate(tx({value: 5n, nonce: 0n}), recordingState())).toEqual({action: 'allow', ruleId: 'allow-nonce-0', reason: null, flags: []})
  })

  it('flags never decide, and all matching flags are reported, even after the deciding rule', () => {
    expect(allowByDefault.evaluate(tx({value: 1500n, nonce: 0n}), recordingState())).toEqual({
      action: 'flag',
      ruleId: 'flag-big',
      reason: 'big',
      flags: [
        {ruleId: 'flag-big', reason: 'big'},
        {ruleId: 'flag-huge', reason: 'huge'},
      ],
    })
    expect(rejectByDefault.evaluate(tx({value: 1500n, nonce: 1n}), recordingState()).flags.map((flag) => flag.ruleId)).toEqual(['flag-big', 'flag-huge'])
  })

  it('no match applies the default', () => {
    expect(allowByDefault.evaluate(tx({value: 5n, nonce: 1n}), recordingState())).toEqual({action: 'allow', ruleId: null, reason: null, flags: []})
    const rejected = rejectByDefault.evaluate(tx({value: 5n, nonce: 1n}), recordingState())
    expect(rejected).toMatchObject({action: 'reject', ruleId: null, flags: []})
    expect(rejected.reason).toContain('default is reject')
  })

  it('a flagged transaction rejected by default stays rejected, with its flags', () => {
    const compiled = compileRuleSet('version: 1\nname: d\nrules:\n  - {id: f, when: {field: tx.value, gt: 1}, action: flag, reason: f}\ndefault: reject\n')
    expect(compiled.evaluate(tx({value: 2n}), recordingState())).toMatchObject({action: 'reject', ruleId: null, flags: [{ruleId: 'f', reason: 'f'}]})
  })
})

describe('compileRuleSet: errors name the rule id and the YAML line', () => {
  const base = (rule: string, extra = ''): string => `version: 1
name: errors
${extra}rules:
  - id: fine
    when: {field: tx.value, gt: 1}
    action: allow
  - id: broken
${rule}
default: allow
`

  const cases: [string, string, string, string][] = [
    ['unknown field in a rule', base('    when: {field: tx.value, gt: 1}\n    action: allow\n    priority: 3'), 'line 10', 'unknown field "priority"'],
    ['unknown condition field', base('    when: {field: tx.amount, gt: 1}\n    action: allow'), 'line 8', 'unknown field "tx.amount"'],
    ['unknown operator', base('    when: {field: tx.value, above: 1}\n    action: allow'), 'line 8', 'unknown field "above"'],
    ['two operators', base('    when: {field: tx.value, gt: 1, lt: 5}\n    action: allow'), 'line 8', 'exactly one operator'],
    ['no operator', base('    when: {field: tx.value}\n    action: allow'), 'line 8', 'exactly one operator'],
    ['unknown list', base('    when: {field: tx.to, in: friends}\n    action: allow', 'lists:\n  foes: []\n'), 'line 10', 'unknown list "friends"; lists: foes'],
    ['address compared with lt', base('    when: {field: tx.to, lt: 5}\n    action: allow'), 'line 8', 'tx.to is an address and cannot be compared with lt'],
    ['amount compared with in', base('    when: {field: tx.value, in: x}\n    action: allow'), 'line 8', 'tx.value is an amount and cannot be compared with in'],
    ['bool compared with gt', base('    when: {field: to.isContract, gt: 1}\n    action: allow'), 'line 8', 'cannot be compared with gt'],
    ['invalid address', base('    when: {field: tx.from, eq: 0x1234}\n    action: allow'), 'line 8', '"0x1234" is not an address'],
    ['bad checksum', base(`    when: {field: tx.from, eq: ${ALICE.replace('f39F', 'f39f').replace('aB88', 'Ab88')}}\n    action: allow`), 'line 8', 'is not an address'],
    ['null for a non-nullable field', base('    when: {field: tx.from, eq: null}\n    action: allow'), 'line 8', 'is not an address'],
    ['invalid selector', base('    when: {field: tx.selector, eq: 0x1234}\n    action: allow'), 'line 8', 'is not a selector'],
    ['invalid bool', base('    when: {field: to.isContract, eq: yes}\n    action: allow'), 'line 8', 'is not true or false'],
    ['reject without reason', base('    when: {field: tx.value, gt: 1}\n    action: reject'), 'line 9', 'a reject rule needs a reason'],
    ['flag without reason', base('    when: {field: tx.value, gt: 1}\n    action: flag'), 'line 9', 'a flag rule needs a reason'],
    ['unknown action', base('    when: {field: tx.value, gt: 1}\n    action: deny'), 'line 9', 'action'],
    ['missing when', base('    action: allow'), 'line 7', 'a rule needs a condition'],
    ['empty all', base('    when: {all: []}\n    action: allow'), 'line 8', 'non-empty list'],
    ['combinator with a field beside it', base('    when: {not: {field: tx.value, gt: 1}, field: tx.nonce}\n    action: allow'), 'line 8', 'beside "not"'],
    ['nested error', base('    when:\n      all:\n        - {field: tx.value, gt: 1}\n        - any:\n            - {field: tx.nonce, gt: "1.5"}\n    action: allow'), 'line 12', 'not a whole number of wei'],
    ['duplicate id', base('    when: {field: tx.value, gt: 1}\n    action: allow').replace('id: broken', 'id: fine'), 'line 7', 'used by an earlier rule'],
  ]
  for (const [title, text, line, message] of cases) {
    it(title, () => {
      const err = compileError(text)
      expect(err.code).toBe('RULES_INVALID')
      expect(err.exitCode).toBe(2)
      expect(err.message).toContain(message)
      const ruleName = title === 'duplicate id' ? 'fine' : 'broken'
      expect(err.message).toContain(`Rule "${ruleName}" (${line})`)
      expect(err.hint).toBeTruthy()
    })
  }

  it('an invalid list entry names the list and its line', () => {
    const err = compileError(base('    when: {field: tx.to, in: friends}\n    action: allow', `lists:\n  friends:\n    - ${BOB}\n    - not-an-address\n`))
    expect(err.message).toBe('Rule set (line 6): list "friends": "not-an-address" is not an address (0x and 40 hex digits, checksummed or lowercase)')
  })

  it('unknown top-level fields, a bad version and a missing default are reported together', () => {
    const err = compileError('version: 2\nname: x\nrulez: []\nrules: []\n')
    expect(err.message).toContain('3 errors')
    expect(err.message).toContain('Rule set (line 1): version: version must be 1')
    expect(err.message).toContain('Rule set (line 3): unknown field "rulez"')
    expect(err.message).toMatch(/default/)
  })

  it('YAML syntax errors and duplicate keys carry their line', () => {
    expect(compileError('version: 1\nname: x\nrules: [\n').message).toMatch(/line \d+\): YAML syntax/)
    expect(compileError('version: 1\nname: x\nname: y\nrules: []\ndefault: allow\n').message).toMatch(/Rule set \(line 3\): YAML syntax/)
  })

  it('a document that is not a mapping is rejected', () => {
    expect(compileError('- a\n- b\n').message).toContain('a rule set is a mapping')
  })

  it('several problems are all reported with their lines', () => {
    const err = compileError(`version: 1
name: many
rules:
  - id: a
    when: {field: tx.to, gt: 1}
    action: allow
  - id: b
    when: {field: tx.value, in: nope}
    action: flag
default: allow
`)
    expect(err.message).toContain('Rule "a" (line 5)')
    expect(err.message).toContain('Rule "b" (line 8)')
    expect(err.message).toContain('Rule "b" (line 9): a flag rule needs a reason')
    expect((err.details?.problems as unknown[]).length).toBe(3)
  })
})

describe('ruleSetHash and requiredState', () => {
  const text = `# a comment
version: 1
name: hashed
lists:
  l: [${BOB}, ${CAROL.toLowerCase()}]
rules:
  - id: a
    when: {all: [{field: tx.value, gt: 10 ether}, {field: tx.to, notIn: l}]}
    action: reject
    reason: no
default: allow
`
  const reordered = `default: allow   # trailing comment
rules:
  -   action: reject
      reason: no
      when:
        all:
          - {gt: "10000000000000000000", field: tx.value}
          - notIn: l
            field: tx.to
      id: a
name: hashed
lists:
  l:
    - ${CAROL}
    - ${BOB.toLowerCase()}
    - ${BOB}
version: "1"
`

  it('is stable under key order, whitespace, comments, address case, list order and amount spelling', () => {
    const a = compileRuleSet(text)
    const b = compileRuleSet(reordered)
    expect(ruleSetHash(a)).toMatch(/^0x[0-9a-f]{64}$/)
    expect(ruleSetHash(b)).toBe(ruleSetHash(a))
    expect(b.ruleSet).toEqual(a.ruleSet)
  })

  it('changes with any rule', () => {
    const base = ruleSetHash(compileRuleSet(text))
    expect(ruleSetHash(compileRuleSet(text.replace('10 ether', '11 ether')))).not.toBe(base)
    expect(ruleSetHash(compileRuleSet(text.replace('reason: no', 'reason: nope')))).not.toBe(base)
    expect(ruleSetHash(compileRuleSet(text.replace('default: allow', 'default: reject')))).not.toBe(base)
    expect(ruleSetHash(compileRuleSet(text.replace('notIn', 'in')))).not.toBe(base)
  })

  it('is the same from YAML and from the equivalent object', () => {
    const object = {version: 1, name: 'hashed', lists: {l: [BOB, CAROL]}, rules: [{id: 'a', when: {all: [{field: 'tx.value', gt: '10 ether'}, {field: 'tx.to', notIn: 'l'}]}, action: 'reject', reason: 'no'}], default: 'allow'}
    expect(ruleSetHash(compileRuleSet(object))).toBe(ruleSetHash(compileRuleSet(text)))
  })

  it('requiredState lists only the state fields the conditions name', () => {
    expect(requiredState(compileRuleSet(text))).toEqual([])
    expect(requiredState(compileRuleSet(oneRule('{any: [{field: to.isContract, eq: true}, {not: {field: from.balance, gt: 1}}]}')))).toEqual(['from.balance', 'to.isContract'])
    expect(requiredState(compileRuleSet(oneRule('{field: to.balance, gt: 1}')))).toEqual(['to.balance'])
  })
})

describe('templates/rules', () => {
  it('every template compiles', async () => {
    const dir = join(REPO_ROOT, 'templates/rules')
    const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml'))
    expect(files.length).toBeGreaterThanOrEqual(3)
    for (const file of files) {
      const compiled = compileRuleSet(await readFile(join(dir, file), 'utf8'))
      expect(compiled.ruleSet.rules.length, file).toBeGreaterThan(0)
    }
  })

  it('large-transfers rejects a large transfer to an unlisted address and allows it to a listed one', async () => {
    const compiled = compileRuleSet(await readFile(join(REPO_ROOT, 'templates/rules/large-transfers.yaml'), 'utf8'))
    const state = recordingState()
    expect(compiled.evaluate(tx({to: CAROL, value: 11n * ETHER}), state).action).toBe('allow')
    expect(compiled.evaluate(tx({to: ALICE, value: 11n * ETHER}), state)).toMatchObject({action: 'reject', ruleId: 'large-to-unlisted'})
    expect(compiled.evaluate(tx({to: ALICE, value: 10n * ETHER}), state).action).toBe('allow')
  })

  it('large-withdrawals flags large outflows and rejects draining ones', async () => {
    const compiled = compileRuleSet(await readFile(join(REPO_ROOT, 'templates/rules/large-withdrawals.yaml'), 'utf8'))
    expect(compiled.evaluate(tx({value: 60n * ETHER}), recordingState({[ALICE]: 70n * ETHER}))).toMatchObject({action: 'flag', ruleId: 'large-withdrawal'})
    expect(compiled.evaluate(tx({value: 95n * ETHER}), recordingState({[ALICE]: 150n * ETHER}))).toMatchObject({action: 'reject', ruleId: 'drains-account', flags: [{ruleId: 'large-withdrawal'}]})
  })
})
