import {encodeErrorResult, parseAbi} from 'viem'
import {describe, expect, it} from 'vitest'

import {decodeRevert, decodeRevertData, formatRevert} from '../../../src/contracts/decode-revert.js'
import {selectFunction} from '../../../src/contracts/select-function.js'

const abi = parseAbi([
  'function transfer(address to, uint256 value) returns (bool)',
  'function safeTransferFrom(address from, address to, uint256 id)',
  'function safeTransferFrom(address from, address to, uint256 id, bytes data)',
  'function balanceOf(address) view returns (uint256)',
  'error InsufficientBalance(address from, uint256 balance, uint256 needed)',
])

describe('selectFunction', () => {
  it('finds by name, by signature, and settles overloads by argument count', () => {
    expect(selectFunction(abi, 'transfer').name).toBe('transfer')
    expect(selectFunction(abi, 'safeTransferFrom(address,address,uint256,bytes)').inputs).toHaveLength(4)
    expect(selectFunction(abi, 'safeTransferFrom', 3).inputs).toHaveLength(3)
  })

  it('an ambiguous overload or an unknown function lists the candidates (exit 2)', () => {
    expect(() => selectFunction(abi, 'safeTransferFrom', 2)).toThrow(/safeTransferFrom is overloaded: safeTransferFrom\(address,address,uint256\), safeTransferFrom\(address,address,uint256,bytes\)/)
    try {
      selectFunction(abi, 'transferr')
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({code: 'CONTRACT_UNKNOWN_FUNCTION', exitCode: 2})
      expect((err as {hint: string}).hint).toContain('transfer(address,uint256)')
    }
    expect(() => selectFunction(abi, 'transfer(address)')).toThrow(/No function transfer\(address\)/)
  })
})

describe('decodeRevert', () => {
  it('decodes custom errors with named args, Error(string) and Panic', () => {
    const data = encodeErrorResult({abi, errorName: 'InsufficientBalance', args: ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 0n, 5n]})
    const custom = decodeRevertData(abi, data)
    expect(custom).toMatchObject({kind: 'custom', name: 'InsufficientBalance', args: {from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', balance: '0', needed: '5'}})
    expect(formatRevert(custom)).toBe('InsufficientBalance(from=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, balance=0, needed=5)')
    const reason = encodeErrorResult({abi: parseAbi(['error Error(string)']), errorName: 'Error', args: ['nope']})
    expect(decodeRevertData(abi, reason)).toMatchObject({kind: 'error', reason: 'nope'})
    const panic = encodeErrorResult({abi: parseAbi(['error Panic(uint256)']), errorName: 'Panic', args: [0x11n]})
    expect(formatRevert(decodeRevertData(abi, panic))).toBe('Panic(0x11: arithmetic overflow or underflow)')
    expect(decodeRevertData(abi, '0xdeadbeef')).toMatchObject({kind: 'unknown'})
  })

  it('finds the revert data in a wrapped error chain', () => {
    const data = encodeErrorResult({abi, errorName: 'InsufficientBalance', args: ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 1n, 2n]})
    const err = new Error('outer', {cause: new Error('middle', {cause: Object.assign(new Error('execution reverted'), {code: 3, data})})})
    expect(decodeRevert(abi, err)).toMatchObject({kind: 'custom', name: 'InsufficientBalance'})
    expect(decodeRevert(abi, new Error('execution reverted: too late'))).toMatchObject({kind: 'error', reason: 'too late'})
  })
})
