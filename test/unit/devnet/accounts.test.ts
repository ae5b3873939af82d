import {mnemonicToAccount} from 'viem/accounts'
import {describe, expect, it} from 'vitest'

import {DEV_MNEMONIC} from '../../../src/chain/genesis.js'
import {deriveDevAccounts} from '../../../src/util/dev-accounts.js'

describe('deriveDevAccounts', () => {
  it('gives the keys and checksummed addresses viem derives, for the test mnemonic and another', () => {
    const other = 'legal winner thank year wave sausage worth useful legal winner thank yellow'
    for (const [mnemonic, count] of [
      [DEV_MNEMONIC, 10],
      [other, 4],
    ] as const) {
      const ours = deriveDevAccounts({mnemonic, count})
      expect(ours).toHaveLength(count)
      ours.forEach((account, i) => {
        const reference = mnemonicToAccount(mnemonic, {addressIndex: i})
        expect(account.address).toBe(reference.address)
        expect(account.privateKey).toBe(`0x${Buffer.from(reference.getHdKey().privateKey!).toString('hex')}`)
      })
    }
    expect(deriveDevAccounts()[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
  })

  it('follows another account path', () => {
    const [first] = deriveDevAccounts({basePath: "m/44'/60'/1'/0", count: 1})
    expect(first!.address).toBe(mnemonicToAccount(DEV_MNEMONIC, {accountIndex: 1, addressIndex: 0}).address)
  })

  it('refuses a malformed path', () => {
    expect(() => deriveDevAccounts({basePath: "44'/60'"})).toThrow(/starts with m/)
    expect(() => deriveDevAccounts({basePath: "m/44'/x"})).toThrow(/Bad derivation path/)
  })
})
