import {bytesToHex} from '@ethereumjs/util'
import {createVM, runBlock} from '@ethereumjs/vm'
import fc from 'fast-check'
import {type Hex, getContractAddress, hexToBytes} from 'viem'
import {describe, expect, it} from 'vitest'

import type {Chain} from '../../../src/chain/chain.js'
import {DEV_ACCOUNTS, createTestChain, decodeTransaction} from '../../helpers/chain.js'

/**
 * Blocks built by the chain (ChainStateManager: accounts kept as objects, storage flushed once per
 * block) must re-execute under ethereumjs' runBlock on the stock MerkleStateManager to the same
 * state root, receipts root, bloom and gas, over random mixes of transfers, contract creation,
 * SSTORE / SLOAD, reverted calls and calls whose inner call reverts.
 */

const seed = Number(process.env.FC_SEED ?? 0xb10c)

// Runtime: sload(cd[0]); sstore(cd[0], cd[32]); if (cd[64] != 0) revert(0, 0)
const STORE_RUNTIME = '6020356000358054505560403560115700' + '5b60006000fd'
// Init code: copy the runtime to memory and return it.
const STORE_INIT = `0x60${(STORE_RUNTIME.length / 2).toString(16).padStart(2, '0')}80600b6000396000f3${STORE_RUNTIME}` as Hex

/** Runtime: call `target` with this call's calldata (ignoring the result), then slot0 += 1. */
function proxyInit(target: Hex): Hex {
  const runtime = `366000600037600060003660006000${'73'}${target.slice(2).toLowerCase()}5af150600054600101600055` + '00'
  return `0x60${(runtime.length / 2).toString(16).padStart(2, '0')}80600b6000396000f3${runtime}` as Hex
}

const word = (n: number | bigint) => BigInt(n).toString(16).padStart(64, '0')

type Action =
  | {kind: 'transfer'; from: number; to: number; value: bigint}
  | {kind: 'store'; from: number; slot: number; value: number; revert: boolean; viaProxy: boolean}
  | {kind: 'create'; from: number}
  | {kind: 'newBlock'}

const action: fc.Arbitrary<Action> = fc.oneof(
  {arbitrary: fc.record({kind: fc.constant('transfer' as const), from: fc.integer({min: 0, max: 2}), to: fc.integer({min: 0, max: 4}), value: fc.bigInt(0n, 3n)}), weight: 3},
  {
    arbitrary: fc.record({
      kind: fc.constant('store' as const),
      from: fc.integer({min: 0, max: 2}),
      slot: fc.integer({min: 0, max: 3}),
      value: fc.integer({min: 0, max: 3}),
      revert: fc.boolean(),
      viaProxy: fc.boolean(),
    }),
    weight: 6,
  },
  {arbitrary: fc.record({kind: fc.constant('create' as const), from: fc.integer({min: 0, max: 2})}), weight: 1},
  {arbitrary: fc.constant({kind: 'newBlock' as const}), weight: 1},
)

const RECIPIENTS: Hex[] = [DEV_ACCOUNTS[1]!.address, '0x000000000000000000000000000000000000dEaD', '0x00000000000000000000000000000000000000AA', '0x0000000000000000000000000000000000000001', DEV_ACCOUNTS[2]!.address]

async function verifyAgainstRunBlock(chain: Chain, parentRoot: Uint8Array, number: bigint): Promise<void> {
  const record = (await chain.getBlock(number))!
  const sm = chain.createStateManager()
  await sm.setStateRoot(parentRoot)
  const vm = await createVM({common: chain.common, stateManager: sm})
  // Throws on any mismatch of stateRoot, receiptTrie, logsBloom or gasUsed.
  const result = await runBlock(vm, {block: record.block, root: parentRoot, skipHeaderValidation: true, skipBlockValidation: true})
  expect(bytesToHex(result.stateRoot)).toBe(bytesToHex(record.block.header.stateRoot))
  expect(result.receipts.map((r) => ('status' in r ? r.status : undefined))).toEqual(record.receipts.map((r) => r.status))
}

