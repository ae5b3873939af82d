import {Chain, decodeTransaction} from '../../src/chain/chain.js'
import {createDevGenesis} from '../../src/chain/genesis.js'
import {Mempool} from '../../src/chain/mempool.js'
import {type KeyValueStore, openMemoryStore} from '../../src/storage/database.js'
import {privateKeyToAccount} from 'viem/accounts'
import {hexToBytes, type Hex} from 'viem'

/** The first three accounts of the standard test mnemonic. */
export const DEV_KEYS: Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
]
export const DEV_ACCOUNTS = DEV_KEYS.map((k) => privateKeyToAccount(k))

export async function createTestChain(options: {store?: KeyValueStore; timestamp?: number} = {}): Promise<{chain: Chain; mempool: Mempool}> {
  const genesis = createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: options.timestamp ?? 1_700_000_000})
  const chain = await Chain.create({store: options.store ?? openMemoryStore(), genesis})
  const mempool = new Mempool(chain)
  return {chain, mempool}
}

export interface TransferOptions {
  from?: number
  to?: Hex
  nonce: number
  value?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gas?: bigint
  chainId?: number
  data?: Hex
}

export async function signTransfer(options: TransferOptions): Promise<Uint8Array> {
  const account = DEV_ACCOUNTS[options.from ?? 0]!
  const signed = await account.signTransaction({
    chainId: options.chainId ?? 31337,
    type: 'eip1559',
    nonce: options.nonce,
    to: options.to ?? '0x000000000000000000000000000000000000dEaD',
    value: options.value ?? 1n,
    gas: options.gas ?? 21_000n,
    maxFeePerGas: options.maxFeePerGas ?? 10_000_000_000n,
    maxPriorityFeePerGas: options.maxPriorityFeePerGas ?? 1_000_000_000n,
    data: options.data,
  })
  return hexToBytes(signed)
}

/** Builds and commits one block from the mempool's selection. */
export async function mineBlock(chain: Chain, mempool: Mempool, timestamp?: bigint) {
  const txs = mempool.selectForBlock(chain.nextBaseFee())
  const built = await chain.buildBlock(txs, {timestamp: timestamp ?? chain.head.header.timestamp + 1n})
  mempool.drop(built.rejected.map((r) => r.tx), 'rejected')
  return chain.commitBlock(built)
}

export {decodeTransaction}
