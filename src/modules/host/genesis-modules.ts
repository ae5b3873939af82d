import type {Genesis, GenesisAccount} from '../../chain/genesis.js'
import {MODULE_REGISTRY_ADDRESS, type ModuleStorage, type NativeModule, moduleAddress} from '../module.js'
import {wordToHex} from '../storage-codec.js'
import {MODULE_ACCOUNT_CODE, REGISTRY_VERSION, SUPPLY_SLOT, builtinCodeHash, scheduleModule, writeValidators} from './registry.js'

/** A built-in module a genesis activates from block 0, with its parameters (JSON values). */
export interface GenesisModule {
  module: NativeModule
  params?: Record<string, unknown>
  /** Wei the module's account starts with (the faucet's funds). */
  balance?: bigint
}

/**
 * Adds the native modules to a genesis: the registry's storage listing every module (active from
 * block 0 at its built-in code hash), each module's account (marker code, starting balance) and
 * the native supply, which the registry then keeps current, and the genesis validator set, which
 * governance then changes. Returns a new genesis.
 */
export function addModulesToGenesis(genesis: Genesis, modules: readonly GenesisModule[]): Genesis {
  const words = new Map<bigint, bigint>()
  const storage: ModuleStorage = {
    get: (slot) => words.get(slot) ?? 0n,
    set: (slot, value) => {
      if (value === 0n) words.delete(slot)
      else words.set(slot, value)
    },
  }
  const alloc: Record<string, GenesisAccount> = {...genesis.alloc}
  const code = `0x${Buffer.from(MODULE_ACCOUNT_CODE).toString('hex')}`
  scheduleModule(storage, 'registry', {codeHash: builtinCodeHash('registry', REGISTRY_VERSION), version: REGISTRY_VERSION, from: 0n}, {builtin: true})
  for (const {module, params, balance} of modules) {
    const {id, version} = module.manifest
    scheduleModule(storage, id, {codeHash: builtinCodeHash(id, version), version, from: 0n}, {builtin: true, params: params ?? {}})
    alloc[moduleAddress(id).toLowerCase()] = {balance: `0x${(balance ?? 0n).toString(16)}`, code}
  }
  if (genesis.validators && genesis.validators.length > 0) {
    writeValidators(storage, genesis.validators.map((v) => ({address: v.address.toLowerCase() as `0x${string}`, power: v.power})))
  }
  let supply = 0n
  for (const account of Object.values(alloc)) supply += BigInt(account.balance)
  storage.set(SUPPLY_SLOT, supply)
  alloc[MODULE_REGISTRY_ADDRESS.toLowerCase()] = {
    balance: '0x0',
    code,
    storage: Object.fromEntries([...words].sort(([a], [b]) => (a < b ? -1 : 1)).map(([slot, value]) => [wordToHex(slot), wordToHex(value)])),
  }
  return {...genesis, alloc}
}

/** Whether a genesis carries the native modules (a registry account). */
export function genesisHasModules(genesis: Genesis): boolean {
  return MODULE_REGISTRY_ADDRESS.toLowerCase() in genesis.alloc || MODULE_REGISTRY_ADDRESS in genesis.alloc
}
