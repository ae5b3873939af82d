import type {ChainModules} from '../../chain/module-hooks.js'
import type {ModuleHost} from './host.js'

/**
 * The module host a chain runs with (what the layers above use beyond the chain's hooks), or
 * undefined for a plain EVM. Type-only on the host, so importing this loads no module code.
 */
export function moduleHostOf(chain: {modules?: ChainModules}): ModuleHost | undefined {
  const modules = chain.modules as Partial<ModuleHost> | undefined
  return typeof modules?.governanceStats === 'function' ? (modules as ModuleHost) : undefined
}
