import {MerkleStateManager} from '@ethereumjs/statemanager'
import {Account, Address, bytesToHex, hexToBytes, setLengthLeft} from '@ethereumjs/util'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {createChainCommon, createDevGenesis} from '../../../src/chain/genesis.js'
import {ChainStateManager, createStateManager} from '../../../src/chain/state-manager.js'
import {openMemoryStore} from '../../../src/storage/database.js'
import {TrieDB} from '../../../src/storage/trie-db.js'

const seed = Number(process.env.FC_SEED ?? 0x5eed)
const common = createChainCommon(createDevGenesis({accounts: [], timestamp: 1_700_000_000}))
const ADDRESSES = [1, 2, 3, 4].map((i) => new Address(setLengthLeft(new Uint8Array([i]), 20)))
const A = ADDRESSES[0]!

function managers(): {ours: MerkleStateManager; stock: MerkleStateManager} {
  const ours = createStateManager(new TrieDB(openMemoryStore()), common, {trieCacheSize: 1_000, objectAccounts: true})
  const stock = createStateManager(new TrieDB(openMemoryStore()), common, {trieCacheSize: 1_000})
  expect(ours).toBeInstanceOf(ChainStateManager)
  expect(stock).not.toBeInstanceOf(ChainStateManager)
  return {ours, stock}
}

const slot = (n: number) => setLengthLeft(new Uint8Array([n]), 32)

describe('ChainStateManager accounts', () => {
  it('returns the old account after checkpoint → put → revert', async () => {
    const {ours: sm} = managers()
    await sm.putAccount(A, new Account(1n, 100n))
    await sm.checkpoint()
    await sm.putAccount(A, new Account(2n, 50n))
    expect((await sm.getAccount(A))?.balance).toBe(50n)
    await sm.revert()
    const account = await sm.getAccount(A)
    expect(account?.nonce).toBe(1n)
    expect(account?.balance).toBe(100n)
  })

  it('keeps a nested commit and drops it with the outer revert', async () => {
    const {ours: sm} = managers()
    await sm.putAccount(A, new Account(0n, 10n))
    await sm.checkpoint()
    await sm.checkpoint()
    await sm.putAccount(A, new Account(0n, 20n))
    await sm.commit()
    expect((await sm.getAccount(A))?.balance).toBe(20n)
    await sm.revert()
    expect((await sm.getAccount(A))?.balance).toBe(10n)
  })

  it('hands out copies: mutating a returned or a stored account does not change the cache', async () => {
    const {ours: sm} = managers()
    const put = new Account(5n, 500n)
    await sm.putAccount(A, put)
    put.balance = 1n
    const got = await sm.getAccount(A)
    expect(got?.balance).toBe(500n)
    got!.balance = 2n
    got!.nonce = 9n
    const again = await sm.getAccount(A)
    expect(again).not.toBe(got)
    expect(again?.balance).toBe(500n)
    expect(again?.nonce).toBe(5n)
  })

  it('deletes an account and restores it on revert', async () => {
    const {ours: sm} = managers()
    await sm.putAccount(A, new Account(1n, 1n))
    await sm.checkpoint()
    await sm.deleteAccount(A)
    expect(await sm.getAccount(A)).toBeUndefined()
    await sm.revert()
    expect((await sm.getAccount(A))?.balance).toBe(1n)
  })

  it('keeps storage writes in the cache until the flush, and reverts them', async () => {
    const {ours, stock} = managers()
    for (const sm of [ours, stock]) {
      await sm.putAccount(A, new Account())
      await sm.checkpoint()
      await sm.putStorage(A, slot(1), hexToBytes('0x01'))
      await sm.checkpoint()
      await sm.putStorage(A, slot(1), hexToBytes('0x02'))
      await sm.putStorage(A, slot(2), hexToBytes('0x03'))
      expect(bytesToHex(await sm.getStorage(A, slot(1)))).toBe('0x02')
      await sm.revert()
      expect(bytesToHex(await sm.getStorage(A, slot(1)))).toBe('0x01')
      expect(bytesToHex(await sm.getStorage(A, slot(2)))).toBe('0x')
      await sm.commit()
    }
    expect(bytesToHex(await ours.getStateRoot())).toBe(bytesToHex(await stock.getStateRoot()))
    // The flushed values are in the trie: a fresh read after dropping the caches finds them.
    ours.clearCaches()
    expect(bytesToHex(await ours.getStorage(A, slot(1)))).toBe('0x01')
  })
})

type Op =
  | {kind: 'checkpoint'}
  | {kind: 'commit'}
  | {kind: 'revert'}
  | {kind: 'putAccount'; a: number; nonce: bigint; balance: bigint}
  | {kind: 'mutateGot'; a: number; balance: bigint}
  | {kind: 'modifyBalance'; a: number; balance: bigint}
  | {kind: 'delete'; a: number}
  | {kind: 'putStorage'; a: number; slot: number; value: number}
  | {kind: 'clearStorage'; a: number}
  | {kind: 'putCode'; a: number; code: number}
  | {kind: 'read'; a: number; slot: number}
  | {kind: 'root'}

