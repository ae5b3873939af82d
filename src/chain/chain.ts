import {EventEmitter} from 'node:events'

import {Block, type BlockHeader, createBlock, createBlockHeader, genRequestsRoot} from '@ethereumjs/block'
import type {Common} from '@ethereumjs/common'
import type {MerkleStateManager} from '@ethereumjs/statemanager'
import {type TypedTransaction, createTxFromRLP, paramsTx} from '@ethereumjs/tx'
import {
  Account,
  Address,
  KECCAK256_RLP,
  bigIntToBytes,
  setLengthLeft,
  bytesToHex,
  createAddressFromString,
  hexToBytes,
  type PrefixedHexString,
} from '@ethereumjs/util'
import {Bloom, type RunTxResult, type VM, createVM, encodeReceipt, runTx} from '@ethereumjs/vm'
import {keccak_256} from '@noble/hashes/sha3.js'
import {sha256} from '@noble/hashes/sha2.js'

import {XaiError} from '../util/errors.js'
import {type Logger, silentLogger} from '../util/logger.js'
import type {Bytes, KeyValueStore, WriteOp} from '../storage/database.js'
import {TrieDB} from '../storage/trie-db.js'
import {type BlockRecord, BlockStore, type ReceiptRecord} from './block-store.js'
import {createCustomCrypto} from './crypto.js'
import {BEACON_ROOTS_ADDRESS, HISTORY_STORAGE_ADDRESS, type Genesis, createChainCommon} from './genesis.js'
import {Mutex} from '../util/mutex.js'
import {enableJumpCache} from './jump-cache.js'
import {orderedTrieRoot} from './trie-root.js'
import type {ChainModules as ModuleHost, ChainParams, ChainTx, HostBlockEnv, TxVerdicts} from './module-hooks.js'
import type {Log} from '@ethereumjs/evm'
import {sealTransaction} from './seal.js'
import {createStateManager} from './state-manager.js'
import {Preimages} from './preimages.js'
export {sealTransaction}

export type {BlockRecord, ReceiptRecord} from './block-store.js'

export interface ChainOptions {
  store: KeyValueStore
  genesis: Genesis
  logger?: Logger
  /** Use the native secp256k1 binding for signature recovery where it loads (default true). */
  nativeCrypto?: boolean
  /**
   * Native modules: given the chain, returns the host that runs them (calls to module addresses,
   * block hooks, the checks of every transaction). Without it the chain is a plain EVM.
   */
  modules?: (chain: Chain) => ModuleHost
}

/** What building a block on top of the head produced, before it is committed. */
export interface BuiltBlock {
  record: BlockRecord
  /** Transactions that could not be included (invalid against the state they met). */
  rejected: {tx: TypedTransaction; error: string}[]
  /** The parent state root, to roll back to if the block is not committed. */
  parentStateRoot: Bytes
}

export interface BuildOptions {
  timestamp: bigint
  coinbase?: Address
  extraData?: Bytes
}

export interface ChainEvents {
  block: [record: BlockRecord]
  /** The head moved back to `head` (evm_revert, anvil_reset); `removed` are the blocks dropped, newest first. */
  rewind: [head: BlockRecord, removed: BlockRecord[]]
}

const ZERO32 = new Uint8Array(32)
const MIN_TX_GAS = 21_000n
const EMPTY_REQUESTS_HASH = genRequestsRoot([], sha256)

/**
 * The chain of one node: genesis, the executed head, committed blocks on disk, and the VM that
 * executes transactions. Block production and validation go through `buildBlock` and
 * `commitBlock`, so a consensus engine can build, hold, and then commit or drop a block.
 */
export class Chain extends EventEmitter<ChainEvents> {
  readonly common: Common
  /** The Common every transaction of this chain is decoded with (see createTxCommon). */
  readonly txCommon: Common
  readonly chainId: bigint
  readonly blocks: BlockStore
  readonly nativeCrypto: boolean
  private readonly keccak: (msg: Uint8Array) => Uint8Array
  private readonly logger: Logger
  private readonly trieDb: TrieDB
  /** Preimages of the hashed trie keys the chain writes (addresses, slots), for state dumps. */
  readonly preimages: Preimages
  private readonly execMutex = new Mutex()
  private _head!: BlockRecord
  private _genesis!: Block
  private closed = false
  /** The native modules' host, when the chain runs modules. */
  modules?: ModuleHost
  /** EIP-1559 parameters governance has set; undefined: the hardfork's. */
  private feeParams?: {denominator: bigint; elasticity: bigint}
  /**
   * The head state when development cheats (anvil_setBalance, …) changed it after the head block
   * was committed: the next block is built on it. Undefined: the head block's own state root.
   */
  private overlayRoot?: Bytes
  /** The timestamp the next block will get (a development clock may move it); default: now. */
  pendingTimestamp?: () => bigint
  /** anvil_setNextBlockBaseFeePerGas: the base fee of the next block only. */
  nextBaseFeeOverride?: bigint

