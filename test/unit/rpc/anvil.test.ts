/**
 * anvil's and Hardhat's cheat methods on a real single-node chain (memory store, the node's own
 * block producer in automine, the node's RPC API): one block per spec family, each with the
 * INVALID_PARAMS case.
 */
import {type Hex, parseEther, toHex} from 'viem'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {Chain} from '../../../src/chain/chain.js'
import {DevControls} from '../../../src/chain/dev-controls.js'
import {createDevGenesis} from '../../../src/chain/genesis.js'
import {Mempool} from '../../../src/chain/mempool.js'
import {BlockProducer} from '../../../src/chain/producer.js'
import {type RpcApi, createRpcApi} from '../../../src/rpc/api.js'
import {CHEAT_METHOD_NAMES, anvilMethods, refusedCheatMethods} from '../../../src/rpc/methods/anvil.js'
import {Dispatcher} from '../../../src/rpc/dispatcher.js'
import {type KeyValueStore, openMemoryStore} from '../../../src/storage/database.js'
import {DEV_ACCOUNTS, DEV_KEYS} from '../../helpers/chain.js'
import {RpcCallError, type JsonRpcError} from './harness.js'

const ALICE = DEV_ACCOUNTS[0]!.address.toLowerCase() as Hex
const BOB = DEV_ACCOUNTS[1]!.address.toLowerCase() as Hex
const STRANGER = '0x00000000000000000000000000000000deadbeef' as Hex
const silent = {debug() {}, info() {}, warn() {}, error() {}}

interface DevNode {
  chain: Chain
  mempool: Mempool
  producer: BlockProducer
  api: RpcApi
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  rpcError(method: string, params?: unknown[]): Promise<JsonRpcError>
  close(): Promise<void>
}

async function startDevNode(store: KeyValueStore = openMemoryStore()): Promise<DevNode> {
  const genesis = createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000})
  const chain = await Chain.create({store, genesis})
  const mempool = new Mempool(chain)
  const producer = new BlockProducer({chain, mempool, blockTime: 0})
  mempool.settle = (hash) => producer.whenSettled(hash)
  const dev = new DevControls(chain, mempool, producer)
  const api = await createRpcApi({
    chain,
    mempool,
    logger: silent,
    clientVersion: 'xai/test',
    accounts: DEV_ACCOUNTS.map((a, i) => ({address: a.address, privateKey: DEV_KEYS[i]!})),
    impersonated: (a) => dev.isImpersonated(a),
    extraMethods: anvilMethods(dev),
  })
  producer.start()
  let id = 1
  const rpc = async <T,>(method: string, params: unknown[] = []): Promise<T> => {
    const out = JSON.parse((await api.dispatcher.handle(JSON.stringify({jsonrpc: '2.0', id: id++, method, params})))!) as {result?: T; error?: JsonRpcError}
    if (out.error) throw new RpcCallError(out.error)
    return out.result as T
  }
  return {
    chain,
    mempool,
    producer,
    api,
    rpc,
    async rpcError(method, params = []) {
      try {
        await rpc(method, params)
      } catch (err) {
        if (err instanceof RpcCallError) return err.error
        throw err
      }
      throw new Error(`${method} succeeded; an error was expected`)
    },
    async close() {
      api.close()
      await producer.close()
      await chain.close()
    },
  }
}

const num = (h: Hex | string): bigint => BigInt(h)

