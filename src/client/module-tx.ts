import {
  type Abi,
  type Address,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type TransactionReceipt,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  numberToHex,
} from 'viem'

import {toJsonSafe} from '../contracts/abi-args.js'
import {explainMinedRevert, signWithEstimate} from '../contracts/chain-clients.js'
import {type DecodedRevert, decodeRevert, isRevert} from '../contracts/decode-revert.js'
import {isTransportError, rpcFailed, shortMessage, waitForReceipt} from '../contracts/deploy-contract.js'
import {ExitCode, XaiError, type ErrorCode} from '../util/errors.js'
import {ModulesErrorCode} from '../modules/errors.js'

/**
 * Sending ABI calls to native modules: simulate (a refusal stops here with the module's reason),
 * estimate, sign, send, wait for the receipt, decode the module's events. Shared by the governance
 * and registry clients, the faucet, the CLI and the node's REST routes.
 */

/** Who signs a module call: a key held here, or an account the node signs for. */
export interface ModuleTxSender {
  address: Address
  /** Signs and sends the transaction; resolves its hash once the node has accepted it. */
  send(tx: {to: Address; data: Hex; value: bigint; gas: bigint}): Promise<Hex>
}

/** A sender that signs here with `account` (EIP-1559, the node's fee estimate) and sends it raw. */
export function keySender(client: PublicClient, account: PrivateKeyAccount, chainId: number): ModuleTxSender {
  return {
    address: account.address,
    async send(tx) {
      // signWithEstimate adds 20 % to the gas it is given, as it does for contract calls.
      const {raw} = await signWithEstimate(client, account, chainId, tx)
      return client.sendRawTransaction({serializedTransaction: raw})
    },
  }
}

/** A sender that asks the node to sign with one of its unlocked accounts (eth_sendTransaction). */
export function nodeAccountSender(client: PublicClient, address: Address): ModuleTxSender {
  return {
    address: getAddress(address),
    async send(tx) {
      const request = {from: address, to: tx.to, data: tx.data, value: numberToHex(tx.value), gas: numberToHex((tx.gas * 12n) / 10n)}
      return (await client.request({method: 'eth_sendTransaction', params: [request]} as never)) as Hex
    },
  }
}

/** One log of the receipt that the module's ABI decodes. */
export interface ModuleEvent {
  event: string
  /** The event's arguments, integers as decimal strings. */
  args: Record<string, unknown>
  /** The same arguments as decoded (bigints). */
  raw: Record<string, unknown>
}

export interface SendModuleCallOptions {
  client: PublicClient
  sender: ModuleTxSender
  /** The module's system address. */
  to: Address
  abi: Abi
  functionName: string
  args?: readonly unknown[]
  value?: bigint
  /** Names the call in messages: `governance.vote(1, yes)`. */
  what: string
  /** The error code of a refusal (a revert or the mempool's "rejected by module"). */
  rejectedCode: ErrorCode
  /** Hint of a refusal. */
  rejectedHint?: string
  receiptTimeoutMs?: number
  onEvent?: (event: {type: 'simulated' | 'sent' | 'mined'; detail: string}) => void
}

export interface ModuleCallResult {
  txHash: Hex
  blockNumber: bigint
  gasUsed: bigint
  from: Address
  /** The decoded return value of the simulation (what the call returned when it ran). */
  result: unknown
  /** The module's events in the receipt, in order. */
  events: ModuleEvent[]
  receipt: TransactionReceipt
}

/**
 * Simulates, sends and waits for a module call. A refusal — the call reverts in the simulation,
 * the mempool rejects the transaction (`rejected by module <id>: <reason>`) or it reverts once
 * mined — throws `rejectedCode` (exit 4) whose message carries the module's reason and whose
 * details.reason holds it alone; an unreachable node throws exit 3.
 *
 * @example
 * const r = await sendModuleCall({client, sender, to: moduleAddress('faucet'), abi: faucetAbi, functionName: 'claimFor', args: [to], what: 'faucet.claimFor', rejectedCode: 'MODULE_CALL_REJECTED'})
 * r.events[0] // {event: 'Claimed', args: {to, amount: '100000000000000000000', nextClaimAt: '101'}}
 */
