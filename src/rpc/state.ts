import {type Block, type BlockHeader, createBlock, createBlockHeader} from '@ethereumjs/block'
import type {InterpreterStep, Log} from '@ethereumjs/evm'
import type {MerkleStateManager} from '@ethereumjs/statemanager'
import {getMerkleStateProof} from '@ethereumjs/statemanager'
import {
  Capability,
  TransactionType,
  type TypedTransaction,
  createAccessList2930Tx,
  createEOACode7702Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
  getCalldataFloorGas,
  getMinimumGasLimit,
} from '@ethereumjs/tx'
import {Account, Address, bigIntToUnpaddedBytes, bytesToHex, createZeroAddress, generateAddress, hexToBytes, setLengthLeft} from '@ethereumjs/util'
import {type RunTxResult, type VM, createVM, encodeReceipt, runTx} from '@ethereumjs/vm'
import {keccak_256} from '@noble/hashes/sha3.js'

import type {BlockRecord, ReceiptRecord} from '../chain/block-store.js'
import {type Chain, blockHashSource} from '../chain/chain.js'
import {Mutex} from '../util/mutex.js'
import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {CallStateManager, ExecutionTimeout} from './call-state.js'
import {RpcError, RpcErrorCode, serverError} from './errors.js'
import {enableJumpCache} from '../chain/jump-cache.js'
import type {BlockId, BlockOverrides, CallRequest, StateOverrides} from './params.js'
import {revertError} from './revert.js'
import {MAX_SIMULATED_BLOCKS, type SimulateOptions, traceTransfers} from './simulate.js'
import {logsBloom} from './format.js'
import {orderedTrieRoot} from '../chain/trie-root.js'
import {gethErrorMessage} from './evm-errors.js'
import type {Tracer} from './tracers.js'

type Bytes = Uint8Array

/** A block a request resolved to; `pending` means "the block after the head", executed on the head's state. */
export interface ResolvedBlock {
  record: BlockRecord
  pending: boolean
  /** Fields of the block environment a call runs in that the request overrides. */
  overrides?: BlockOverrides
  /** For `pending`: the pool's transactions the next block would hold, run before the call. */
  pendingTxs?: TypedTransaction[]
}

/** What one execution of a call produced. */
export interface CallOutcome {
  result?: RunTxResult
  /** Thrown by runTx before execution (fees, intrinsic gas, balance): not an EVM failure. */
  rejected?: RpcError
}

export interface ChainStateOptions {
  logger: Logger
  /** Highest gas an eth_call or eth_estimateGas may use (geth's RPCGasCap, default 50,000,000). */
  gasCap?: bigint
  /** Wall-clock budget of one eth_call, and of a whole eth_estimateGas search (default 5 s, geth's RPCEVMTimeout). */
  callTimeoutMs?: number
  /** Wall-clock budget of one debug_trace* (default 30 s). */
  traceTimeoutMs?: number
}

/**
 * One VM over one state manager, moved between state roots on demand. Every operation runs under
 * the view's mutex: the EVM and the state manager's checkpoints are shared, and operations are
 * async, so two interleaved calls would see each other's writes.
 */
class StateView {
  vm!: VM
  sm!: CallStateManager
  private root = ''
  private readonly mutex = new Mutex()

  private constructor(private readonly build: () => Promise<{vm: VM; sm: CallStateManager}>) {}

  static async create(build: () => Promise<{vm: VM; sm: CallStateManager}>): Promise<StateView> {
    const view = new StateView(build)
    await view.reset()
    return view
  }

  /** Replaces the VM and state manager (after an aborted execution left them inconsistent). */
  private async reset(): Promise<void> {
    const {vm, sm} = await this.build()
    this.vm = vm
    this.sm = sm
    this.root = ''
  }

  /**
   * Runs `task` at `stateRoot`, one task at a time. Executions inside it stop with a timeout error
   * once `timeoutMs` has passed (checked on every state access); the view is then rebuilt, since
   * an execution cut off midway leaves the EVM's journal and checkpoints behind.
   */
  run<T>(stateRoot: Bytes, task: (view: StateView) => Promise<T>, timeoutMs?: number): Promise<T> {
    return this.mutex.run(async () => {
      const key = bytesToHex(stateRoot)
      if (key !== this.root) {
        this.root = ''
        await this.sm.setStateRoot(stateRoot)
        this.root = key
      }
      this.sm.deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs
      try {
        return await task(this)
      } catch (err) {
        if (!(err instanceof ExecutionTimeout)) throw err
        await this.reset()
        throw new ExecutionAborted(timeoutMs ?? 0)
      } finally {
        this.sm.deadline = Number.POSITIVE_INFINITY
      }
    })
  }

  /** Runs `task` with every state change it makes undone afterwards. */
  scratch<T>(stateRoot: Bytes, task: (view: StateView) => Promise<T>, timeoutMs?: number): Promise<T> {
    return this.run(
      stateRoot,
      async (view) => {
        await view.sm.checkpoint()
        try {
          return await task(view)
        } finally {
          await view.sm.revert()
        }
      },
      timeoutMs,
    )
  }
}

/** An execution cut off by its time budget (geth's wording). Not a property of the call: never cached. */
class ExecutionAborted extends RpcError {
  constructor(timeoutMs: number) {
    super(RpcErrorCode.server, `execution aborted (timeout = ${timeoutMs / 1000}s)`)
  }
}

/** The block environment a call runs in: the block itself, and the same with base fee 0. */
interface Env {
  /** Unique per environment object: results computed in it can be cached under it. */
  id: number
  block: Block
  createdAt: number
  /** geth lowers the base fee to 0 for calls that name no gas price (so BASEFEE and fee checks pass). */
  free?: Block
}

const SIMPLE_TRANSFER_GAS = 21_000n

/**
 * Reads state and executes calls for the RPC layer, at any committed block. One VM follows the
 * head (`latest`, `pending`, `safe`, `finalized`) and keeps its caches warm between calls; a second
 * one serves older blocks and tracing, so a historical query never evicts the head's caches.
 */