describe('cheat methods (single-node chain)', () => {
  let n: DevNode
  let store: KeyValueStore
  beforeEach(async () => {
    store = openMemoryStore()
    n = await startDevNode(store)
  })
  afterEach(async () => n.close())

  const transfer = (value = 1n, from = ALICE): Promise<Hex> => n.rpc<Hex>('eth_sendTransaction', [{from, to: BOB, value: toHex(value)}])
  const balance = async (a: Hex, block = 'latest'): Promise<bigint> => num(await n.rpc<Hex>('eth_getBalance', [a, block]))
  const height = async (): Promise<bigint> => num(await n.rpc<Hex>('eth_blockNumber'))
  const block = (tag: string | bigint = 'latest') => n.rpc<{number: Hex; timestamp: Hex; hash: Hex; miner: Hex; baseFeePerGas: Hex; transactions: Hex[]}>('eth_getBlockByNumber', [typeof tag === 'bigint' ? toHex(tag) : tag, false])

  describe('evm_snapshot / evm_revert', () => {
    it('reverts blocks, transactions, state and the clock; ids are single-use and nested ones go with their parent', async () => {
      await transfer()
      const bobBefore = await balance(BOB)
      const snap = await n.rpc<Hex>('evm_snapshot')
      const headBefore = await block()
      await n.rpc('evm_increaseTime', [3600])
      const tx = await transfer(5n)
      const inner = await n.rpc<Hex>('evm_snapshot')
      await transfer(7n)
      await n.rpc('anvil_setBalance', [STRANGER, '0x64'])
      expect(await height()).toBe(num(headBefore.number) + 2n)

      expect(await n.rpc('evm_revert', [snap])).toBe(true)
      expect(await height()).toBe(num(headBefore.number))
      expect((await block()).hash).toBe(headBefore.hash)
      expect(await balance(BOB)).toBe(bobBefore)
      expect(await balance(STRANGER)).toBe(0n)
      expect(await n.rpc('eth_getTransactionByHash', [tx])).toBeNull()
      expect(await n.rpc('eth_getTransactionReceipt', [tx])).toBeNull()
      expect(await block(num(headBefore.number) + 1n)).toBeNull()
      // Single-use, and the snapshot taken after it is gone too.
      expect(await n.rpc('evm_revert', [snap])).toBe(false)
      expect(await n.rpc('evm_revert', [inner])).toBe(false)
      // The chain goes on from the reverted head; the clock offset is the snapshot's (none).
      await transfer(9n)
      const next = await block()
      expect(num(next.number)).toBe(num(headBefore.number) + 1n)
      expect(num(next.timestamp)).toBeLessThan(num(headBefore.timestamp) + 3600n)
      expect(await balance(BOB)).toBe(bobBefore + 9n)
    })

    it('keeps the reverted head across a restart (one atomic batch on the store)', async () => {
      const snap = await n.rpc<Hex>('evm_snapshot')
      const before = await block()
      await transfer()
      await transfer()
      await n.rpc('evm_revert', [snap])
      await n.close()
      n = await startDevNode(store)
      expect((await block()).hash).toBe(before.hash)
      expect(await block(num(before.number) + 1n)).toBeNull()
    })

    it('answers an id never taken with false, and a malformed one with -32602', async () => {
      expect(await n.rpc('evm_revert', ['0x99'])).toBe(false)
      expect((await n.rpcError('evm_revert', ['nope'])).code).toBe(-32602)
      expect((await n.rpcError('evm_revert', [])).code).toBe(-32602)
    })
  })

  describe('state: setBalance, setNonce, setCode, setStorageAt', () => {
    it('is visible at once without a block, under both prefixes, and committed with the next block', async () => {
      const h = await height()
      await n.rpc('anvil_setBalance', [STRANGER, toHex(parseEther('3'))])
      expect(await height()).toBe(h)
      expect(await balance(STRANGER)).toBe(parseEther('3'))
      expect(await balance(STRANGER, toHex(h))).toBe(parseEther('3'))
      await n.rpc('hardhat_setBalance', [STRANGER, toHex(parseEther('4'))])
      expect(await balance(STRANGER)).toBe(parseEther('4'))

      await n.rpc('anvil_setNonce', [STRANGER, '0x7'])
      expect(await n.rpc('eth_getTransactionCount', [STRANGER, 'latest'])).toBe('0x7')
      await n.rpc('anvil_setCode', [STRANGER, '0x6001600055'])
      expect(await n.rpc('eth_getCode', [STRANGER, 'latest'])).toBe('0x6001600055')
      const word = '0x00000000000000000000000000000000000000000000000000000000000000ff'
      expect(await n.rpc('anvil_setStorageAt', [STRANGER, '0x1', word])).toBe(true)
      expect(await n.rpc('eth_getStorageAt', [STRANGER, '0x1', 'latest'])).toBe(word)

      await transfer()
      expect(await balance(STRANGER)).toBe(parseEther('4'))
      // The block built after the cheats carries them in its state root.
      expect(await balance(STRANGER, toHex(h + 1n))).toBe(parseEther('4'))
      expect(await balance(STRANGER, toHex(h - 1n < 0n ? 0n : h - 1n))).toBe(0n)
    })

    it('survives a restart, with and without a block after it', async () => {
      await n.rpc('anvil_setBalance', [STRANGER, '0x1234'])
      await n.close()
      n = await startDevNode(store)
      expect(await balance(STRANGER)).toBe(0x1234n)
      await transfer()
      await n.rpc('anvil_setNonce', [STRANGER, '0x3'])
      await n.close()
      n = await startDevNode(store)
      expect(await balance(STRANGER)).toBe(0x1234n)
      expect(await n.rpc('eth_getTransactionCount', [STRANGER, 'latest'])).toBe('0x3')
    })

    it('lets a transaction spend a balance set by a cheat', async () => {
      await n.rpc('anvil_setBalance', [ALICE, toHex(parseEther('1'))])
      const hash = await transfer(parseEther('0.5'))
      const receipt = await n.rpc<{status: Hex}>('eth_getTransactionReceipt', [hash])
      expect(receipt.status).toBe('0x1')
      expect(await balance(ALICE)).toBeLessThan(parseEther('0.5'))
    })

    it('refuses malformed arguments with -32602', async () => {
      expect((await n.rpcError('anvil_setBalance', ['0x12', '0x1'])).code).toBe(-32602)
      expect((await n.rpcError('anvil_setBalance', [STRANGER])).code).toBe(-32602)
      expect((await n.rpcError('anvil_setCode', [STRANGER, '0x123'])).code).toBe(-32602)
      expect((await n.rpcError('anvil_setNonce', [STRANGER, '0x10000000000000000'])).code).toBe(-32602)
      expect((await n.rpcError('anvil_setStorageAt', [STRANGER, '0x0', '0x01'])).code).toBe(-32602)
    })
  })

  describe('mining and the clock', () => {
    it('anvil_mine / hardhat_mine make N blocks, moving the clock by the interval before each', async () => {
      const start = await block()
      await n.rpc('anvil_mine', ['0x3', '0x3c'])
      const end = await block()
      expect(num(end.number)).toBe(num(start.number) + 3n)
      expect(num(end.timestamp) - num(start.timestamp)).toBeGreaterThanOrEqual(180n)
      await n.rpc('hardhat_mine', [])
      expect(await height()).toBe(num(start.number) + 4n)
      expect((await n.rpcError('anvil_mine', ['0xffffffffff'])).code).toBe(-32602)
    })

    it('evm_mine takes a timestamp or {timestamp, blocks}; evm_setNextBlockTimestamp sets the next block exactly, then time runs on from it', async () => {
      const t0 = num((await block()).timestamp)
      expect(await n.rpc('evm_mine', [Number(t0 + 1000n)])).toBe('0x0')
      expect(num((await block()).timestamp)).toBe(t0 + 1000n)
      await n.rpc('evm_setNextBlockTimestamp', [toHex(t0 + 5000n)])
      await transfer()
      expect(num((await block()).timestamp)).toBe(t0 + 5000n)
      await n.rpc('evm_mine', [{timestamp: Number(t0 + 9000n), blocks: 2}])
      const last = await block()
      expect(num(last.timestamp)).toBeGreaterThan(t0 + 9000n)
      const err = await n.rpcError('evm_setNextBlockTimestamp', [1])
      expect(err).toMatchObject({code: -32602})
      expect(err.message).toContain('lower than previous block')
    })

    it('evm_increaseTime returns the total offset and moves the next block; setBlockTimestampInterval spaces blocks exactly', async () => {
      expect(await n.rpc('evm_increaseTime', [100])).toBe(100)
      expect(await n.rpc('evm_increaseTime', ['0x10'])).toBe(116)
      const before = BigInt(Math.floor(Date.now() / 1000))
      await n.rpc('evm_mine')
      expect(num((await block()).timestamp)).toBeGreaterThanOrEqual(before + 116n)
      await n.rpc('anvil_setBlockTimestampInterval', [7])
      const t = num((await block()).timestamp)
      await n.rpc('evm_mine')
      await n.rpc('evm_mine')
      expect(num((await block()).timestamp)).toBe(t + 14n)
      expect(await n.rpc('anvil_removeBlockTimestampInterval')).toBe(true)
      expect(await n.rpc('anvil_removeBlockTimestampInterval')).toBe(false)
      expect((await n.rpcError('evm_increaseTime', [-5])).code).toBe(-32602)
    })

    it('switches between automine, manual and interval mining at run time', async () => {
      expect(await n.rpc('anvil_getAutomine')).toBe(true)
      await n.rpc('evm_setAutomine', [false])
      expect(await n.rpc('hardhat_getAutomine')).toBe(false)
      const h = await height()
      const tx = await transfer()
      expect(await height()).toBe(h)
      expect(await n.rpc('eth_getTransactionReceipt', [tx])).toBeNull()
      await n.rpc('evm_mine')
      expect(await height()).toBe(h + 1n)
      expect(await n.rpc<{status: Hex}>('eth_getTransactionReceipt', [tx])).toMatchObject({status: '0x1'})

      await n.rpc('evm_setIntervalMining', [1])
      expect(await n.rpc('anvil_getIntervalMining')).toBe(1)
      const tx2 = await transfer()
      await waitFor(async () => (await n.rpc('eth_getTransactionReceipt', [tx2])) !== null, 5_000)
      await n.rpc('evm_setIntervalMining', [0])
      const h2 = await height()
      await new Promise((r) => setTimeout(r, 1_500))
      expect(await height()).toBe(h2)
      await n.rpc('anvil_setAutomine', [true])
      const tx3 = await transfer()
      expect(await n.rpc('eth_getTransactionReceipt', [tx3])).not.toBeNull()
      expect((await n.rpcError('evm_setAutomine', ['yes'])).code).toBe(-32602)
    })

    it('snapshot/revert and cheats close and reopen the open block of interval mining', async () => {
      await n.rpc('evm_setIntervalMining', [1])
      const snap = await n.rpc<Hex>('evm_snapshot')
      await n.rpc('anvil_setBalance', [STRANGER, '0x5'])
      await waitFor(async () => (await height()) >= 2n, 5_000)
      expect(await n.rpc('evm_revert', [snap])).toBe(true)
      expect(await balance(STRANGER)).toBe(0n)
      await waitFor(async () => (await height()) >= 1n, 5_000)
      await n.rpc('evm_setIntervalMining', [0])
    })
  })

  describe('impersonation', () => {
    it('sends from an impersonated address without its key, until stopped; auto-impersonation covers every address', async () => {
      await n.rpc('anvil_setBalance', [STRANGER, toHex(parseEther('1'))])
      const refused = await n.rpcError('eth_sendTransaction', [{from: STRANGER, to: BOB, value: '0x1'}])
      expect(refused.message).toBe('unknown account')
      await n.rpc('anvil_impersonateAccount', [STRANGER])
      const hash = await n.rpc<Hex>('eth_sendTransaction', [{from: STRANGER, to: BOB, value: '0x1'}])
      const tx = await n.rpc<{from: Hex}>('eth_getTransactionByHash', [hash])
      expect(tx.from).toBe(STRANGER)
      expect(await n.rpc('eth_getTransactionReceipt', [hash])).toMatchObject({status: '0x1', from: STRANGER})
      expect(await n.rpc('eth_getTransactionCount', [STRANGER, 'latest'])).toBe('0x1')
      await n.rpc('anvil_stopImpersonatingAccount', [STRANGER])
      expect((await n.rpcError('eth_sendTransaction', [{from: STRANGER, to: BOB, value: '0x1'}])).message).toBe('unknown account')
      await n.rpc('anvil_autoImpersonateAccount', [true])
      await n.rpc('hardhat_impersonateAccount', [STRANGER])
      await n.rpc('eth_sendTransaction', [{from: STRANGER, to: BOB, value: '0x1'}])
      expect((await n.rpcError('anvil_impersonateAccount', ['0x1234'])).code).toBe(-32602)
    })

    it('keeps impersonated transactions readable after a restart (the sender is stored with the block)', async () => {
      await n.rpc('anvil_setBalance', [STRANGER, toHex(parseEther('1'))])
      await n.rpc('anvil_impersonateAccount', [STRANGER])
      const hash = await n.rpc<Hex>('eth_sendTransaction', [{from: STRANGER, to: BOB, value: '0x1'}])
      await n.close()
      n = await startDevNode(store)
      expect(await n.rpc('eth_getTransactionByHash', [hash])).toMatchObject({from: STRANGER})
    })
  })

  describe('pool and block environment', () => {
    it('drops one or all pending transactions', async () => {
      await n.rpc('evm_setAutomine', [false])
      const a = await transfer()
      const b = await transfer(2n, BOB)
      expect(await n.rpc('anvil_dropTransaction', [a])).toBe(a)
      expect(await n.rpc('anvil_dropTransaction', [a])).toBeNull()
      expect(n.mempool.size).toBe(1)
      expect(await n.rpc('hardhat_dropTransaction', [b])).toBe(true)
      await transfer()
      await n.rpc('anvil_dropAllTransactions')
      expect(n.mempool.size).toBe(0)
      expect((await n.rpcError('anvil_dropTransaction', ['0x12'])).code).toBe(-32602)
    })

    it('sets the next base fee and the coinbase; refuses setMinGasPrice as anvil does under EIP-1559', async () => {
      await n.rpc('anvil_setNextBlockBaseFeePerGas', ['0x7'])
      await n.rpc('anvil_setCoinbase', [STRANGER])
      await n.rpc('evm_mine')
      const b = await block()
      expect(b.baseFeePerGas).toBe('0x7')
      expect(b.miner).toBe(STRANGER)
      const err = await n.rpcError('anvil_setMinGasPrice', ['0x1'])
      expect(err).toEqual({code: -32602, message: 'anvil_setMinGasPrice is not supported when EIP-1559 is active'})
    })

    it('anvil_reset returns to genesis; forking is refused', async () => {
      await transfer()
      await n.rpc('anvil_setBalance', [STRANGER, '0x5'])
      await n.rpc('anvil_reset')
      expect(await height()).toBe(0n)
      expect(await balance(STRANGER)).toBe(0n)
      expect(await n.rpcError('hardhat_reset', [{forking: {jsonRpcUrl: 'http://x'}}])).toMatchObject({code: -32602, message: expect.stringContaining('Forking not enabled')})
    })
  })
})

describe('cheat methods on a chain decided by consensus', () => {
  it('refuses every one with -32000 and the reason', async () => {
    const d = new Dispatcher(refusedCheatMethods(), {logger: silent, maxBatch: 10})
    expect(CHEAT_METHOD_NAMES).toContain('evm_snapshot')
    expect(CHEAT_METHOD_NAMES).toContain('hardhat_setBalance')
    for (const method of CHEAT_METHOD_NAMES) {
      const out = JSON.parse((await d.handle(JSON.stringify({jsonrpc: '2.0', id: 1, method, params: []})))!) as {error: JsonRpcError}
      expect(out.error.code).toBe(-32000)
      expect(out.error.message).toContain(`${method} is not available on a chain decided by consensus`)
    }
  })
})

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}
