import {EVMError} from '@ethereumjs/evm'
import {Account, Address as EthAddress, bigIntToBytes, bytesToHex as ethBytesToHex, setLengthLeft} from '@ethereumjs/util'
import {type Address, type Hex, encodeErrorResult, getAddress, hexToBytes} from 'viem'

import type {ChainModules, CheckResult, HostBlockEnv, TxVerdicts} from '../../chain/module-hooks.js'
import {
  type ChainTx,
  type ModuleContext,
  type ModuleStorage,
  type ModuleValidation,
  type NativeModule,
  type ReadonlyModuleContext,
  type SystemOps,
  type TxOutcome,
  MODULE_REGISTRY_ADDRESS,
  ModuleRevert,
  decodeModuleCall,
  encodeModuleEvent,
  encodeModuleResult,
  isModuleAddress,
  isModuleId,
  moduleAddress,
} from '../module.js'
import {executeProposal} from './execute-proposal.js'
import {governanceStats} from './governance-module.js'
import {DEFAULT_CALL_GAS, STORAGE_WRITE_GAS, logGas} from '../gas-schedule.js'
import {HOOK_GAS_LIMIT, loadModuleSource} from './load-module.js'
import {CHAIN_PARAMETERS, type ChainParameter, CIRCULATING_SLOT, SUPPLY_SLOT, type RegistryEntry, type RegistryValidator, listFeatureFlags, readFeatureFlag, readValidators, listModuleIds, readChainParam, readCode, readEntry, registryModule, versionAt} from './registry.js'
import {type StateSource, type StateView, type ViewLog, isNeedsLoading, runWithState, storageKey} from './state-view.js'

/**
 * Runs native modules inside the chain: calls to module addresses from transactions and contracts
 * (through the EVM), the block hooks, and the checks of every transaction. Which modules run is
 * the registry's state at the block; their code is the built-in modules' or, for user modules,
 * the source stored in the registry, loaded once per code hash.
 */

/** The EVM the host runs in (ethereumjs' EVM; only its state manager and internals the host hooks). */
export type EVM = object

export type {CheckResult, HostBlockEnv, TxVerdicts} from '../../chain/module-hooks.js'

/** A module that runs in a block, with its parameters parsed. */
export interface RunningModule {
  id: string
  address: Address
  module: NativeModule
  params: Readonly<Record<string, unknown>>
  builtin: boolean
}

/** The state manager calls the host makes. */
export interface HostStateManager {
  getStorage(address: EthAddress, key: Uint8Array): Promise<Uint8Array>
  putStorage(address: EthAddress, key: Uint8Array, value: Uint8Array): Promise<void>
  getAccount(address: EthAddress): Promise<Account | undefined>
  putAccount(address: EthAddress, account: Account): Promise<void>
  getCode(address: EthAddress): Promise<Uint8Array>
  putCode(address: EthAddress, code: Uint8Array): Promise<void>
}

export interface ModuleHostOptions {
  builtins: readonly NativeModule[]
  /** Native balance of `address` at the end of block `height` (archival state). */
  balanceAt(address: Address, height: bigint): Promise<bigint>
  onHookError?(module: string, hook: string, error: unknown): void
  /** A built-in module threw something other than a revert: a bug in it (the call reverted). */
  onModuleBug?(module: string, call: string, error: unknown): void
}


/** Parent states whose running modules are kept (a few heights and rounds). */
const MODULES_BY_STATE = 8

class CallReverted extends Error {}

export class ModuleHost implements ChainModules {
  private readonly builtins = new Map<string, NativeModule>()
  private readonly builtinIds = new Set<string>()
  private readonly loadedCode = new Map<Hex, Promise<NativeModule>>()
  /** The modules of the block each EVM is building, set by {@link ModuleHost.beginBlock}. */
  private readonly blockModules = new WeakMap<object, RunningModule[]>()
  /**
   * Module storage read and written by the hooks of the block each EVM is building, kept between
   * transactions: only the host writes module storage, and a module call inside a transaction
   * (which the EVM may revert) drops it.
   */
  private readonly blockCache = new WeakMap<object, Map<string, unknown>>()
  /**
   * The running modules of recent blocks by (state root the block starts from, height): which
   * modules run is a function of the registry in that state and the height, so every proposal,
   * re-execution and rebuild of one height on one parent reads and parses the registry once.
   */
  private readonly modulesByState = new Map<string, RunningModule[]>()

  constructor(private readonly options: ModuleHostOptions) {
    for (const module of [registryModule, ...options.builtins]) {
      this.builtins.set(builtinKey(module.manifest.id, module.manifest.version), module)
      this.builtinIds.add(module.manifest.id)
    }
  }

