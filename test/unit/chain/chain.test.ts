import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {bytesToHex, createAddressFromString} from '@ethereumjs/util'
import {afterEach, describe, expect, it} from 'vitest'

import {openLevelStore} from '../../../src/storage/database.js'
import {DEV_ACCOUNTS, createTestChain, decodeTransaction, mineBlock, signTransfer} from '../../helpers/chain.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, {recursive: true, force: true})
})

describe('Chain', () => {
  it('creates a Prague genesis funding the dev accounts', async () => {
    const {chain} = await createTestChain()
    expect(chain.chainId).toBe(31337n)
    expect(chain.head.header.number).toBe(0n)
    expect(chain.head.header.gasLimit).toBe(30_000_000n)
    expect(chain.head.header.baseFeePerGas).toBe(1_000_000_000n)
    const sm = chain.createStateManager()
    await sm.setStateRoot(chain.head.header.stateRoot)
    const account = await sm.getAccount(createAddressFromString(DEV_ACCOUNTS[0]!.address))
    expect(account?.balance).toBe(10_000n * 10n ** 18n)
  })

  it('executes transfers into a block with matching roots, receipts and base fee', async () => {
    const {chain} = await createTestChain()
    const txs = await Promise.all([0, 1, 2].map(async (nonce) => decodeTransaction(chain, await signTransfer({nonce, value: 5n}))))
    const built = await chain.buildBlock(txs, {timestamp: chain.head.header.timestamp + 1n})
    expect(built.rejected).toEqual([])
    const record = await chain.commitBlock(built)
    expect(record.block.header.number).toBe(1n)
    expect(record.block.header.gasUsed).toBe(63_000n)
    expect(record.receipts.map((r) => r.cumulativeGasUsed)).toEqual([21_000n, 42_000n, 63_000n])
    expect(record.receipts.every((r) => r.status === 1)).toBe(true)
    // Block 1's base fee moves from the genesis' by the EIP-1559 rule (genesis was empty).
    expect(record.block.header.baseFeePerGas).toBe(875_000_000n)
    // The transactions root recomputed by ethereumjs' own validator matches the header.
    expect(await record.block.transactionsTrieIsValid()).toBe(true)
    const sm = chain.createStateManager()
    await sm.setStateRoot(record.block.header.stateRoot)
    const dead = await sm.getAccount(createAddressFromString('0x000000000000000000000000000000000000dEaD'))
    expect(dead?.balance).toBe(15n)
  })

  it('skips invalid transactions and reports them', async () => {
    const {chain} = await createTestChain()
    const ok = decodeTransaction(chain, await signTransfer({nonce: 0}))
    const gap = decodeTransaction(chain, await signTransfer({nonce: 5}))
    const built = await chain.buildBlock([ok, gap], {timestamp: chain.head.header.timestamp + 1n})
    expect(built.record.block.transactions).toHaveLength(1)
    expect(built.rejected).toHaveLength(1)
    expect(built.rejected[0]!.error).toMatch(/nonce/)
  })

  it('packs a block by gas used, not by the sum of gas limits', async () => {
    const {chain} = await createTestChain()
    // 60 transfers with a 1,000,000 gas limit: 60M by limits, 1.26M by use; all fit in 30M.
    const txs = await Promise.all(Array.from({length: 60}, async (_, nonce) => decodeTransaction(chain, await signTransfer({nonce, gas: 1_000_000n}))))
    const built = await chain.buildBlock(txs, {timestamp: chain.head.header.timestamp + 1n})
    expect(built.record.block.transactions).toHaveLength(60)
    expect(built.record.block.header.gasUsed).toBe(60n * 21_000n)
  })

  it('after a failing transaction, skips the same sender\'s later nonces without rejecting them', async () => {
    const {chain} = await createTestChain()
    const tooExpensive = decodeTransaction(chain, await signTransfer({nonce: 0, value: 10n ** 23n}))
    const next = decodeTransaction(chain, await signTransfer({nonce: 1}))
    const other = decodeTransaction(chain, await signTransfer({from: 1, nonce: 0}))
    const built = await chain.buildBlock([tooExpensive, next, other], {timestamp: chain.head.header.timestamp + 1n})
    expect(built.rejected.map((r) => r.tx.nonce)).toEqual([0n])
    expect(built.record.block.transactions).toEqual([other])
  })

  it('keeps old state roots readable (archival)', async () => {
    const {chain, mempool} = await createTestChain()
    const root0 = chain.head.header.stateRoot
    await mempool.addRaw(await signTransfer({nonce: 0, value: 10n ** 18n}))
    await mineBlock(chain, mempool)
    const sm = chain.createStateManager()
    await sm.setStateRoot(root0)
    const before = await sm.getAccount(createAddressFromString(DEV_ACCOUNTS[0]!.address))
    expect(before?.balance).toBe(10_000n * 10n ** 18n)
    expect(before?.nonce).toBe(0n)
  })

  it('persists blocks and resumes at the same head and state root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-chain-'))
    dirs.push(dir)
    let store = await openLevelStore(dir)
    let {chain, mempool} = await createTestChain({store})
    for (let nonce = 0; nonce < 3; nonce++) {
      await mempool.addRaw(await signTransfer({nonce}))
      await mineBlock(chain, mempool)
    }
    const head = chain.head
    await chain.close()
    await store.close()

    store = await openLevelStore(dir)
    ;({chain, mempool} = await createTestChain({store}))
    expect(chain.head.header.number).toBe(3n)
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(head.hash()))
    expect(bytesToHex(chain.head.header.stateRoot)).toBe(bytesToHex(head.header.stateRoot))
    const tx = await chain.getTransaction(head.transactions[0]!.hash())
    expect(tx?.record.block.header.number).toBe(3n)
    // The resumed chain keeps going from where it was.
    await mempool.addRaw(await signTransfer({nonce: 3}))
    const next = await mineBlock(chain, mempool)
    expect(next.block.header.number).toBe(4n)
    await chain.close()
    await store.close()
  })

  it('refuses a database made from another genesis', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-chain-'))
    dirs.push(dir)
    let store = await openLevelStore(dir)
    const {chain} = await createTestChain({store})
    await chain.close()
    await store.close()
    store = await openLevelStore(dir)
    const {Chain} = await import('../../../src/chain/chain.js')
    const {createDevGenesis} = await import('../../../src/chain/genesis.js')
    await expect(Chain.create({store, genesis: createDevGenesis({accounts: [DEV_ACCOUNTS[1]!.address], timestamp: 1})})).rejects.toMatchObject({
      code: 'GENESIS_MISMATCH',
    })
    await store.close()
  })
})

