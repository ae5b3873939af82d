import {type Abi, type Chain, type Hex, type PublicClient, createPublicClient, defineChain, http} from 'viem'
import type {PrivateKeyAccount} from 'viem/accounts'

import {XaiError} from '../util/errors.js'
import {type DecodedRevert, decodeRevert, formatRevert} from './decode-revert.js'
import {ContractsErrorCode} from './errors.js'
import type {ResolvedNetwork} from './network.js'

/** A viem chain for whatever the endpoint serves (only its id and URL matter for signing). */
export function chainFor(network: Pick<ResolvedNetwork, 'chainId' | 'rpcUrl' | 'name'>): Chain {
  return defineChain({
    id: network.chainId,
    name: network.name ?? `chain ${network.chainId}`,
    nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18},
    rpcUrls: {default: {http: [network.rpcUrl]}},
  })
}

/** A public client over HTTP that polls quickly (devnets mine fast). */
export function createChainClient(network: Pick<ResolvedNetwork, 'chainId' | 'rpcUrl' | 'name'>): PublicClient {
  return createPublicClient({chain: chainFor(network), transport: http(network.rpcUrl, {timeout: 30_000, retryCount: 1}), pollingInterval: 200})
}

/** CONTRACT_REVERTED (exit 4) with the decoded reason in details.revert. */
export function revertedError(what: string, revert: DecodedRevert, extra: Record<string, unknown> = {}): XaiError {
  return new XaiError(ContractsErrorCode.reverted, `${what} reverted: ${formatRevert(revert)}`, {
    hint: revert.kind === 'custom' ? `The contract raised ${revert.signature}; check the arguments, the sender (--account/--private-key) and the contract's state.` : 'Check the arguments, the sender and the contract state.',
    details: {revert, ...extra},
  })
}

/** Replays a mined transaction as eth_call on the parent block's state to learn why it reverted. */
export async function explainMinedRevert(client: PublicClient, abi: Abi, tx: {from: Hex; to?: Hex | null; data: Hex; value?: bigint; blockNumber: bigint}): Promise<DecodedRevert> {
  try {
    await client.call({account: tx.from, to: tx.to ?? undefined, data: tx.data, value: tx.value, blockNumber: tx.blockNumber > 0n ? tx.blockNumber - 1n : 0n})
    return {kind: 'unknown', data: null, message: 'the transaction reverted (replaying it did not; out of gas?)'}
  } catch (err) {
    return decodeRevert(abi, err)
  }
}

/**
 * Signs an EIP-1559 transaction at the signer's pending nonce, with the node's fee estimate and
 * 20 % headroom over the gas estimate.
 */
export async function signWithEstimate(
  client: PublicClient,
  signer: PrivateKeyAccount,
  chainId: number,
  tx: {gas: bigint; to?: Hex; data: Hex; value?: bigint},
): Promise<{nonce: number; raw: Hex}> {
  const nonce = await client.getTransactionCount({address: signer.address, blockTag: 'pending'})
  const fees = await client.estimateFeesPerGas()
  const raw = await signer.signTransaction({
    chainId,
    type: 'eip1559',
    nonce,
    gas: (tx.gas * 12n) / 10n,
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    ...(tx.to ? {to: tx.to} : {}),
    data: tx.data,
    ...(tx.value === undefined ? {} : {value: tx.value}),
  })
  return {nonce, raw}
}