  /** The built-in module `id`@`version`, if there is one. */
  builtin(id: string, version: string): NativeModule | undefined {
    return this.builtins.get(builtinKey(id, version))
  }

  get builtinModules(): NativeModule[] {
    return [...this.builtins.values()]
  }

  source(sm: HostStateManager): StateSource {
    return {
      getStorage: async (address, slot) => {
        const value = await sm.getStorage(new EthAddress(hexToBytes(address)), setLengthLeft(bigIntToBytes(slot), 32))
        return value.length === 0 ? 0n : BigInt(ethBytesToHex(value))
      },
      getBalance: async (address) => (await sm.getAccount(new EthAddress(hexToBytes(address))))?.balance ?? 0n,
      isContract: async (address) => (await sm.getCode(new EthAddress(hexToBytes(address)))).length > 0,
      balanceAt: (address, height) => this.options.balanceAt(address, height),
    }
  }

  /** Writes a run's changes into the state manager (and into `cache`, when the run used one). */
  async apply(sm: HostStateManager, view: StateView, cache?: Map<string, unknown>): Promise<void> {
    const {storage, balances, code} = view.changes()
    for (const {address, slot, value} of storage) {
      cache?.set(storageKey(address, slot), value)
      await sm.putStorage(new EthAddress(hexToBytes(address)), setLengthLeft(bigIntToBytes(slot), 32), value === 0n ? new Uint8Array(0) : bigIntToBytes(value))
    }
    for (const {address, value} of balances) {
      const at = new EthAddress(hexToBytes(address))
      const account = (await sm.getAccount(at)) ?? new Account()
      account.balance = value
      await sm.putAccount(at, account)
    }
    for (const {address, code: bytes} of code) await sm.putCode(new EthAddress(hexToBytes(address)), bytes)
  }

  // ----- which modules run ------------------------------------------------------------------

  /** The code of `entry`'s version `codeHash`: a built-in, or a user module loaded from the registry. */
  resolve(view: StateView, id: string, version: {codeHash: Hex; version: string}, builtin: boolean): NativeModule {
    if (builtin) {
      const module = this.builtins.get(builtinKey(id, version.version))
      if (!module) throw new Error(`this node has no built-in module ${id}@${version.version}`)
      return module
    }
    return view.load(`code:${version.codeHash}`, () => this.loadCode(view, version.codeHash))
  }

  private loadCode(view: StateView, codeHash: Hex): Promise<NativeModule> {
    let loading = this.loadedCode.get(codeHash)
    if (!loading) {
      const source = readCode({get: (slot) => view.getStorage(MODULE_REGISTRY_ADDRESS, slot)}, codeHash)
      if (!source) return Promise.reject(new Error(`no code stored for ${codeHash}`))
      loading = loadModuleSource(new TextDecoder().decode(source))
      this.loadedCode.set(codeHash, loading)
      loading.catch(() => this.loadedCode.delete(codeHash))
    }
    return loading
  }

  /** Loads (by code hash) the module whose source is `source`: what activation will run. */
  modules(view: StateView, height: bigint): RunningModule[] {
    const registry = registryReader(view)
    const out: RunningModule[] = []
    for (const id of listModuleIds(registry)) {
      if (id === 'registry') continue
      const entry = readEntry(registry, id)
      if (!entry) continue
      const running = this.running(view, entry, height)
      if (running) out.push(running)
    }
    return out
  }

  private running(view: StateView, entry: RegistryEntry, height: bigint): RunningModule | undefined {
    const version = versionAt(entry, height)
    if (!version) return undefined
    if (!entry.builtin && userModulesOff(view)) return undefined
    const module = this.resolve(view, entry.id, version, entry.builtin)
    return {id: entry.id, address: entry.address, module, params: Object.freeze(module.params.parse(entry.params) as Record<string, unknown>), builtin: entry.builtin}
  }

  /** The running module at `address` in block `height`, with the registry itself first. */
  private moduleAt(view: StateView, address: Address, height: bigint, cached?: RunningModule[]): RunningModule | undefined {
    if (address.toLowerCase() === MODULE_REGISTRY_ADDRESS) return {id: 'registry', address: MODULE_REGISTRY_ADDRESS, module: registryModule, params: {}, builtin: true}
    if (cached) return cached.find((item) => item.address.toLowerCase() === address.toLowerCase())
    return this.modules(view, height).find((item) => item.address.toLowerCase() === address.toLowerCase())
  }