export class ChainState {
  private readonly head: StateView
  private readonly archive: StateView
  private readonly envs = new Map<string, Env>()
  private nextEnvId = 1
  private readonly results = new ResultCache()
  private readonly gasCap: bigint
  private readonly callTimeoutMs: number
  private readonly traceTimeoutMs: number
  private readonly logger: Logger
  private readonly onBlock = (record: BlockRecord): void => {
    // Move the head view now, so the first call after a block does not pay for it.
    this.head.run(record.block.header.stateRoot, async () => {}).catch((err) => this.logger.warn('head state reposition failed', {error: errorMessage(err)}))
  }

  private constructor(
    readonly chain: Chain,
    head: StateView,
    archive: StateView,
    options: ChainStateOptions,
  ) {
    this.head = head
    this.archive = archive
    this.gasCap = options.gasCap ?? 50_000_000n
    this.callTimeoutMs = options.callTimeoutMs ?? 5_000
    this.traceTimeoutMs = options.traceTimeoutMs ?? 30_000
    this.logger = options.logger
    chain.on('block', this.onBlock)
  }

  static async create(chain: Chain, options: ChainStateOptions): Promise<ChainState> {
    const build = async (): Promise<{vm: VM; sm: CallStateManager}> => {
      const sm = CallStateManager.over(chain.createStateManager(), chain.common)
      const vm = await createVM({common: chain.common, stateManager: sm, blockchain: blockHashSource(chain.blocks) as never})
      chain.modules?.attach(vm.evm)
      if (!(await enableJumpCache(vm.evm))) options.logger.debug('jump destination cache unavailable; calls run without it')
      return {vm, sm}
    }
    return new ChainState(chain, await StateView.create(build), await StateView.create(build), options)
  }

  close(): void {
    this.chain.off('block', this.onBlock)
  }

  // ----- blocks -------------------------------------------------------------------------------

  /** The block `id` names, or undefined if there is none (a number past the head, an unknown hash). */
  async findBlock(id: BlockId): Promise<BlockRecord | undefined> {
    if ('tag' in id) {
      if (id.tag === 'earliest') return this.chain.getBlock(0n)
      return this.chain.headRecord
    }
    if ('number' in id) {
      if (id.number > this.chain.head.header.number) return undefined
      return this.chain.getBlock(id.number)
    }
    return this.chain.getBlock(id.hash)
  }

  /** Like findBlock, for state queries: a missing block is an error, as in geth. */
  async resolve(id: BlockId): Promise<ResolvedBlock> {
    const record = await this.findBlock(id)
    if (!record) {
      throw serverError('hash' in id ? 'header for hash not found' : 'header not found')
    }
    return {record, pending: 'tag' in id && id.tag === 'pending'}
  }

  private viewFor(stateRoot: Bytes): StateView {
    return bytesToHex(stateRoot) === bytesToHex(this.chain.headStateRoot) ? this.head : this.archive
  }

  /**
   * The state a resolved block stands for: the head's is the chain's head state, which cheats
   * (anvil_setBalance, …) may have changed since the head block; any other block's is its own.
   */
  rootOf(at: ResolvedBlock): Bytes {
    const {block} = at.record
    return block === this.chain.head || bytesToHex(block.hash()) === bytesToHex(this.chain.head.hash()) ? this.chain.headStateRoot : block.header.stateRoot
  }

  /** Runs `task` on the state after `at` (read-only by convention; see `scratch` for writes). */
  read<T>(at: ResolvedBlock, task: (sm: MerkleStateManager) => Promise<T>): Promise<T> {
    const root = this.rootOf(at)
    return this.viewFor(root).run(root, (view) => task(view.sm))
  }

  async getAccount(address: Bytes, at: ResolvedBlock): Promise<Account | undefined> {
    return this.read(at, (sm) => sm.getAccount(new Address(address)))
  }

  async getCode(address: Bytes, at: ResolvedBlock): Promise<Bytes> {
    return this.read(at, (sm) => sm.getCode(new Address(address)))
  }

  /** A storage slot as 32 bytes. */
  async getStorage(address: Bytes, slot: Bytes, at: ResolvedBlock): Promise<Bytes> {
    return this.read(at, async (sm) => setLengthLeft(await sm.getStorage(new Address(address), setLengthLeft(slot, 32)), 32))
  }

  async getProof(address: Bytes, slots: Bytes[], at: ResolvedBlock): Promise<Awaited<ReturnType<typeof getMerkleStateProof>>> {
    return this.read(at, (sm) => getMerkleStateProof(sm, new Address(address), slots))
  }

  // ----- execution ----------------------------------------------------------------------------

  /** The EVM environment of a block; for `pending`, a header for the block after the head. */
  private env(at: ResolvedBlock): Env {
    if (at.overrides) {
      // Not kept: every request with overrides gets an environment of its own (never cached under).
      const base = this.env({...at, overrides: undefined}).block
      return {id: this.nextEnvId++, block: this.makeBlock(base.header, overrideFields(at.overrides)), createdAt: Date.now()}
    }
    const {block} = at.record
    const key = `${bytesToHex(block.hash())}${bytesToHex(this.rootOf(at))}${at.pending ? 'p' : ''}`
    let env = this.envs.get(key)
    // The pending block's timestamp is "now": renew it once a second while the head stays put.
    if (env && at.pending && Date.now() - env.createdAt > 1_000) env = undefined
    if (!env) {
      env = {id: this.nextEnvId++, block: at.pending ? this.nextBlock(block.header) : block, createdAt: Date.now()}
      this.envs.delete(key)
      if (this.envs.size >= 64) this.envs.delete(this.envs.keys().next().value as string)
      this.envs.set(key, env)
    }
    return env
  }

  private nextBlock(parent: BlockHeader): Block {
    const now = this.chain.pendingTimestamp?.() ?? BigInt(Math.floor(Date.now() / 1000))
    return this.makeBlock(parent, {
      parentHash: parent.hash(),
      number: parent.number + 1n,
      timestamp: now > parent.timestamp ? now : parent.timestamp + 1n,
      baseFeePerGas: this.chain.nextBaseFeeOverride ?? this.chain.baseFeeAfter(parent),
      mixHash: keccak_256(parent.hash()),
      gasUsed: 0n,
    })
  }

  private freeBlock(env: Env): Block {
    env.free ??= this.makeBlock(env.block.header, {baseFeePerGas: 0n})
    return env.free
  }

