import {governanceModule} from '../host/governance-module.js'
import type {GenesisModule} from '../host/genesis-modules.js'
import type {NativeModule} from '../module.js'
import {faucet} from './faucet.js'
import {NO_VERIFIER_KEY, fl} from './fl.js'
import {mevRedistribution} from './mev-redistribution.js'
import {ruleEngine} from './rule-engine.js'
import {treasury} from './treasury.js'
import {withdrawalGuard} from './withdrawal-guard.js'

export {faucet, fl, mevRedistribution, ruleEngine, treasury, withdrawalGuard, governanceModule}

/** Every built-in module this node can run (the registry aside). */
export const BUILTIN_MODULES: readonly NativeModule[] = [governanceModule, treasury, faucet, withdrawalGuard, mevRedistribution, ruleEngine, fl]

/** What the faucet holds at genesis: 1,000,000 ether of dev funds. */
export const FAUCET_GENESIS_BALANCE = 1_000_000n * 10n ** 18n

/** What the treasury holds at genesis on a devnet: 100,000 ether of dev funds, so FL rewards and treasury-spend proposals have something to pay. */
export const TREASURY_GENESIS_BALANCE = 100_000n * 10n ** 18n

export interface GenesisModuleOptions {
  /** Governance parameters that differ from the defaults (JSON values). */
  governance?: Record<string, unknown>
}

/**
 * The built-in modules a devnet's genesis activates, with their starting parameters and funds.
 * Everything that would change what a plain EVM devnet does is off until governance turns it on:
 * the withdrawal guard has no limit, MEV redistribution a share of 0, the rule engine no rules.
 * The treasury takes 10 % of the burnt base fee (minted to it, so no account pays more) and starts
 * with dev funds; the fl module pays 0.001 ether per accepted update from it.
 */
export function defaultGenesisModules(options: GenesisModuleOptions = {}): GenesisModule[] {
  return [
    {module: governanceModule, params: options.governance ?? {}},
    {module: treasury, params: {baseFeeShareBps: 1000}, balance: TREASURY_GENESIS_BALANCE},
    {module: faucet, params: {}, balance: FAUCET_GENESIS_BALANCE},
    {module: withdrawalGuard, params: {limit: 0}},
    {module: mevRedistribution, params: {shareBps: 0}},
    {module: ruleEngine, params: {ruleSet: null}},
    {module: fl, params: {reward: '1000000000000000', maxRewardedPerRound: 64, verifierKey: NO_VERIFIER_KEY}},
  ]
}