  /** The chain parameters governance has set (those it has not are left out). */
  async chainParams(sm: HostStateManager): Promise<Partial<Record<ChainParameter, bigint>>> {
    const out = await runWithState(this.source(sm), (view) => {
      const registry = registryReader(view)
      const params: Partial<Record<ChainParameter, bigint>> = {}
      for (const name of CHAIN_PARAMETERS) {
        const value = readChainParam(registry, name)
        if (value !== undefined) params[name] = value
      }
      return params
    })
    return out.ok ? out.result : {}
  }

  /**
   * What executing `proposal` in block `env` would change, on a copy of the state `sm` holds
   * (nothing is written): the registry's view before and after (modules, chain parameters,
   * feature flags), every storage word and balance that would change, or why it would fail.
   */
  async simulateProposal(sm: HostStateManager, env: HostBlockEnv, proposal: unknown): Promise<ProposalSimulation> {
    const governance = moduleAddress('governance')
    const out = await runWithState(this.source(sm), (view): ProposalSimulation => {
      const before = registrySnapshot(view)
      const fork = view.fork()
      try {
        executeProposal({host: this, view: fork, env, proposalId: 0n, proposal, callModule: (id, name, args) => this.internalCall(fork, env, id, name, args, governance)})
      } catch (err) {
        if (isNeedsLoading(err)) throw err
        return {ok: false, error: err instanceof Error ? err.message : String(err), before, storage: [], balances: []}
      }
      const changes = fork.changes()
      return {
        ok: true,
        before,
        after: registrySnapshot(fork),
        storage: changes.storage.map((write) => ({...write, before: view.getStorage(write.address, write.slot)})).filter((write) => write.before !== write.value),
        balances: changes.balances.map((write) => ({...write, before: view.getBalance(write.address)})).filter((write) => write.before !== write.value),
      }
    })
    if (!out.ok) throw out.error
    return out.result
  }

  /** The validator set governance keeps, in the state `sm` holds (empty: the chain names none). */
  async validators(sm: HostStateManager): Promise<RegistryValidator[]> {
    const out = await runWithState(this.source(sm), (view) => readValidators(registryReader(view)))
    if (!out.ok) throw out.error
    return out.result
  }

  /** Governance's proposals by state and votes cast, in the state `sm` holds. */
  async governanceStats(sm: HostStateManager): Promise<ReturnType<typeof governanceStats>> {
    const address = moduleAddress('governance')
    const out = await runWithState(this.source(sm), (view) => governanceStats({get: (slot) => view.getStorage(address, slot)}))
    if (!out.ok) throw out.error
    return out.result
  }

  /** The modules running in block `height` over `sm`, for callers outside a block (RPC, mempool). */
  async runningModules(sm: HostStateManager, height: bigint): Promise<RunningModule[]> {
    const out = await runWithState(this.source(sm), (view) => this.modules(view, height))
    if (!out.ok) throw out.error
    return out.result
  }

  // ----- calls through the EVM --------------------------------------------------------------

  /**
   * Makes `evm` run modules at their addresses (transactions, contract calls, eth_call), and
   * refuse every contract creation, CREATE and CREATE2 from inside contracts included, while the
   * feature flag `contract-deployment` is off.
   */
  attach(evm: EVM): void {
    const target = evm as unknown as {_loadCode(message: EvmMessage): Promise<void>; _executeCreate(message: EvmMessage): Promise<unknown>; _block?: EvmBlock}
    const create = target._executeCreate.bind(evm)
    target._executeCreate = async (message: EvmMessage) => {
      const out = await runWithState(this.source(stateOf(evm)), (view) => readFeatureFlag(registryReader(view), CONTRACT_DEPLOYMENT_FLAG) === false)
      if (out.ok && out.result) {
        const how = message.depth > 0 ? (message.salt ? 'CREATE2' : 'CREATE') : 'a contract-creating transaction'
        return {execResult: revert(0n, `contract deployment is switched off (feature flag ${CONTRACT_DEPLOYMENT_FLAG}): ${how} refused`)}
      }
      return create(message)
    }
    const original = target._loadCode.bind(evm)
    target._loadCode = async (message: EvmMessage) => {
      if (!message.code && isModuleAddress(message.codeAddress.toString())) {
        message.code = (opts: {gasLimit: bigint}) => this.call(evm, message, opts.gasLimit)
        message.isCompiled = true
        return
      }
      return original(message)
    }
  }

