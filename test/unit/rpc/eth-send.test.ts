import {type Hex, keccak256} from 'viem'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BOB, DEV_KEYS, type Harness, createHarness} from './harness.js'

describe('eth_sendRawTransaction', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
  })
  afterAll(() => h.close())

  it('accepts legacy, EIP-2930 and EIP-1559 transactions and returns their hashes', async () => {
    for (const type of ['legacy', 'eip2930', 'eip1559'] as const) {
      const raw = await h.sign({to: BOB, value: 1n, gas: 21_000n, type})
      expect(await h.rpc('eth_sendRawTransaction', [raw])).toBe(keccak256(raw))
    }
    expect(await h.rpc('txpool_status')).toEqual({pending: '0x3', queued: '0x0'})
    await h.mine()
    expect(await h.rpc('txpool_status')).toEqual({pending: '0x0', queued: '0x0'})
  })

  it('answers rejected transactions with geth wording and -32000', async () => {
    const alice = privateKeyToAccount(DEV_KEYS[0]!)
    const base = {to: BOB, value: 1n, gas: 21_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1n, type: 'eip1559'} as const
    const nonce = Number(BigInt(await h.rpc<Hex>('eth_getTransactionCount', [alice.address, 'latest'])))
    const cases: [Hex, RegExp][] = [
      [await alice.signTransaction({...base, chainId: 31337, nonce: 0}), /^nonce too low$/],
      [await alice.signTransaction({...base, chainId: 1, nonce}), /^invalid chain id$/],
      [await alice.signTransaction({...base, chainId: 31337, nonce, gas: 20_000n}), /^intrinsic gas too low$/],
      [await alice.signTransaction({...base, chainId: 31337, nonce, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n}), /^max fee per gas less than block base fee$/],
      [await privateKeyToAccount(generatePrivateKey()).signTransaction({...base, chainId: 31337, nonce: 0}), /^insufficient funds for gas \* price \+ value: address 0x[0-9a-fA-F]{40} have 0 want \d+$/],
      ['0x02c0', /invalid transaction|transaction type not supported/],
      // A signed blob transaction (versioned hashes, no sidecar): refused with the reason, as this chain carries no blobs.
      [
        await alice.signTransaction({
          chainId: 31337,
          nonce,
          to: BOB,
          gas: 21_000n,
          maxFeePerGas: 10_000_000_000n,
          maxPriorityFeePerGas: 1n,
          maxFeePerBlobGas: 1n,
          blobVersionedHashes: [`0x01${'00'.repeat(31)}`],
          type: 'eip4844',
        }),
        /^transaction type not supported: blob \(type 3\) transactions need blob data, which this chain does not carry/,
      ],
    ]
    for (const [raw, message] of cases) {
      const error = await h.rpcError('eth_sendRawTransaction', [raw])
      expect(error.code, raw).toBe(-32000)
      expect(error.message, raw).toMatch(message)
    }
    const ok = await alice.signTransaction({...base, chainId: 31337, nonce})
    await h.rpc('eth_sendRawTransaction', [ok])
    expect(await h.rpcError('eth_sendRawTransaction', [ok])).toEqual({code: -32000, message: 'already known'})
  })

  it('rejects params that are not transaction bytes with -32602', async () => {
    for (const params of [[], ['0x'], ['0xabc'], ['abcd'], [{}], ['0x01', '0x02']]) {
      expect((await h.rpcError('eth_sendRawTransaction', params)).code, JSON.stringify(params)).toBe(-32602)
    }
  })

  it('eth_accounts is empty and eth_sendTransaction has no account to sign with', async () => {
    expect(await h.rpc('eth_accounts')).toEqual([])
    expect(await h.rpcError('eth_sendTransaction', [{from: BOB, to: BOB}])).toEqual({code: -32000, message: 'unknown account'})
  })
})
