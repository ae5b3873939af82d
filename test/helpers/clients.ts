/**
 * viem / ethers plumbing shared by the end-to-end tests: clients for a started devnet, error
 * assertions that walk viem's cause chain, and the block-header hash computed independently of
 * the node (keccak of the RLP of the header fields).
 */
import {createMPT} from '@ethereumjs/mpt'
import {
  type Account,
  BaseError,
  bytesToHex,
  concatHex,
  hexToBytes,
  numberToHex,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type Transaction,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  keccak256,
  serializeTransaction,
  toRlp,
} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'

import {type E2eDevnet, rpc} from './devnet.js'

export function e2eChain(devnet: E2eDevnet): Chain {
  return defineChain({
    id: devnet.chainId,
    name: `e2e-${devnet.target}`,
    nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18},
    rpcUrls: {default: {http: [devnet.rpcUrl], webSocket: [devnet.wsUrl]}},
  })
}

export function publicClientFor(devnet: E2eDevnet): PublicClient<Transport, Chain> {
  return createPublicClient({chain: e2eChain(devnet), transport: http(devnet.rpcUrl, {timeout: 60_000}), pollingInterval: 100})
}

export function walletClientFor(devnet: E2eDevnet, accountIndex: number): WalletClient<Transport, Chain, Account> {
  const key = devnet.accounts[accountIndex]?.privateKey
  if (!key) throw new Error(`The devnet has no account ${accountIndex}`)
  return createWalletClient({
    account: privateKeyToAccount(key),
    chain: e2eChain(devnet),
    transport: http(devnet.rpcUrl, {timeout: 60_000}),
    pollingInterval: 100,
  })
}

/** The rejection of `promise`; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('Expected the call to be rejected, but it succeeded')
}

/**
 * The first error of class `cls` in viem's cause chain (`err.walk`); throws with the whole error
 * when there is none, so a failure shows what the node answered instead.
 */
export function findInChain<T extends Error>(err: unknown, cls: abstract new (...args: never[]) => T): T {
  if (err instanceof cls) return err
  if (err instanceof BaseError) {
    const found = err.walk((e) => e instanceof cls)
    if (found) return found as T
  }
  const message = err instanceof Error ? err.message : String(err)
  throw new Error(`Expected a ${cls.name} in the error's cause chain, got ${(err as Error)?.constructor?.name}: ${message}`)
}

/** The raw block object of eth_getBlockByNumber / eth_getBlockByHash (hex strings). */
export type RawBlock = Record<string, unknown> & {hash: Hex; number: Hex; parentHash: Hex}

/** Header fields in RLP order: London, then Shanghai, Cancun and Prague additions. */
const HEADER_FIELDS = [
  ['parentHash', 'bytes'],
  ['sha3Uncles', 'bytes'],
  ['miner', 'bytes'],
  ['stateRoot', 'bytes'],
  ['transactionsRoot', 'bytes'],
  ['receiptsRoot', 'bytes'],
  ['logsBloom', 'bytes'],
  ['difficulty', 'quantity'],
  ['number', 'quantity'],
  ['gasLimit', 'quantity'],
  ['gasUsed', 'quantity'],
  ['timestamp', 'quantity'],
  ['extraData', 'bytes'],
  ['mixHash', 'bytes'],
  ['nonce', 'bytes'],
  ['baseFeePerGas', 'quantity'],
  ['withdrawalsRoot', 'bytes'],
  ['blobGasUsed', 'quantity'],
  ['excessBlobGas', 'quantity'],
  ['parentBeaconBlockRoot', 'bytes'],
  ['requestsHash', 'bytes'],
] as const

export const PRAGUE_HEADER_FIELDS = HEADER_FIELDS.map(([name]) => name)


/**
 * keccak256(rlp(header)) of a Prague block as returned over JSON-RPC, computed here (not by the
 * node), so it can be compared with the block's `hash`. Throws when a field is missing.
 */
export function computeBlockHash(block: RawBlock): Hex {
  const items = HEADER_FIELDS.map(([name, kind]) => {
    const value = block[name]
    if (typeof value !== 'string') throw new Error(`Block ${block.number} has no ${name} (got ${JSON.stringify(value)})`)
    return kind === 'quantity' ? minimalHex(value as Hex) : (value as Hex)
  })
  return keccak256(toRlp(items))
}

/** keccak256(rlp([])): the ommers hash of every post-merge block. */
export const EMPTY_UNCLES_HASH = '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347'
/** Root of an empty Merkle-Patricia trie: no transactions, receipts or withdrawals. */
export const EMPTY_TRIE_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'
/** sha256 of nothing: the EIP-7685 requests hash of a block without requests. */
export const EMPTY_REQUESTS_HASH = '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** A receipt as eth_getTransactionReceipt returns it (the fields the consensus encoding uses). */
export interface RawReceipt {
  type: Hex
  status: Hex
  cumulativeGasUsed: Hex
  logsBloom: Hex
  logs: {address: Hex; topics: Hex[]; data: Hex}[]
}