  private async call(evm: EVM, message: EvmMessage, gasLimit: bigint): Promise<PrecompileResult> {
    const block = (evm as unknown as {_block?: EvmBlock})._block
    const env: HostBlockEnv = {
      height: block?.header.number ?? 0n,
      timestamp: block?.header.timestamp ?? 0n,
      coinbase: getAddress(block?.header.coinbase.toString() ?? '0x0000000000000000000000000000000000000000'),
      baseFeePerGas: block?.header.baseFeePerGas ?? 0n,
    }
    const address = getAddress(message.codeAddress.toString())
    const sm = stateOf(evm)
    if (message.delegatecall || message.to?.toString() !== message.codeAddress.toString()) {
      return revert(gasLimit, 'a native module cannot be run by DELEGATECALL or CALLCODE')
    }
    const data = ethBytesToHex(message.data) as Hex
    const sender = getAddress(message.caller.toString())
    // This call's writes may be reverted with the frame: the hooks' cache cannot follow that.
    this.blockCache.get(evm)?.clear()
    let gasUsed = 0n
    let callee: {id: string; builtin: boolean; call: string} | undefined
    const out = await runWithState(this.source(sm), (view) => {
      gasUsed = 0n
      callee = undefined
      const running = this.moduleAt(view, address, env.height, this.blockModules.get(evm))
      if (!running) throw new CallReverted(userModulesOff(view) ? `no active native module at ${address} (user modules are switched off: feature flag ${USER_MODULES_FLAG})` : `no active native module at ${address}`)
      let decoded: {name: string; args: readonly unknown[]}
      try {
        decoded = decodeModuleCall(running.module, data)
      } catch {
        throw new CallReverted(`module ${running.id} has no function with selector ${data.slice(0, 10)}`)
      }
      const handler = running.module.calls[decoded.name]
      if (!handler) throw new CallReverted(`module ${running.id} does not implement ${decoded.name}`)
      callee = {id: running.id, builtin: running.builtin, call: decoded.name}
      const charge = (amount: bigint) => {
        gasUsed += amount
        if (gasUsed > gasLimit) throw new CallReverted('out of gas')
      }
      charge(running.module.gas[decoded.name] ?? DEFAULT_CALL_GAS)
      const ctx = this.context(view, running, env, sender, message.value, charge)
      const result = runModule(running, () => handler(ctx, decoded.args))
      if (message.isStatic && view.hasWrites) throw new CallReverted(`${decoded.name} changes state and was called statically`)
      return encodeModuleResult(running.module, decoded.name, result)
    })
    if (!out.ok) {
      if (isNeedsLoading(out.error)) throw out.error
      if (out.error instanceof CallReverted && out.error.message === 'out of gas') return {returnValue: new Uint8Array(0), executionGasUsed: gasLimit, exceptionError: new EVMError(EVMError.errorMessages.OUT_OF_GAS)}
      return revert(gasUsed > gasLimit ? gasLimit : gasUsed, this.revertReason(callee, out.error))
    }
    await this.apply(sm, out.view)
    return {returnValue: hexToBytes(out.result), executionGasUsed: gasUsed, logs: out.view.logs}
  }

  private revertReason(callee: {id: string; builtin: boolean; call: string} | undefined, error: unknown): string {
    return moduleRevertReason(callee, error, this.options.onModuleBug)
  }

  // ----- contexts -----------------------------------------------------------------------------

  private readonlyContext(view: StateView, running: RunningModule, env: HostBlockEnv, sender: Address, value: bigint): ReadonlyModuleContext {
    return new ReaderContext(view, running, env, sender, value)
  }

  private context(view: StateView, running: RunningModule, env: HostBlockEnv, sender: Address, value: bigint, charge: (gas: bigint) => void): ModuleContext {
    return new HookContext(this, view, running, env, sender, value, charge)
  }

  /** `ctx.system` of a built-in module's context. */
  systemOps(view: StateView, running: RunningModule, env: HostBlockEnv): SystemOps {
    return {
      mint: (to, amount) => {
        view.move(undefined, getAddress(to), amount)
        view.setStorage(MODULE_REGISTRY_ADDRESS, SUPPLY_SLOT, view.getStorage(MODULE_REGISTRY_ADDRESS, SUPPLY_SLOT) + amount)
      },
      move: (from, to, amount) => view.move(getAddress(from), getAddress(to), amount),
      circulatingSupply: () => view.getStorage(MODULE_REGISTRY_ADDRESS, CIRCULATING_SLOT),
      execute: (proposal, proposalId) => {
        const fork = view.fork()
        executeProposal({host: this, view: fork, env, proposalId, proposal, callModule: (id, name, args) => this.internalCall(fork, env, id, name, args, running.address)})
        fork.merge()
      },
    }
  }