  private constructor(
    readonly genesisDoc: Genesis,
    readonly vm: VM,
    common: Common,
    trieDb: TrieDB,
    blocks: BlockStore,
    logger: Logger,
    nativeCrypto: boolean,
    preimages: Preimages,
  ) {
    super()
    this.preimages = preimages
    this.common = common
    this.txCommon = createTxCommon(common)
    this.keccak = common.customCrypto.keccak256 ?? keccak_256
    this.chainId = common.chainId()
    this.trieDb = trieDb
    this.logger = logger
    this.nativeCrypto = nativeCrypto
    this.blocks = blocks
  }

  static async create(options: ChainOptions): Promise<Chain> {
    const logger = options.logger ?? silentLogger
    const {crypto, native} = createCustomCrypto({native: options.nativeCrypto})
    const common = createChainCommon(options.genesis, crypto)
    const trieDb = new TrieDB(options.store)
    const preimages = new Preimages(options.store, common.customCrypto.keccak256 ?? keccak_256)
    const stateManager = createStateManager(trieDb, common, {trieCacheSize: 20_000, objectAccounts: true, preimages})
    const blocks = new BlockStore(options.store, common)
    const vm = await createVM({common, stateManager, blockchain: blockHashSource(blocks)})
    await enableJumpCache(vm.evm)
    const chain = new Chain(options.genesis, vm, common, trieDb, blocks, logger, native, preimages)
    if (options.modules) {
      chain.modules = options.modules(chain)
      chain.modules.attach(vm.evm)
    }
    await chain.init()
    return chain
  }

  /**
   * A fresh state manager over the same trie database (archival reads, calls). Its caches are
   * small: readers are many and short-lived, the live VM keeps the big ones.
   */
  createStateManager(options: {trieCacheSize?: number} = {}): MerkleStateManager {
    return createStateManager(this.trieDb, this.common, {trieCacheSize: options.trieCacheSize ?? 2_000})
  }

  get head(): Block {
    return this._head.block
  }

  get headRecord(): BlockRecord {
    return this._head
  }

  get genesis(): Block {
    return this._genesis
  }

  /** The state the next block builds on: the head block's, or that changed by cheats since. */
  get headStateRoot(): Bytes {
    return this.overlayRoot ?? this._head.block.header.stateRoot
  }

  /** The state root transaction `record` was built on (its parent's, or the parent's changed by cheats). */
  async preStateRoot(record: BlockRecord): Promise<Bytes | undefined> {
    const stored = await this.blocks.preStateRoot(record.block.hash())
    if (stored) return stored
    return (await this.getBlock(record.block.header.parentHash))?.block.header.stateRoot
  }

  /**
   * Changes the head state outside any block (development cheats: set a balance, code, nonce or
   * storage slot). The change is committed to the trie and the new root recorded beside the head
   * in one batch, so it is visible at once, survives a restart, and the next block builds on it.
   * No block may be open (the producer closes its open block around a cheat).
   */
  changeHeadState(change: (sm: VM['stateManager']) => Promise<void>): Promise<Bytes> {
    return this.execMutex.run(async () => {
      if (this.closed) throw new XaiError('NODE_CLOSED', 'The chain is closed.')
      const sm = this.vm.stateManager
      await sm.checkpoint()
      try {
        await change(sm)
        await sm.commit()
      } catch (err) {
        await sm.revert()
        await sm.setStateRoot(this.headStateRoot)
        throw err
      }
      const root = await sm.getStateRoot()
      const ops: WriteOp[] = []
      this.trieDb.drainInto(ops)
      this.preimages.drainInto(ops)
      ops.push(this.blocks.overlayOp(this._head.block.hash(), root))
      await this.blocks.write(ops)
      this.overlayRoot = root
      return root
    })
  }

