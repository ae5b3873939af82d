import type {MerkleStateManager} from '@ethereumjs/statemanager'
import {Address as EthAddress} from '@ethereumjs/util'
import {hexToBytes} from 'viem'

import type {Chain} from '../../chain/chain.js'
import type {Logger} from '../../util/logger.js'
import {BUILTIN_MODULES} from '../builtin/index.js'
import {ModuleHost} from './host.js'

/** Archival states kept open for balance snapshots (governance votes read one height, mostly). */
const SNAPSHOT_STATES = 8

/** The module host of a chain: built-in modules, balances at past blocks from the archive. */
export function createModuleHost(chain: Chain, logger: Logger): ModuleHost {
  const states = new Map<bigint, Promise<MerkleStateManager>>()
  const stateAt = (height: bigint): Promise<MerkleStateManager> => {
    let state = states.get(height)
    if (!state) {
      state = (async () => {
        const record = await chain.getBlock(height)
        if (!record) throw new Error(`no block ${height}`)
        const sm = chain.createStateManager()
        await sm.setStateRoot(record.block.header.stateRoot)
        return sm
      })()
      states.set(height, state)
      state.catch(() => states.delete(height))
      if (states.size > SNAPSHOT_STATES) states.delete(states.keys().next().value as bigint)
    }
    return state
  }
  return new ModuleHost({
    builtins: BUILTIN_MODULES,
    balanceAt: async (address, height) => ((await (await stateAt(height)).getAccount(new EthAddress(hexToBytes(address))))?.balance ?? 0n),
    onHookError: (module, hook, error) => logger.warn('module hook failed', {module, hook, error: error instanceof Error ? error.message : String(error)}),
    onModuleBug: (module, call, error) => logger.error('bug in a built-in module: the call reverted', {module, call, error}),
  })
}
