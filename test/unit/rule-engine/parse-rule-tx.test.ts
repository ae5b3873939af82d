import {describe, expect, it} from 'vitest'

import {XaiError} from '../../../src/util/errors.js'
import {parseRuleTx} from '../../../src/modules/rule-engine/index.js'
import {ALICE, BOB, ETHER} from './helpers.js'

describe('parseRuleTx', () => {
  it('fills defaults and reads amounts with units', () => {
    const {tx, state} = parseRuleTx({from: ALICE, to: BOB, value: '2 ether'})
    expect(tx).toEqual({from: ALICE.toLowerCase(), to: BOB.toLowerCase(), value: 2n * ETHER, gasLimit: 21_000n, maxFeePerGas: 0n, data: '0x', nonce: 0n})
    expect(state.balance(ALICE)).toBe(0n)
    expect(state.isContract(BOB)).toBe(false)
  })

  it('takes state under "state" or inline', () => {
    const separate = parseRuleTx({from: ALICE, to: BOB, state: {from: {balance: '5 ether'}, to: {balance: 7, isContract: true}}})
    const inline = parseRuleTx({from: {address: ALICE, balance: '5 ether'}, to: {address: BOB, balance: 7, isContract: true}})
    for (const {state} of [separate, inline]) {
      expect(state.balance(ALICE)).toBe(5n * ETHER)
      expect(state.balance(BOB)).toBe(7n)
      expect(state.isContract(BOB)).toBe(true)
    }
  })

  it('a missing or null "to" is a creation', () => {
    expect(parseRuleTx({from: ALICE}).tx.to).toBeNull()
    expect(parseRuleTx({from: ALICE, to: null}).tx.to).toBeNull()
  })

  for (const [input, message] of [
    [[], 'expected a JSON object'],
    [{to: BOB}, '"from" is required'],
    [{from: '0x12'}, '"from.address" must be an address'],
    [{from: ALICE, amount: 1}, 'unknown field "amount"'],
    [{from: ALICE, value: '1.5 wei'}, '"value"'],
    [{from: ALICE, data: '0x123'}, '"data" must be hex'],
    [{from: ALICE, state: {to: {balance: 1}}}, 'has no "to"'],
    [{from: {address: ALICE, balance: 1}, state: {from: {balance: 2}}}, 'given twice'],
    [{from: ALICE, to: {address: BOB, isContract: 'yes'}}, '"to.isContract" must be true or false'],
  ] as const) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      let caught: unknown
      try {
        parseRuleTx(input)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(XaiError)
      expect((caught as XaiError).code).toBe('RULES_INVALID_TX')
      expect((caught as XaiError).exitCode).toBe(2)
      expect((caught as XaiError).message).toContain(message)
    })
  }
})
