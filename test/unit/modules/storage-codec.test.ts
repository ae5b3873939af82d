import {encodeAbiParameters, keccak256} from 'viem'
import {describe, expect, it} from 'vitest'

import {mappingSlot, readBytes, readString, writeBytes, writeString} from '../../../src/modules/storage-codec.js'

function memoryStorage() {
  const words = new Map<bigint, bigint>()
  return {
    words,
    get: (slot: bigint) => words.get(slot) ?? 0n,
    set: (slot: bigint, value: bigint) => {
      if (value === 0n) words.delete(slot)
      else words.set(slot, value)
    },
  }
}

describe('module storage codec', () => {
  it('computes Solidity mapping slots', () => {
    const key = '0x00000000000000000000000000000000000000aa'
    expect(mappingSlot(3n, key)).toBe(BigInt(keccak256(encodeAbiParameters([{type: 'address'}, {type: 'uint256'}], [key, 3n]))))
    expect(mappingSlot(0n, 7n)).toBe(BigInt(keccak256(encodeAbiParameters([{type: 'uint256'}, {type: 'uint256'}], [7n, 0n]))))
  })

  it('round-trips short and long bytes and clears words a shorter value leaves', () => {
    const storage = memoryStorage()
    writeString(storage, 5n, 'short')
    expect(readString(storage, 5n)).toBe('short')
    expect(storage.words.size).toBe(1)
    const long = new Uint8Array(100).map((_, i) => i + 1)
    writeBytes(storage, 5n, long)
    expect(readBytes(storage, 5n)).toEqual(long)
    expect(storage.words.size).toBe(1 + 4)
    writeString(storage, 5n, 'x')
    expect(readString(storage, 5n)).toBe('x')
    expect(storage.words.size).toBe(1)
    writeBytes(storage, 5n, new Uint8Array(32).fill(9))
    expect(readBytes(storage, 5n)).toEqual(new Uint8Array(32).fill(9))
    writeBytes(storage, 5n, new Uint8Array(0))
    expect(storage.words.size).toBe(0)
  })
})
