import {keccak256, toHex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type Harness, createHarness} from './harness.js'

describe('web3_* and net_*', () => {
  let h: Harness
  beforeAll(async () => {
    h = await createHarness()
  })
  afterAll(() => h.close())

  it('web3_clientVersion returns the configured version', async () => {
    expect(await h.rpc('web3_clientVersion')).toBe('xai/test')
    expect((await h.rpcError('web3_clientVersion', [1])).code).toBe(-32602)
  })

  it('web3_sha3 hashes data with keccak-256', async () => {
    expect(await h.rpc('web3_sha3', ['0x68656c6c6f'])).toBe(keccak256(toHex('hello')))
    expect(await h.rpc('web3_sha3', ['0x'])).toBe(keccak256('0x'))
  })

  it('web3_sha3 rejects anything but hex data', async () => {
    for (const bad of [['hello'], ['0x123'], [], [1]]) {
      const error = await h.rpcError('web3_sha3', bad)
      expect(error.code, JSON.stringify(bad)).toBe(-32602)
    }
    expect((await h.rpcError('web3_sha3', ['0x123'])).message).toBe('invalid argument 0: hex string has odd length')
  })

  it('net_version is the chain id in decimal; net_listening true; net_peerCount hex', async () => {
    expect(await h.rpc('net_version')).toBe('31337')
    expect(await h.rpc('net_listening')).toBe(true)
    expect(await h.rpc('net_peerCount')).toBe('0x0')
    expect((await h.rpcError('net_version', ['x'])).code).toBe(-32602)
  })
})
