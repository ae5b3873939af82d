/**
 * anvil_dumpState / anvil_loadState on a real single-node chain (memory store, the node's own block
 * producer in automine, the node's RPC API): the dump's format is anvil's, a dump loaded into a
 * fresh chain gives back balances, nonces, code and storage, hostile dumps are refused with the
 * reason, and a chain decided by consensus refuses to load.
 */
import {gunzipSync, gzipSync} from 'node:zlib'

import {type Hex, toHex} from 'viem'
import {afterEach, describe, expect, it} from 'vitest'

import {Chain} from '../../../src/chain/chain.js'
import {DevControls} from '../../../src/chain/dev-controls.js'
import {createDevGenesis} from '../../../src/chain/genesis.js'
import {Mempool} from '../../../src/chain/mempool.js'
import {BlockProducer} from '../../../src/chain/producer.js'
import {decodeStateBlob, encodeStateBlob, parseStateDump} from '../../../src/chain/state-dump.js'
import {createRpcApi} from '../../../src/rpc/api.js'
import {anvilMethods} from '../../../src/rpc/methods/anvil.js'
import {stateDumpMethods} from '../../../src/rpc/methods/state-dump.js'
import {type KeyValueStore, openMemoryStore} from '../../../src/storage/database.js'
import {isXaiError} from '../../../src/util/errors.js'
import {DEV_ACCOUNTS, DEV_KEYS} from '../../helpers/chain.js'
import {RpcCallError, type JsonRpcError} from './harness.js'

const ALICE = DEV_ACCOUNTS[0]!.address.toLowerCase() as Hex
const BOB = DEV_ACCOUNTS[1]!.address.toLowerCase() as Hex
const STRANGER = '0x00000000000000000000000000000000deadbeef' as Hex
const silent = {debug() {}, info() {}, warn() {}, error() {}}
/** Init code: SSTORE(7, 0x2a), then return the runtime code 0x6001. */
const INIT_CODE = '0x602a6007556002601160003960026000f36001' as Hex

interface Node {
  chain: Chain
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  rpcError(method: string, params?: unknown[]): Promise<JsonRpcError>
  close(): Promise<void>
}

const open: Node[] = []
afterEach(async () => {
  for (const node of open.splice(0)) await node.close()
})

