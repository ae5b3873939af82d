import {type Address, type Hex, bytesToHex, encodeAbiParameters, getAddress, hexToBytes, keccak256, stringToBytes, bytesToString} from 'viem'

import type {ModuleStorage} from './module.js'

/**
 * Storage layout helpers for native modules, laid out as Solidity lays out its state, so the
 * words a module writes read back the same way through `eth_getStorageAt` and `xai contract state`.
 */

const WORD = 1n << 256n

/** The slot of `mapping[key]` for a mapping at slot `base`: keccak256(abi.encode(key, base)), as Solidity. */
export function mappingSlot(base: bigint, key: bigint | Address): bigint {
  const encoded =
    typeof key === 'bigint'
      ? encodeAbiParameters([{type: 'uint256'}, {type: 'uint256'}], [key, base])
      : encodeAbiParameters([{type: 'address'}, {type: 'uint256'}], [key, base])
  return BigInt(keccak256(encoded))
}

/** A namespace's base slot: keccak256 of its name, so unrelated records never share slots. */
export function namespaceSlot(name: string): bigint {
  return BigInt(keccak256(stringToBytes(name)))
}

/** `slot + offset`, wrapping at 2^256 as the EVM does. */
export function slotAdd(slot: bigint, offset: bigint): bigint {
  return (slot + offset) % WORD
}

export function addressToWord(address: Address): bigint {
  return BigInt(address)
}

export function wordToAddress(value: bigint): Address {
  return getAddress(`0x${(value & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`)
}

export function hexToWord(value: Hex): bigint {
  return BigInt(value)
}

export function wordToHex(value: bigint): Hex {
  return `0x${value.toString(16).padStart(64, '0')}`
}

/**
 * Writes `bytes` at `slot` as Solidity stores `bytes`: up to 31 bytes inline (data left-aligned,
 * length × 2 in the low byte), longer as length × 2 + 1 at the slot and the data from
 * keccak256(slot). Words a shorter value no longer uses are cleared.
 */
export function writeBytes(storage: ModuleStorage, slot: bigint, value: Uint8Array): void {
  const old = readLength(storage, slot)
  const dataSlot = BigInt(keccak256(wordToHex(slot)))
  if (old.long) {
    const words = BigInt(Math.ceil(old.length / 32))
    for (let i = 0n; i < words; i++) storage.set(slotAdd(dataSlot, i), 0n)
  }
  if (value.length < 32) {
    const padded = new Uint8Array(32)
    padded.set(value)
    padded[31] = value.length * 2
    storage.set(slot, BigInt(bytesToHex(padded)))
    return
  }
  storage.set(slot, BigInt(value.length) * 2n + 1n)
  for (let offset = 0; offset < value.length; offset += 32) {
    const chunk = new Uint8Array(32)
    chunk.set(value.subarray(offset, offset + 32))
    storage.set(slotAdd(dataSlot, BigInt(offset / 32)), BigInt(bytesToHex(chunk)))
  }
}

/** Reads bytes written by {@link writeBytes} (or by Solidity). */
export function readBytes(storage: Pick<ModuleStorage, 'get'>, slot: bigint): Uint8Array {
  const {long, length} = readLength(storage, slot)
  if (!long) {
    const word = hexToBytes(wordToHex(storage.get(slot)))
    return word.slice(0, length)
  }
  const dataSlot = BigInt(keccak256(wordToHex(slot)))
  const out = new Uint8Array(length)
  for (let offset = 0; offset < length; offset += 32) {
    const word = hexToBytes(wordToHex(storage.get(slotAdd(dataSlot, BigInt(offset / 32)))))
    out.set(word.subarray(0, Math.min(32, length - offset)), offset)
  }
  return out
}

export function writeString(storage: ModuleStorage, slot: bigint, value: string): void {
  writeBytes(storage, slot, stringToBytes(value))
}

export function readString(storage: Pick<ModuleStorage, 'get'>, slot: bigint): string {
  return bytesToString(readBytes(storage, slot))
}

function readLength(storage: Pick<ModuleStorage, 'get'>, slot: bigint): {long: boolean; length: number} {
  const head = storage.get(slot)
  if ((head & 1n) === 1n) return {long: true, length: Number((head - 1n) / 2n)}
  return {long: false, length: Number((head & 0xffn) / 2n)}
}
