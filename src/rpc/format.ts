import type {Block, BlockHeader} from '@ethereumjs/block'
import {Capability, type TypedTransaction, TransactionType} from '@ethereumjs/tx'
import {bytesToBigInt, bytesToHex, toChecksumAddress} from '@ethereumjs/util'
import {keccak_256} from '@noble/hashes/sha3.js'

import type {BlockRecord, ReceiptRecord} from '../chain/block-store.js'

/**
 * Chain objects → JSON-RPC objects, field for field as geth writes them: quantities as hex
 * without leading zeros (`0x0` for zero), data and hashes as full `0x` hex, `null` where geth
 * writes null. Everything returned is plain strings, so responses serialize with JSON.stringify.
 */

type Bytes = Uint8Array
export type Hex = `0x${string}`

export const hex = (b: Bytes): Hex => bytesToHex(b) as Hex
export const qty = (n: bigint | number): Hex => `0x${n.toString(16)}`

/** A uint256 as 32 big-endian bytes (storage slots, stack words). */
export function word(n: bigint): Bytes {
  const out = new Uint8Array(32)
  let v = n
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** An address as geth's txpool keys it (EIP-55 checksum). */
export const checksum = (b: Bytes): string => toChecksumAddress(bytesToHex(b))

const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'
const ZERO_HASH = `0x${'00'.repeat(32)}`

export interface RpcLog {
  address: Hex
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  transactionHash: Hex
  transactionIndex: Hex
  blockHash: Hex
  blockTimestamp: Hex
  logIndex: Hex
  removed: boolean
}

/** Where a mined transaction sits. */
export interface TxLocation {
  blockHash: Hex
  blockNumber: Hex
  index: number
  baseFee: bigint
}

const sizes = new WeakMap<Block, number>()

/** The RLP size of a block, computed once per block object. */
export function blockSize(block: Block): number {
  let size = sizes.get(block)
  if (size === undefined) {
    size = block.serialize().length
    sizes.set(block, size)
  }
  return size
}

/** The header fields of a block (what newHeads carries). */
export function formatHeader(header: BlockHeader): Record<string, unknown> {
  return {
    hash: hex(header.hash()),
    parentHash: hex(header.parentHash),
    sha3Uncles: hex(header.uncleHash),
    miner: hex(header.coinbase.bytes),
    stateRoot: hex(header.stateRoot),
    transactionsRoot: hex(header.transactionsTrie),
    receiptsRoot: hex(header.receiptTrie),
    logsBloom: hex(header.logsBloom),
    difficulty: qty(header.difficulty),
    number: qty(header.number),
    gasLimit: qty(header.gasLimit),
    gasUsed: qty(header.gasUsed),
    timestamp: qty(header.timestamp),
    extraData: hex(header.extraData),
    mixHash: hex(header.mixHash),
    nonce: hex(header.nonce),
    baseFeePerGas: qty(header.baseFeePerGas ?? 0n),
    withdrawalsRoot: header.withdrawalsRoot ? hex(header.withdrawalsRoot) : EMPTY_ROOT,
    blobGasUsed: qty(header.blobGasUsed ?? 0n),
    excessBlobGas: qty(header.excessBlobGas ?? 0n),
    parentBeaconBlockRoot: header.parentBeaconBlockRoot ? hex(header.parentBeaconBlockRoot) : ZERO_HASH,
    requestsHash: header.requestsHash ? hex(header.requestsHash) : ZERO_HASH,
  }
}

/** eth_getBlockBy*: the header, size, and transaction hashes or full transactions. */
export function formatBlock(record: BlockRecord, fullTransactions: boolean): Record<string, unknown> {
  const {block} = record
  const header = block.header
  const out = formatHeader(header)
  out.totalDifficulty = '0x0'
  out.size = qty(blockSize(block))
  out.uncles = []
  out.withdrawals = []
  if (fullTransactions) {
    const location = {blockHash: out.hash as Hex, blockNumber: out.number as Hex, index: 0, baseFee: header.baseFeePerGas ?? 0n}
    out.transactions = block.transactions.map((tx, index) => formatTransaction(tx, record.senders[index]!, {...location, index}))
  } else {
    out.transactions = block.transactions.map((tx) => hex(tx.hash()))
  }
  return out
}

interface FeeMarketFields {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

function isFeeMarket(tx: TypedTransaction): tx is TypedTransaction & FeeMarketFields {
  return tx.supports(Capability.EIP1559FeeMarket)
}

/** What one unit of gas cost the sender: the gas price, or base fee + capped tip for EIP-1559. */
export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint): bigint {
  if (isFeeMarket(tx)) {
    const tip = tx.maxFeePerGas - baseFee < tx.maxPriorityFeePerGas ? tx.maxFeePerGas - baseFee : tx.maxPriorityFeePerGas
    return baseFee + tip
  }
  return (tx as TypedTransaction & {gasPrice: bigint}).gasPrice
}

/** A transaction as geth's RPCTransaction; `location` undefined for a pending one. */
export function formatTransaction(tx: TypedTransaction, sender: Bytes, location?: TxLocation): Record<string, unknown> {
  const feeMarket = isFeeMarket(tx)
  const out: Record<string, unknown> = {
    blockHash: location ? location.blockHash : null,
    blockNumber: location ? location.blockNumber : null,
    from: hex(sender),
    gas: qty(tx.gasLimit),
    gasPrice: qty(feeMarket ? (location ? effectiveGasPrice(tx, location.baseFee) : tx.maxFeePerGas) : (tx as {gasPrice: bigint} & TypedTransaction).gasPrice),
  }
  if (feeMarket) {
    out.maxFeePerGas = qty(tx.maxFeePerGas)
    out.maxPriorityFeePerGas = qty(tx.maxPriorityFeePerGas)
  }
  out.hash = hex(tx.hash())
  out.input = hex(tx.data)
  out.nonce = qty(tx.nonce)
  out.to = tx.to ? hex(tx.to.bytes) : null
  out.transactionIndex = location ? qty(location.index) : null
  out.value = qty(tx.value)
  out.type = qty(tx.type)
  if (tx.type !== TransactionType.Legacy) {
    out.accessList = formatAccessList((tx as TypedTransaction & {accessList: [Bytes, Bytes[]][]}).accessList)
    out.chainId = qty(tx.common.chainId())
  } else if (tx.supports(Capability.EIP155ReplayProtection) && tx.v !== undefined && tx.v >= 35n) {
    out.chainId = qty((tx.v - 35n) / 2n)
  }
  if (tx.type === TransactionType.EOACodeEIP7702) {
    out.authorizationList = (tx as TypedTransaction & {authorizationList: Bytes[][]}).authorizationList.map((item) => ({
      chainId: qty(bytesToBigInt(item[0]!)),
      address: hex(item[1]!),
      nonce: qty(bytesToBigInt(item[2]!)),
      yParity: qty(bytesToBigInt(item[3]!)),
      r: qty(bytesToBigInt(item[4]!)),
      s: qty(bytesToBigInt(item[5]!)),
    }))
  }
  out.v = qty(tx.v ?? 0n)
  out.r = qty(tx.r ?? 0n)
  out.s = qty(tx.s ?? 0n)
  if (tx.type !== TransactionType.Legacy) out.yParity = qty(tx.v ?? 0n)
  return out
}

function formatAccessList(list: [Bytes, Bytes[]][]): {address: Hex; storageKeys: Hex[]}[] {
  return list.map(([address, keys]) => ({address: hex(address), storageKeys: keys.map(hex)}))
}

/** The logs of a block, as RPC logs, with block-wide log indexes. */
export function formatLog(
  log: ReceiptRecord['logs'][number],
  at: {blockHash: Hex; blockNumber: Hex; blockTimestamp: Hex; transactionHash: Hex; transactionIndex: Hex; logIndex: number},
): RpcLog {
  const [address, topics, data] = log
  return {
    address: hex(address),
    topics: topics.map(hex),
    data: hex(data),
    blockNumber: at.blockNumber,
    transactionHash: at.transactionHash,
    transactionIndex: at.transactionIndex,
    blockHash: at.blockHash,
    blockTimestamp: at.blockTimestamp,
    logIndex: qty(at.logIndex),
    removed: false,
  }
}

/** The receipt of transaction `index` of a committed block. */
export function formatReceipt(record: BlockRecord, index: number): Record<string, unknown> {
  const {block} = record
  const tx = block.transactions[index]!
  const receipt = record.receipts[index]!
  const header = block.header
  const blockHash = hex(block.hash())
  const blockNumber = qty(header.number)
  const blockTimestamp = qty(header.timestamp)
  const transactionHash = hex(tx.hash())
  const transactionIndex = qty(index)
  let logIndex = 0
  for (let i = 0; i < index; i++) logIndex += record.receipts[i]!.logs.length
  const logs = receipt.logs.map((log) =>
    formatLog(log, {blockHash, blockNumber, blockTimestamp, transactionHash, transactionIndex, logIndex: logIndex++}),
  )
  return {
    blockHash,
    blockNumber,
    contractAddress: receipt.contractAddress ? hex(receipt.contractAddress) : null,
    cumulativeGasUsed: qty(receipt.cumulativeGasUsed),
    effectiveGasPrice: qty(effectiveGasPrice(tx, header.baseFeePerGas ?? 0n)),
    from: hex(record.senders[index]!),
    gasUsed: qty(receipt.gasUsed),
    logs,
    logsBloom: hex(logsBloom(receipt.logs)),
    status: qty(receipt.status),
    to: tx.to ? hex(tx.to.bytes) : null,
    transactionHash,
    transactionIndex,
    type: qty(tx.type),
  }
}

/** The 2048-bit bloom of a set of logs (addresses and topics), as in a receipt. */
export function logsBloom(logs: ReceiptRecord['logs']): Bytes {
  const bloom = new Uint8Array(256)
  for (const [address, topics] of logs) {
    addToBloom(bloom, address)
    for (const topic of topics) addToBloom(bloom, topic)
  }
  return bloom
}

function addToBloom(bloom: Bytes, value: Bytes): void {
  for (const [byte, bit] of bloomBits(value)) bloom[byte]! |= bit
}

/** The three (byte index, bit mask) positions a value sets in a 2048-bit bloom. */
export function bloomBits(value: Bytes): [number, number][] {
  const h = keccak_256(value)
  const out: [number, number][] = []
  for (let i = 0; i < 6; i += 2) {
    const loc = ((h[i]! << 8) | h[i + 1]!) & 2047
    out.push([255 - (loc >> 3), 1 << (loc & 7)])
  }
  return out
}
