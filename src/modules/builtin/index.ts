import type {NativeModule} from '../module.js'
import {governanceModule} from '../host/governance-module.js'
import type {GenesisModule} from '../host/genesis-modules.js'

/** Every built-in module this node can run (the registry aside), by id. */
export const BUILTIN_MODULES: readonly NativeModule[] = [governanceModule]

export interface GenesisModuleOptions {
  /** Governance parameters that differ from the defaults (JSON values). */
  governance?: Record<string, unknown>
}

/** The built-in modules a devnet's genesis activates, with their starting parameters and funds. */
export function defaultGenesisModules(options: GenesisModuleOptions = {}): GenesisModule[] {
  return [{module: governanceModule, params: options.governance ?? {}}]
}