  private makeBlock(header: BlockHeader, changes: Record<string, unknown>): Block {
    const fields = {
      parentHash: header.parentHash,
      uncleHash: header.uncleHash,
      coinbase: header.coinbase,
      stateRoot: header.stateRoot,
      transactionsTrie: header.transactionsTrie,
      receiptTrie: header.receiptTrie,
      logsBloom: header.logsBloom,
      difficulty: header.difficulty,
      number: header.number,
      gasLimit: header.gasLimit,
      gasUsed: header.gasUsed,
      timestamp: header.timestamp,
      extraData: header.extraData,
      mixHash: header.mixHash,
      nonce: header.nonce,
      baseFeePerGas: header.baseFeePerGas,
      withdrawalsRoot: header.withdrawalsRoot,
      blobGasUsed: header.blobGasUsed,
      excessBlobGas: header.excessBlobGas,
      parentBeaconBlockRoot: header.parentBeaconBlockRoot,
      requestsHash: header.requestsHash,
      ...changes,
    }
    const opts = {common: this.chain.common, skipConsensusFormatValidation: true}
    return createBlock({header: createBlockHeader(fields, opts)}, opts)
  }

  /** The gas limit a call gets when the request names none: the block's, capped. */
  defaultGas(at: ResolvedBlock): bigint {
    const limit = at.overrides?.gasLimit ?? at.record.block.header.gasLimit
    return limit < this.gasCap ? limit : this.gasCap
  }

  /**
   * eth_call: the return data, or an RpcError (code 3 with data for reverts).
   *
   * `cacheKey` (the request's params as sent) lets a repeated call in the same block environment
   * be answered from memory: a call's outcome is a pure function of the state root, the block
   * environment and the request, so the cached answer is exactly what re-executing would give.
   * Wallets and dApps poll the same calls every block; this is what makes that cheap.
   */
  async call(req: CallRequest, at: ResolvedBlock, overrides?: StateOverrides, cacheKey?: string): Promise<Bytes> {
    const key = cacheKey === undefined || at.overrides || at.pendingTxs?.length ? undefined : `c${this.env(at).id}:${cacheKey}`
    const cached = key === undefined ? undefined : this.results.get(key)
    if (cached) {
      if (cached.error) throw cached.error
      return cached.value as Bytes
    }
    const gas = req.gas !== undefined && req.gas > 0n ? (req.gas < this.gasCap ? req.gas : this.gasCap) : this.defaultGas(at)
    const outcome = await this.execute(req, at, gas, overrides)
    if (outcome.rejected) throw outcome.rejected
    const exec = outcome.result!.execResult
    if (exec.exceptionError) {
      const error = evmFailure(outcome.result!)
      if (key !== undefined) this.results.set(key, {error}, exec.returnValue.length)
      throw error
    }
    if (key !== undefined) this.results.set(key, {value: exec.returnValue}, exec.returnValue.length)
    return exec.returnValue
  }

  /**
   * eth_estimateGas, as geth does it: run at the cap; a plain transfer is 21,000; otherwise
   * binary-search the lowest gas limit that succeeds, starting from the gas used (a limit below it
   * cannot succeed) with an optimistic first probe at gasUsed + refund + stipend, scaled by 64/63.
   */
  async estimateGas(req: CallRequest, at: ResolvedBlock, overrides?: StateOverrides, cacheKey?: string): Promise<bigint> {
    const key = cacheKey === undefined || at.overrides || at.pendingTxs?.length ? undefined : `e${this.env(at).id}:${cacheKey}`
    const cached = key === undefined ? undefined : this.results.get(key)
    if (cached) {
      if (cached.error) throw cached.error
      return cached.value as bigint
    }
    try {
      const gas = await this.search(req, at, overrides)
      if (key !== undefined) this.results.set(key, {value: gas}, 0)
      return gas
    } catch (err) {
      if (key !== undefined && err instanceof RpcError && !(err instanceof ExecutionAborted)) this.results.set(key, {error: err}, 0)
      throw err
    }
  }

  private search(req: CallRequest, at: ResolvedBlock, overrides?: StateOverrides): Promise<bigint> {
    const root = this.rootOf(at)
    const view = this.viewFor(root)
    return view.run(root, () => this.withPending(view, at, async () => {
      let hi = req.gas !== undefined && req.gas >= SIMPLE_TRANSFER_GAS ? req.gas : this.defaultGas(at)
      if (hi > this.gasCap) hi = this.gasCap
      const feeCap = req.gasPrice ?? req.maxFeePerGas ?? 0n
      let cappedByFunds = false
      if (feeCap > 0n) {
        const account = await this.scratchAccount(view, req.from, overrides)
        const available = (account?.balance ?? 0n) - (req.value ?? 0n)
        if (available < 0n) throw serverError('insufficient funds for transfer')
        const allowance = available / feeCap
        if (hi > allowance) {
          hi = allowance
          cappedByFunds = true
        }
      }
      const run = (gas: bigint): Promise<CallOutcome> => this.executeOn(view, req, at, gas, overrides)
      const failed = (o: CallOutcome): boolean => o.rejected !== undefined || o.result!.execResult.exceptionError !== undefined

      if (req.to && (req.data === undefined || req.data.length === 0) && !req.authorizationList?.length) {
        const code = await this.scratchCode(view, req.to, overrides)
        if (code.length === 0) {
          const transfer = await run(SIMPLE_TRANSFER_GAS)
          if (!failed(transfer)) return SIMPLE_TRANSFER_GAS
        }
      }

      const first = await run(hi)
      if (first.rejected) {
        if (cappedByFunds) throw serverError(`gas required exceeds allowance (${hi})`)
        throw first.rejected
      }
      const result = first.result!
      if (result.execResult.exceptionError) {
        if (result.execResult.exceptionError.error === 'revert') throw revertError(result.execResult.returnValue)
        if (isOutOfGas(result)) throw serverError(`gas required exceeds allowance (${hi})`)
        throw evmFailure(result)
      }
      let lo = result.totalGasSpent - 1n
      const optimistic = ((result.totalGasSpent + result.gasRefund + 2300n) * 64n) / 63n
      if (optimistic < hi) {
        if (failed(await run(optimistic))) lo = optimistic
        else hi = optimistic
      }
      while (lo + 1n < hi) {
        let mid = (hi + lo) / 2n
        if (mid > lo * 2n) mid = lo * 2n
        if (failed(await run(mid))) lo = mid
        else hi = mid
      }
      return hi
    }), this.callTimeoutMs)
  }