  /**
   * Moves the head back to `target` (a committed block at or below the head) with state
   * `stateRoot` (its own, or one cheats made on it): the later blocks leave the number, block and
   * transaction indexes in one atomic batch, and the live state moves to `stateRoot`. Trie nodes are
   * never deleted, so the old state is readable as it was. Emits `rewind`.
   */
  rewindTo(target: BlockRecord, stateRoot: Bytes): Promise<BlockRecord[]> {
    return this.execMutex.run(async () => {
      if (this.closed) throw new XaiError('NODE_CLOSED', 'The chain is closed.')
      const targetHash = target.block.hash()
      const number = target.block.header.number
      if (number > this._head.block.header.number || bytesToHex((await this.blocks.hashByNumber(number)) ?? new Uint8Array(0)) !== bytesToHex(targetHash)) {
        throw new XaiError('BLOCK_NOT_ON_CHAIN', 'The block to rewind to is not on the chain.')
      }
      const removed: BlockRecord[] = []
      for (let n = this._head.block.header.number; n > number; n--) {
        const record = await this.blocks.recordByNumber(n)
        if (record) removed.push(record)
      }
      const root = bytesToHex(stateRoot) === bytesToHex(target.block.header.stateRoot) ? undefined : stateRoot
      const ops: WriteOp[] = this.blocks.rewindOps(target, removed, root)
      await this.blocks.write(ops)
      this.blocks.forget(removed)
      this._head = target
      this.overlayRoot = root
      this.nextBaseFeeOverride = undefined
      await this.vm.stateManager.setStateRoot(stateRoot)
      if (this.modules) await this.readChainParams()
      this.emit('rewind', target, removed)
      return removed
    })
  }

  private async init(): Promise<void> {
    const headHash = await this.blocks.headHash()
    if (headHash) {
      const head = await this.blocks.recordByHash(headHash)
      const genesisHash = await this.blocks.genesisHash()
      const genesis = genesisHash && (await this.blocks.recordByHash(genesisHash))
      if (!head || !genesis) {
        throw new XaiError('STORAGE_CORRUPT', 'The database names a head block it does not hold.', {
          hint: 'The node folder is damaged; reset the devnet (xai devnet reset).',
        })
      }
      const expected = await this.computeGenesisStateRoot()
      if (bytesToHex(expected) !== bytesToHex(genesis.block.header.stateRoot)) {
        throw new XaiError('GENESIS_MISMATCH', 'The database was created from a different genesis.', {
          hint: 'Use the genesis.json the node was created with, or reset the devnet (xai devnet reset).',
        })
      }
      this._genesis = genesis.block
      this._head = head
      this.overlayRoot = await this.blocks.overlayRoot(head.block.hash())
      await this.vm.stateManager.setStateRoot(this.headStateRoot)
      if (this.modules) await this.readChainParams()
      this.logger.info('resumed chain', {height: head.block.header.number, hash: head.block.hash()})
      return
    }
    const stateRoot = await this.computeGenesisStateRoot()
    const g = this.genesisDoc
    const header = createBlockHeader(
      {
        number: 0n,
        gasLimit: BigInt(g.gasLimit),
        timestamp: BigInt(g.timestamp),
        extraData: hexToBytes((g.extraData as PrefixedHexString | undefined) ?? '0x'),
        baseFeePerGas: BigInt(g.baseFeePerGas ?? '0x3b9aca00'),
        stateRoot,
        withdrawalsRoot: KECCAK256_RLP,
        blobGasUsed: 0n,
        excessBlobGas: 0n,
        parentBeaconBlockRoot: ZERO32,
        requestsHash: EMPTY_REQUESTS_HASH,
        difficulty: 0n,
      },
      {common: this.common},
    )
    const block = new Block(header, [], [], [], {common: this.common})
    const record: BlockRecord = {block, senders: [], receipts: []}
    const ops: WriteOp[] = []
    this.trieDb.drainInto(ops)
    this.preimages.drainInto(ops)
    ops.push(...this.blocks.commitOps(record, {genesis: true}))
    await this.blocks.write(ops, record)
    this._genesis = block
    this._head = record
    this.logger.info('created chain from genesis', {chainId: this.chainId, hash: block.hash(), stateRoot})
  }

