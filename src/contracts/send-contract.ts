import {type Address, type Hex, type PrivateKeyAccount, decodeEventLog, encodeFunctionData, getAddress} from 'viem'

import {XaiError} from '../util/errors.js'
import {parseAbiArgs, toJsonSafe} from './abi-args.js'
import {createChainClient, explainMinedRevert, revertedError, signWithEstimate} from './chain-clients.js'
import type {ContractTarget} from './contract-target.js'
import {type DecodedRevert, decodeRevert, isRevert} from './decode-revert.js'
import {rpcFailed, shortMessage, waitForReceipt} from './deploy-contract.js'
import {ContractsErrorCode} from './errors.js'
import type {ResolvedNetwork} from './network.js'
import {functionSignature, selectFunction} from './select-function.js'

export interface SendContractOptions {
  target: ContractTarget
  function: string
  args: string[]
  network: ResolvedNetwork
  signer: PrivateKeyAccount
  /** Wei sent with the transaction. */
  value?: bigint
  receiptTimeoutMs?: number
  onEvent?: (event: {type: 'simulated' | 'sent' | 'mined'; detail: string}) => void
}

/** One log of the receipt: decoded with the ABI when it matches an event there. */
export type SentEvent = {address: Address; event: string; args: unknown} | {address: Address; event: null; topics: Hex[]; data: Hex}

export interface SendContractResult {
  address: Address
  contract: string | null
  function: string
  txHash: Hex
  status: 'success' | 'reverted'
  blockNumber: string
  gasUsed: string
  from: Address
  events: SentEvent[]
  /** Why a mined transaction reverted, when it did. */
  revert: DecodedRevert | null
  chainId: number
}

/**
 * Simulates a state-changing call (a revert stops here: CONTRACT_REVERTED, exit 4, decoded),
 * then signs, sends and waits for the receipt, decoding its events with the contract's ABI.
 *
 * @example
 * const r = await sendContract({target, function: 'transfer', args: [to, '5'], network, signer})
 * r.events[0] // {event: 'Transfer', args: {from, to, value: '5'}}
 */
export async function sendContract(options: SendContractOptions): Promise<SendContractResult> {
  const {target, network, signer} = options
  const emit = options.onEvent ?? (() => {})
  const fn = selectFunction(target.abi, options.function, options.args.length)
  const signature = functionSignature(fn)
  const args = parseAbiArgs(fn.inputs, options.args, signature)
  const data = encodeFunctionData({abi: [fn], functionName: fn.name, args})
  const client = createChainClient(network)
  const what = `${target.contract ?? target.address}.${signature}`
  const tx = {account: signer, to: target.address, data, value: options.value}

  let gas: bigint
  try {
    await client.call(tx)
    gas = await client.estimateGas(tx)
  } catch (err) {
    if (isRevert(err)) throw revertedError(what, decodeRevert(target.abi, err))
    throw rpcFailed('simulating the transaction', network.rpcUrl, err)
  }
  emit({type: 'simulated', detail: `gas ${gas}`})

  let hash: Hex
  try {
    const {raw} = await signWithEstimate(client, signer, network.chainId, {gas, to: target.address, data, value: options.value})
    hash = await client.sendRawTransaction({serializedTransaction: raw})
  } catch (err) {
    throw new XaiError(ContractsErrorCode.txRejected, `Sending ${what} failed: ${shortMessage(err)}`, {
      hint: 'Check the sender has funds and the node is reachable.',
      cause: err,
    })
  }
  emit({type: 'sent', detail: hash})

  const receipt = await waitForReceipt(client, hash, {timeoutMs: options.receiptTimeoutMs, code: ContractsErrorCode.rpcUnreachable})
  emit({type: 'mined', detail: `block ${receipt.blockNumber}`})

  const events: SentEvent[] = receipt.logs.map((log) => {
    try {
      const decoded = decodeEventLog({abi: target.abi, data: log.data, topics: log.topics})
      return {address: getAddress(log.address), event: String(decoded.eventName), args: toJsonSafe(decoded.args)}
    } catch {
      return {address: getAddress(log.address), event: null, topics: log.topics, data: log.data}
    }
  })
  const revert = receipt.status === 'success' ? null : await explainMinedRevert(client, target.abi, {from: signer.address, to: target.address, data, value: options.value, blockNumber: receipt.blockNumber})
  return {
    address: target.address,
    contract: target.contract,
    function: signature,
    txHash: hash,
    status: receipt.status,
    blockNumber: receipt.blockNumber.toString(),
    gasUsed: receipt.gasUsed.toString(),
    from: signer.address,
    events,
    revert,
    chainId: network.chainId,
  }
}
