import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ALICE, DEV_ACCOUNTS, type Harness, createHarness} from './harness.js'

describe('txpool_*', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
    await h.rpc('eth_sendRawTransaction', [await h.sign({to: ALICE, value: 1n, gas: 21_000n, nonce: 0})])
    await h.rpc('eth_sendRawTransaction', [await h.sign({to: ALICE, value: 2n, gas: 21_000n, nonce: 2})])
  })
  afterAll(() => h.close())

  it('txpool_status counts pending and queued', async () => {
    expect(await h.rpc('txpool_status')).toEqual({pending: '0x1', queued: '0x1'})
    expect((await h.rpcError('txpool_status', [1])).code).toBe(-32602)
  })

  it('txpool_content groups by checksummed sender and decimal nonce, geth shape', async () => {
    const content = await h.rpc<{pending: Record<string, Record<string, {nonce: string; blockHash: null; value: string}>>; queued: Record<string, unknown>}>('txpool_content')
    const sender = DEV_ACCOUNTS[0]!.address
    expect(Object.keys(content.pending)).toEqual([sender])
    expect(content.pending[sender]!['0']).toMatchObject({nonce: '0x0', blockHash: null, blockNumber: null, transactionIndex: null, value: '0x1'})
    expect(Object.keys(content.queued[sender] as object)).toEqual(['2'])
  })

  it('txpool_contentFrom and txpool_inspect', async () => {
    const mine = await h.rpc<{pending: Record<string, unknown>; queued: Record<string, unknown>}>('txpool_contentFrom', [ALICE])
    expect(Object.keys(mine.pending)).toEqual(['0'])
    expect((await h.rpcError('txpool_contentFrom', ['0x12'])).code).toBe(-32602)
    const inspect = await h.rpc<{pending: Record<string, Record<string, string>>}>('txpool_inspect')
    expect(inspect.pending[DEV_ACCOUNTS[0]!.address]!['0']).toMatch(/^0x[0-9a-fA-F]{40}: 1 wei \+ 21000 gas × \d+ wei$/)
  })
})