  private async computeGenesisStateRoot(): Promise<Bytes> {
    const sm = this.vm.stateManager
    await sm.checkpoint()
    for (const [addressHex, account] of Object.entries(this.genesisDoc.alloc)) {
      const address = createAddressFromString(addressHex.startsWith('0x') ? addressHex : `0x${addressHex}`)
      await sm.putAccount(address, new Account(BigInt(account.nonce ?? 0), BigInt(account.balance)))
      if (account.code) await sm.putCode(address, hexToBytes(account.code as PrefixedHexString))
      for (const [slot, value] of Object.entries(account.storage ?? {})) {
        await sm.putStorage(address, hexToBytes(slot as PrefixedHexString), stripZeros(hexToBytes(value as PrefixedHexString)))
      }
    }
    await sm.commit()
    return sm.getStateRoot()
  }

  /** Executes `txs` in order on top of the head. Invalid transactions are skipped and reported. */
  async buildBlock(txs: TypedTransaction[], options: BuildOptions): Promise<BuiltBlock> {
    const open = await this.openBlock(options)
    await open.add(txs)
    return open.seal()
  }

  /**
   * Starts a block on top of the head that transactions can be added to as they arrive, then
   * sealed: the work of executing them overlaps the wait for the block time. Until it is sealed
   * and committed or discarded, the live state is the open block's; nothing else may build.
   */
  openBlock(options: BuildOptions): Promise<OpenBlock> {
    return this.execMutex.run(async () => {
      const parent = this._head.block
      const env = this.nextHeaderFields(parent, options)
      const host = this.modules
      if (host) {
        const params = await this.readChainParams()
        env.gasLimit = params.blockGasLimit ?? env.gasLimit
        env.baseFeePerGas = this.nextBaseFeeOverride ?? this.baseFeeAfter(parent.header)
      }
      await this.vm.stateManager.checkpoint()
      let events: Log[] = []
      try {
        await this.applySystemCalls(env)
        if (host) events = await host.beginBlock(this.vm.evm, hostEnv(env), this.headStateRoot)
      } catch (err) {
        await this.vm.stateManager.revert()
        if (host) host.dropBlock(this.vm.evm)
        throw err
      }
      return new OpenBlock(this.vm, this.execMutex, env, this.headStateRoot, this.keccak, host, events)
    })
  }

  /**
   * The block-start system operations of Cancun and Prague, as ethereumjs' runBlock does them:
   * EIP-4788 stores the parent beacon root (zero: XAI has no beacon chain) by timestamp, EIP-2935
   * stores the parent hash by number. Each only where its contract is deployed.
   */
  private async applySystemCalls(env: {number: bigint; timestamp: bigint; parentHash: Bytes; parentBeaconBlockRoot: Bytes}, sm = this.vm.stateManager): Promise<void> {
    const beacon = createAddressFromString(BEACON_ROOTS_ADDRESS)
    if ((await sm.getCode(beacon)).length > 0) {
      const length = BigInt(this.common.param('historicalRootsLength'))
      const index = env.timestamp % length
      await sm.putStorage(beacon, setLengthLeft(bigIntToBytes(index), 32), bigIntToBytes(env.timestamp))
      await sm.putStorage(beacon, setLengthLeft(bigIntToBytes(index + length), 32), env.parentBeaconBlockRoot)
    }
    const history = createAddressFromString(HISTORY_STORAGE_ADDRESS)
    if ((await sm.getCode(history)).length > 0) {
      const window = BigInt(this.common.param('historyServeWindow'))
      await sm.putStorage(history, setLengthLeft(bigIntToBytes((env.number - 1n) % window), 32), env.parentHash)
    }
  }