const addr = fc.integer({min: 0, max: ADDRESSES.length - 1})
const op: fc.Arbitrary<Op> = fc.oneof(
  {arbitrary: fc.constant({kind: 'checkpoint' as const}), weight: 3},
  {arbitrary: fc.constant({kind: 'commit' as const}), weight: 2},
  {arbitrary: fc.constant({kind: 'revert' as const}), weight: 2},
  {arbitrary: fc.record({kind: fc.constant('putAccount' as const), a: addr, nonce: fc.bigInt(0n, 3n), balance: fc.bigInt(0n, 1000n)}), weight: 4},
  {arbitrary: fc.record({kind: fc.constant('mutateGot' as const), a: addr, balance: fc.bigInt(0n, 1000n)}), weight: 2},
  {arbitrary: fc.record({kind: fc.constant('modifyBalance' as const), a: addr, balance: fc.bigInt(0n, 1000n)}), weight: 2},
  {arbitrary: fc.record({kind: fc.constant('delete' as const), a: addr}), weight: 1},
  {arbitrary: fc.record({kind: fc.constant('putStorage' as const), a: addr, slot: fc.integer({min: 0, max: 3}), value: fc.integer({min: 0, max: 3})}), weight: 5},
  {arbitrary: fc.record({kind: fc.constant('clearStorage' as const), a: addr}), weight: 1},
  {arbitrary: fc.record({kind: fc.constant('putCode' as const), a: addr, code: fc.integer({min: 0, max: 2})}), weight: 1},
  {arbitrary: fc.record({kind: fc.constant('read' as const), a: addr, slot: fc.integer({min: 0, max: 3})}), weight: 4},
  {arbitrary: fc.constant({kind: 'root' as const}), weight: 1},
)

/** What a manager shows of an address: the account fields, code and the four slots. */
async function view(sm: MerkleStateManager, a: Address, s: number): Promise<string> {
  const account = await sm.getAccount(a)
  if (!account) return 'none'
  const code = bytesToHex(await sm.getCode(a))
  const value = bytesToHex(await sm.getStorage(a, slot(s)))
  return `${account.nonce}/${account.balance}/${bytesToHex(account.codeHash)}/${code}/${value}`
}

async function apply(sm: MerkleStateManager, o: Op, depth: number): Promise<string | undefined> {
  switch (o.kind) {
    case 'checkpoint':
      await sm.checkpoint()
      return
    case 'commit':
      await sm.commit()
      return
    case 'revert':
      await sm.revert()
      return
    case 'putAccount':
      await sm.putAccount(ADDRESSES[o.a]!, new Account(o.nonce, o.balance))
      return
    case 'mutateGot': {
      // Mutating what getAccount handed out, without putting it back, must change nothing.
      const got = await sm.getAccount(ADDRESSES[o.a]!)
      if (got) got.balance = o.balance
      return
    }
    case 'modifyBalance':
      await sm.modifyAccountFields(ADDRESSES[o.a]!, {balance: o.balance})
      return
    case 'delete':
      await sm.deleteAccount(ADDRESSES[o.a]!)
      return
    case 'putStorage':
      if ((await sm.getAccount(ADDRESSES[o.a]!)) === undefined) return
      await sm.putStorage(ADDRESSES[o.a]!, slot(o.slot), new Uint8Array(o.value === 0 ? [] : [0, o.value]))
      return
    case 'clearStorage':
      // As the EVM does it: only on an account that exists (CREATE puts it first).
      if ((await sm.getAccount(ADDRESSES[o.a]!)) === undefined) return
      await sm.clearStorage(ADDRESSES[o.a]!)
      return
    case 'putCode':
      await sm.putCode(ADDRESSES[o.a]!, new Uint8Array([0x60, o.code, 0x00]))
      return
    case 'read':
      return view(sm, ADDRESSES[o.a]!, o.slot)
    case 'root':
      return depth === 0 ? bytesToHex(await sm.getStateRoot()) : undefined
  }
}

describe('ChainStateManager against the stock MerkleStateManager', () => {
  it('shows the same state and reaches the same root over random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, {minLength: 1, maxLength: 60}), async (ops) => {
        const {ours, stock} = managers()
        let depth = 0
        for (const o of ops) {
          if ((o.kind === 'commit' || o.kind === 'revert') && depth === 0) continue
          const [a, b] = [await apply(ours, o, depth), await apply(stock, o, depth)]
          expect(a, JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(b)
          if (o.kind === 'checkpoint') depth++
          if (o.kind === 'commit' || o.kind === 'revert') depth--
        }
        for (; depth > 0; depth--) {
          await ours.commit()
          await stock.commit()
        }
        expect(bytesToHex(await ours.getStateRoot())).toBe(bytesToHex(await stock.getStateRoot()))
        for (const a of ADDRESSES) for (const s of [0, 1, 2, 3]) expect(await view(ours, a, s)).toBe(await view(stock, a, s))
      }),
      {seed, numRuns: 300},
    )
  })
})
