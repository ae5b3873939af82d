import type {Chain} from '../../chain/chain.js'
import type {DevControls} from '../../chain/dev-controls.js'
import {decodeStateBlob, dumpChainState, encodeStateBlob} from '../../chain/state-dump.js'
import {isXaiError} from '../../util/errors.js'
import type {Logger} from '../../util/logger.js'
import type {MethodTable} from '../dispatcher.js'
import {RpcError, RpcErrorCode, invalidParams} from '../errors.js'
import {arity, fail} from '../params.js'

/**
 * anvil_dumpState and anvil_loadState, in anvil's format (gzipped JSON, hex-encoded; see
 * chain/state-dump.ts). Dumping reads the head state and works on any node; loading writes into
 * the head state, so it needs the development controls of a single-node chain (`dev`): without
 * them (a chain decided by consensus) it is refused with the reason.
 */
export function stateDumpMethods(options: {chain: Chain; dev?: DevControls; logger?: Logger}): MethodTable {
  const {chain, dev, logger} = options
  return {
    anvil_dumpState: async (params) => {
      // anvil takes an optional preserve_historical_states flag; xai keeps history in its own database.
      arity(params, 0, 1)
      if (params[0] !== undefined && params[0] !== null && typeof params[0] !== 'boolean') fail(0, 'expected a boolean')
      const {dump, gaps} = await dumpChainState(chain)
      if (gaps.accounts > 0 || gaps.slots > 0) {
        logger?.warn('state dump left out trie keys without a recorded preimage', {accounts: gaps.accounts, slots: gaps.slots})
      }
      return encodeStateBlob(dump)
    },
    anvil_loadState: async (params) => {
      arity(params, 1, 1)
      if (!dev) {
        throw new RpcError(
          RpcErrorCode.server,
          'anvil_loadState is not available on a chain decided by consensus: the state is what the validators agree on, and changing it on one node would fork it from the others (use a single-node devnet, or start a new devnet from the dump with xai devnet up --state FILE)',
        )
      }
      if (typeof params[0] !== 'string') fail(0, 'expected the hex-encoded state (anvil_dumpState\'s answer)')
      let dump
      try {
        dump = decodeStateBlob(params[0])
      } catch (err) {
        if (isXaiError(err)) throw invalidParams(err.message)
        throw err
      }
      await dev.loadState(dump)
      return true
    },
  }
}