describe('Chain blocks against ethereumjs runBlock', () => {
  it('re-executes to the same state root, receipts root, bloom and gas', async () => {
    const {chain, mempool} = await createTestChain()
    const genesisRoot = chain.head.header.stateRoot
    for (const [from, nonce] of [[0, 0], [1, 0], [0, 1], [1, 1], [1, 2]] as const) {
      await mempool.addRaw(await signTransfer({nonce, from, value: BigInt(nonce + 1)}))
    }
    const record = await mineBlock(chain, mempool)
    expect(record.block.transactions.length).toBe(5)
    const {createVM, runBlock} = await import('@ethereumjs/vm')
    const sm = chain.createStateManager()
    await sm.setStateRoot(genesisRoot)
    const vm = await createVM({common: chain.common, stateManager: sm})
    // Throws on any mismatch of stateRoot, receiptTrie, logsBloom or gasUsed.
    const result = await runBlock(vm, {block: record.block, root: genesisRoot, skipHeaderValidation: true, skipBlockValidation: true})
    expect(bytesToHex(result.stateRoot)).toBe(bytesToHex(record.block.header.stateRoot))
    expect(result.gasUsed).toBe(record.block.header.gasUsed)
  })
})

describe('Chain precompiles', () => {
  it('runs a call to the KZG point-evaluation precompile as a normal failed call, not a crash', async () => {
    const {chain, mempool} = await createTestChain()
    await mempool.addRaw(await signTransfer({nonce: 0, to: '0x000000000000000000000000000000000000000a', gas: 100_000n}))
    const record = await mineBlock(chain, mempool)
    expect(record.block.transactions).toHaveLength(1)
    // Empty input is not a valid point evaluation: the call fails and the transaction is included.
    expect(record.receipts[0]!.status).toBe(0)
  })
})
