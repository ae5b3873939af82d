import type {Common} from '@ethereumjs/common'
import type {MerklePatriciaTrie} from '@ethereumjs/mpt'
import {RLP} from '@ethereumjs/rlp'
import {CODEHASH_PREFIX, Caches, MerkleStateManager} from '@ethereumjs/statemanager'
import {
  type Account,
  type Address,
  KECCAK256_NULL,
  KECCAK256_RLP,
  bytesToUnprefixedHex,
  concatBytes,
  createAccountFromRLP,
  equalsBytes,
} from '@ethereumjs/util'

type Bytes = Uint8Array

const EMPTY = new Uint8Array(0)
/** Entries kept per clean-read map before it is dropped and refilled. */
const MAX_ENTRIES = 200_000
/** Bytes of contract code kept before the code map is dropped and refilled. */
const MAX_CODE_BYTES = 32 * 1024 * 1024

/**
 * A MerkleStateManager for calls that are always reverted (eth_call, eth_estimateGas, tracing).
 *
 * The stock state manager's caches are journaled: a value read inside a checkpoint is dropped
 * again by `revert()`, so every eth_call would walk the trie for the same accounts and slots. This
 * one keeps what it reads from the trie in plain maps that checkpoints do not touch: accounts per
 * address (valid for the current state root), storage per (storage root, slot) and code per code
 * hash (valid for any root, as they are content-addressed). Writes still go through the journaled
 * caches, which are consulted first, so a call sees its own changes and reverts them as before.
 *
 * Use only with every change reverted: nothing written is ever flushed to the trie here.
 */
/** Thrown from a state access once the running execution is past its deadline. */
export class ExecutionTimeout extends Error {
  constructor() {
    super('execution timeout')
    this.name = 'ExecutionTimeout'
  }
}

export class CallStateManager extends MerkleStateManager {
  /** performance.now() after which state accesses throw ExecutionTimeout (the EVM then unwinds). */
  deadline = Number.POSITIVE_INFINITY

  private accounts = new Map<string, Bytes | null>()
  private storage = new Map<string, Bytes>()
  private code = new Map<string, Bytes>()
  private codeBytes = 0
  /** Read-only storage tries by storage root (the stock one builds a trie object per call). */
  private tries = new Map<string, MerklePatriciaTrie>()
  private rootKey = ''

  /** A call state manager over the trie (and so the database) of `base`. */
  static over(base: MerkleStateManager, common: Common): CallStateManager {
    const trie = (base as unknown as {_trie: MerklePatriciaTrie})._trie
    return new CallStateManager({trie, common, caches: new Caches()})
  }

  override async getAccount(address: Address): Promise<Account | undefined> {
    if (performance.now() > this.deadline) throw new ExecutionTimeout()
    const elem = this._caches?.account?.get(address)
    if (elem !== undefined) return elem.accountRLP !== undefined ? createAccountFromRLP(elem.accountRLP) : undefined
    const key = bytesToUnprefixedHex(address.bytes)
    let rlp = this.accounts.get(key)
    if (rlp === undefined) {
      rlp = (await this._trie.get(address.bytes)) ?? null
      if (this.accounts.size >= MAX_ENTRIES) this.accounts.clear()
      this.accounts.set(key, rlp)
    }
    return rlp === null ? undefined : createAccountFromRLP(rlp)
  }

  override async getStorage(address: Address, key: Bytes): Promise<Bytes> {
    if (key.length !== 32) throw new Error('Storage key must be 32 bytes long')
    if (performance.now() > this.deadline) throw new ExecutionTimeout()
    const cached = this._caches?.storage?.get(address, key)
    if (cached !== undefined) return RLP.decode(cached) as Bytes
    const account = await this.getAccount(address)
    if (!account || equalsBytes(account.storageRoot, KECCAK256_RLP)) return EMPTY
    const slotKey = `${bytesToUnprefixedHex(account.storageRoot)}${bytesToUnprefixedHex(key)}`
    let value = this.storage.get(slotKey)
    if (value === undefined) {
      const trie = this.readTrie(address, account)
      value = RLP.decode((await trie.get(key)) ?? EMPTY) as Bytes
      if (this.storage.size >= MAX_ENTRIES) this.storage.clear()
      this.storage.set(slotKey, value)
    }
    return value
  }

  /**
   * A trie to read the storage of `account` from. Tries are shared per storage root and only
   * read: writes never reach a storage trie here (they stay in the journaled cache until the
   * revert), except clearStorage's, which goes through the stock per-call `_getStorageTrie`.
   */
  private readTrie(address: Address, account: Account): MerklePatriciaTrie {
    if (this._prefixStorageTrieKeys) return this._getStorageTrie(address, account)
    const key = bytesToUnprefixedHex(account.storageRoot)
    let trie = this.tries.get(key)
    if (!trie) {
      trie = this._trie.shallowCopy(false)
      trie.root(account.storageRoot)
      if (this.tries.size >= 1_000) this.tries.clear()
      this.tries.set(key, trie)
    }
    return trie
  }

  override async getCode(address: Address): Promise<Bytes> {
    const elem = this._caches?.code?.get(address)
    if (elem !== undefined) return elem.code ?? EMPTY
    const account = await this.getAccount(address)
    if (!account || equalsBytes(account.codeHash, KECCAK256_NULL)) return EMPTY
    const hashKey = bytesToUnprefixedHex(account.codeHash)
    let code = this.code.get(hashKey)
    if (code === undefined) {
      const dbKey = this._prefixCodeHashes ? concatBytes(CODEHASH_PREFIX, account.codeHash) : account.codeHash
      code = ((await this._trie.database().get(dbKey)) as Bytes | undefined) ?? EMPTY
      if (this.codeBytes + code.length > MAX_CODE_BYTES) {
        this.code.clear()
        this.codeBytes = 0
      }
      this.code.set(hashKey, code)
      this.codeBytes += code.length
    }
    return code
  }

  override async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length
  }

  override async setStateRoot(stateRoot: Bytes, clearCache = true): Promise<void> {
    await super.setStateRoot(stateRoot, clearCache)
    const key = bytesToUnprefixedHex(stateRoot)
    if (key !== this.rootKey) {
      this.accounts = new Map()
      this.rootKey = key
    }
  }
}
