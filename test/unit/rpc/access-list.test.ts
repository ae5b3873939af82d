/**
 * eth_createAccessList with geth's semantics. The lists and gas for the Tracee calls are what
 * anvil 1.7 answers for the same state; on a failing call geth (and xai) answer the list with an
 * `error` field, where anvil answers a JSON-RPC error.
 */
import {type Abi, type Hex, encodeFunctionData, pad, toHex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compileSolidity} from '../../helpers/solidity.js'
import {TRACEE_SOURCE} from './contracts.js'
import {ALICE, DEV_KEYS, type Harness, createHarness} from './harness.js'

const caller = compileSolidity({'Tracee.sol': TRACEE_SOURCE})['Tracee.sol']!.Caller!
const call = (functionName: string, args: unknown[] = []): Hex => encodeFunctionData({abi: caller.abi as Abi, functionName, args})
const word = (n: bigint): Hex => pad(toHex(n))

interface AccessListAnswer {
  accessList: {address: Hex; storageKeys: Hex[]}[]
  gasUsed: Hex
  error?: string
}

describe('eth_createAccessList', () => {
  let h: Harness
  let callerAddress: Hex
  let calleeAddress: Hex

  beforeAll(async () => {
    h = await createHarness()
    const deploy = await h.send({data: caller.bytecode})
    callerAddress = (await h.rpc<{contractAddress: Hex}>('eth_getTransactionReceipt', [deploy])).contractAddress
    calleeAddress = `0x${(await h.rpc<Hex>('eth_call', [{to: callerAddress, data: call('callee')}])).slice(26)}`
    await h.send({to: callerAddress, data: call('go', [5n]), value: 7n})
  })
  afterAll(() => h.close())

  it('lists the slots of every contract and the called addresses except sender and recipient, sorted; gasUsed is with the list', async () => {
    const answer = await h.rpc<AccessListAnswer>('eth_createAccessList', [{from: ALICE, to: callerAddress, data: call('go', [9n])}, 'latest'])
    expect(answer).toEqual({
      accessList: [
        {address: callerAddress, storageKeys: [word(0n), word(1n)]},
        {address: calleeAddress, storageKeys: [word(0n)]},
      ].sort((a, b) => (a.address < b.address ? -1 : 1)),
      gasUsed: '0xaa0b',
    })
    // Sending the call with that list uses exactly gasUsed.
    const list = answer.accessList
    const nonce = Number(BigInt(await h.rpc<Hex>('eth_getTransactionCount', [ALICE, 'pending'])))
    const signed = await privateKeyToAccount(DEV_KEYS[0]!).signTransaction({
      chainId: 31337,
      nonce,
      to: callerAddress,
      data: call('go', [9n]),
      gas: 300_000n,
      type: 'eip1559',
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 1n,
      accessList: list,
    })
    const hash = await h.rpc<Hex>('eth_sendRawTransaction', [signed])
    await h.mine()
    expect((await h.rpc<{gasUsed: Hex}>('eth_getTransactionReceipt', [hash])).gasUsed).toBe(answer.gasUsed)
  })

  it('a plain transfer needs no list; the default block is pending', async () => {
    expect(await h.rpc('eth_createAccessList', [{from: ALICE, to: '0x000000000000000000000000000000000000beef', value: '0x1'}])).toEqual({accessList: [], gasUsed: '0x5208'})
  })

  it('a call that reverts still answers the list, with the error', async () => {
    const answer = await h.rpc<AccessListAnswer>('eth_createAccessList', [{from: ALICE, to: callerAddress, data: call('fail')}, 'latest'])
    expect(answer.error).toBe('execution reverted')
    expect(answer.accessList.find((e) => e.address === callerAddress)!.storageKeys).toEqual([word(0n), word(1n)])
    expect(answer.accessList.find((e) => e.address === calleeAddress)).toEqual({address: calleeAddress, storageKeys: []})
  })

  it('state overrides apply; refusals before execution are errors; bad params are -32602', async () => {
    const broke = '0x00000000000000000000000000000000000b0b00'
    const refused = await h.rpcError('eth_createAccessList', [{from: broke, to: callerAddress, data: call('go', [1n]), value: '0x1'}, 'latest'])
    expect(refused.code).toBe(-32000)
    expect(refused.message).toContain('insufficient funds')
    const ok = await h.rpc<AccessListAnswer>('eth_createAccessList', [{from: broke, to: callerAddress, data: call('go', [1n]), value: '0x1'}, 'latest', {[broke]: {balance: '0xffff'}}])
    expect(ok.error).toBeUndefined()
    expect((await h.rpcError('eth_createAccessList', [{to: 'nope'}])).code).toBe(-32602)
    expect((await h.rpcError('eth_createAccessList', [])).code).toBe(-32602)
  })
})
