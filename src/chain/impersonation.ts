import {type TypedTransaction, createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx} from '@ethereumjs/tx'
import {bytesToBigInt} from '@ethereumjs/util'
import type {TransactionSerializable} from 'viem'

import type {Chain} from './chain.js'

/**
 * A transaction from an impersonated account (anvil_impersonateAccount): the fields as they would
 * be signed, with a placeholder signature (r = the sender's address, s = 1), as anvil makes them.
 * It is never recovered: the pool pins the sender given with it, and blocks store senders beside
 * their transactions, so it executes and re-reads from disk as sent by that address. It is valid
 * on this node only (another node would recover a different sender or none).
 */
export function unsignedTransaction(chain: Pick<Chain, 'txCommon' | 'chainId'>, tx: TransactionSerializable, from: Uint8Array): TypedTransaction {
  const opts = {common: chain.txCommon, freeze: false}
  const r = bytesToBigInt(from)
  const base = {
    nonce: BigInt(tx.nonce ?? 0),
    gasLimit: tx.gas ?? 0n,
    to: tx.to ?? undefined,
    value: tx.value ?? 0n,
    data: tx.data ?? '0x',
    r,
    s: 1n,
  }
  const accessList = (tx.accessList ?? []).map((e) => ({address: e.address, storageKeys: [...e.storageKeys]}))
  if (tx.type === 'legacy') return createLegacyTx({...base, gasPrice: tx.gasPrice ?? 0n, v: chain.chainId * 2n + 35n}, opts)
  if (tx.type === 'eip2930') return createAccessList2930Tx({...base, chainId: chain.chainId, gasPrice: tx.gasPrice ?? 0n, accessList, v: 0n}, opts)
  const t = tx as TransactionSerializable & {maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint}
  return createFeeMarket1559Tx({...base, chainId: chain.chainId, maxFeePerGas: t.maxFeePerGas ?? 0n, maxPriorityFeePerGas: t.maxPriorityFeePerGas ?? 0n, accessList, v: 0n}, opts)
}