  /**
   * `ctx.call` of module `caller`: function `name` of the running module `target` (id or system
   * address), sent by the caller's address with no value, its base gas and everything it charges
   * taken from the caller's gas; it runs on a layer of its own, kept only when it returns.
   */
  moduleCall(view: StateView, env: HostBlockEnv, caller: RunningModule, target: string, name: string, args: readonly unknown[], charge: (gas: bigint) => void): unknown {
    const running = isModuleAddress(target)
      ? this.moduleAt(view, getAddress(target), env.height)
      : isModuleId(target) ? this.modules(view, env.height).find((item) => item.id === target) : undefined
    if (!running) {
      if (!isModuleAddress(target) && !isModuleId(target)) throw new Error(`ctx.call: ${target} is not a module id or module address (calls to contracts are not supported)`)
      throw new Error(`ctx.call: no active module ${target}`)
    }
    if (running.address.toLowerCase() === caller.address.toLowerCase()) throw new Error('ctx.call: a module cannot call itself')
    const handler = Object.hasOwn(running.module.calls, name) ? running.module.calls[name] : undefined
    if (!handler) throw new Error(`ctx.call: module ${running.id} has no call ${name}`)
    const fn = running.module.abi.find((item) => item.type === 'function' && item.name === name)
    if (fn?.type === 'function' && fn.stateMutability === 'payable') throw new Error(`ctx.call: ${running.id}.${name} is payable; module calls carry no value`)
    charge(running.module.gas[name] ?? DEFAULT_CALL_GAS)
    const fork = view.fork()
    const result = runModule(running, () => handler(this.context(fork, running, env, caller.address, 0n, charge), args))
    fork.merge()
    return result
  }

  /** A call from one built-in module to another inside a hook (governance paying out of the treasury). */
  private internalCall(view: StateView, env: HostBlockEnv, id: string, name: string, args: readonly unknown[], sender: Address): unknown {
    const running = this.modules(view, env.height).find((item) => item.id === id)
    if (!running) throw new Error(`module ${id} is not active`)
    const handler = running.module.calls[name]
    if (!handler) throw new Error(`module ${id} has no call ${name}`)
    return handler(this.context(view, running, env, sender, 0n, hookCharge(running)), args)
  }

  // ----- block hooks --------------------------------------------------------------------------

  /**
   * Block start: records the circulating supply, fixes the block's running modules and runs
   * their beginBlock. Returns the hooks' logs (block events, outside any receipt).
   */
  async beginBlock(evm: EVM, env: HostBlockEnv, stateRoot?: Uint8Array): Promise<ViewLog[]> {
    const sm = stateOf(evm)
    const cache = new Map<string, unknown>()
    this.blockCache.set(evm, cache)
    const key = stateRoot ? `${ethBytesToHex(stateRoot)}:${env.height}` : undefined
    const known = key === undefined ? undefined : this.modulesByState.get(key)
    const out = await runWithState(this.source(sm), (view) => {
      const modules = known ?? this.modules(view, env.height)
      const registry = registryReader(view)
      let inModules = 0n
      for (const id of listModuleIds(registry)) inModules += view.getBalance(moduleAddress(id))
      const supply = view.getStorage(MODULE_REGISTRY_ADDRESS, SUPPLY_SLOT)
      view.setStorage(MODULE_REGISTRY_ADDRESS, CIRCULATING_SLOT, supply > inModules ? supply - inModules : 0n)
      for (const running of modules) this.hook(view, running, env, 'beginBlock', (ctx) => running.module.beginBlock?.(ctx))
      return modules
    }, cache)
    if (!out.ok) throw out.error
    if (key !== undefined && !known) {
      this.modulesByState.set(key, out.result)
      if (this.modulesByState.size > MODULES_BY_STATE) this.modulesByState.delete(this.modulesByState.keys().next().value!)
    }
    this.blockModules.set(evm, out.result)
    this.report(out.view)
    await this.apply(sm, out.view, cache)
    return out.view.logs
  }

  /**
   * Block end: the base fee the block burnt (`burnt` wei) leaves the native supply, then every
   * running module's endBlock (governance tallies and executes here).
   */
  async endBlock(evm: EVM, env: HostBlockEnv, burnt = 0n): Promise<ViewLog[]> {
    const sm = stateOf(evm)
    const modules = this.blockModules.get(evm)
    const cache = this.blockCache.get(evm)
    this.blockModules.delete(evm)
    this.blockCache.delete(evm)
    const out = await runWithState(this.source(sm), (view) => {
      if (burnt > 0n) {
        const supply = view.getStorage(MODULE_REGISTRY_ADDRESS, SUPPLY_SLOT)
        view.setStorage(MODULE_REGISTRY_ADDRESS, SUPPLY_SLOT, supply > burnt ? supply - burnt : 0n)
      }
      for (const running of modules ?? this.modules(view, env.height)) this.hook(view, running, env, 'endBlock', (ctx) => running.module.endBlock?.(ctx))
    }, cache)
    if (!out.ok) throw out.error
    this.report(out.view)
    await this.apply(sm, out.view)
    return out.view.logs
  }

