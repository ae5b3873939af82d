import type {AbiParameter} from 'viem'
import {describe, expect, it} from 'vitest'

import {parseAbiArgs, parseAbiValue, toJsonSafe} from '../../../src/contracts/abi-args.js'
import {thrown} from '../../helpers/errors.js'

const p = (type: string, name = 'x', components?: AbiParameter[]): AbiParameter => ({type, name, ...(components ? {components} : {})}) as AbiParameter
const ADDR = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'


describe('parseAbiArgs', () => {
  it('parses integers in decimal and hex, signed and unsigned, within range', () => {
    expect(parseAbiValue(p('uint256'), '1000')).toBe(1000n)
    expect(parseAbiValue(p('uint256'), '0xff')).toBe(255n)
    expect(parseAbiValue(p('int8'), '-128')).toBe(-128n)
    expect(parseAbiValue(p('uint8'), '255')).toBe(255n)
    expect(thrown(() => parseAbiValue(p('uint8'), '256')).message).toContain('from 0 to 255')
    expect(thrown(() => parseAbiValue(p('uint256'), '-1')).exitCode).toBe(2)
    expect(thrown(() => parseAbiValue(p('uint256'), '1.5')).message).toContain('a decimal or 0x-hex integer')
    expect(thrown(() => parseAbiValue(p('uint256'), '1ether')).code).toBe('CONTRACT_INVALID_ARGUMENT')
  })

  it('accepts checksummed and lowercase addresses, rejects a bad checksum or length', () => {
    expect(parseAbiValue(p('address'), ADDR)).toBe(ADDR)
    expect(parseAbiValue(p('address'), ADDR.toLowerCase())).toBe(ADDR)
    expect(thrown(() => parseAbiValue(p('address'), ADDR.replace('f39F', 'F39F'))).message).toContain('checksummed')
    expect(thrown(() => parseAbiValue(p('address'), '0x1234')).message).toContain('20-byte address')
  })

  it('parses bool, string, bytes and bytesN', () => {
    expect(parseAbiValue(p('bool'), 'true')).toBe(true)
    expect(parseAbiValue(p('bool'), 'false')).toBe(false)
    expect(thrown(() => parseAbiValue(p('bool'), 'yes')).message).toContain('true or false')
    expect(parseAbiValue(p('string'), 'hello world')).toBe('hello world')
    expect(parseAbiValue(p('bytes'), '0xABCD')).toBe('0xabcd')
    expect(parseAbiValue(p('bytes'), '0x')).toBe('0x')
    expect(parseAbiValue(p('bytes4'), '0x12345678')).toBe('0x12345678')
    expect(thrown(() => parseAbiValue(p('bytes4'), '0x1234')).message).toContain('exactly 4 bytes (got 2)')
    expect(thrown(() => parseAbiValue(p('bytes'), '0x123')).message).toContain('even number')
  })

  it('parses arrays and tuples as JSON, by name or position, recursively', () => {
    expect(parseAbiValue(p('uint256[]'), '[1, "2", "0x3"]')).toEqual([1n, 2n, 3n])
    expect(parseAbiValue(p('uint8[2]'), '[1,2]')).toEqual([1n, 2n])
    expect(thrown(() => parseAbiValue(p('uint8[2]'), '[1]')).message).toContain('exactly 2 elements')
    expect(thrown(() => parseAbiValue(p('uint8[]'), 'nope')).message).toContain('a JSON array')
    const tuple = p('tuple', 'order', [p('address', 'to'), p('uint256', 'value'), p('bool[]', 'flags')])
    expect(parseAbiValue(tuple, JSON.stringify({to: ADDR, value: '5', flags: [true]}))).toEqual({to: ADDR, value: 5n, flags: [true]})
    expect(parseAbiValue(tuple, JSON.stringify([ADDR, 5, []]))).toEqual([ADDR, 5n, []])
    expect(thrown(() => parseAbiValue(tuple, JSON.stringify({to: ADDR, value: 1, flags: [], extra: 1}))).message).toContain('not extra')
    expect(thrown(() => parseAbiValue(tuple, JSON.stringify({to: ADDR, flags: []}))).message).toContain('"value"')
    expect(thrown(() => parseAbiValue(tuple, JSON.stringify({to: ADDR, value: 'x', flags: []}))).message).toContain('order.value')
    expect(parseAbiValue(p('tuple[]', 'orders', [p('uint256', 'a')]), '[{"a":1},[2]]')).toEqual([{a: 1n}, [2n]])
  })

  it('checks the argument count and names the parameter and type in errors', () => {
    const inputs = [p('address', 'to'), p('uint256', 'value')]
    expect(parseAbiArgs(inputs, [ADDR, '7'])).toEqual([ADDR, 7n])
    const count = thrown(() => parseAbiArgs(inputs, [ADDR], 'transfer(address,uint256)'))
    expect(count.message).toBe('transfer(address,uint256) takes 2 arguments (to: address, value: uint256), got 1')
    expect(count.exitCode).toBe(2)
    const type = thrown(() => parseAbiArgs(inputs, [ADDR, 'ten']))
    expect(type.message).toBe('Invalid argument 2 (value): expected uint256, a decimal or 0x-hex integer; got "ten"')
    expect(type.details).toMatchObject({parameter: 'argument 2 (value)', type: 'uint256'})
  })

  it('toJsonSafe turns bigints into strings at any depth', () => {
    expect(toJsonSafe({a: 1n, b: [2n, {c: 3n}], d: 'x'})).toEqual({a: '1', b: ['2', {c: '3'}], d: 'x'})
  })
})