  /**
   * Re-executes block `record` on `vm`, a scratch VM at its parent's state (`parentStateRoot`), up to transaction
   * `index` as the block ran: the block-start system calls, the modules' beginBlock, each earlier
   * transaction between the modules' checks and afterTx, and then the modules' checks of
   * transaction `index`, which the caller runs (with a tracer attached). Call replayDone with the
   * VM afterwards: it drops the modules' per-block cache of that EVM.
   */
  async replayBefore(vm: VM, record: BlockRecord, index: number, parentStateRoot: Bytes): Promise<void> {
    const {header} = record.block
    const env: BlockEnv = {
      parentHash: header.parentHash,
      number: header.number,
      timestamp: header.timestamp,
      gasLimit: header.gasLimit,
      baseFeePerGas: header.baseFeePerGas ?? 0n,
      coinbase: header.coinbase,
      extraData: header.extraData,
      mixHash: header.mixHash,
      difficulty: header.difficulty,
      nonce: header.nonce,
      uncleHash: header.uncleHash,
      withdrawalsRoot: header.withdrawalsRoot ?? KECCAK256_RLP,
      blobGasUsed: 0n,
      excessBlobGas: header.excessBlobGas ?? 0n,
      parentBeaconBlockRoot: header.parentBeaconBlockRoot ?? ZERO32,
      requestsHash: header.requestsHash ?? EMPTY_REQUESTS_HASH,
    }
    const host = this.modules
    await this.applySystemCalls(env, vm.stateManager)
    if (host) await host.beginBlock(vm.evm, hostEnv(env), parentStateRoot)
    const open = new OpenBlock(vm, new Mutex(), env, parentStateRoot, this.keccak, host)
    await open.add(record.block.transactions.slice(0, index))
    const target = record.block.transactions[index]
    if (host && target) await host.checkTx(vm.stateManager as never, hostEnv(env), toChainTx(target), {evm: vm.evm})
  }

  /** Ends a replayBefore on `vm`. */
  replayDone(vm: VM): void {
    this.modules?.dropBlock(vm.evm)
  }

  /**
   * Makes a built block the new head: one atomic write of state, block, receipts and index, and
   * `extraOps` (the consensus layer's record of the block) in the same batch.
   */
  commitBlock(built: BuiltBlock, extraOps: WriteOp[] = []): Promise<BlockRecord> {
    return this.execMutex.run(async () => {
      const {record} = built
      if (this.closed) throw new XaiError('NODE_CLOSED', 'The chain is closed.')
      if (bytesToHex(record.block.header.parentHash) !== bytesToHex(this._head.block.hash())) {
        throw new XaiError('BLOCK_NOT_ON_HEAD', 'The block does not extend the current head.')
      }
      const ops: WriteOp[] = []
      this.trieDb.drainInto(ops)
      this.preimages.drainInto(ops)
      ops.push(...this.blocks.commitOps(record), ...extraOps)
      // Built on state cheats changed: keep that root for replays (tracing), drop the overlay.
      if (this.overlayRoot) ops.push(this.blocks.preStateOp(record.block.hash(), this.overlayRoot), this.blocks.overlayDelOp())
      await this.blocks.write(ops, record)
      this._head = record
      this.overlayRoot = undefined
      this.nextBaseFeeOverride = undefined
      if (this.modules) await this.readChainParams()
      this.emit('block', record)
      return record
    })
  }

  /** Drops a built block that will not be committed: the live state returns to the head. */
  discardBlock(_built: BuiltBlock): Promise<void> {
    return this.execMutex.run(async () => {
      await this.vm.stateManager.setStateRoot(this.headStateRoot)
    })
  }

  private nextHeaderFields(parent: Block, options: BuildOptions): BlockEnv {
    const number = parent.header.number + 1n
    const timestamp = options.timestamp > parent.header.timestamp ? options.timestamp : parent.header.timestamp + 1n
    return {
      parentHash: parent.hash(),
      number,
      timestamp,
      gasLimit: parent.header.gasLimit,
      baseFeePerGas: this.nextBaseFeeOverride ?? parent.header.calcNextBaseFee(),
      coinbase: options.coinbase ?? new Address(new Uint8Array(20)),
      extraData: options.extraData ?? new Uint8Array(0),
      mixHash: keccak_256(parent.hash()),
      difficulty: 0n,
      nonce: new Uint8Array(8),
      uncleHash: hexToBytes('0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347'),
      withdrawalsRoot: KECCAK256_RLP,
      blobGasUsed: 0n,
      excessBlobGas: parent.header.calcNextExcessBlobGas(this.common),
      parentBeaconBlockRoot: ZERO32,
      requestsHash: EMPTY_REQUESTS_HASH,
    }
  }

  /** Header of the block that would come next (for pending-block estimates). */
  nextBaseFee(): bigint {
    return this.nextBaseFeeOverride ?? this.baseFeeAfter(this._head.block.header)
  }