async function startNode(options: {store?: KeyValueStore; dev?: boolean; accounts?: readonly {address: string}[]} = {}): Promise<Node> {
  const genesis = createDevGenesis({accounts: (options.accounts ?? DEV_ACCOUNTS).map((a) => a.address), timestamp: 1_700_000_000})
  const chain = await Chain.create({store: options.store ?? openMemoryStore(), genesis})
  const mempool = new Mempool(chain)
  const producer = new BlockProducer({chain, mempool, blockTime: 0})
  mempool.settle = (hash) => producer.whenSettled(hash)
  const dev = options.dev === false ? undefined : new DevControls(chain, mempool, producer)
  const api = await createRpcApi({
    chain,
    mempool,
    logger: silent,
    clientVersion: 'xai/test',
    accounts: DEV_ACCOUNTS.map((a, i) => ({address: a.address, privateKey: DEV_KEYS[i]!})),
    extraMethods: {...(dev ? anvilMethods(dev) : {}), ...stateDumpMethods({chain, dev})},
  })
  producer.start()
  let id = 1
  const rpc = async <T,>(method: string, params: unknown[] = []): Promise<T> => {
    const out = JSON.parse((await api.dispatcher.handle(JSON.stringify({jsonrpc: '2.0', id: id++, method, params})))!) as {result?: T; error?: JsonRpcError}
    if (out.error) throw new RpcCallError(out.error)
    return out.result as T
  }
  const node: Node = {
    chain,
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
  open.push(node)
  return node
}

/** A chain with a deployed contract (storage written by a block), a transfer and cheat edits. */
async function populate(node: Node): Promise<{contract: Hex}> {
  const deploy = await node.rpc<Hex>('eth_sendTransaction', [{from: ALICE, data: INIT_CODE, gas: '0x30000'}])
  const receipt = await node.rpc<{contractAddress: Hex; status: Hex}>('eth_getTransactionReceipt', [deploy])
  expect(receipt.status).toBe('0x1')
  await node.rpc('eth_sendTransaction', [{from: ALICE, to: BOB, value: toHex(12_345n)}])
  await node.rpc('anvil_setBalance', [STRANGER, toHex(777n)])
  await node.rpc('anvil_setNonce', [STRANGER, toHex(9n)])
  await node.rpc('anvil_setStorageAt', [STRANGER, '0x5', `0x${'ff'.padStart(64, '0')}`])
  return {contract: receipt.contractAddress}
}

function unpack(blob: Hex): {block: Record<string, unknown>; accounts: Record<string, {nonce: number; balance: string; code: string; storage: Record<string, string>}>; best_block_number: number} {
  return JSON.parse(gunzipSync(Buffer.from(blob.slice(2), 'hex')).toString('utf8'))
}

describe('anvil_dumpState', () => {
  it("answers the head state as anvil does: gzipped JSON {block, accounts, best_block_number}, hex-encoded", async () => {
    const node = await startNode()
    const {contract} = await populate(node)
    const blob = await node.rpc<Hex>('anvil_dumpState')
    expect(blob).toMatch(/^0x1f8b/)
    const dump = unpack(blob)
    // anvil needs best_block_number among the dump's blocks; a dump of xai carries none.
    expect(dump.best_block_number).toBe(0)
    expect(dump.block).toMatchObject({number: '0x2', gas_limit: 30_000_000})
    const word = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`
    expect(dump.accounts[contract.toLowerCase()]).toEqual({nonce: 1, balance: '0x0', code: '0x6001', storage: {[word(7)]: word(0x2a)}})
    expect(dump.accounts[STRANGER]).toEqual({nonce: 9, balance: '0x309', code: '0x', storage: {[word(5)]: word(0xff)}})
    expect(BigInt(dump.accounts[BOB]!.balance)).toBe(10_000n * 10n ** 18n + 12_345n)
    expect(dump.accounts[ALICE]!.nonce).toBe(2)
    // Every dev account, the system contracts: nothing the trie holds is left out.
    for (const a of DEV_ACCOUNTS) expect(dump.accounts[a.address.toLowerCase()]).toBeDefined()
    expect(dump.accounts['0x0000f90827f1c53a10cb7a02335b175320002935']?.code).toMatch(/^0x3373/)
  })

  it('names the accounts after a restart from the same store (the preimages are stored with the blocks)', async () => {
    const store = openMemoryStore()
    const first = await startNode({store})
    const {contract} = await populate(first)
    const before = unpack(await first.rpc<Hex>('anvil_dumpState'))
    open.splice(open.indexOf(first), 1)
    await first.close()
    const again = await startNode({store})
    const after = unpack(await again.rpc<Hex>('anvil_dumpState'))
    expect(after.accounts).toEqual(before.accounts)
    expect(after.accounts[contract.toLowerCase()]?.code).toBe('0x6001')
  })

  it('works on a chain decided by consensus (it only reads)', async () => {
    const node = await startNode({dev: false})
    const dump = unpack(await node.rpc<Hex>('anvil_dumpState'))
    expect(Object.keys(dump.accounts)).toContain(ALICE)
  })
})

describe('anvil_loadState', () => {
  it('writes a dump into a fresh chain: balances, nonces, code and storage are back at once', async () => {
    const source = await startNode()
    const {contract} = await populate(source)
    const blob = await source.rpc<Hex>('anvil_dumpState')
    const target = await startNode({accounts: DEV_ACCOUNTS.slice(0, 1)})
    expect(await target.rpc('eth_getCode', [contract, 'latest'])).toBe('0x')
    expect(await target.rpc('anvil_loadState', [blob])).toBe(true)
    expect(await target.rpc('eth_getCode', [contract, 'latest'])).toBe('0x6001')
    expect(BigInt(await target.rpc<Hex>('eth_getStorageAt', [contract, '0x7', 'latest']))).toBe(0x2an)
    expect(BigInt(await target.rpc<Hex>('eth_getBalance', [STRANGER, 'latest']))).toBe(777n)
    expect(BigInt(await target.rpc<Hex>('eth_getTransactionCount', [STRANGER, 'latest']))).toBe(9n)
    expect(BigInt(await target.rpc<Hex>('eth_getStorageAt', [STRANGER, '0x5', 'latest']))).toBe(0xffn)
    expect(BigInt(await target.rpc<Hex>('eth_getBalance', [BOB, 'latest']))).toBe(10_000n * 10n ** 18n + 12_345n)
    // The loaded state is the head's: the next block is built on it.
    await target.rpc('eth_sendTransaction', [{from: ALICE, to: STRANGER, value: '0x1'}])
    expect(BigInt(await target.rpc<Hex>('eth_getBalance', [STRANGER, 'latest']))).toBe(778n)
    // And a dump of the target now holds what was loaded.
    const again = unpack(await target.rpc<Hex>('anvil_dumpState'))
    expect(again.accounts[contract.toLowerCase()]).toEqual(unpack(blob).accounts[contract.toLowerCase()])
  })

  it("loads anvil's own dump (its blocks and transactions are ignored)", async () => {
    const anvilDump = {
      block: {number: '0x0', beneficiary: '0x0000000000000000000000000000000000000000', timestamp: '0x1', gas_limit: 30000000, basefee: 1000000000, difficulty: '0x0', prevrandao: `0x${'00'.repeat(32)}`, blob_excess_gas_and_price: {excess_blob_gas: 0, blob_gasprice: 1}},
      accounts: {
        '0x1000000000000000000000000000000000000001': {nonce: 0, balance: '0x0', code: '0x6001', storage: {'0x0000000000000000000000000000000000000000000000000000000000000005': '0x00000000000000000000000000000000000000000000000000000000000000ff'}},
        '0x9858effd232b4033e47d90003d41ec34ecaeda94': {nonce: 0, balance: '0x4563918244f40000', code: '0x', storage: {}},
      },
      best_block_number: 0,
      blocks: [{header: {number: '0x0'}, transactions: [], ommers: []}],
      transactions: [],
      historical_states: null,
    }
    const node = await startNode()
    const blob = `0x${gzipSync(Buffer.from(JSON.stringify(anvilDump))).toString('hex')}`
    expect(await node.rpc('anvil_loadState', [blob])).toBe(true)
    expect(BigInt(await node.rpc<Hex>('eth_getBalance', ['0x9858effd232b4033e47d90003d41ec34ecaeda94', 'latest']))).toBe(5n * 10n ** 18n)
    expect(BigInt(await node.rpc<Hex>('eth_getStorageAt', ['0x1000000000000000000000000000000000000001', '0x5', 'latest']))).toBe(0xffn)
  })

  it('refuses hostile dumps with the reason, changing nothing', async () => {
    const node = await startNode()
    const gz = (value: unknown): string => `0x${gzipSync(Buffer.from(JSON.stringify(value))).toString('hex')}`
    const cases: [unknown, RegExp][] = [
      [42, /expected the hex-encoded state/],
      ['0xzz', /not even-length hex/],
      ['0x1f8b0000', /not valid gzip/],
      [gz([1, 2]), /top level is not a JSON object/],
      [gz({accounts: []}), /"accounts" is missing or not an object/],
      [gz({accounts: {'0x12': {}}}), /account key "0x12" is not a 0x-prefixed 20-byte address/],
      [gz({accounts: {[STRANGER]: {balance: `0x1${'0'.repeat(64)}`}}}), /balance is not an integer|above its limit/],
      [gz({accounts: {[STRANGER]: {nonce: 2 ** 60}}}), /nonce is .* not a non-negative integer below 2\^53/],
      [gz({accounts: {[STRANGER]: {nonce: '0x10000000000000000'}}}), /nonce is .* above its limit/],
      [gz({accounts: {[STRANGER]: {code: '0xabc'}}}), /code has an odd number of hex digits/],
      [gz({accounts: {[STRANGER]: {code: 'deadbeef'}}}), /code is not a 0x-prefixed hex string/],
      [gz({accounts: {[STRANGER]: {storage: {'0x1': `0x${'11'.repeat(33)}`}}}}), /storage .* longer than 32 bytes/],
      [gz({accounts: {[STRANGER]: {storage: []}}}), /storage is not an object/],
      [gz({accounts: {[STRANGER]: {balance: '1'}, [STRANGER.toUpperCase().replace('0X', '0x')]: {balance: '2'}}}), /appears twice/],
    ]
    for (const [param, reason] of cases) {
      const error = await node.rpcError('anvil_loadState', [param])
      expect(error.code, JSON.stringify(param).slice(0, 80)).toBe(-32602)
      expect(error.message).toMatch(reason)
    }
    expect(await node.rpc('eth_getBalance', [STRANGER, 'latest'])).toBe('0x0')
  })

  it('is refused on a chain decided by consensus, with the reason', async () => {
    const node = await startNode({dev: false})
    const error = await node.rpcError('anvil_loadState', [encodeStateBlob({accounts: new Map()})])
    expect(error.code).toBe(-32000)
    expect(error.message).toMatch(/not available on a chain decided by consensus/)
  })
})

describe('the dump format', () => {
  it('round-trips through JSON, gzip and hex, and reads a file holding the hex answer', () => {
    const dump = parseStateDump({
      accounts: {
        [STRANGER]: {nonce: '0x3', balance: '1000', code: '0x60', storage: {'0x1': '0x02', '0x2': '0x00'}},
      },
    })
    expect(dump.accounts.get(STRANGER)).toEqual({
      nonce: 3n,
      balance: 1000n,
      code: Uint8Array.from([0x60]),
      // Short keys and values are words; a zero value is no slot.
      storage: new Map([[`0x${'1'.padStart(64, '0')}`, `0x${'2'.padStart(64, '0')}`]]),
    })
    const blob = encodeStateBlob(dump)
    expect(decodeStateBlob(blob)).toEqual(dump)
    expect(decodeStateBlob(Buffer.from(`${blob}\n`))).toEqual(dump)
    expect(decodeStateBlob(gunzipSync(Buffer.from(blob.slice(2), 'hex')))).toEqual(dump)
  })

  it('refuses a gzip that unpacks past the limit instead of exhausting memory', () => {
    // 8 MiB of zeros packs into about 8 KiB; the limit here is 1 MiB (512 MiB by default).
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(64 * 1024)
    let error: unknown
    try {
      decodeStateBlob(bomb, {maxBytes: 1024 * 1024})
    } catch (err) {
      error = err
    }
    expect(isXaiError(error) && error.code).toBe('STATE_DUMP_INVALID')
    expect((error as Error).message).toMatch(/more than 1 MiB/)
  })
})
