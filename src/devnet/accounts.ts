import {pbkdf2Sync} from 'node:crypto'

import {HDKey, privateKeyToAccount} from 'viem/accounts'

import {DEV_MNEMONIC} from '../chain/genesis.js'

export interface DevAccount {
  address: `0x${string}`
  privateKey: `0x${string}`
}

export interface DeriveDevAccountsOptions {
  /** BIP-39 mnemonic; the standard test mnemonic (the accounts anvil and Hardhat fund) by default. */
  mnemonic?: string
  count?: number
  /** BIP-44 account path prefix; the address index is appended. */
  basePath?: string
}

export const DEV_ACCOUNT_COUNT = 10
export const DEV_DERIVATION_PATH = "m/44'/60'/0'/0"

/**
 * The funded development accounts: addresses and private keys at m/44'/60'/0'/0/i of the mnemonic.
 * Same keys as viem's `mnemonicToAccount(mnemonic, {addressIndex: i})`, but the seed and the parent
 * key are computed once instead of ten times (the whole set takes ~0.15 s instead of ~0.35 s).
 *
 * @example
 * const [first] = deriveDevAccounts()
 * first.address // 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
 */
export function deriveDevAccounts(options: DeriveDevAccountsOptions = {}): DevAccount[] {
  const mnemonic = options.mnemonic ?? DEV_MNEMONIC
  const count = options.count ?? DEV_ACCOUNT_COUNT
  // BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + passphrase, 2048 rounds, 64 bytes).
  const seed = pbkdf2Sync(Buffer.from(mnemonic.normalize('NFKD'), 'utf8'), Buffer.from('mnemonic', 'utf8'), 2048, 64, 'sha512')
  const parent = HDKey.fromMasterSeed(seed).derive(options.basePath ?? DEV_DERIVATION_PATH)
  const accounts: DevAccount[] = []
  for (let i = 0; i < count; i++) {
    const key = parent.deriveChild(i).privateKey
    if (!key) throw new Error(`No private key at index ${i}`)
    const privateKey = `0x${Buffer.from(key).toString('hex')}` as const
    accounts.push({address: privateKeyToAccount(privateKey).address, privateKey})
  }
  return accounts
}