  /** Executes a call request on a scratch copy of the state at `at`. */
  execute(req: CallRequest, at: ResolvedBlock, gas: bigint, overrides?: StateOverrides): Promise<CallOutcome> {
    const root = this.rootOf(at)
    const view = this.viewFor(root)
    return view.run(root, () => this.withPending(view, at, () => this.executeOn(view, req, at, gas, overrides)), this.callTimeoutMs)
  }

  /**
   * With the view already held: checkpoint, apply overrides, runTx, revert. A `tracer` listens
   * from after the overrides to the end of the execution, and gives its answer (`traced`) before
   * the revert, with the call's state changes still in place.
   */
  private async executeOn(
    view: StateView,
    req: CallRequest,
    at: ResolvedBlock,
    gas: bigint,
    overrides?: StateOverrides,
    tracer?: Tracer,
  ): Promise<CallOutcome & {traced?: unknown}> {
    const env = this.env(at)
    const feesGiven = (req.gasPrice ?? 0n) > 0n || (req.maxFeePerGas ?? 0n) > 0n || (req.maxPriorityFeePerGas ?? 0n) > 0n
    const block = feesGiven ? env.block : this.freeBlock(env)
    let tx: TypedTransaction
    try {
      tx = this.buildTx(req, gas, block.header.baseFeePerGas ?? 0n)
    } catch (err) {
      return {rejected: new RpcError(RpcErrorCode.invalidParams, `invalid transaction: ${firstLine(errorMessage(err))}`)}
    }
    const sm = view.sm
    await sm.checkpoint()
    try {
      if (overrides) await applyOverrides(sm, overrides)
      let outcome: CallOutcome & {traced?: unknown}
      tracer?.start(view.vm)
      try {
        if (tx.type !== TransactionType.EOACodeEIP7702) outcome = await this.runMessage(view, tx, block)
        // Set-code authorizations are processed by runTx only.
        else outcome = {result: await runTx(view.vm, {tx, block, skipNonce: true, skipBlockGasLimitValidation: true, skipHardForkValidation: true})}
      } finally {
        tracer?.stop(view.vm)
      }
      if (tracer && outcome.result) outcome.traced = await tracer.finish(view.vm, outcome.result, gas)
      return outcome
    } catch (err) {
      if (err instanceof ExecutionTimeout) throw err
      if (err instanceof RpcError) return {rejected: err}
      return {rejected: rejectionError(errorMessage(err), req)}
    } finally {
      await sm.revert()
    }
  }

  /**
   * Runs a call as a transaction would run, without the parts of runTx a call does not need
   * (receipt, bloom, miner payment): the intrinsic gas and EIP-7623 floor, the fee and balance
   * checks with geth's messages, the fee taken up front, EIP-2929 warm addresses and the access
   * list, then the message on the EVM, and gas used after the refund cap and floor. Like geth's
   * eth_call it skips the nonce check and the EIP-3607 (sender has code) check. The caller holds
   * a checkpoint and reverts everything.
   */
  private async runMessage(view: StateView, tx: TypedTransaction, block: Block): Promise<CallOutcome> {
    const evm = view.vm.evm
    const caller = tx.getSenderAddress()
    const from = caller.toString()
    const intrinsic = tx.getIntrinsicGas()
    const minimum = getMinimumGasLimit(tx, caller)
    if (tx.gasLimit < minimum) return {rejected: serverError(`intrinsic gas too low: have ${tx.gasLimit}, want ${minimum}`)}
    const baseFee = block.header.baseFeePerGas ?? 0n
    let gasPrice: bigint
    let maxCost: bigint
    if (tx.supports(Capability.EIP1559FeeMarket)) {
      const {maxFeePerGas, maxPriorityFeePerGas} = tx as TypedTransaction & {maxFeePerGas: bigint; maxPriorityFeePerGas: bigint}
      if (maxFeePerGas < baseFee) return {rejected: serverError(`max fee per gas less than block base fee: address ${from}, maxFeePerGas: ${maxFeePerGas}, baseFee: ${baseFee}`)}
      gasPrice = baseFee + (maxFeePerGas - baseFee < maxPriorityFeePerGas ? maxFeePerGas - baseFee : maxPriorityFeePerGas)
      maxCost = tx.gasLimit * maxFeePerGas + tx.value
    } else {
      gasPrice = (tx as TypedTransaction & {gasPrice: bigint}).gasPrice
      if (gasPrice < baseFee) return {rejected: serverError(`max fee per gas less than block base fee: address ${from}, maxFeePerGas: ${gasPrice}, baseFee: ${baseFee}`)}
      maxCost = tx.gasLimit * gasPrice + tx.value
    }
    const account = (await view.sm.getAccount(caller)) ?? new Account()
    if (account.balance < maxCost) {
      return {rejected: serverError(`insufficient funds for gas * price + value: address ${from} have ${account.balance} want ${maxCost}`)}
    }
    evm.journal.cleanJournal()
    const fee = tx.gasLimit * gasPrice
    if (fee > 0n) {
      account.balance -= fee
      await evm.journal.putAccount(caller, account)
    }
    for (const address of this.precompiles(evm)) evm.journal.addAlwaysWarmAddress(address)
    evm.journal.addAlwaysWarmAddress(from)
    if (tx.to) evm.journal.addAlwaysWarmAddress(tx.to.toString())
    evm.journal.addAlwaysWarmAddress(block.header.coinbase.toString())
    for (const [address, slots] of (tx as TypedTransaction & {accessList?: [Bytes, Bytes[]][]}).accessList ?? []) {
      const a = bytesToHex(address).slice(2)
      evm.journal.addAlwaysWarmAddress(a, true)
      for (const slot of slots) evm.journal.addAlwaysWarmSlot(a, bytesToHex(slot).slice(2), true)
    }
    try {
      const res = await evm.runCall({block, gasPrice, caller, origin: caller, gasLimit: tx.gasLimit - intrinsic, to: tx.to, value: tx.value, data: tx.data})
      const gasRefund = res.execResult.gasRefund ?? 0n
      const used = res.execResult.executionGasUsed + intrinsic
      const refund = gasRefund < used / 5n ? gasRefund : used / 5n
      const floor = getCalldataFloorGas(tx, caller)
      const spent = used - refund > floor ? used - refund : floor
      return {result: {...res, totalGasSpent: spent, gasRefund} as RunTxResult}
    } finally {
      evm.journal.cleanJournal()
      view.sm.originalStorageCache.clear()
    }
  }

