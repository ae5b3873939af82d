import {type Hex, verifyMessage, verifyTypedData} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BOB, DEV_KEYS, type Harness, createHarness, probeCall, probeContract} from './harness.js'

const ALICE_ACCOUNT = privateKeyToAccount(DEV_KEYS[0]!)
const CAROL_ACCOUNT = privateKeyToAccount(DEV_KEYS[2]!)

const TYPED = {
  domain: {name: 'Mail', version: '1', chainId: 31337, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC'},
  types: {
    EIP712Domain: [
      {name: 'name', type: 'string'},
      {name: 'version', type: 'string'},
      {name: 'chainId', type: 'uint256'},
      {name: 'verifyingContract', type: 'address'},
    ],
    Mail: [
      {name: 'to', type: 'address'},
      {name: 'contents', type: 'string'},
    ],
  },
  primaryType: 'Mail',
  message: {to: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB', contents: 'Hello, Bob!'},
} as const

describe('unlocked accounts: eth_accounts, eth_sendTransaction, signing', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness({accounts: DEV_KEYS.slice(0, 2).map((privateKey) => ({address: privateKeyToAccount(privateKey).address, privateKey}))})
  })
  afterAll(() => h.close())

  it('eth_accounts lists the unlocked accounts', async () => {
    expect(await h.rpc('eth_accounts')).toEqual(DEV_KEYS.slice(0, 2).map((k) => privateKeyToAccount(k).address.toLowerCase()))
  })

  it('eth_sendTransaction fills nonce, gas and fees, signs, and the transaction mines', async () => {
    const hash = await h.rpc<Hex>('eth_sendTransaction', [{from: ALICE_ACCOUNT.address, to: BOB, value: '0x7'}])
    const pending = await h.rpc<{nonce: Hex; gas: Hex; type: Hex; maxFeePerGas: Hex}>('eth_getTransactionByHash', [hash])
    expect(pending).toMatchObject({nonce: '0x0', gas: '0x5208', type: '0x2'})
    expect(BigInt(pending.maxFeePerGas)).toBeGreaterThan(h.chain.nextBaseFee())
    const legacy = await h.rpc<Hex>('eth_sendTransaction', [{from: ALICE_ACCOUNT.address, to: BOB, value: '0x1', gasPrice: '0x3b9aca00'}])
    expect((await h.rpc<{nonce: Hex; type: Hex}>('eth_getTransactionByHash', [legacy])).type).toBe('0x0')
    await h.mine()
    const receipt = await h.rpc<{status: Hex; from: Hex}>('eth_getTransactionReceipt', [hash])
    expect(receipt).toMatchObject({status: '0x1', from: ALICE_ACCOUNT.address.toLowerCase()})
    // Contract creation and a call with data estimate their own gas.
    const deploy = await h.rpc<Hex>('eth_sendTransaction', [{from: ALICE_ACCOUNT.address, data: probeContract().bytecode}])
    await h.mine()
    const created = await h.rpc<{contractAddress: Hex; status: Hex}>('eth_getTransactionReceipt', [deploy])
    expect(created.status).toBe('0x1')
    const store = await h.rpc<Hex>('eth_sendTransaction', [{from: ALICE_ACCOUNT.address, to: created.contractAddress, input: probeCall('store', [3n])}])
    await h.mine()
    expect((await h.rpc<{status: Hex}>('eth_getTransactionReceipt', [store])).status).toBe('0x1')
  })

  it('eth_sign, personal_sign and eth_signTypedData_v4 produce signatures that verify', async () => {
    const message = '0x68656c6c6f' // "hello"
    const viaEthSign = await h.rpc<Hex>('eth_sign', [ALICE_ACCOUNT.address, message])
    const viaPersonal = await h.rpc<Hex>('personal_sign', [message, ALICE_ACCOUNT.address])
    expect(viaEthSign).toBe(viaPersonal)
    expect(await verifyMessage({address: ALICE_ACCOUNT.address, message: 'hello', signature: viaPersonal})).toBe(true)
    for (const payload of [TYPED, JSON.stringify(TYPED)]) {
      const signature = await h.rpc<Hex>('eth_signTypedData_v4', [ALICE_ACCOUNT.address, payload])
      const {EIP712Domain: _, ...types} = TYPED.types
      expect(await verifyTypedData({address: ALICE_ACCOUNT.address, domain: TYPED.domain, types, primaryType: 'Mail', message: TYPED.message, signature})).toBe(true)
    }
  })

  it('accounts without a key are "unknown account"; malformed params are -32602', async () => {
    for (const [method, params] of [
      ['eth_sendTransaction', [{from: CAROL_ACCOUNT.address, to: BOB}]],
      ['eth_sign', [CAROL_ACCOUNT.address, '0x00']],
      ['personal_sign', ['0x00', CAROL_ACCOUNT.address]],
    ] as const) {
      expect(await h.rpcError(method, [...params])).toEqual({code: -32000, message: 'unknown account'})
    }
    for (const [method, params] of [
      ['eth_sendTransaction', [{to: BOB}]],
      ['eth_sendTransaction', [{from: ALICE_ACCOUNT.address, to: 'bob'}]],
      ['eth_sign', [ALICE_ACCOUNT.address, 'hello']],
      ['eth_signTypedData_v4', [ALICE_ACCOUNT.address, '{not json']],
      ['eth_signTypedData_v4', [ALICE_ACCOUNT.address, {types: {}}]],
    ] as const) {
      expect((await h.rpcError(method, [...params])).code, method).toBe(-32602)
    }
  })
})