  /**
   * The base fee of the block after `parent` (EIP-1559), with the denominator and elasticity
   * governance has set, else the hardfork's: the same arithmetic as ethereumjs' calcNextBaseFee.
   */
  baseFeeAfter(parent: BlockHeader): bigint {
    const params = this.feeParams
    if (!params) return parent.calcNextBaseFee()
    const base = parent.baseFeePerGas ?? 0n
    const target = parent.gasLimit / params.elasticity
    if (target === 0n || parent.gasUsed === target) return base
    if (parent.gasUsed > target) {
      const delta = (base * (parent.gasUsed - target)) / target / params.denominator
      return base + (delta > 1n ? delta : 1n)
    }
    const delta = (base * (target - parent.gasUsed)) / target / params.denominator
    return base - delta > 0n ? base - delta : 0n
  }

  /** The chain parameters read at the head state `root`. */
  private chainParamsAt?: {root: string; params: ChainParams}

  /** Reads the chain parameters governance has set in the live state, keeping the fee ones. */
  private async readChainParams(): Promise<{blockGasLimit?: bigint}> {
    // A function of the head state: read once per head (a validator opens a block for each
    // proposal it re-executes and for each block it proposes, on the same head).
    const root = bytesToHex(this.headStateRoot)
    const params = this.chainParamsAt?.root === root ? this.chainParamsAt.params : await this.modules!.chainParams(this.vm.stateManager as never)
    this.chainParamsAt = {root, params}
    const denominator = params.baseFeeMaxChangeDenominator
    const elasticity = params.elasticityMultiplier
    this.feeParams =
      denominator === undefined && elasticity === undefined
        ? undefined
        : {denominator: denominator ?? BigInt(this.common.param('baseFeeMaxChangeDenominator')), elasticity: elasticity ?? BigInt(this.common.param('elasticityMultiplier'))}
    return params
  }

  async getBlock(id: bigint | Bytes): Promise<BlockRecord | undefined> {
    return typeof id === 'bigint' ? this.blocks.recordByNumber(id) : this.blocks.recordByHash(id)
  }

  async getTransaction(hash: Bytes): Promise<{record: BlockRecord; index: number} | undefined> {
    const location = await this.blocks.txLocation(hash)
    if (!location) return undefined
    const record = await this.blocks.recordByHash(location.blockHash)
    return record ? {record, index: location.index} : undefined
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.execMutex.run(async () => {})
  }
}

/** The header fields of a block being built, known before its transactions run. */
export type BlockEnv = {
  parentHash: Bytes
  number: bigint
  timestamp: bigint
  gasLimit: bigint
  baseFeePerGas: bigint
  coinbase: Address
  extraData: Bytes
  mixHash: Bytes
  difficulty: bigint
  nonce: Bytes
  uncleHash: Bytes
  withdrawalsRoot: Bytes
  blobGasUsed: bigint
  excessBlobGas: bigint
  parentBeaconBlockRoot: Bytes
  requestsHash: Bytes
}

/**
 * A block being built on the head: transactions execute as they are added, in order; `seal`
 * computes the roots and the header. Only what the header needs is kept of each result (a
 * RunTxResult holds the interpreter's whole run state; a thousand of them cost over 100 MiB).
 */
export class OpenBlock {
  readonly env: BlockEnv
  private readonly envBlock: Block
  private readonly included: TypedTransaction[] = []
  private readonly senders: Bytes[] = []
  private readonly encodedReceipts: Uint8Array[] = []
  private readonly receipts: ReceiptRecord[] = []
  private readonly bloom: Bloom
  private readonly rejected: BuiltBlock['rejected'] = []
  /** Next nonce per sender (lowercase hex) after what this block holds. */
  private readonly nextNonce = new Map<string, bigint>()
  /**
   * Senders whose transaction was skipped or failed: their later nonces would fail on the nonce
   * and must stay in the pool for a later block, not be dropped.
   */
  private readonly blocked = new Set<string>()
  private gasUsed = 0n
  private sealed = false

  constructor(
    private readonly vm: VM,
    private readonly mutex: Mutex,
    env: BlockEnv,
    private readonly parentStateRoot: Bytes,
    private readonly keccak: (msg: Uint8Array) => Uint8Array,
    private readonly host?: ModuleHost,
    private readonly events: Log[] = [],
  ) {
    this.env = env
    this.envBlock = createBlock({header: env}, {common: vm.common, skipConsensusFormatValidation: true})
    this.bloom = new Bloom(undefined, vm.common)
  }