  private precompileList?: string[]
  private precompiles(evm: VM['evm']): string[] {
    this.precompileList ??= [...evm.precompiles.keys()]
    return this.precompileList
  }

  private async scratchAccount(view: StateView, from: Bytes | undefined, overrides?: StateOverrides): Promise<Account | undefined> {
    const address = from ? new Address(from) : createZeroAddress()
    if (!overrides) return view.sm.getAccount(address)
    await view.sm.checkpoint()
    try {
      await applyOverrides(view.sm, overrides)
      return await view.sm.getAccount(address)
    } finally {
      await view.sm.revert()
    }
  }

  private async scratchCode(view: StateView, to: Bytes, overrides?: StateOverrides): Promise<Bytes> {
    const override = overrides?.find(([a]) => bytesToHex(a) === bytesToHex(to))
    if (override?.[1].code) return override[1].code
    return view.sm.getCode(new Address(to))
  }

  private buildTx(req: CallRequest, gasLimit: bigint, baseFee: bigint): TypedTransaction {
    const common = this.chain.txCommon
    const opts = {common, freeze: false}
    const base = {
      nonce: req.nonce ?? 0n,
      gasLimit,
      to: req.to ? new Address(req.to) : undefined,
      value: req.value ?? 0n,
      data: req.data ?? new Uint8Array(0),
    }
    const feeMarket = req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined || req.type === 2 || req.type === 4 || req.authorizationList !== undefined
    let tx: TypedTransaction
    if (req.authorizationList !== undefined || req.type === 4) {
      if (!req.to) throw new Error('a set-code (EIP-7702) transaction needs a "to" address')
      const tip = req.maxPriorityFeePerGas ?? 0n
      tx = createEOACode7702Tx(
        {...base, maxPriorityFeePerGas: tip, maxFeePerGas: req.maxFeePerGas ?? tip + baseFee, accessList: req.accessList ?? [], authorizationList: req.authorizationList ?? []},
        opts,
      )
    } else if (feeMarket) {
      const tip = req.maxPriorityFeePerGas ?? 0n
      const maxFee = req.maxFeePerGas ?? tip + baseFee
      tx = createFeeMarket1559Tx({...base, maxPriorityFeePerGas: tip > maxFee ? maxFee : tip, maxFeePerGas: maxFee, accessList: req.accessList ?? []}, opts)
    } else if (req.accessList !== undefined || req.type === 1) {
      tx = createAccessList2930Tx({...base, gasPrice: req.gasPrice ?? 0n, accessList: req.accessList ?? []}, opts)
    } else {
      tx = createLegacyTx({...base, gasPrice: req.gasPrice ?? 0n}, opts)
    }
    const sender = req.from ? new Address(req.from) : createZeroAddress()
    ;(tx as {getSenderAddress: () => Address}).getSenderAddress = () => sender
    return tx
  }

  /**
   * Re-executes block `record` before transaction `index` on its parent's state as it ran (system
   * calls, module hooks and checks included), then runs `task` with the target transaction (which
   * `task` executes, e.g. with a tracer attached).
   */
  async replay<T>(record: BlockRecord, index: number, task: (vm: VM, tx: TypedTransaction, block: Block) => Promise<T>): Promise<T> {
    const root = await this.chain.preStateRoot(record)
    if (!root) throw serverError('parent block not found')
    return this.archive.scratch(
      root,
      async (view) => {
        try {
          await this.chain.replayBefore(view.vm, record, index, root)
          return await task(view.vm, record.block.transactions[index]!, record.block)
        } finally {
          this.chain.replayDone(view.vm)
        }
      },
      this.traceTimeoutMs,
    )
  }

  /**
   * debug_traceCall: runs a call request on the archive view with `tracer` attached; the tracer's
   * answer is taken before the call's changes are reverted.
   */
  async traceCall(req: CallRequest, at: ResolvedBlock, gas: bigint, overrides: StateOverrides | undefined, tracer: Tracer): Promise<unknown> {
    const root = this.rootOf(at)
    return this.archive.run(
      root,
      async (view) => {
        const outcome = await this.withPending(view, at, () => this.executeOn(view, req, at, gas, overrides, tracer))
        if (outcome.rejected) throw outcome.rejected
        return outcome.traced
      },
      this.traceTimeoutMs,
    )
  }

  /**
   * Runs `task` (holding `view`) on the state after the pending transactions of `at`, if any: they
   * are executed in the next block's environment inside a checkpoint that is reverted afterwards.
   */
  private async withPending<T>(view: StateView, at: ResolvedBlock, task: () => Promise<T>): Promise<T> {
    if (!at.pendingTxs?.length) return task()
    await view.sm.checkpoint()
    try {
      await this.runPending(view, this.env({...at, overrides: undefined}).block, at.pendingTxs)
      return await task()
    } finally {
      await view.sm.revert()
    }
  }

  /** Executes pool transactions as the next block would (those that fail to apply are left out). */
  private async runPending(view: StateView, block: Block, pool: TypedTransaction[]): Promise<{txs: TypedTransaction[]; senders: Bytes[]; receipts: ReceiptRecord[]; used: bigint}> {
    const txs: TypedTransaction[] = []
    const senders: Bytes[] = []
    const receipts: ReceiptRecord[] = []
    let used = 0n
    for (const tx of pool) {
      if (tx.gasLimit > block.header.gasLimit - used) continue
      let result: RunTxResult
      try {
        result = await runTx(view.vm, {tx, block, blockGasUsed: used, skipHardForkValidation: true})
      } catch (err) {
        if (err instanceof ExecutionTimeout) throw err
        continue
      }
      used += result.totalGasSpent
      txs.push(tx)
      senders.push(tx.getSenderAddress().bytes)
      const failed = result.execResult.exceptionError !== undefined
      receipts.push({status: failed ? 0 : 1, cumulativeGasUsed: used, gasUsed: result.totalGasSpent, logs: failed ? [] : (result.execResult.logs ?? []), ...(result.createdAddress ? {contractAddress: result.createdAddress.bytes} : {})})
    }
    return {txs, senders, receipts, used}
  }