describe('blocks of mixed transactions against ethereumjs runBlock', () => {
  it('re-execute to the same roots on the stock state manager', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, {minLength: 1, maxLength: 14}), async (actions) => {
        const {chain} = await createTestChain()
        const nonces = [0, 0, 0]
        const sign = async (from: number, tx: {to?: Hex; data?: Hex; value?: bigint; gas: bigint}) =>
          decodeTransaction(
            chain,
            hexToBytes(
              await DEV_ACCOUNTS[from]!.signTransaction({
                chainId: 31337,
                type: 'eip1559',
                nonce: nonces[from]!++,
                value: tx.value ?? 0n,
                gas: tx.gas,
                to: tx.to,
                data: tx.data,
                maxFeePerGas: 10_000_000_000n,
                maxPriorityFeePerGas: 1_000_000_000n,
              }),
            ),
          )
        // Block 1 deploys the storage contract and a proxy in front of it.
        const store = getContractAddress({from: DEV_ACCOUNTS[0]!.address, nonce: 0n})
        const proxy = getContractAddress({from: DEV_ACCOUNTS[0]!.address, nonce: 1n})
        const blocks = [[await sign(0, {data: STORE_INIT, gas: 200_000n}), await sign(0, {data: proxyInit(store), gas: 200_000n})]]
        for (const a of actions) {
          if (a.kind === 'newBlock') blocks.push([])
          else if (a.kind === 'transfer') blocks.at(-1)!.push(await sign(a.from, {to: RECIPIENTS[a.to]!, value: a.value, gas: 21_000n}))
          else if (a.kind === 'create') blocks.at(-1)!.push(await sign(a.from, {data: STORE_INIT, gas: 200_000n}))
          else {
            const data = `0x${word(a.slot)}${word(a.value)}${word(a.revert ? 1 : 0)}` as Hex
            blocks.at(-1)!.push(await sign(a.from, {to: a.viaProxy ? proxy : store, data, gas: 200_000n}))
          }
        }
        for (const txs of blocks) {
          const parentRoot = chain.head.header.stateRoot
          const built = await chain.buildBlock(txs, {timestamp: chain.head.header.timestamp + 1n})
          expect(built.rejected).toEqual([])
          const record = await chain.commitBlock(built)
          await verifyAgainstRunBlock(chain, parentRoot, record.block.header.number)
        }
      }),
      {seed, numRuns: 25},
    )
  }, 120_000)

  it('includes reverted calls as failed receipts and keeps the state of the others', async () => {
    const {chain} = await createTestChain()
    const from = DEV_ACCOUNTS[0]!
    const sign = (nonce: number, to: Hex | undefined, data: Hex) =>
      from
        .signTransaction({chainId: 31337, type: 'eip1559', nonce, to, data, value: 0n, gas: 200_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1n})
        .then((raw) => decodeTransaction(chain, hexToBytes(raw)))
    const store = getContractAddress({from: from.address, nonce: 0n})
    const txs = [
      await sign(0, undefined, STORE_INIT),
      await sign(1, store, `0x${word(1)}${word(7)}${word(0)}`),
      await sign(2, store, `0x${word(1)}${word(9)}${word(1)}`),
      await sign(3, store, `0x${word(2)}${word(5)}${word(0)}`),
      await sign(4, store, `0x${word(2)}${word(0)}${word(0)}`),
    ]
    const parentRoot = chain.head.header.stateRoot
    const built = await chain.buildBlock(txs, {timestamp: chain.head.header.timestamp + 1n})
    expect(built.record.receipts.map((r) => r.status)).toEqual([1, 1, 0, 1, 1])
    await chain.commitBlock(built)
    await verifyAgainstRunBlock(chain, parentRoot, 1n)
    const sm = chain.createStateManager()
    await sm.setStateRoot(chain.head.header.stateRoot)
    const {createAddressFromString} = await import('@ethereumjs/util')
    const slot1 = await sm.getStorage(createAddressFromString(store), hexToBytes(`0x${word(1)}`))
    const slot2 = await sm.getStorage(createAddressFromString(store), hexToBytes(`0x${word(2)}`))
    expect(bytesToHex(slot1)).toBe('0x07')
    expect(bytesToHex(slot2)).toBe('0x')
  })
})
