import {type Hex, type RpcTransaction, formatTransaction, keccak256} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {
  EMPTY_REQUESTS_HASH,
  EMPTY_TRIE_ROOT,
  EMPTY_UNCLES_HASH,
  PRAGUE_HEADER_FIELDS,
  type RawBlock,
  type RawReceipt,
  computeBlockHash,
  encodeReceipt,
  logsBloom,
  orderedTrieRoot,
  serializeFromRpc,
} from '../../helpers/clients.js'
import {ALICE, DEV_KEYS, type Harness, createHarness, probeCall, probeContract} from './harness.js'

const BOB_ADDRESS = privateKeyToAccount(DEV_KEYS[1]!).address
const DEAD = '0x000000000000000000000000000000000000dead'

type Block = RawBlock & {transactions: (Hex | RpcTransaction)[]}
type Receipt = Omit<RawReceipt, 'logs'> & {
  transactionHash: Hex
  contractAddress: Hex | null
  to: Hex | null
  from: Hex
  gasUsed: Hex
  effectiveGasPrice: Hex
  blockHash: Hex
  transactionIndex: Hex
  logs: (RawReceipt['logs'][number] & {logIndex: Hex; transactionHash: Hex; blockNumber: Hex; removed: boolean})[]
}

describe('eth_ block, transaction and receipt methods', () => {
  let h: Harness
  let probe: Hex
  let deployTx: Hex
  const mixed: Hex[] = []

  beforeAll(async () => {
    h = await createHarness()
    deployTx = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({data: probeContract().bytecode})])
    await h.mine()
    probe = (await h.rpc<Receipt>('eth_getTransactionReceipt', [deployTx])).contractAddress!
    // One block with every transaction type: legacy, EIP-2930, EIP-1559 (with logs), EIP-7702.
    mixed.push(await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [1n]), type: 'legacy'})]))
    mixed.push(await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [2n]), type: 'eip2930'})]))
    mixed.push(await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: probe, data: probeCall('store', [3n])})]))
    const bob = privateKeyToAccount(DEV_KEYS[1]!)
    const authorization = await bob.signAuthorization({chainId: 31337, contractAddress: probe, nonce: 0})
    const setCode = await privateKeyToAccount(DEV_KEYS[0]!).signTransaction({
      type: 'eip7702',
      chainId: 31337,
      nonce: 4,
      to: DEAD,
      gas: 200_000n,
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      authorizationList: [authorization],
    })
    mixed.push(await h.rpc<Hex>('eth_sendRawTransaction', [setCode]))
    await h.mine()
  })
  afterAll(() => h.close())

  it('eth_blockNumber and eth_chainId', async () => {
    expect(await h.rpc('eth_blockNumber')).toBe('0x2')
    expect(await h.rpc('eth_chainId')).toBe('0x7a69')
    expect((await h.rpcError('eth_blockNumber', ['latest'])).code).toBe(-32602)
  })

  it('a block carries every Prague header field, and its hash is keccak(rlp(header))', async () => {
    const block = await h.rpc<Block>('eth_getBlockByNumber', ['latest', false])
    for (const field of [...PRAGUE_HEADER_FIELDS, 'hash', 'size', 'totalDifficulty', 'uncles', 'withdrawals', 'transactions']) {
      expect(block, field).toHaveProperty(field)
    }
    expect(computeBlockHash(block)).toBe(block.hash)
    expect(block).toMatchObject({
      number: '0x2',
      sha3Uncles: EMPTY_UNCLES_HASH,
      withdrawalsRoot: EMPTY_TRIE_ROOT,
      requestsHash: EMPTY_REQUESTS_HASH,
      totalDifficulty: '0x0',
      difficulty: '0x0',
      nonce: '0x0000000000000000',
      uncles: [],
      withdrawals: [],
      blobGasUsed: '0x0',
      excessBlobGas: '0x0',
    })
    expect(block.transactions).toEqual(mixed)
    expect(BigInt(block.size as Hex)).toBeGreaterThan(500n)
  })

  it('full transactions re-serialize to their hashes and to the transactions root', async () => {
    const block = await h.rpc<Block>('eth_getBlockByNumber', ['0x2', true])
    const txs = block.transactions as RpcTransaction[]
    expect(txs.map((t) => t.type)).toEqual(['0x0', '0x1', '0x2', '0x4'])
    const serialized = txs.map((raw) => serializeFromRpc(formatTransaction(raw)))
    expect(serialized.map((s) => keccak256(s))).toEqual(mixed)
    expect(await orderedTrieRoot(serialized)).toBe(block.transactionsRoot)
    for (const [i, tx] of txs.entries()) {
      expect(tx).toMatchObject({blockHash: block.hash, blockNumber: '0x2', transactionIndex: `0x${i}`, from: ALICE})
    }
    expect(txs[0]).not.toHaveProperty('yParity')
    expect(txs[0]!.chainId).toBe('0x7a69')
    expect(txs[2]).toHaveProperty('maxFeePerGas')
    const baseFee = BigInt(block.baseFeePerGas as Hex)
    expect(BigInt(txs[2]!.gasPrice!)).toBe(baseFee + 1_000_000_000n)
    expect((txs[3] as RpcTransaction & {authorizationList: unknown[]}).authorizationList).toHaveLength(1)
    // The authorization took effect: Bob's account now delegates to the probe.
    expect(await h.rpc('eth_getCode', [BOB_ADDRESS])).toBe(`0xef0100${probe.slice(2)}`)
  })

  it('receipts encode to the receipts root; per-receipt blooms, log indexes and fee fields are right', async () => {
    const block = await h.rpc<Block>('eth_getBlockByNumber', ['0x2', false])
    const receipts = await Promise.all(mixed.map((hash) => h.rpc<Receipt>('eth_getTransactionReceipt', [hash])))
    expect(await orderedTrieRoot(receipts.map(encodeReceipt))).toBe(block.receiptsRoot)
    expect(receipts.map((r) => r.logs.map((l) => l.logIndex))).toEqual([['0x0'], ['0x1'], ['0x2'], []])
    for (const r of receipts) {
      expect(r.logsBloom).toBe(logsBloom(r.logs))
      expect(r).toMatchObject({blockHash: block.hash, status: '0x1', from: ALICE, to: r === receipts[3] ? DEAD : probe, contractAddress: null})
      expect(r.logs.every((l) => l.removed === false && l.blockNumber === '0x2')).toBe(true)
    }
    expect(receipts[0]!.effectiveGasPrice).toBe('0x2540be400')
    expect(BigInt(receipts[2]!.effectiveGasPrice)).toBe(BigInt(block.baseFeePerGas as Hex) + 1_000_000_000n)
    expect(await h.rpc('eth_getBlockReceipts', ['0x2'])).toEqual(receipts)
    // A bare block hash is a block id too (geth, and what viem sends).
    expect(await h.rpc('eth_getBlockReceipts', [block.hash])).toEqual(receipts)
    expect(await h.rpc('eth_getBlockReceipts', [`0x${'34'.repeat(32)}`])).toBeNull()
  })

  it('a contract creation has to null and contractAddress set', async () => {
    const receipt = await h.rpc<Receipt>('eth_getTransactionReceipt', [deployTx])
    expect(receipt.to).toBeNull()
    expect(receipt.contractAddress).toBe(probe)
    const tx = await h.rpc<RpcTransaction>('eth_getTransactionByHash', [deployTx])
    expect(tx.to).toBeNull()
    expect(tx.blockNumber).toBe('0x1')
  })

  it('eth_getBlockByHash matches ByNumber; unknown or future blocks are null; earliest is genesis', async () => {
    const byNumber = await h.rpc<Block>('eth_getBlockByNumber', ['0x1', true])
    expect(await h.rpc('eth_getBlockByHash', [byNumber.hash, true])).toEqual(byNumber)
    expect(await h.rpc('eth_getBlockByHash', [`0x${'11'.repeat(32)}`, false])).toBeNull()
    expect(await h.rpc('eth_getBlockByNumber', ['0x99', false])).toBeNull()
    const genesis = await h.rpc<Block>('eth_getBlockByNumber', ['earliest', false])
    expect(genesis.number).toBe('0x0')
    expect(computeBlockHash(genesis)).toBe(genesis.hash)
    for (const tag of ['safe', 'finalized']) expect((await h.rpc<Block>('eth_getBlockByNumber', [tag, false])).number).toBe('0x2')
    // pending is the block the node would build next (test/unit/rpc/pending.test.ts).
    expect((await h.rpc<Block>('eth_getBlockByNumber', ['pending', false])).number).toBe('0x3')
  })

  it('transaction counts, transactions by index and uncles', async () => {
    const block = await h.rpc<Block>('eth_getBlockByNumber', ['latest', false])
    expect(await h.rpc('eth_getBlockTransactionCountByNumber', ['0x2'])).toBe('0x4')
    expect(await h.rpc('eth_getBlockTransactionCountByHash', [block.hash])).toBe('0x4')
    expect(await h.rpc('eth_getBlockTransactionCountByNumber', ['0x50'])).toBeNull()
    expect((await h.rpc<RpcTransaction>('eth_getTransactionByBlockNumberAndIndex', ['0x2', '0x1'])).hash).toBe(mixed[1])
    expect((await h.rpc<RpcTransaction>('eth_getTransactionByBlockHashAndIndex', [block.hash, '0x3'])).hash).toBe(mixed[3])
    expect(await h.rpc('eth_getTransactionByBlockNumberAndIndex', ['0x2', '0x9'])).toBeNull()
    expect(await h.rpc('eth_getUncleCountByBlockNumber', ['0x2'])).toBe('0x0')
    expect(await h.rpc('eth_getUncleCountByBlockHash', [block.hash])).toBe('0x0')
    expect(await h.rpc('eth_getUncleCountByBlockNumber', ['0x50'])).toBeNull()
    expect(await h.rpc('eth_getUncleByBlockNumberAndIndex', ['0x2', '0x0'])).toBeNull()
  })

  it('a pending transaction is returned from the pool with null block fields; unknown hashes are null', async () => {
    const hash = await h.rpc<Hex>('eth_sendRawTransaction', [await h.sign({to: DEAD, value: 5n, gas: 21_000n})])
    const tx = await h.rpc<RpcTransaction>('eth_getTransactionByHash', [hash])
    expect(tx).toMatchObject({hash, blockHash: null, blockNumber: null, transactionIndex: null, value: '0x5', from: ALICE})
    expect(await h.rpc('eth_getTransactionReceipt', [hash])).toBeNull()
    expect(await h.rpc('eth_getTransactionByHash', [`0x${'22'.repeat(32)}`])).toBeNull()
    await h.mine()
    expect((await h.rpc<Receipt>('eth_getTransactionReceipt', [hash])).status).toBe('0x1')
  })

  it('rejects malformed params with -32602 naming the argument', async () => {
    const cases: [string, unknown[], RegExp][] = [
      ['eth_getBlockByNumber', ['latest', 'yes'], /invalid argument 1/],
      ['eth_getBlockByNumber', ['newest', false], /invalid argument 0/],
      ['eth_getBlockByNumber', [], /missing value for required argument 0/],
      ['eth_getBlockByHash', ['0x1234', false], /invalid argument 0: expected a 32-byte hash/],
      ['eth_getTransactionByHash', ['0xzz'], /invalid argument 0/],
      ['eth_getTransactionReceipt', [123], /invalid argument 0/],
      ['eth_getTransactionByBlockNumberAndIndex', ['0x1', 'one'], /invalid argument 1/],
      ['eth_getBlockTransactionCountByHash', [null], /missing value/],
      ['eth_getBlockByNumber', ['latest', false, 1], /too many arguments/],
    ]
    for (const [method, params, message] of cases) {
      const error = await h.rpcError(method, params)
      expect(error.code, method).toBe(-32602)
      expect(error.message, method).toMatch(message)
    }
  })
})