  /**
   * The pending block: the next block's environment holding the pool's transactions `pool` (in the
   * order the producer would take them) as they execute on the head state. Its state root is not
   * computed (zero).
   */
  async pendingBlock(pool: TypedTransaction[]): Promise<BlockRecord> {
    const at = await this.resolve({tag: 'pending'})
    const root = this.rootOf(at)
    const view = this.viewFor(root)
    return view.scratch(
      root,
      async () => {
        const env = this.env(at).block
        const {txs, senders, receipts, used} = await this.runPending(view, env, pool)
        return {block: this.assembleBlock(env, txs, receipts, used), senders, receipts}
      },
      this.callTimeoutMs,
    )
  }

  /** A block from an environment, its transactions and receipts: roots and bloom computed, state root zero. */
  private assembleBlock(envBlock: Block, txs: TypedTransaction[], receipts: ReceiptRecord[], used: bigint): Block {
    const encodedTxs = txs.map((tx) => tx.serialize())
    const encodedReceipts = receipts.map((r, i) => encodeReceipt({cumulativeBlockGasUsed: r.cumulativeGasUsed, bitvector: logsBloom(r.logs), logs: r.logs, status: r.status} as never, txs[i]!.type))
    const header = createBlockHeader(
      {
        ...envBlock.header.toJSON(),
        gasUsed: used,
        stateRoot: new Uint8Array(32),
        transactionsTrie: orderedTrieRoot(encodedTxs),
        receiptTrie: orderedTrieRoot(encodedReceipts),
        logsBloom: logsBloom(receipts.flatMap((r) => r.logs)),
      },
      {common: this.chain.common, skipConsensusFormatValidation: true},
    )
    return createBlock({header, transactions: txs}, {common: this.chain.common, skipConsensusFormatValidation: true})
  }

  /**
   * eth_simulateV1: the blocks of `options` executed one after another on the state after `at`
   * (each block's state overrides applied before its calls), then everything is reverted. Block
   * fields default as in geth: number + 1, time + 12 s, the parent's gas limit and fee recipient,
   * base fee 0 without validation (the next base fee with it). Calls default to the sender's
   * current nonce and the gas left in the block. Skipped block numbers are filled with empty
   * blocks, which are returned too. The state root of a simulated block is not computed (zero),
   * as anvil does; transactions and receipts roots and the bloom are.
   */
  async simulate(options: SimulateOptions, at: ResolvedBlock): Promise<SimulatedBlock[]> {
    const root = this.rootOf(at)
    const view = this.viewFor(root)
    return view.scratch(
      root,
      async () => {
        const out: SimulatedBlock[] = []
        let parent = this.env({...at, overrides: undefined}).block.header
        const coinbase = parent.coinbase
        const stop = options.traceTransfers ? traceTransfers(view.vm) : undefined
        try {
          for (const [b, input] of options.blocks.entries()) {
            const o = input.blockOverrides ?? {}
            const number = o.number ?? parent.number + 1n
            if (number <= parent.number) throw new RpcError(-38020, `block numbers must be in order: ${number} <= ${parent.number}`)
            if (BigInt(out.length + 1) + (number - parent.number - 1n) > BigInt(MAX_SIMULATED_BLOCKS)) {
              throw new RpcError(-38026, `too many blocks (at most ${MAX_SIMULATED_BLOCKS}, gaps included)`)
            }
            while (parent.number + 1n < number) {
              const filler = await this.simulateBlock(view, parent, {}, [], options, coinbase, b)
              out.push(filler)
              parent = filler.record.block.header
            }
            if (input.stateOverrides) await applyOverrides(view.sm, input.stateOverrides)
            const block = await this.simulateBlock(view, parent, o, input.calls, options, coinbase, b)
            out.push(block)
            parent = block.record.block.header
          }
        } finally {
          stop?.()
        }
        return out
      },
      this.traceTimeoutMs,
    )
  }

  private async simulateBlock(
    view: StateView,
    parent: BlockHeader,
    o: BlockOverrides,
    calls: CallRequest[],
    options: SimulateOptions,
    coinbase: Address,
    blockIndex: number,
  ): Promise<SimulatedBlock> {
    const time = o.time ?? parent.timestamp + 12n
    if (time <= parent.timestamp) throw new RpcError(-38021, `block timestamps must be in order: ${time} <= ${parent.timestamp}`)
    const gasLimit = o.gasLimit ?? parent.gasLimit
    const baseFee = o.baseFeePerGas ?? (options.validation ? this.chain.baseFeeAfter(parent) : 0n)
    const envBlock = this.makeBlock(parent, {
      parentHash: parent.hash(),
      number: o.number ?? parent.number + 1n,
      timestamp: time,
      gasLimit,
      gasUsed: 0n,
      coinbase: o.feeRecipient ?? coinbase,
      mixHash: o.prevRandao ?? new Uint8Array(32),
      difficulty: o.difficulty ?? 0n,
      baseFeePerGas: baseFee,
      ...(o.beaconRoot ? {parentBeaconBlockRoot: o.beaconRoot} : {}),
    })
    const free = this.makeBlock(envBlock.header, {baseFeePerGas: 0n})
    const txs: TypedTransaction[] = []
    const senders: Bytes[] = []
    const receipts: ReceiptRecord[] = []
    const results: SimulatedCall[] = []
    let used = 0n
    for (const [c, req] of calls.entries()) {
      const where = `call ${c} of block ${blockIndex}`
      const from = req.from ?? new Uint8Array(20)
      const nonce = req.nonce ?? (await view.sm.getAccount(new Address(from)))?.nonce ?? 0n
      const left = gasLimit - used
      const gas = req.gas ?? left
      if (gas > left) throw new RpcError(-38015, `block gas limit reached: ${where} asks ${gas}, ${left} left`)
      const feesGiven = (req.gasPrice ?? 0n) > 0n || (req.maxFeePerGas ?? 0n) > 0n || (req.maxPriorityFeePerGas ?? 0n) > 0n
      // Without validation a call that names no fee runs at base fee 0, as geth's NoBaseFee does.
      const block = options.validation || feesGiven ? envBlock : free
      let tx: TypedTransaction
      try {
        tx = this.buildTx({...req, nonce}, gas, block.header.baseFeePerGas ?? 0n)
      } catch (err) {
        throw new RpcError(RpcErrorCode.invalidParams, `invalid transaction (${where}): ${firstLine(errorMessage(err))}`)
      }
      let result: RunTxResult
      try {
        result = await runTx(view.vm, {tx, block, skipNonce: !options.validation, blockGasUsed: used, skipBlockGasLimitValidation: true, skipHardForkValidation: true})
      } catch (err) {
        if (err instanceof ExecutionTimeout) throw err
        const refused = rejectionError(errorMessage(err), req)
        throw new RpcError(refused.rpcCode, `${refused.message} (${where})`)
      }
      used += result.totalGasSpent
      const exec = result.execResult
      const failed = exec.exceptionError !== undefined
      const logs = failed ? [] : (exec.logs ?? [])
      const call: SimulatedCall = {status: failed ? 0 : 1, returnData: exec.returnValue, gasUsed: result.totalGasSpent, logs}
      if (failed) {
        if (exec.exceptionError!.error === 'revert') {
          const e = revertError(exec.returnValue)
          call.error = {code: 3, message: e.message, data: exec.returnValue}
        } else {
          call.error = {code: -32015, message: evmFailureMessage(result)}
        }
      }
      results.push(call)
      txs.push(this.simulatedTx(tx))
      senders.push(from)
      receipts.push({status: call.status, cumulativeGasUsed: used, gasUsed: result.totalGasSpent, logs, ...(result.createdAddress ? {contractAddress: result.createdAddress.bytes} : {})})
    }
    const block = this.assembleBlock(envBlock, txs, receipts, used)
    return {record: {block, senders, receipts}, calls: results}
  }

