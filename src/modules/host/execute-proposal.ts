import {checkGovernanceParams, type GovernanceParams} from '../../governance/lifecycle.js'
import type {Proposal} from '../../governance/proposal.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress} from '../module.js'
import {governanceParamsSchema} from './governance-module.js'
import type {HostBlockEnv} from '../../chain/module-hooks.js'
import type {NativeModule} from '../module.js'

import {CHAIN_PARAMETERS, type ChainParameter, MODULE_ACCOUNT_CODE, builtinCodeHash, deactivateModule, readCode, readEntry, readValidators, reactivateModule, scheduleModule, versionAt, writeChainParam, writeFeatureFlag, writeParams, writeValidators} from './registry.js'
import type {StateView} from './state-view.js'

/**
 * What a passed proposal does to the chain, run in governance's endBlock on a layer of the state
 * that is kept only if this returns: any throw marks the proposal Failed with the message as its
 * reason and changes nothing.
 */

/** What executing a proposal needs of the module host: the modules' code by version. */
export interface ModuleResolver {
  builtin(id: string, version: string): NativeModule | undefined
  resolve(view: StateView, id: string, version: {codeHash: `0x${string}`; version: string}, builtin: boolean): NativeModule
}

export interface ExecuteProposalInput {
  host: ModuleResolver
  view: StateView
  env: HostBlockEnv
  proposalId: bigint
  proposal: unknown
  callModule(id: string, name: string, args: readonly unknown[]): unknown
}

/** Modules governance cannot switch off or replace: it would lose itself. */
const PINNED = new Set(['registry', 'governance'])

export function executeProposal({host, view, env, proposalId, proposal: raw, callModule}: ExecuteProposalInput): void {
  const proposal = raw as Proposal
  const registry = {
    get: (slot: bigint) => view.getStorage(MODULE_REGISTRY_ADDRESS, slot),
    set: (slot: bigint, value: bigint) => view.setStorage(MODULE_REGISTRY_ADDRESS, slot, value),
  }
  /** The first block a scheduled change may take effect in: the next one at the earliest. */
  const fromHeight = (height: number) => (BigInt(height) > env.height ? BigInt(height) : env.height + 1n)

  switch (proposal.kind) {
    case 'text':
      return
    case 'parameter-change': {
      for (const change of proposal.changes) {
        if (change.module === 'chain') {
          if (!(CHAIN_PARAMETERS as readonly string[]).includes(change.key)) throw new Error(`chain has no parameter ${change.key}; it has ${CHAIN_PARAMETERS.join(', ')}`)
          const value = BigInt(change.value as number)
          if (value < 1n) throw new Error(`chain.${change.key} must be at least 1`)
          writeChainParam(registry, change.key as ChainParameter, value)
          continue
        }
        const entry = readEntry(registry, change.module)
        if (!entry) throw new Error(`no module "${change.module}"`)
        const version = versionAt(entry, env.height) ?? entry.current
        const module = host.resolve(view, entry.id, version, entry.builtin)
        const next = {...entry.params, [change.key]: change.value}
        const parsed = module.params.safeParse(next)
        if (!parsed.success) throw new Error(`invalid ${change.module}.${change.key}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`)
        if (change.module === 'governance') checkGovernanceParams(governanceParamsSchema.parse(next) as GovernanceParams)
        writeParams(registry, change.module, next)
      }
      return
    }
    case 'module-activate':
    case 'module-upgrade': {
      const existing = readEntry(registry, proposal.id)
      const running = existing ? versionAt(existing, env.height) : undefined
      if (proposal.kind === 'module-activate' && running) throw new Error(`module ${proposal.id} is already active (version ${running.version}); propose an upgrade`)
      if (proposal.kind === 'module-upgrade' && !running) throw new Error(`module ${proposal.id} is not active; propose its activation`)
      if (PINNED.has(proposal.id)) throw new Error(`module ${proposal.id} is part of the chain and cannot be replaced by proposal`)
      const builtin = host.builtin(proposal.id, proposal.version)
      const isBuiltin = builtin !== undefined && builtinCodeHash(proposal.id, proposal.version) === proposal.codeHash
      if (!isBuiltin && !readCode(registry, proposal.codeHash)) {
        throw new Error(`no code with hash ${proposal.codeHash} is stored in the registry; upload the module's source (registry storeCode) before the proposal executes`)
      }
      const module = host.resolve(view, proposal.id, {codeHash: proposal.codeHash, version: proposal.version}, isBuiltin)
      if (module.manifest.id !== proposal.id) throw new Error(`the code with hash ${proposal.codeHash} is module "${module.manifest.id}", not "${proposal.id}"`)
      if (module.manifest.version !== proposal.version) throw new Error(`the code with hash ${proposal.codeHash} is version ${module.manifest.version}, not ${proposal.version}`)
      const params = existing?.params ?? {}
      const parsed = module.params.safeParse(params)
      if (!parsed.success) throw new Error(`the parameters of ${proposal.id} do not fit version ${proposal.version}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`)
      const version = {codeHash: proposal.codeHash, version: proposal.version, from: fromHeight(proposal.height)}
      if (existing && !running && existing.deactivateAt !== undefined) reactivateModule(registry, proposal.id, version)
      else scheduleModule(registry, proposal.id, version, {builtin: isBuiltin, params})
      view.setCode(moduleAddress(proposal.id), MODULE_ACCOUNT_CODE)
      return
    }
    case 'module-deactivate': {
      if (PINNED.has(proposal.id)) throw new Error(`module ${proposal.id} is part of the chain and cannot be deactivated`)
      const entry = readEntry(registry, proposal.id)
      if (!entry || !versionAt(entry, env.height)) throw new Error(`module ${proposal.id} is not active`)
      deactivateModule(registry, proposal.id, fromHeight(proposal.height))
      return
    }
    case 'treasury-spend':
      callModule('treasury', 'spend', [proposal.to, BigInt(proposal.amount), proposalId])
      return
    case 'feature-flag':
      writeFeatureFlag(registry, proposal.flag, proposal.enabled)
      return
    case 'validator-add': {
      const validators = readValidators(registry)
      if (validators.length === 0) throw new Error('this chain has no validator set to change (its genesis names no validators)')
      const address = proposal.address.toLowerCase() as `0x${string}`
      if (validators.some((v) => v.address === address)) throw new Error(`${proposal.address} is already a validator`)
      writeValidators(registry, [...validators, {address, power: proposal.power ?? 1}])
      return
    }
    case 'validator-remove': {
      const validators = readValidators(registry)
      const address = proposal.address.toLowerCase()
      if (!validators.some((v) => v.address === address)) throw new Error(`${proposal.address} is not a validator`)
      if (validators.length === 1) throw new Error(`${proposal.address} is the last validator; the chain cannot run without one`)
      writeValidators(registry, validators.filter((v) => v.address !== address))
      return
    }
  }
}