  get transactionCount(): number {
    return this.included.length
  }

  /** Whether another transaction could still fit. */
  get hasRoom(): boolean {
    return this.env.gasLimit - this.gasUsed >= MIN_TX_GAS
  }

  /** The nonce this block expects next from `sender` (lowercase hex), if it holds any of theirs. */
  expectedNonce(sender: string): bigint | undefined {
    return this.nextNonce.get(sender)
  }

  isBlocked(sender: string): boolean {
    return this.blocked.has(sender)
  }

  /** Executes `txs` in order; invalid ones are skipped and reported at `seal`. */
  add(txs: TypedTransaction[]): Promise<void> {
    return this.mutex.run(async () => {
      if (this.sealed) throw new XaiError('BLOCK_SEALED', 'The block is already sealed.')
      const {env} = this
      for (const tx of txs) {
        if (env.gasLimit - this.gasUsed < MIN_TX_GAS) break
        try {
          sealTransaction(tx)
        } catch (err) {
          this.rejected.push({tx, error: (err as Error).message})
          continue
        }
        const sender = tx.getSenderAddress().toString()
        if (this.blocked.has(sender)) continue
        if (tx.gasLimit > env.gasLimit - this.gasUsed) {
          // Does not fit what is left of this block; it and its successors wait for the next one.
          this.blocked.add(sender)
          continue
        }
        let verdicts: TxVerdicts | undefined
        let chainTx: ChainTx | undefined
        if (this.host) {
          chainTx = toChainTx(tx)
          const check = await this.host.checkTx(this.vm.stateManager as never, hostEnv(env), chainTx, {evm: this.vm.evm})
          if (!check.ok) {
            this.rejected.push({tx, error: `rejected by module ${check.module}: ${check.reason}`})
            this.blocked.add(sender)
            continue
          }
          verdicts = check.verdicts
        }
        let result: RunTxResult
        try {
          result = await runTx(this.vm, {tx, block: this.envBlock, blockGasUsed: this.gasUsed, skipHardForkValidation: true})
        } catch (err) {
          this.rejected.push({tx, error: (err as Error).message})
          this.blocked.add(sender)
          continue
        }
        if (this.host && chainTx && verdicts) {
          const gasUsed = result.totalGasSpent
          const tip = effectiveTip(tx, env.baseFeePerGas)
          const logs = await this.host.afterTx(this.vm.evm, hostEnv(env), chainTx, {success: !result.execResult.exceptionError, gasUsed, baseFee: env.baseFeePerGas * gasUsed, priorityFee: tip * gasUsed}, verdicts)
          if (logs.length > 0) {
            result.receipt.logs = [...result.receipt.logs, ...logs]
            result.execResult.logs = [...(result.execResult.logs ?? []), ...logs]
            for (const [address, topics] of logs) for (const item of [address, ...topics]) result.bloom.add(item)
          }
        }
        this.gasUsed += result.totalGasSpent
        this.included.push(tx)
        this.senders.push(tx.getSenderAddress().bytes)
        this.nextNonce.set(sender, tx.nonce + 1n)
        this.encodedReceipts.push(encodeReceipt(result.receipt, tx.type))
        this.bloom.or(result.bloom)
        this.receipts.push({
          status: result.execResult.exceptionError ? 0 : 1,
          cumulativeGasUsed: this.gasUsed,
          gasUsed: result.totalGasSpent,
          logs: result.execResult.logs ?? [],
          contractAddress: result.createdAddress?.bytes,
        })
      }
    })
  }

  /** Gives the block up unsealed: the live state returns to the parent. */
  abandon(): Promise<void> {
    return this.mutex.run(async () => {
      if (this.sealed) return
      this.sealed = true
      this.host?.dropBlock(this.vm.evm)
      await this.vm.stateManager.revert()
      await this.vm.stateManager.setStateRoot(this.parentStateRoot)
    })
  }