  private report(view: StateView): void {
    for (const failure of view.failures) this.options.onHookError?.(failure.module, failure.hook, failure.error)
  }

  /** Forgets the block an EVM was building (it was abandoned). */
  dropBlock(evm: EVM): void {
    this.blockModules.delete(evm)
    this.blockCache.delete(evm)
  }

  /** Runs one module's hook on a layer of its own: a hook that throws changes nothing. */
  private hook(view: StateView, running: RunningModule, env: HostBlockEnv, name: string, fn: (ctx: ModuleContext) => void, sender: Address = running.address, value = 0n): void {
    const fork = view.fork()
    try {
      runModule(running, () => fn(this.context(fork, running, env, sender, value, hookCharge(running))))
      fork.merge()
    } catch (err) {
      if (isNeedsLoading(err)) throw err
      // Reported once the run is the final one: a run on stand-in values may fail for nothing.
      view.failures.push({module: running.id, hook: name, error: err})
    }
  }

  /**
   * The modules' verdict on a transaction before it runs: validateTx of the module it is sent
   * to, then checkTx of every running module. The first refusal decides.
   */
  async checkTx(sm: HostStateManager, env: HostBlockEnv, tx: ChainTx, where: {evm?: EVM; modules?: RunningModule[]} = {}): Promise<CheckResult> {
    const {evm} = where
    const cache = evm ? this.blockCache.get(evm) : undefined
    const modules = where.modules ?? (evm ? this.blockModules.get(evm) : undefined)
    const out = await runWithState(this.source(sm), (view): CheckResult => {
      const running = modules ?? this.modules(view, env.height)
      if (tx.to === null && readFeatureFlag(registryReader(view), CONTRACT_DEPLOYMENT_FLAG) === false) {
        return {ok: false, module: 'registry', reason: `contract deployment is switched off (feature flag ${CONTRACT_DEPLOYMENT_FLAG})`}
      }
      if (tx.to !== null && isModuleAddress(tx.to)) {
        const target = this.moduleAt(view, tx.to, env.height, running)
        if (!target) return {ok: false, module: 'registry', reason: userModulesOff(view) ? `no active native module at ${tx.to} (user modules are switched off: feature flag ${USER_MODULES_FLAG})` : `no active native module at ${tx.to}`}
        if (target.module.validateTx) {
          let decoded: {name: string; args: readonly unknown[]}
          try {
            decoded = decodeModuleCall(target.module, tx.data)
          } catch {
            return {ok: false, module: target.id, reason: `module ${target.id} has no function with selector ${tx.data.slice(0, 10)}`}
          }
          const ctx = this.readonlyContext(view, target, env, tx.from, tx.value)
          const verdict = guarded(target, () => target.module.validateTx!({from: tx.from, value: tx.value, gasLimit: tx.gasLimit, data: tx.data, name: decoded.name, args: decoded.args}, ctx))
          if (!verdict.ok) return {ok: false, module: target.id, reason: verdict.reason}
        }
      }
      const verdicts: TxVerdicts = new Map()
      for (const item of running) {
        if (!item.module.checkTx) continue
        const verdict = guarded(item, () => item.module.checkTx!(tx, this.readonlyContext(view, item, env, tx.from, tx.value)))
        if (!verdict.ok) return {ok: false, module: item.id, reason: verdict.reason}
        verdicts.set(item.id, verdict)
      }
      return {ok: true, verdicts}
    }, cache)
    if (!out.ok) return {ok: false, module: 'host', reason: out.error instanceof Error ? out.error.message : String(out.error)}
    return out.result
  }

  /** After a transaction: every running module's afterTx. Returns their logs. */
  async afterTx(evm: EVM, env: HostBlockEnv, tx: ChainTx, outcome: TxOutcome, verdicts: TxVerdicts): Promise<ViewLog[]> {
    const sm = stateOf(evm)
    const modules = this.blockModules.get(evm)
    if (modules && !modules.some((running) => running.module.afterTx)) return []
    const cache = this.blockCache.get(evm)
    const out = await runWithState(this.source(sm), (view) => {
      for (const running of modules ?? this.modules(view, env.height)) {
        if (!running.module.afterTx) continue
        const verdict = verdicts.get(running.id) ?? {ok: true}
        this.hook(view, running, env, 'afterTx', (ctx) => running.module.afterTx!(tx, outcome, ctx, verdict), tx.from, tx.value)
      }
    }, cache)
    if (!out.ok) throw out.error
    this.report(out.view)
    await this.apply(sm, out.view, cache)
    return out.view.logs
  }

}

