import {describe, expect, it} from 'vitest'

import {moduleRevertReason} from '../../../../src/modules/host/host.js'
import {ModuleRevert, revert} from '../../../../src/modules/module.js'
import {treasury} from '../../../../src/modules/builtin/treasury.js'

describe('module reverts', () => {
  const builtin = {id: 'treasury', builtin: true, call: 'spend'}
  const user = {id: 'counter', builtin: false, call: 'increment'}

  it('revert() is a ModuleRevert whose message is the reason', () => {
    expect(() => revert('not today')).toThrow(ModuleRevert)
    expect(() => revert('not today')).toThrow('not today')
  })

  it('a built-in module reverts with its reason; any other throw is a bug, reported and reverted with the module named', () => {
    const bugs: unknown[] = []
    const onBug = (module: string, call: string, error: unknown) => bugs.push({module, call, error})
    expect(moduleRevertReason(builtin, new ModuleRevert('treasury: holds 0 wei'), onBug)).toBe('treasury: holds 0 wei')
    expect(bugs).toEqual([])
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')")
    expect(moduleRevertReason(builtin, bug, onBug)).toBe('internal error in module treasury')
    expect(bugs).toEqual([{module: 'treasury', call: 'spend', error: bug}])
  })

  it("a user module's throw is a revert with its message (its code is not ours to count as a bug)", () => {
    const bugs: unknown[] = []
    expect(moduleRevertReason(user, new Error('step must be positive'), () => bugs.push(1))).toBe('step must be positive')
    expect(bugs).toEqual([])
  })

  it('the built-in treasury refuses through revert(), not a bare Error', () => {
    const spend = treasury.calls.spend!
    const ctx = {sender: '0x0000000000000000000000000000000000000001', storage: {get: () => 0n, set: () => {}}} as never
    expect(() => spend(ctx, [1n, '0x0000000000000000000000000000000000000002', 1n])).toThrow(ModuleRevert)
  })
})