  /** Computes the roots and the header; the block is then committed or discarded on the chain. */
  seal(): Promise<BuiltBlock> {
    return this.mutex.run(async () => {
      if (this.sealed) throw new XaiError('BLOCK_SEALED', 'The block is already sealed.')
      this.sealed = true
      const sm = this.vm.stateManager
      try {
        if (this.host) this.events.push(...(await this.host.endBlock(this.vm.evm, hostEnv(this.env), this.env.baseFeePerGas * this.gasUsed)))
        await sm.commit()
      } catch (err) {
        await sm.revert()
        await sm.setStateRoot(this.parentStateRoot)
        throw err
      }
      const stateRoot = await sm.getStateRoot()
      const common = this.vm.common
      const header = createBlockHeader(
        {
          ...this.env,
          stateRoot,
          transactionsTrie: orderedTrieRoot(
            this.included.map((tx) => tx.serialize()),
            this.keccak,
          ),
          receiptTrie: orderedTrieRoot(this.encodedReceipts, this.keccak),
          logsBloom: this.bloom.bitvector,
          gasUsed: this.gasUsed,
        },
        {common},
      )
      const block = new Block(header, this.included, [], [], {common})
      const record: BlockRecord = {block, senders: this.senders, receipts: this.receipts, ...(this.events.length > 0 ? {events: this.events} : {})}
      return {record, rejected: this.rejected, parentStateRoot: this.parentStateRoot}
    })
  }
}

function hostEnv(env: BlockEnv): HostBlockEnv {
  return {height: env.number, timestamp: env.timestamp, coinbase: env.coinbase.toString() as `0x${string}`, baseFeePerGas: env.baseFeePerGas}
}

/** The tip per gas a transaction pays the proposer at `baseFee`. */
function effectiveTip(tx: TypedTransaction, baseFee: bigint): bigint {
  if ('maxPriorityFeePerGas' in tx) {
    const room = (tx as {maxFeePerGas: bigint}).maxFeePerGas - baseFee
    const tip = (tx as {maxPriorityFeePerGas: bigint}).maxPriorityFeePerGas
    return tip < room ? tip : room
  }
  return (tx as {gasPrice: bigint}).gasPrice - baseFee
}

/** A transaction as the native modules see it. */
export function toChainTx(tx: TypedTransaction): ChainTx {
  const dynamic = 'maxPriorityFeePerGas' in tx
  const maxFeePerGas = dynamic ? (tx as {maxFeePerGas: bigint}).maxFeePerGas : (tx as {gasPrice: bigint}).gasPrice
  return {
    hash: bytesToHex(tx.hash()) as `0x${string}`,
    from: tx.getSenderAddress().toString() as `0x${string}`,
    to: tx.to ? (tx.to.toString() as `0x${string}`) : null,
    value: tx.value,
    gasLimit: tx.gasLimit,
    maxFeePerGas,
    maxPriorityFeePerGas: dynamic ? (tx as {maxPriorityFeePerGas: bigint}).maxPriorityFeePerGas : maxFeePerGas,
    data: bytesToHex(tx.data) as `0x${string}`,
    nonce: tx.nonce,
  }
}

/**
 * Every transaction constructor copies its Common and re-merges the parameter tables (a JSON
 * round trip per transaction, a third of the cost of admitting a transfer). Transactions of one
 * chain share one Common with the transaction parameters merged once; nothing here changes a
 * transaction's hardfork after decoding, so sharing is safe.
 */
function createTxCommon(common: Common): Common {
  const shared = common.copy()
  shared.updateParams(paramsTx)
  shared.copy = () => shared
  shared.updateParams = () => shared
  return shared
}

/**
 * Decodes a serialized (RLP or typed-envelope) transaction for this chain. The result is not yet
 * sealed: call `sealTransaction` once its signature is known to be good.
 */
export function decodeTransaction(chain: Pick<Chain, 'txCommon'>, raw: Bytes): TypedTransaction {
  return createTxFromRLP(raw, {common: chain.txCommon, freeze: false})
}


/** Lets the EVM's BLOCKHASH opcode read committed blocks. */
export function blockHashSource(blocks: BlockStore) {
  const source = {
    getBlock: async (n: number) => {
      const hash = await blocks.hashByNumber(BigInt(n))
      return {hash: () => hash ?? new Uint8Array(32)}
    },
    putBlock: async () => {},
    shallowCopy: () => source,
  }
  return source
}

function stripZeros(b: Bytes): Bytes {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  return b.subarray(i)
}

export type {BlockHeader}
