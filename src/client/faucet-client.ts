import {type Address, type Hex, type PublicClient, getAddress} from 'viem'

import {FAUCET_ID, faucetAbi} from '../modules/builtin/faucet.js'
import {ModulesErrorCode} from '../modules/errors.js'
import {moduleAddress} from '../modules/module.js'
import {type ModuleTxSender, sendModuleCall} from './module-tx.js'

export const FAUCET_ADDRESS: Address = moduleAddress(FAUCET_ID)

export interface FaucetClaimResult {
  /** Who was paid. */
  address: Address
  /** Wei paid. */
  amount: string
  /** The first block from which `address` may claim again. */
  nextClaimAt: number
  /** Who signed the claim. */
  from: Address
  txHash: Hex
  blockNumber: number
}

/**
 * Claims development funds for `to` from the faucet module (faucet.claimFor), signed by `sender`.
 * A claim within the recipient's cooldown, or one the faucet cannot pay, is refused with the
 * faucet's reason: MODULE_CALL_REJECTED (exit 4).
 *
 * @example
 * const paid = await claimFromFaucet(client, sender, '0x…')
 * paid.amount // '100000000000000000000'
 */
export async function claimFromFaucet(client: PublicClient, sender: ModuleTxSender, to: Address, options: {receiptTimeoutMs?: number} = {}): Promise<FaucetClaimResult> {
  const result = await sendModuleCall({
    client,
    sender,
    to: FAUCET_ADDRESS,
    abi: faucetAbi,
    functionName: 'claimFor',
    args: [getAddress(to)],
    what: `The faucet claim for ${getAddress(to)}`,
    rejectedCode: ModulesErrorCode.callRejected,
    rejectedHint: 'A recipient may claim once per cooldown (`xai module show faucet` shows cooldownBlocks); wait for the block named above, or claim for another address.',
    receiptTimeoutMs: options.receiptTimeoutMs,
  })
  const claimed = result.events.find((e) => e.event === 'Claimed')
  return {
    address: getAddress(to),
    amount: claimed ? String(claimed.raw.amount) : String(result.result ?? '0'),
    nextClaimAt: claimed ? Number(claimed.raw.nextClaimAt) : 0,
    from: result.from,
    txHash: result.txHash,
    blockNumber: Number(result.blockNumber),
  }
}