/**
 * Root of the ordered Merkle-Patricia trie of `items` (key rlp(index)), as the header's
 * transactionsRoot and receiptsRoot are built; computed with @ethereumjs/mpt, not by the node.
 */
export async function orderedTrieRoot(items: Hex[]): Promise<Hex> {
  const trie = await createMPT()
  for (let i = 0; i < items.length; i++) await trie.put(hexToBytes(toRlp(minimalHex(numberToHex(i)))), hexToBytes(items[i]!))
  return bytesToHex(trie.root())
}

/** The consensus encoding of a receipt (EIP-2718: type byte, then the RLP, for typed ones). */
export function encodeReceipt(receipt: RawReceipt): Hex {
  const rlp = toRlp([
    BigInt(receipt.status) === 1n ? '0x01' : '0x',
    minimalHex(receipt.cumulativeGasUsed),
    receipt.logsBloom,
    receipt.logs.map((log) => [log.address, log.topics, log.data]),
  ])
  const type = Number(receipt.type)
  return type === 0 ? rlp : concatHex([numberToHex(type, {size: 1}), rlp])
}

/** The 2048-bit bloom of a set of logs (yellow paper M3:2048 over address and topics). */
export function logsBloom(logs: readonly {address: Hex; topics: readonly Hex[]}[]): Hex {
  const bloom = new Uint8Array(256)
  for (const log of logs) {
    for (const item of [log.address, ...log.topics]) {
      const hash = hexToBytes(keccak256(item))
      for (let i = 0; i < 6; i += 2) {
        const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047
        bloom[256 - 1 - (bit >> 3)]! |= 1 << (bit & 7)
      }
    }
  }
  return bytesToHex(bloom)
}

/** A JSON-RPC quantity as minimal big-endian bytes for RLP (zero is the empty string). */
function minimalHex(value: Hex): Hex {
  const n = BigInt(value)
  if (n === 0n) return '0x'
  const hex = n.toString(16)
  return `0x${hex.length % 2 === 1 ? `0${hex}` : hex}`
}

/**
 * The signed transaction re-serialized from the fields eth_getTransactionByHash returned (so its
 * keccak must be the transaction hash if the node reports every field faithfully).
 */
export function serializeFromRpc(tx: Transaction): Hex {
  const base = {
    chainId: tx.chainId,
    nonce: tx.nonce,
    gas: tx.gas,
    to: tx.to ?? undefined,
    value: tx.value,
    data: tx.input,
  }
  switch (tx.type) {
    case 'legacy':
      return serializeTransaction({...base, type: 'legacy', gasPrice: tx.gasPrice}, {r: tx.r, s: tx.s, v: tx.v})
    case 'eip2930':
      return serializeTransaction({...base, chainId: tx.chainId!, type: 'eip2930', gasPrice: tx.gasPrice, accessList: tx.accessList}, {r: tx.r, s: tx.s, yParity: tx.yParity})
    case 'eip1559':
      return serializeTransaction(
        {...base, chainId: tx.chainId!, type: 'eip1559', maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas, accessList: tx.accessList},
        {r: tx.r, s: tx.s, yParity: tx.yParity},
      )
    case 'eip7702':
      return serializeTransaction(
        {
          ...base,
          chainId: tx.chainId!,
          type: 'eip7702',
          to: tx.to!,
          maxFeePerGas: tx.maxFeePerGas,
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
          accessList: tx.accessList,
          authorizationList: tx.authorizationList,
        },
        {r: tx.r, s: tx.s, yParity: tx.yParity},
      )
    default:
      throw new Error(`serializeFromRpc: transaction type ${tx.type} is not covered`)
  }
}

/**
 * Waits for receipts on one devnet and remembers the first transaction that was not mined in time,
 * so a test file can skip what follows (`stalled`) instead of timing out test after test.
 */
export function receiptWaiter(client: () => PublicClient<Transport, Chain>, devnet: () => E2eDevnet) {
  const state: {stalled?: string; receiptOf: (hash: Hash) => Promise<TransactionReceipt>} = {
    stalled: undefined,
    receiptOf: async (hash) => {
      try {
        return await client().waitForTransactionReceipt({hash, timeout: 60_000, pollingInterval: 100})
      } catch (err) {
        if ((err as Error).name !== 'WaitForTransactionReceiptTimeoutError') throw err
        const {rpcUrl} = devnet()
        const head = await rpc(rpcUrl, 'eth_blockNumber').catch((e: Error) => e.message)
        const pool = await rpc(rpcUrl, 'txpool_status').catch((e: Error) => e.message)
        state.stalled ??= `transaction ${hash} was not mined within 60 s; head ${String(head)}, txpool_status ${JSON.stringify(pool)}`
        throw new Error(`${state.stalled}\nNode log:\n${await devnet().logTail(10)}`, {cause: err})
      }
    },
  }
  return state
}
