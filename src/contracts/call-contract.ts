import {type Address, type Hex, type PublicClient, decodeFunctionResult, encodeFunctionData} from 'viem'

import {parseAbiArgs, toJsonSafe} from './abi-args.js'
import {createChainClient, revertedError} from './chain-clients.js'
import type {ContractTarget} from './contract-target.js'
import {decodeRevert, isRevert} from './decode-revert.js'
import {rpcFailed} from './deploy-contract.js'
import type {ResolvedNetwork} from './network.js'
import {functionSignature, selectFunction} from './select-function.js'

export interface CallContractOptions {
  target: ContractTarget
  /** A name (`balanceOf`) or a signature (`transfer(address,uint256)`). */
  function: string
  args: string[]
  network: ResolvedNetwork
  /** msg.sender of the call, if any. */
  from?: Address
  client?: PublicClient
}

export interface CallContractResult {
  address: Address
  contract: string | null
  function: string
  /** The decoded return values, JSON-safe (bigints as decimal strings); one value unwrapped. */
  result: unknown
  /** The raw return data. */
  data: Hex
  chainId: number
}

/**
 * eth_call of a contract function with command-line arguments parsed by ABI type; the return
 * value decoded. A revert is CONTRACT_REVERTED (exit 4) with the decoded reason.
 *
 * @example
 * const {result} = await callContract({target, function: 'balanceOf', args: ['0xf39F…'], network})
 */
export async function callContract(options: CallContractOptions): Promise<CallContractResult> {
  const {target, network} = options
  const fn = selectFunction(target.abi, options.function, options.args.length)
  const signature = functionSignature(fn)
  const args = parseAbiArgs(fn.inputs, options.args, signature)
  const data = encodeFunctionData({abi: [fn], functionName: fn.name, args})
  const client = options.client ?? createChainClient(network)
  let returned: Hex
  try {
    returned = (await client.call({to: target.address, data, account: options.from})).data ?? '0x'
  } catch (err) {
    if (isRevert(err)) throw revertedError(`${target.contract ?? target.address}.${signature}`, decodeRevert(target.abi, err))
    throw rpcFailed('eth_call', network.rpcUrl, err)
  }
  const decoded = decodeFunctionResult({abi: [fn], functionName: fn.name, data: returned})
  return {address: target.address, contract: target.contract, function: signature, result: toJsonSafe(decoded), data: returned, chainId: network.chainId}
}
