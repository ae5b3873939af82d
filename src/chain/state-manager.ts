import type {Common} from '@ethereumjs/common'
import {MerklePatriciaTrie} from '@ethereumjs/mpt'
import {AccountCache, Caches, type CacheOpts, MerkleStateManager} from '@ethereumjs/statemanager'
import {RLP} from '@ethereumjs/rlp'
import {
  Account,
  type Address,
  EthereumJSErrorWithoutCode,
  ValueEncoding,
  bytesToUnprefixedHex,
  createAccountFromRLP,
  unpadBytes,
} from '@ethereumjs/util'

import type {TrieDB} from '../storage/trie-db.js'
import type {Preimages} from './preimages.js'

/**
 * The block-building state manager: a MerkleStateManager that keeps accounts as objects and writes
 * storage to the trie once per block. Both changes concern how values are held between flushes;
 * what `flush` writes to the trie, and so every root, is what the stock manager writes. Checked
 * against @ethereumjs/statemanager 10.1.3.
 *
 * Accounts: the stock account cache stores every account as RLP, so each `putAccount` encodes and
 * each `getAccount` decodes into a new Account. A transfer reads and writes its sender, recipient
 * and coinbase several times (nonce bump, fee debit, value move, refund, miner reward): a third of
 * what executing it allocated. Here the cache keeps a private Account per entry: `putAccount` stores
 * a copy and `getAccount` hands out a copy, so callers may mutate what they hold as before. The RLP
 * is made once per entry, when `flush` asks for it. Checkpoint, commit, revert and flush are the
 * stock AccountCache's: they move entries without looking inside them.
 *
 * Only the chain's own VM uses this class; readers (RPC, mempool) get the stock one. Where the
 * cache internals are not what this expects, each override falls back to the stock method.
 */
export class ChainStateManager extends MerkleStateManager {
  override async getAccount(address: Address): Promise<Account | undefined> {
    const elem = this._caches?.account?.get(address)
    if (elem instanceof AccountEntry) return copyAccount(elem.account)
    if (elem !== undefined) return elem.accountRLP !== undefined ? createAccountFromRLP(elem.accountRLP) : undefined
    return super.getAccount(address)
  }

  /**
   * Writes the slot to the storage cache only; `flush` (at the block's commit) writes each changed
   * slot once to its storage trie. The stock method means to do the same but reads
   * `caches.storage.put(...) ?? await this._writeContractStorage(...)`, and `put` returns undefined,
   * so every SSTORE also walks and re-hashes the storage trie and re-puts the account: 40 % of an
   * ERC-20 transfer's time. Reads are unaffected: the cache is consulted before the trie, and it
   * holds every slot changed since the last flush (an ORDERED_MAP cache, which never evicts).
   */
  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const storage = this._caches?.storage
    if (storage === undefined || storage._lruCache !== undefined) return super.putStorage(address, key, value)
    if (key.length !== 32) throw EthereumJSErrorWithoutCode('Storage key must be 32 bytes long')
    if (value.length > 32) throw EthereumJSErrorWithoutCode('Storage value cannot be longer than 32 bytes')
    if ((await this.getAccount(address)) === undefined) throw EthereumJSErrorWithoutCode('putStorage() called on non-existing account')
    storage.put(address, key, RLP.encode(unpadBytes(value)))
  }
}

/** A cached account nobody outside the cache holds; encoded only when something asks for the RLP. */
class AccountEntry {
  private rlp: Uint8Array | undefined
  constructor(readonly account: Account) {}
  get accountRLP(): Uint8Array {
    return (this.rlp ??= this.account.serialize())
  }
}

/**
 * An AccountCache whose entries are AccountEntry objects. `put` does what the stock one does
 * (record the pre-state for the current checkpoint, then set the entry) minus the encoding.
 */
export class ObjectAccountCache extends AccountCache {
  /** Whether the stock internals `put` relies on are there; otherwise every put is the stock one. */
  private readonly objects: boolean

  constructor(opts: CacheOpts) {
    super(opts)
    this.objects =
      typeof this._saveCachePreState === 'function' &&
      (this._lruCache !== undefined || this._orderedMapCache !== undefined) &&
      typeof (this as unknown as {_stats?: {writes?: unknown}})._stats?.writes === 'number'
  }

  override put(address: Address, account: Account | undefined, couldBePartialAccount = false): void {
    if (!this.objects || account === undefined || couldBePartialAccount) {
      super.put(address, account, couldBePartialAccount)
      return
    }
    const entry = new AccountEntry(copyAccount(account))
    const addressHex = bytesToUnprefixedHex(address.bytes)
    this._saveCachePreState(addressHex)
    if (this._lruCache) this._lruCache.set(addressHex, entry)
    else this._orderedMapCache!.setElement(addressHex, entry)
    ;(this as unknown as {_stats: {writes: number}})._stats.writes += 1
  }
}

/**
 * The account a serialize / createAccountFromRLP round trip would give: the four consensus fields,
 * codeSize and version at their defaults. storageRoot and codeHash are shared: ethereumjs replaces
 * these arrays, it never writes into them.
 */
function copyAccount(account: Account): Account {
  return new Account(account.nonce, account.balance, account.storageRoot, account.codeHash)
}

/**
 * A state manager over `trieDb`; `objectAccounts` selects the ChainStateManager (block building),
 * `preimages` notes every key it writes to a trie (the chain's, for anvil_dumpState).
 */
export function createStateManager(
  trieDb: TrieDB,
  common: Common,
  options: {trieCacheSize: number; objectAccounts?: boolean; preimages?: Preimages},
): MerkleStateManager {
  const {trieCacheSize} = options
  const trie = new MerklePatriciaTrie({db: trieDb, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common, cacheSize: trieCacheSize})
  options.preimages?.watch(trie)
  const entries = Math.max(1_000, trieCacheSize)
  const caches = new Caches({account: {size: entries}, storage: {size: entries}, code: {size: Math.ceil(entries / 10)}})
  if (!options.objectAccounts) return new MerkleStateManager({trie, common, caches})
  caches.account = new ObjectAccountCache(caches.settings.account)
  return new ChainStateManager({trie, common, caches})
}
