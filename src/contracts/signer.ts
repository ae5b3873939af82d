import {type Hex, type PrivateKeyAccount} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'

import {DEV_ACCOUNT_COUNT, deriveDevAccounts} from '../util/dev-accounts.js'
import {XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'

export interface ResolveSignerOptions {
  /** --private-key (or XAI_PRIVATE_KEY): beats `account`. */
  privateKey?: string
  /** --account i (or XAI_ACCOUNT): dev account i of the test mnemonic; default 0. */
  account?: number
}

/**
 * The account that signs: a private key, or dev account i (m/44'/60'/0'/0/i of the standard test
 * mnemonic, which xai devnets and anvil fund).
 *
 * @example
 * resolveSigner({account: 1}).address // 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
 */
export function resolveSigner(options: ResolveSignerOptions = {}): PrivateKeyAccount {
  if (options.privateKey !== undefined && options.privateKey !== '') {
    const key = options.privateKey.startsWith('0x') ? options.privateKey : `0x${options.privateKey}`
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
      throw new XaiError(ContractsErrorCode.invalidSigner, 'The private key must be 32 bytes of hex (0x + 64 hex digits)', {
        hint: 'Pass --private-key 0x… (or set XAI_PRIVATE_KEY), or use a dev account with --account 0..9.',
      })
    }
    try {
      return privateKeyToAccount(key as Hex)
    } catch (err) {
      throw new XaiError(ContractsErrorCode.invalidSigner, 'The private key is not a valid secp256k1 key', {cause: err})
    }
  }
  const index = options.account ?? 0
  if (!Number.isInteger(index) || index < 0 || index >= DEV_ACCOUNT_COUNT) {
    throw new XaiError(ContractsErrorCode.invalidSigner, `There is no dev account ${index}`, {
      hint: `Dev accounts are 0..${DEV_ACCOUNT_COUNT - 1}; or pass --private-key.`,
    })
  }
  return privateKeyToAccount(deriveDevAccounts({count: index + 1})[index]!.privateKey)
}
