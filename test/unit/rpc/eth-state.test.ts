import {type Hex, pad, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALICE, BOB, type Harness, createHarness, probeCall, probeContract} from './harness.js'

const DEV_BALANCE = 10_000n * 10n ** 18n

describe('eth_ state reads: balance, nonce, code, storage, proof', () => {
  let h: Harness
  let probe: Hex
  let block1: {hash: Hex; number: Hex}

  beforeAll(async () => {
    h = await createHarness()
    probe = await h.deployProbe() // block 1
    block1 = await h.rpc('eth_getBlockByNumber', ['0x1', false])
    await h.send({to: probe, data: probeCall('store', [42n])}) // block 2
    await h.send({to: BOB, value: 1000n, gas: 21_000n}) // block 3
  })
  afterAll(() => h.close())

  it('eth_getBalance at latest, at a past block, by EIP-1898 hash and number', async () => {
    const now = BigInt(await h.rpc<Hex>('eth_getBalance', [BOB, 'latest']))
    expect(now).toBe(DEV_BALANCE + 1000n)
    expect(BigInt(await h.rpc<Hex>('eth_getBalance', [BOB, '0x2']))).toBe(DEV_BALANCE)
    expect(BigInt(await h.rpc<Hex>('eth_getBalance', [BOB, {blockHash: block1.hash}]))).toBe(DEV_BALANCE)
    expect(BigInt(await h.rpc<Hex>('eth_getBalance', [BOB, {blockNumber: '0x3'}]))).toBe(now)
    expect(BigInt(await h.rpc<Hex>('eth_getBalance', [BOB, block1.hash]))).toBe(DEV_BALANCE)
    expect(await h.rpc('eth_getBalance', [BOB, 'earliest'])).toBe(toHex(DEV_BALANCE))
    expect(await h.rpc('eth_getBalance', [BOB])).toBe(toHex(now))
    expect(await h.rpc('eth_getBalance', ['0x0000000000000000000000000000000000000001', 'latest'])).toBe('0x0')
    // The head state is read again after going back in time.
    expect(BigInt(await h.rpc<Hex>('eth_getBalance', [BOB, 'latest']))).toBe(now)
  })

  it('unknown blocks are -32000 header not found (geth)', async () => {
    expect(await h.rpcError('eth_getBalance', [BOB, '0x64'])).toEqual({code: -32000, message: 'header not found'})
    expect(await h.rpcError('eth_getBalance', [BOB, {blockHash: `0x${'ab'.repeat(32)}`}])).toEqual({code: -32000, message: 'header for hash not found'})
  })

  it('eth_getTransactionCount: state nonce, and pending counts the pool', async () => {
    expect(await h.rpc('eth_getTransactionCount', [ALICE, 'latest'])).toBe('0x3')
    expect(await h.rpc('eth_getTransactionCount', [ALICE, '0x1'])).toBe('0x1')
    await h.rpc('eth_sendRawTransaction', [await h.sign({to: BOB, value: 1n, gas: 21_000n})])
    expect(await h.rpc('eth_getTransactionCount', [ALICE, 'pending'])).toBe('0x4')
    expect(await h.rpc('eth_getTransactionCount', [ALICE, 'latest'])).toBe('0x3')
    await h.mine()
    expect(await h.rpc('eth_getTransactionCount', [ALICE, 'latest'])).toBe('0x4')
  })

  it('eth_getCode returns the runtime code, and 0x before deployment', async () => {
    expect(await h.rpc('eth_getCode', [probe, 'latest'])).toBe(probeContract().deployedBytecode)
    expect(await h.rpc('eth_getCode', [probe, '0x0'])).toBe('0x')
    expect(await h.rpc('eth_getCode', [BOB, 'latest'])).toBe('0x')
  })

  it('eth_getStorageAt returns 32-byte words; the slot may be a short quantity or a full word', async () => {
    expect(await h.rpc('eth_getStorageAt', [probe, '0x0', 'latest'])).toBe(pad(toHex(42n)))
    expect(await h.rpc('eth_getStorageAt', [probe, pad('0x0'), 'latest'])).toBe(pad(toHex(42n)))
    expect(await h.rpc('eth_getStorageAt', [probe, '0x0', '0x1'])).toBe(pad('0x0'))
    expect(await h.rpc('eth_getStorageAt', [probe, '0x5', 'latest'])).toBe(pad('0x0'))
  })

  it('eth_getProof returns the account and storage proofs', async () => {
    const proof = await h.rpc<{address: Hex; nonce: Hex; balance: Hex; accountProof: Hex[]; storageProof: {key: Hex; value: Hex; proof: Hex[]}[]}>('eth_getProof', [
      probe,
      ['0x0'],
      'latest',
    ])
    expect(proof.address.toLowerCase()).toBe(probe)
    expect(proof.nonce).toBe('0x1')
    expect(proof.accountProof.length).toBeGreaterThan(0)
    expect(proof.storageProof[0]).toMatchObject({key: '0x0', value: '0x2a'})
  })

  it('rejects malformed params with -32602', async () => {
    const cases: [string, unknown[]][] = [
      ['eth_getBalance', ['0x123', 'latest']],
      ['eth_getBalance', [ALICE, 'tomorrow']],
      ['eth_getBalance', [ALICE, {blockHash: '0x12'}]],
      ['eth_getBalance', [ALICE, {blockHash: block1.hash, blockNumber: '0x1'}]],
      ['eth_getBalance', []],
      ['eth_getTransactionCount', [ALICE, '1']],
      ['eth_getCode', [42]],
      ['eth_getStorageAt', [probe, 'zero', 'latest']],
      ['eth_getStorageAt', [probe, `0x${'1'.repeat(65)}`, 'latest']],
      ['eth_getProof', [probe, '0x0', 'latest']],
    ]
    for (const [method, params] of cases) {
      expect((await h.rpcError(method, params)).code, `${method} ${JSON.stringify(params)}`).toBe(-32602)
    }
  })
})