  /** A call as a block transaction: the fields it ran with and a zero signature, so it has a hash. */
  private simulatedTx(tx: TypedTransaction): TypedTransaction {
    const json = {...tx.toJSON(), v: tx.type === TransactionType.Legacy ? '0x1b' : '0x0', r: '0x0', s: '0x0'}
    const opts = {common: this.chain.txCommon}
    switch (tx.type) {
      case TransactionType.Legacy:
        return createLegacyTx(json as never, opts)
      case TransactionType.AccessListEIP2930:
        return createAccessList2930Tx(json as never, opts)
      case TransactionType.EOACodeEIP7702:
        return createEOACode7702Tx(json as never, opts)
      default:
        return createFeeMarket1559Tx(json as never, opts)
    }
  }

  /**
   * eth_createAccessList as geth does it: run the call, collect the addresses and slots it touched
   * (except the sender, the recipient or created address and the precompiles), run again with
   * that list, until the list no longer changes. gasUsed is that last run's, with the list.
   */
  async createAccessList(req: CallRequest, at: ResolvedBlock, overrides?: StateOverrides): Promise<AccessListResult> {
    const root = this.rootOf(at)
    const view = this.viewFor(root)
    return view.run(
      root,
      () => this.withPending(view, at, async () => {
        const gas = req.gas !== undefined && req.gas > 0n ? (req.gas < this.gasCap ? req.gas : this.gasCap) : this.defaultGas(at)
        const from = req.from ?? new Uint8Array(20)
        let to = req.to
        if (!to) {
          const nonce = req.nonce ?? (await this.scratchAccount(view, from, overrides))?.nonce ?? 0n
          to = generateAddress(from, bigIntToUnpaddedBytes(nonce))
        }
        const excluded = new Set([bytesToHex(from), bytesToHex(to), ...this.precompiles(view.vm.evm).map((a) => `0x${a}`)])
        let list: [Bytes, Bytes[]][] = req.accessList ?? []
        for (let round = 0; round < 16; round++) {
          const collector = new AccessListCollector(excluded)
          const listener = (step: InterpreterStep): void => collector.onStep(step)
          view.vm.evm.events!.on('step', listener)
          let outcome: CallOutcome
          try {
            outcome = await this.executeOn(view, {...req, accessList: list}, at, gas, overrides)
          } finally {
            view.vm.evm.events!.off('step', listener)
          }
          if (outcome.rejected) throw outcome.rejected
          const next = collector.list()
          if (sameAccessList(next, list) || round === 15) {
            const result = outcome.result!
            const answer: AccessListResult = {accessList: list, gasUsed: result.totalGasSpent}
            if (result.execResult.exceptionError) answer.error = evmFailureMessage(result)
            return answer
          }
          list = next
        }
        throw new Error('unreachable')
      }),
      this.callTimeoutMs,
    )
  }
}

/** One call's outcome in eth_simulateV1. */
export interface SimulatedCall {
  status: 0 | 1
  returnData: Bytes
  gasUsed: bigint
  logs: Log[]
  /** A revert (code 3, with data) or another EVM failure (-32015). */
  error?: {code: number; message: string; data?: Bytes}
}

/** One simulated block: a record shaped like a committed block's, and the calls' outcomes. */
export interface SimulatedBlock {
  record: BlockRecord
  calls: SimulatedCall[]
}

/** What eth_createAccessList answers. */
export interface AccessListResult {
  accessList: [Bytes, Bytes[]][]
  gasUsed: bigint
  /** Set when the call failed with the list (geth answers the list anyway). */
  error?: string
}

const ACCESS_SLOT_OPS = new Set(['SLOAD', 'SSTORE'])
const ACCESS_ADDRESS_OPS = new Set(['EXTCODECOPY', 'EXTCODEHASH', 'EXTCODESIZE', 'BALANCE', 'SELFDESTRUCT'])
const ACCESS_CALL_OPS = new Set(['CALL', 'CALLCODE', 'DELEGATECALL', 'STATICCALL'])

/** geth's access list tracer: addresses and slots the opcodes touch, sorted. */
class AccessListCollector {
  private readonly entries = new Map<string, Set<string>>()

  constructor(private readonly excluded: Set<string>) {}

