import {Address, bytesToHex, hexToBytes} from '@ethereumjs/util'

import {unsignedTransaction} from '../../chain/impersonation.js'
import type {Hex, TransactionSerializable, TypedDataDefinition} from 'viem'
import type {PrivateKeyAccount} from 'viem/accounts'

import type {MethodTable} from '../dispatcher.js'
import {invalidParams, serverError} from '../errors.js'
import {hex} from '../format.js'
import {address, arity, callRequest, data, fail} from '../params.js'
import {type RpcDeps, SUGGESTED_PRIORITY_FEE} from './deps.js'

/** A key the node signs with on a client's behalf (development networks only). */
export interface UnlockedAccount {
  address: string
  privateKey: string
}

/**
 * Accounts and signing, as a development node offers them (anvil, Hardhat): eth_accounts lists
 * the unlocked accounts, eth_sendTransaction fills in nonce, gas and fees and signs with them,
 * eth_sign / personal_sign / eth_signTypedData_v4 sign messages. A node given no keys lists none
 * and answers the signing methods with geth's "unknown account".
 */
export function accountMethods(
  deps: Pick<RpcDeps, 'chain' | 'mempool' | 'state'>,
  unlocked: UnlockedAccount[] = [],
  impersonated: (address: Uint8Array) => boolean = () => false,
): MethodTable {
  const {chain, mempool, state} = deps
  const keys = new Map<string, Hex>(unlocked.map((entry) => [entry.address.toLowerCase(), entry.privateKey as Hex]))
  const listed = [...keys.keys()]
  // viem's signer is loaded on first use: a node that never signs does not pay for it.
  const accounts = new Map<string, PrivateKeyAccount>()
  const signer = async (value: unknown, index: number): Promise<PrivateKeyAccount> => {
    const key = bytesToHex(address(value, index))
    const privateKey = keys.get(key)
    if (!privateKey) throw serverError('unknown account')
    let account = accounts.get(key)
    if (!account) {
      const {privateKeyToAccount} = await import('viem/accounts')
      account = privateKeyToAccount(privateKey)
      if (account.address.toLowerCase() !== key) throw serverError('unknown account')
      accounts.set(key, account)
    }
    return account
  }

  return {
    eth_accounts: (params) => {
      arity(params, 0, 0)
      return listed
    },

    eth_sendTransaction: async (params) => {
      arity(params, 1, 1)
      const raw = params[0]
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(0, 'expected a transaction object')
      const fromValue = (raw as {from?: unknown}).from
      if (fromValue === undefined || fromValue === null) fail(0, 'from: missing')
      const fromBytes = address(fromValue, 0, 'from')
      // An impersonated address (anvil_impersonateAccount) sends without its key, unless the node holds it.
      const account = keys.has(bytesToHex(fromBytes)) || !impersonated(fromBytes) ? await signer(fromValue, 0) : undefined
      const req = callRequest(raw, 0)
      if (req.authorizationList) throw invalidParams('invalid argument 0: authorizationList is not supported here; sign the transaction and send it with eth_sendRawTransaction')
      const nonce = req.nonce ?? (await mempool.pendingNonce(fromBytes))
      const tip = req.maxPriorityFeePerGas ?? (req.maxFeePerGas !== undefined && req.maxFeePerGas < SUGGESTED_PRIORITY_FEE ? req.maxFeePerGas : SUGGESTED_PRIORITY_FEE)
      const maxFee = req.maxFeePerGas ?? 2n * chain.nextBaseFee() + tip
      const legacy = req.gasPrice !== undefined
      // Estimated with the fees it will pay, so the estimate also checks the sender can afford them.
      const gas =
        req.gas ??
        (await state.estimateGas(
          legacy ? {...req, gasPrice: req.gasPrice} : {...req, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip},
          await state.resolve({tag: 'latest'}),
        ))
      const base = {
        chainId: Number(chain.chainId),
        nonce: Number(nonce),
        gas,
        to: req.to ? (bytesToHex(req.to) as Hex) : undefined,
        value: req.value ?? 0n,
        data: req.data && req.data.length > 0 ? (bytesToHex(req.data) as Hex) : undefined,
      }
      const accessList = req.accessList?.map(([a, keys]) => ({address: bytesToHex(a) as Hex, storageKeys: keys.map((k) => bytesToHex(k) as Hex)}))
      let tx: TransactionSerializable
      if (legacy) {
        tx = accessList ? {...base, type: 'eip2930', gasPrice: req.gasPrice!, accessList} : {...base, type: 'legacy', gasPrice: req.gasPrice!}
      } else {
        tx = {...base, type: 'eip1559', maxFeePerGas: maxFee, maxPriorityFeePerGas: tip, accessList}
      }
      if (!account) return hex(await mempool.add(unsignedTransaction(chain, tx, fromBytes), {sender: new Address(fromBytes)}))
      const signed = await account.signTransaction(tx)
      return hex(await mempool.addRaw(hexToBytes(signed)))
    },

    eth_sign: async (params) => {
      arity(params, 2, 2)
      const account = await signer(params[0], 0)
      return account.signMessage({message: {raw: data(params[1], 1)}})
    },

    personal_sign: async (params) => {
      arity(params, 2, 3)
      const message = data(params[0], 0)
      const account = await signer(params[1], 1)
      return account.signMessage({message: {raw: message}})
    },

    eth_signTypedData_v4: async (params) => {
      arity(params, 2, 2)
      const account = await signer(params[0], 0)
      let typed: unknown = params[1]
      if (typeof typed === 'string') {
        try {
          typed = JSON.parse(typed)
        } catch {
          fail(1, 'expected EIP-712 typed data (an object or its JSON)')
        }
      }
      if (typed === null || typeof typed !== 'object') fail(1, 'expected EIP-712 typed data (an object or its JSON)')
      const {domain, types, primaryType, message} = typed as {domain?: unknown; types?: Record<string, unknown>; primaryType?: unknown; message?: unknown}
      if (!types || typeof types !== 'object' || typeof primaryType !== 'string' || message === null || typeof message !== 'object') {
        fail(1, 'typed data needs types, primaryType and message')
      }
      const {EIP712Domain: _domainType, ...rest} = types
      try {
        return await account.signTypedData({domain: (domain ?? {}) as never, types: rest as never, primaryType, message: message as never} as TypedDataDefinition)
      } catch (err) {
        throw invalidParams(`invalid argument 1: ${(err as Error).message.split('\n')[0]}`)
      }
    },
  }
}
