import {keccak256, parseAbi, stringToBytes} from 'viem'
import {describe, expect, it} from 'vitest'

import {
  MODULE_ADDRESS_PREFIX,
  MODULE_REGISTRY_ADDRESS,
  ModuleAddressError,
  decodeModuleCall,
  decodeModuleResult,
  encodeModuleCall,
  encodeModuleResult,
  findModuleAddressCollision,
  isModuleAddress,
  isModuleId,
  moduleAddress,
  moduleCodeHash,
} from '../../../src/modules/module.js'

const abi = parseAbi(['function transfer(address to, uint256 amount) returns (bool)', 'function pair() view returns (uint256, string)', 'function ping()'])

describe('moduleAddress', () => {
  it('is stable, under the reserved prefix and distinct per id', () => {
    expect(moduleAddress('treasury')).toBe(moduleAddress('treasury'))
    const ids = ['treasury', 'faucet', 'governance', 'withdrawal-guard', 'rules', 'my-counter', 'fl-registry', 'mev']
    const addresses = ids.map(moduleAddress)
    expect(new Set(addresses).size).toBe(ids.length)
    for (const address of addresses) {
      expect(address).toMatch(/^0x[0-9a-f]{40}$/)
      expect(address.startsWith(MODULE_ADDRESS_PREFIX)).toBe(true)
      expect(isModuleAddress(address)).toBe(true)
      expect(address).not.toBe(MODULE_REGISTRY_ADDRESS)
    }
    expect(findModuleAddressCollision(ids)).toBeUndefined()
  })

  it('gives the registry its reserved address', () => {
    expect(moduleAddress('registry')).toBe(MODULE_REGISTRY_ADDRESS)
    expect(MODULE_REGISTRY_ADDRESS).toBe('0x00000000000000000000000000000a1100000000')
  })

  it('matches keccak256("xai-module:" + id)', () => {
    for (const id of ['treasury', 'my-counter']) {
      expect(moduleAddress(id)).toBe(`${MODULE_ADDRESS_PREFIX}${keccak256(stringToBytes(`xai-module:${id}`)).slice(2, 10)}`)
    }
  })

  it('rejects invalid ids', () => {
    for (const id of ['', 'a', 'Abc', '1abc', 'a_b', 'a'.repeat(33), 'my counter']) {
      expect(isModuleId(id), id).toBe(false)
      expect(() => moduleAddress(id)).toThrow(ModuleAddressError)
    }
    expect(isModuleId('ab')).toBe(true)
    expect(isModuleId('a'.repeat(32))).toBe(true)
  })
})

describe('moduleCodeHash', () => {
  it('is keccak256 of the UTF-8 source, the same for string and bytes', () => {
    expect(moduleCodeHash('')).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    expect(moduleCodeHash('export default 1\n')).toBe(moduleCodeHash(new TextEncoder().encode('export default 1\n')))
    expect(moduleCodeHash('a')).not.toBe(moduleCodeHash('b'))
  })
})

describe('encodeModuleCall / decodeModuleCall', () => {
  it('round-trips calls and results through the ABI', () => {
    const to = '0x00000000000000000000000000000000000000B0'
    const data = encodeModuleCall({abi}, 'transfer', [to, 5n])
    expect(data.slice(0, 10)).toBe('0xa9059cbb')
    expect(decodeModuleCall({abi}, data)).toEqual({name: 'transfer', args: [to, 5n]})
    expect(decodeModuleCall({abi}, encodeModuleCall({abi}, 'ping'))).toEqual({name: 'ping', args: []})

    expect(decodeModuleResult({abi}, 'transfer', encodeModuleResult({abi}, 'transfer', true))).toBe(true)
    expect(decodeModuleResult({abi}, 'pair', encodeModuleResult({abi}, 'pair', [7n, 'x']))).toEqual([7n, 'x'])
    expect(encodeModuleResult({abi}, 'ping', undefined)).toBe('0x')
  })

  it('rejects calldata with an unknown selector', () => {
    expect(() => decodeModuleCall({abi}, '0xdeadbeef')).toThrow()
  })
})