/**
 * The contexts module code gets. A hook runs for every running module around every transaction,
 * so a context is an object whose methods live on its prototype (one allocation, not a closure per
 * method per call); what it holds (the view, the charge) is in private fields, out of the module's
 * reach as the closures kept it before.
 */
class ReaderContext implements ReadonlyModuleContext {
  readonly height: bigint
  readonly timestamp: bigint
  readonly coinbase: Address
  readonly self: Address
  readonly sender: Address
  readonly value: bigint
  readonly params: Readonly<Record<string, unknown>>
  readonly storage: Pick<ModuleStorage, 'get'>
  readonly #view: StateView

  constructor(view: StateView, running: RunningModule, env: HostBlockEnv, sender: Address, value: bigint, storage?: ModuleStorage) {
    this.height = env.height
    this.timestamp = env.timestamp
    this.coinbase = env.coinbase
    this.self = running.address
    this.sender = sender
    this.value = value
    this.params = running.params
    this.#view = view
    this.storage = storage ?? new ReadStorage(view, running.address)
  }

  balanceOf(address: Address): bigint {
    return this.#view.getBalance(address)
  }

  balanceAt(address: Address, height: bigint): bigint {
    if (height >= this.height) throw new Error(`balanceAt: block ${height} is not before the current block ${this.height}`)
    return this.#view.balanceAt(address, height)
  }

  isContract(address: Address): boolean {
    return this.#view.isContract(address)
  }
}

class ReadStorage {
  readonly #view: StateView
  readonly #address: Address
  constructor(view: StateView, address: Address) {
    this.#view = view
    this.#address = address
  }

  get(slot: bigint): bigint {
    return this.#view.getStorage(this.#address, slot)
  }
}

class WriteStorage implements ModuleStorage {
  readonly #view: StateView
  readonly #address: Address
  readonly #charge: (gas: bigint) => void
  constructor(view: StateView, address: Address, charge: (gas: bigint) => void) {
    this.#view = view
    this.#address = address
    this.#charge = charge
  }

  get(slot: bigint): bigint {
    return this.#view.getStorage(this.#address, slot)
  }

  set(slot: bigint, next: bigint): void {
    if (typeof next !== 'bigint' || next < 0n || next >= 1n << 256n) throw new RangeError('a storage value must be a bigint in [0, 2^256)')
    this.#charge(STORAGE_WRITE_GAS)
    this.#view.setStorage(this.#address, slot, next)
  }
}

class HookContext extends ReaderContext implements ModuleContext {
  declare readonly storage: ModuleStorage
  readonly #host: ModuleHost
  readonly #view: StateView
  readonly #running: RunningModule
  readonly #env: HostBlockEnv
  readonly #charge: (gas: bigint) => void
  #system?: SystemOps

  constructor(host: ModuleHost, view: StateView, running: RunningModule, env: HostBlockEnv, sender: Address, value: bigint, charge: (gas: bigint) => void) {
    super(view, running, env, sender, value, new WriteStorage(view, running.address, charge))
    this.#host = host
    this.#view = view
    this.#running = running
    this.#env = env
    this.#charge = charge
  }

