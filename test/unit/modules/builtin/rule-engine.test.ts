import {readFileSync} from 'node:fs'

import {type Hex, getAddress, toFunctionSelector, zeroHash} from 'viem'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {ruleEngine, ruleEngineWorkload} from '../../../../src/modules/builtin/rule-engine.js'
import {moduleAddress} from '../../../../src/modules/module.js'
import {compileRuleSet} from '../../../../src/modules/rule-engine/index.js'
import {createTestHarness, replayDeterminism} from '../../../../src/modules/test-kit.js'

const ETHER = 10n ** 18n
const ALICE = getAddress('0x00000000000000000000000000000000000a11ce')
const BOB = getAddress('0x0000000000000000000000000000000000000b0b')
const TREASURY_WALLET = getAddress('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
const DENIED_SENDER = getAddress('0x90F79bf6EB2c4f870365E785982E1f101E93b906')
const TX_HASH: Hex = `0x${'ab'.repeat(32)}`

/** A template rule set as a governance proposal carries it: the YAML read with every scalar a string. */
function template(name: string): Record<string, unknown> {
  return parse(readFileSync(new URL(`../../../../templates/rules/${name}.yaml`, import.meta.url), 'utf8'), {schema: 'failsafe'}) as Record<string, unknown>
}

const rejectByDefault = {
  version: 1,
  name: 'closed',
  lists: {open: [BOB]},
  rules: [{id: 'to-open', when: {field: 'tx.to', in: 'open'}, action: 'allow'}],
  default: 'reject',
}

describe('rule-engine module', () => {
  it('has no rule set by default, judges nothing and reports a zero hash', () => {
    expect(ruleEngine.params.parse({})).toEqual({ruleSet: null})
    const harness = createTestHarness(ruleEngine)
    expect(harness.checkTx({from: ALICE, to: BOB, value: 1000n * ETHER})).toEqual({ok: true})
    expect(harness.call('ruleSetHash').result).toBe(zeroHash)
  })

  it('refuses a rule set that does not compile when the parameter is set', () => {
    const bad = ruleEngine.params.safeParse({ruleSet: {version: 1, name: 'x', rules: [{id: 'a', when: {field: 'tx.nope', eq: 1}, action: 'allow'}], default: 'allow'}})
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0]?.message).toMatch(/^ruleSet does not compile: .*unknown field "tx.nope"/)
    expect(ruleEngine.params.safeParse({ruleSet: 'version: 1'}).success).toBe(false)
  })

  it('rejects with the deciding rule and its reason', () => {
    const ruleSet = template('large-transfers')
    const harness = createTestHarness(ruleEngine, {params: {ruleSet}})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 11n * ETHER})).toEqual({ok: false, reason: 'rule large-to-unlisted: transfers above 10 ether may only go to allowlisted addresses'})
    expect(harness.checkTx({from: ALICE, to: TREASURY_WALLET, value: 11n * ETHER})).toEqual({ok: true, flags: []})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 10n * ETHER})).toEqual({ok: true, flags: []})
    expect(harness.call('ruleSetHash').result).toBe(compileRuleSet(ruleSet).hash)
  })

  it('says so when a transaction is rejected by default', () => {
    const harness = createTestHarness(ruleEngine, {params: {ruleSet: rejectByDefault}})
    expect(harness.checkTx({from: ALICE, to: BOB})).toEqual({ok: true, flags: []})
    expect(harness.checkTx({from: BOB, to: ALICE})).toEqual({ok: false, reason: 'rule default: no rule of "closed" allows this transaction and its default is reject'})
    expect(harness.checkTx({from: ALICE, to: null, data: '0x6000'})).toMatchObject({ok: false})
  })

  it('reads balances and code through the state of the block', () => {
    const drains = template('large-withdrawals')
    const harness = createTestHarness(ruleEngine, {params: {ruleSet: drains}, balances: {[ALICE]: 150n * ETHER, [BOB]: 50n * ETHER}})
    expect(harness.checkTx({from: ALICE, to: BOB, value: 90n * ETHER})).toEqual({
      ok: false,
      reason: 'rule drains-account: a transfer of 90 ether or more from an account holding over 100 ether needs a second transaction',
    })
    harness.setBalance(ALICE, 100n * ETHER)
    expect(harness.checkTx({from: ALICE, to: BOB, value: 90n * ETHER})).toEqual({ok: true, flags: ['large-withdrawal: withdrawal of 50 ether or more']})

    const denylist = createTestHarness(ruleEngine, {params: {ruleSet: template('contract-denylist')}, contracts: [BOB]})
    const approve = `${toFunctionSelector('approve(address,uint256)')}${'00'.repeat(64)}` as Hex
    expect(denylist.checkTx({from: ALICE, to: BOB, data: approve})).toEqual({ok: true, flags: ['approve-to-contract: token approval sent to a contract']})
    expect(denylist.checkTx({from: ALICE, to: ALICE, data: approve})).toEqual({ok: true, flags: []})
    expect(denylist.checkTx({from: DENIED_SENDER, to: BOB})).toEqual({ok: false, reason: 'rule denied-sender: the sender is denylisted'})
  })

  it('emits RuleFlagged for every flag of an included transaction', () => {
    const harness = createTestHarness(ruleEngine, {params: {ruleSet: template('large-withdrawals')}, balances: {[ALICE]: 200n * ETHER}})
    const {verdict, events} = harness.runTx({hash: TX_HASH, from: ALICE, to: BOB, value: 60n * ETHER, gasLimit: 20_000_000n})
    expect(verdict).toEqual({ok: true, flags: ['large-withdrawal: withdrawal of 50 ether or more', 'high-fee: unusually high fee cap or gas limit']})
    expect(events.map((event) => [event.name, event.args])).toEqual([
      ['RuleFlagged', {txHash: TX_HASH, rule: 'large-withdrawal: withdrawal of 50 ether or more'}],
      ['RuleFlagged', {txHash: TX_HASH, rule: 'high-fee: unusually high fee cap or gas limit'}],
    ])
    expect(events[0]!.topics[1]).toBe(TX_HASH)
    expect(harness.runTx({hash: TX_HASH, from: ALICE, to: BOB, value: 1n}).events).toEqual([])
    // A rejected transaction is never included: nothing runs after it.
    const rejected = harness.runTx({from: ALICE, to: BOB, value: 95n * ETHER})
    expect(rejected.verdict).toMatchObject({ok: false, reason: expect.stringMatching(/^rule drains-account: /)})
    expect(rejected.events).toEqual([])
    expect(harness.events).toHaveLength(2)
  })

  it('never judges transactions from or to a module address', () => {
    const harness = createTestHarness(ruleEngine, {params: {ruleSet: {...rejectByDefault, lists: {open: []}}}})
    expect(harness.checkTx({from: ALICE, to: BOB})).toMatchObject({ok: false})
    expect(harness.checkTx({from: ALICE, to: moduleAddress('governance')})).toEqual({ok: true})
    expect(harness.checkTx({from: moduleAddress('governance'), to: BOB, value: 1n})).toEqual({ok: true})
    expect(harness.checkTx({from: ALICE, to: moduleAddress('rule-engine')})).toEqual({ok: true})
  })

  it('gives the same verdict and hash for the same rule set written differently', () => {
    const a = createTestHarness(ruleEngine, {params: {ruleSet: {version: 1, name: 'n', rules: [{id: 'big', when: {field: 'tx.value', gt: '10 ether'}, action: 'reject', reason: 'big'}], default: 'allow'}}})
    const b = createTestHarness(ruleEngine, {params: {ruleSet: {default: 'allow', rules: [{reason: 'big', action: 'reject', when: {gt: '10000000000000000000', field: 'tx.value'}, id: 'big'}], name: 'n', version: '1'}}})
    expect(a.call('ruleSetHash').result).toBe(b.call('ruleSetHash').result)
    expect(b.checkTx({from: ALICE, to: BOB, value: 11n * ETHER})).toEqual({ok: false, reason: 'rule big: big'})
  })

  it('rejects calls carrying value', () => {
    expect(createTestHarness(ruleEngine).validate({name: 'ruleSetHash', value: 1n})).toEqual({ok: false, reason: 'rule-engine: ruleSetHash() takes no value'})
  })

  it('replays its random workload identically', () => {
    const report = replayDeterminism(ruleEngine, ruleEngineWorkload, 3)
    expect(report.steps).toBe(ruleEngineWorkload.steps)
  })
})
