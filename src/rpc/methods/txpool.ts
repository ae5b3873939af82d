import {Capability, type TypedTransaction} from '@ethereumjs/tx'
import {bytesToHex} from '@ethereumjs/util'

import type {PooledTx} from '../../chain/mempool.js'
import type {MethodTable} from '../dispatcher.js'
import {checksum, formatTransaction, qty} from '../format.js'
import {address, arity} from '../params.js'
import type {RpcDeps} from './deps.js'

type ByAccount<T> = Record<string, Record<string, T>>

/** Groups pool transactions as geth does: checksummed sender → nonce (decimal) → entry. */
function group<T>(txs: PooledTx[], entry: (p: PooledTx) => T): ByAccount<T> {
  const out: ByAccount<T> = {}
  for (const pooled of txs) {
    const account = (out[checksum(pooled.sender)] ??= {})
    account[pooled.tx.nonce.toString()] = entry(pooled)
  }
  return out
}

function priceOf(tx: TypedTransaction): bigint {
  return tx.supports(Capability.EIP1559FeeMarket) ? (tx as TypedTransaction & {maxFeePerGas: bigint}).maxFeePerGas : (tx as TypedTransaction & {gasPrice: bigint}).gasPrice
}

/** geth's one-line summary of a pool transaction. */
function summary({tx}: PooledTx): string {
  const to = tx.to ? tx.to.toString() : 'contract creation'
  return `${to}: ${tx.value} wei + ${tx.gasLimit} gas × ${priceOf(tx)} wei`
}

/** txpool_*: what the mempool holds, pending (executable) and queued (waiting for a nonce gap). */
export function txpoolMethods(deps: Pick<RpcDeps, 'mempool'>): MethodTable {
  const {mempool} = deps
  const full = (p: PooledTx): Record<string, unknown> => formatTransaction(p.tx, p.sender)
  return {
    txpool_status: (params) => {
      arity(params, 0, 0)
      const {pending, queued} = mempool.status()
      return {pending: qty(pending), queued: qty(queued)}
    },
    txpool_content: (params) => {
      arity(params, 0, 0)
      const {pending, queued} = mempool.content()
      return {pending: group(pending, full), queued: group(queued, full)}
    },
    txpool_contentFrom: (params) => {
      arity(params, 1, 1)
      const from = bytesToHex(address(params[0], 0))
      const {pending, queued} = mempool.content()
      const mine = (txs: PooledTx[]): Record<string, unknown> => {
        const out: Record<string, unknown> = {}
        for (const p of txs) if (bytesToHex(p.sender) === from) out[p.tx.nonce.toString()] = full(p)
        return out
      }
      return {pending: mine(pending), queued: mine(queued)}
    },
    txpool_inspect: (params) => {
      arity(params, 0, 0)
      const {pending, queued} = mempool.content()
      return {pending: group(pending, summary), queued: group(queued, summary)}
    },
  }
}