  /** Only the built-in modules have it (made on first use: most hooks never ask). */
  get system(): SystemOps | undefined {
    if (!this.#running.builtin) return undefined
    this.#system ??= this.#host.systemOps(this.#view, this.#running, this.#env)
    return this.#system
  }

  emit(name: string, args: Record<string, unknown>): void {
    const {topics, data} = encodeModuleEvent(this.#running.module, name, args)
    this.#charge(logGas(topics.length, (data.length - 2) / 2))
    this.#view.logs.push([hexToBytes(this.self), topics.map((topic) => hexToBytes(topic)), hexToBytes(data)])
  }

  transfer(to: Address, amount: bigint): void {
    this.#view.move(this.self, getAddress(to), amount)
  }

  chargeGas(amount: bigint): void {
    if (typeof amount !== 'bigint' || amount < 0n) throw new RangeError('chargeGas: amount must be a non-negative bigint')
    this.#charge(amount)
  }

  call(target: string, name: string, args: readonly unknown[] = []): unknown {
    return this.#host.moduleCall(this.#view, this.#env, this.#running, target, name, args, this.#charge)
  }
}

/** The registry as governance changes it: modules, chain parameters, feature flags. */
export interface RegistrySnapshot {
  modules: RegistryEntry[]
  chain: Partial<Record<ChainParameter, bigint>>
  flags: Record<string, boolean>
}

export interface ProposalSimulation {
  ok: boolean
  error?: string
  before: RegistrySnapshot
  after?: RegistrySnapshot
  storage: {address: Address; slot: bigint; before: bigint; value: bigint}[]
  balances: {address: Address; before: bigint; value: bigint}[]
}

function registrySnapshot(view: StateView): RegistrySnapshot {
  const registry = registryReader(view)
  const modules = listModuleIds(registry).flatMap((id) => readEntry(registry, id) ?? [])
  const chain: Partial<Record<ChainParameter, bigint>> = {}
  for (const name of CHAIN_PARAMETERS) {
    const value = readChainParam(registry, name)
    if (value !== undefined) chain[name] = value
  }
  return {modules, chain, flags: listFeatureFlags(registry)}
}

/**
 * Runs module code. A user module's calls and hooks enter its QuickJS sandbox (load-module.ts),
 * which has no clock, randomness or timers to guard; a built-in's run as they are (the chain's own
 * code, replayed under the full determinism guard by its tests).
 */
function runModule<T>(_running: Pick<RunningModule, 'builtin'>, fn: () => T): T {
  return fn()
}

function guarded(running: Pick<RunningModule, 'builtin'>, fn: () => ModuleValidation): ModuleValidation {
  try {
    return runModule(running, fn)
  } catch (err) {
    if (isNeedsLoading(err)) throw err
    return {ok: false, reason: `the check failed: ${err instanceof Error ? err.message : String(err)}`}
  }
}

/**
 * Feature flags the chain reads (set by feature-flag proposals). `user-modules` off is the
 * emergency brake: no user module runs (calls revert, hooks are skipped) until it is turned on
 * again; built-in modules go on. `contract-deployment` off refuses every contract-creating
 * transaction (mempool and block validity) and makes CREATE and CREATE2 inside contracts revert
 * (see attach). An unset flag is on.
 */
export const USER_MODULES_FLAG = 'user-modules'
export const CONTRACT_DEPLOYMENT_FLAG = 'contract-deployment'

function userModulesOff(view: StateView): boolean {
  return readFeatureFlag(registryReader(view), USER_MODULES_FLAG) === false
}

function builtinKey(id: string, version: string): string {
  return `${id}@${version}`
}

export function registryReader(view: StateView): {get(slot: bigint): bigint} {
  return {get: (slot) => view.getStorage(MODULE_REGISTRY_ADDRESS, slot)}
}

/**
 * The gas meter of a hook or of a call outside any transaction (a proposal's call into a module):
 * a user module gets {@link HOOK_GAS_LIMIT} for the whole of it, the modules it reaches through
 * `ctx.call` included (their base gas and everything they charge come out of it, as in a
 * transaction). Built-in modules are our code and are not metered.
 */
function hookCharge(running: RunningModule): (gas: bigint) => void {
  if (running.builtin) return () => {}
  let used = 0n
  return (gas) => {
    used += gas
    if (used > HOOK_GAS_LIMIT) throw new CallReverted('out of gas')
  }
}

function revert(gasUsed: bigint, reason: string): PrecompileResult {
  return {
    returnValue: hexToBytes(encodeErrorResult({abi: [{type: 'error', name: 'Error', inputs: [{type: 'string', name: 'message'}]}], errorName: 'Error', args: [reason]})),
    executionGasUsed: gasUsed,
    exceptionError: new EVMError(EVMError.errorMessages.REVERT),
  }
}

interface EvmMessage {
  code?: unknown
  isCompiled?: boolean
  codeAddress: EthAddress
  to?: EthAddress
  caller: EthAddress
  value: bigint
  data: Uint8Array
  isStatic: boolean
  delegatecall: boolean
  depth: number
  /** Set for CREATE2. */
  salt?: Uint8Array
}

interface EvmBlock {
  header: {number: bigint; timestamp: bigint; coinbase: EthAddress; baseFeePerGas?: bigint}
}

interface PrecompileResult {
  returnValue: Uint8Array
  executionGasUsed: bigint
  exceptionError?: EVMError
  logs?: ViewLog[]
}

function stateOf(evm: EVM): HostStateManager {
  return (evm as {stateManager: HostStateManager}).stateManager
}

/**
 * The reason a failed module call reverts with. A revert (`revert()`, the host's own refusals, a
 * user module's throw) keeps its message; anything else a built-in module throws is a bug:
 * reported through `onBug`, and reverted with a message that names the module, not the bug's text.
 */
export function moduleRevertReason(callee: {id: string; builtin: boolean; call: string} | undefined, error: unknown, onBug?: (module: string, call: string, error: unknown) => void): string {
  const message = error instanceof Error ? error.message : String(error)
  if (!callee?.builtin || error instanceof ModuleRevert || error instanceof CallReverted) return message
  onBug?.(callee.id, callee.call, error)
  return `internal error in module ${callee.id}`
}
