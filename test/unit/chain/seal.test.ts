import {createTxFromRLP} from '@ethereumjs/tx'
import {bytesToHex, createAddressFromString, hexToBytes} from '@ethereumjs/util'
import {keccak256} from 'viem'
import {describe, expect, it} from 'vitest'

import {pinEncoding, sealTransaction} from '../../../src/chain/seal.js'
import {DEV_ACCOUNTS, createTestChain, decodeTransaction, signTransfer} from '../../helpers/chain.js'

describe('sealTransaction', () => {
  it('pins the hash of the encoding and the sender ethereumjs itself derives', async () => {
    const {chain} = await createTestChain()
    for (const [from, data] of [[0, undefined], [1, '0x12345678'], [2, `0x${'ab'.repeat(300)}`]] as const) {
      const raw = await signTransfer({from, nonce: from, data})
      // The reference: ethereumjs' own decoding, hashing and recovery, untouched.
      const reference = createTxFromRLP(raw, {common: chain.txCommon})
      const tx = decodeTransaction(chain, raw)
      const pinned = pinEncoding(tx)
      expect(bytesToHex(pinned)).toBe(keccak256(raw))
      sealTransaction(tx)
      expect(Object.isFrozen(tx)).toBe(true)
      expect(bytesToHex(tx.hash())).toBe(bytesToHex(reference.hash()))
      expect(bytesToHex(tx.serialize())).toBe(bytesToHex(raw))
      expect(tx.getSenderAddress().toString()).toBe(reference.getSenderAddress().toString())
      expect(tx.getSenderAddress().toString()).toBe(DEV_ACCOUNTS[from]!.address.toLowerCase())
    }
  })

  it('takes a known sender without recovering; a legacy transaction recovers to its signer', async () => {
    const {chain} = await createTestChain()
    const raw = await signTransfer({nonce: 0})
    const impersonated = createAddressFromString('0x00000000000000000000000000000000000000aa')
    const tx = sealTransaction(decodeTransaction(chain, raw), impersonated)
    expect(tx.getSenderAddress().toString()).toBe(impersonated.toString())

    const signed = await DEV_ACCOUNTS[2]!.signTransaction({chainId: 31337, type: 'legacy', nonce: 0, to: DEV_ACCOUNTS[1]!.address, value: 1n, gas: 21_000n, gasPrice: 10n ** 10n})
    const legacy = sealTransaction(decodeTransaction(chain, hexToBytes(signed)))
    expect(legacy.getSenderAddress().toString()).toBe(DEV_ACCOUNTS[2]!.address.toLowerCase())
    expect(bytesToHex(legacy.hash())).toBe(keccak256(signed))
  })
})