  onStep(step: InterpreterStep): void {
    const name = step.opcode.name
    const stack = step.stack
    if (ACCESS_SLOT_OPS.has(name) && stack.length >= 1) {
      this.add(step.address.toString()).add(`0x${stack[stack.length - 1]!.toString(16).padStart(64, '0')}`)
    } else if (ACCESS_ADDRESS_OPS.has(name) && stack.length >= 1) {
      this.addAddress(stack[stack.length - 1]!)
    } else if (ACCESS_CALL_OPS.has(name) && stack.length >= 5) {
      this.addAddress(stack[stack.length - 2]!)
    }
  }

  private addAddress(word: bigint): void {
    const a = `0x${(word & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}`
    if (!this.excluded.has(a)) this.add(a)
  }

  private add(address: string): Set<string> {
    let slots = this.entries.get(address)
    if (!slots) {
      slots = new Set()
      this.entries.set(address, slots)
    }
    return slots
  }

  list(): [Bytes, Bytes[]][] {
    return [...this.entries.keys()].sort().map((a) => [hexToBytes(a as `0x${string}`), [...this.entries.get(a)!].sort().map((k) => hexToBytes(k as `0x${string}`))])
  }
}

function sameAccessList(a: [Bytes, Bytes[]][], b: [Bytes, Bytes[]][]): boolean {
  const key = (l: [Bytes, Bytes[]][]): string => l.map(([addr, keys]) => `${bytesToHex(addr)}:${keys.map((k) => bytesToHex(k)).join(',')}`).join(';')
  return key(a) === key(b)
}

interface CachedResult {
  value?: Bytes | bigint
  error?: RpcError
}

/** A map of call results bounded in entries and bytes (oldest dropped first); large results are not kept. */
class ResultCache {
  private readonly entries = new Map<string, {result: CachedResult; size: number}>()
  private bytes = 0

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxBytes = 16 * 1024 * 1024,
    private readonly maxEntryBytes = 32 * 1024,
  ) {}

  get(key: string): CachedResult | undefined {
    return this.entries.get(key)?.result
  }

  set(key: string, result: CachedResult, valueBytes: number): void {
    const size = key.length + valueBytes + 64
    if (size > this.maxEntryBytes || this.entries.has(key)) return
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.bytes + size > this.maxBytes)) {
      const [oldest, entry] = this.entries.entries().next().value as [string, {size: number}]
      this.entries.delete(oldest)
      this.bytes -= entry.size
    }
    this.entries.set(key, {result, size})
    this.bytes += size
  }
}

/** Header fields for block overrides. */
function overrideFields(o: BlockOverrides): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  if (o.number !== undefined) fields.number = o.number
  if (o.difficulty !== undefined) fields.difficulty = o.difficulty
  if (o.time !== undefined) fields.timestamp = o.time
  if (o.gasLimit !== undefined) fields.gasLimit = o.gasLimit
  if (o.feeRecipient !== undefined) fields.coinbase = o.feeRecipient
  if (o.prevRandao !== undefined) fields.mixHash = o.prevRandao
  if (o.baseFeePerGas !== undefined) fields.baseFeePerGas = o.baseFeePerGas
  if (o.beaconRoot !== undefined) fields.parentBeaconBlockRoot = o.beaconRoot
  return fields
}

async function applyOverrides(sm: MerkleStateManager, overrides: StateOverrides): Promise<void> {
  for (const [addressBytes, o] of overrides) {
    const address = new Address(addressBytes)
    let account = await sm.getAccount(address)
    if (!account) {
      account = new Account()
      await sm.putAccount(address, account)
    }
    if (o.balance !== undefined || o.nonce !== undefined) {
      await sm.modifyAccountFields(address, {
        ...(o.balance !== undefined ? {balance: o.balance} : {}),
        ...(o.nonce !== undefined ? {nonce: o.nonce} : {}),
      })
    }
    if (o.code !== undefined) await sm.putCode(address, o.code)
    if (o.state !== undefined) {
      await sm.clearStorage(address)
      for (const [slot, value] of o.state) await sm.putStorage(address, slot, value)
    }
    if (o.stateDiff !== undefined) {
      for (const [slot, value] of o.stateDiff) await sm.putStorage(address, slot, value)
    }
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.split(' (tx type=')[0]!.trim()
}

/** runTx's refusals, in geth's words (-32000). */
function rejectionError(message: string, req: CallRequest): RpcError {
  const from = req.from ? bytesToHex(req.from) : '0x0000000000000000000000000000000000000000'
  let m: RegExpMatchArray | null
  if ((m = message.match(/enough funds.*?(?:upfront|max) cost is: (\d+) and the sender's account \(0x[0-9a-fA-F]+\) only has: (\d+)/))) {
    return serverError(`insufficient funds for gas * price + value: address ${from} have ${m[2]} want ${m[1]}`)
  }
  if ((m = message.match(/gas limit (\d+) is lower than the minimum gas limit of (\d+)/))) {
    return serverError(`intrinsic gas too low: have ${m[1]}, want ${m[2]}`)
  }
  if ((m = message.match(/\((\d+)\) is less than the block's baseFeePerGas \((\d+)\)/))) {
    return serverError(`max fee per gas less than block base fee: address ${from}, maxFeePerGas: ${m[1]}, baseFee: ${m[2]}`)
  }
  if (/value field cannot be negative/.test(message)) return serverError('negative value')
  return serverError(firstLine(message))
}

function isOutOfGas(result: RunTxResult): boolean {
  const e = result.execResult.exceptionError?.error
  return e === 'out of gas' || e === 'code store out of gas'
}

/** geth's wording of an EVM failure other than revert (-32000). */
export function evmFailureMessage(result: RunTxResult): string {
  const exec = result.execResult
  const error = exec.exceptionError?.error ?? ''
  const rs = exec.runState as {programCounter?: number; code?: Bytes} | undefined
  const opcode = error === 'invalid opcode' && rs?.code && rs.programCounter !== undefined ? rs.code[rs.programCounter] : undefined
  return gethErrorMessage(error, opcode)
}

/** The RpcError for a failed execution: code 3 with data for a revert, -32000 otherwise. */
export function evmFailure(result: RunTxResult): RpcError {
  const exec = result.execResult
  if (exec.exceptionError?.error === 'revert') return revertError(exec.returnValue)
  return serverError(evmFailureMessage(result))
}