export async function sendModuleCall(options: SendModuleCallOptions): Promise<ModuleCallResult> {
  const {client, sender, to, abi, functionName, what} = options
  const emit = options.onEvent ?? (() => {})
  const value = options.value ?? 0n
  const data = encodeFunctionData({abi, functionName, args: options.args ?? []} as Parameters<typeof encodeFunctionData>[0])
  const tx = {account: sender.address, to, data, value}

  let result: unknown
  let gas: bigint
  try {
    const {data: returned} = await client.call(tx)
    result = returned === undefined ? undefined : decodeResult(abi, functionName, returned)
    gas = await client.estimateGas(tx)
  } catch (err) {
    if (isRevert(err)) throw rejected(options, revertReason(decodeRevert(abi, err)), err)
    throw rpcFailed(`Simulating ${what}`, endpointOf(client), err)
  }
  emit({type: 'simulated', detail: `gas ${gas}`})

  let hash: Hex
  try {
    hash = await sender.send({to, data, value, gas})
  } catch (err) {
    if (isTransportError(err)) throw rpcFailed(`Sending ${what}`, endpointOf(client), err)
    const message = nodeMessage(err)
    if (/rejected by module|revert/i.test(message) || isRevert(err)) throw rejected(options, message.replace(/^rejected by module [a-z0-9-]+: /, ''), err, message)
    throw new XaiError(options.rejectedCode, `Sending ${what} failed: ${message}`, {
      exitCode: ExitCode.chainRejected,
      hint: 'Check the sender has funds and the node is reachable.',
      cause: err,
    })
  }
  emit({type: 'sent', detail: hash})

  const receipt = await waitForReceipt(client, hash, {timeoutMs: options.receiptTimeoutMs, code: ModulesErrorCode.notMined, what})
  emit({type: 'mined', detail: `block ${receipt.blockNumber}`})
  if (receipt.status !== 'success') {
    const revert = await explainMinedRevert(client, abi, {from: sender.address, to, data, value, blockNumber: receipt.blockNumber})
    throw rejected(options, revertReason(revert), undefined, undefined, {txHash: hash, blockNumber: receipt.blockNumber.toString()})
  }
  return {
    txHash: hash,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
    from: sender.address,
    result,
    events: decodeModuleEvents(abi, to, receipt.logs),
    receipt,
  }
}

/** The logs of `address` that `abi` decodes, in order (others are left out). */
export function decodeModuleEvents(abi: Abi, address: Address, logs: readonly {address: Hex; topics: readonly Hex[]; data: Hex}[]): ModuleEvent[] {
  const events: ModuleEvent[] = []
  for (const log of logs) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue
    try {
      const decoded = decodeEventLog({abi, data: log.data, topics: log.topics as [Hex, ...Hex[]]})
      const raw = (decoded.args ?? {}) as Record<string, unknown>
      events.push({event: String(decoded.eventName), args: toJsonSafe(raw) as Record<string, unknown>, raw})
    } catch {
      // A log the ABI does not describe: not one of this module's events.
    }
  }
  return events
}

function decodeResult(abi: Abi, functionName: string, data: Hex): unknown {
  const fn = abi.find((item) => item.type === 'function' && item.name === functionName)
  if (!fn || fn.type !== 'function' || fn.outputs.length === 0 || data === '0x') return undefined
  try {
    return decodeFunctionResult({abi: [fn], functionName, data} as Parameters<typeof decodeFunctionResult>[0])
  } catch {
    return undefined
  }
}

/** The module's own words: a module reverts with Error(string). */
export function revertReason(revert: DecodedRevert): string {
  switch (revert.kind) {
    case 'error':
      return revert.reason
    case 'panic':
      return `panic ${revert.code}: ${revert.reason}`
    case 'custom':
      return `${revert.name}(${JSON.stringify(revert.args)})`
    default:
      return revert.message
  }
}

/** The message the node answered with, out of viem's wrapping. */
export function nodeMessage(err: unknown): string {
  const seen = new Set<unknown>()
  let innermost: string | undefined
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e)
    const details = (e as {details?: unknown}).details
    if (typeof details === 'string' && details !== '') innermost = details
  }
  return innermost ?? shortMessage(err)
}


function rejected(options: SendModuleCallOptions, reason: string, cause?: unknown, message?: string, extra: Record<string, unknown> = {}): XaiError {
  return new XaiError(options.rejectedCode, `${options.what} was refused: ${message ?? reason}`, {
    exitCode: ExitCode.chainRejected,
    hint: options.rejectedHint ?? 'The module refused the call; its reason is above.',
    cause,
    details: {reason, ...extra},
  })
}

/** The client's JSON-RPC URL, for messages ("the node" for an in-process transport). */
export function endpointOf(client: PublicClient): string {
  const url = (client.transport as {url?: unknown}).url
  return typeof url === 'string' ? url : 'the node'
}
