import {runTx} from '@ethereumjs/vm'

import type {BlockRecord} from '../../chain/block-store.js'
import type {MethodTable} from '../dispatcher.js'
import {serverError} from '../errors.js'
import {hex} from '../format.js'
import {arity, blockId, blockNumberOrTag, blockOverrides, callRequest, hash, stateOverrides} from '../params.js'
import {runTraced, tracerFor} from '../tracers.js'
import type {RpcDeps} from './deps.js'

/**
 * debug_traceTransaction, debug_traceCall and debug_traceBlockByNumber|Hash with geth's tracers:
 * the struct logger (default), callTracer and prestateTracer.
 */
export function debugMethods(deps: Pick<RpcDeps, 'chain' | 'state' | 'limits'>): MethodTable {
  const {chain, state, limits} = deps

  /** Traces transaction `index` of `record` on the state it ran on. */
  const traceAt = (record: BlockRecord, index: number, config: unknown, argIndex: number): Promise<unknown> => {
    const tracer = tracerFor(config, argIndex, limits.maxTraceSteps)
    return state.replay(record, index, (vm, tx, block) =>
      runTraced(tracer, vm, tx.gasLimit, () => runTx(vm, {tx, block, skipHardForkValidation: true, skipBlockGasLimitValidation: true})),
    )
  }

  /** geth's block trace: one {txHash, result} per transaction, in block order. */
  const traceBlock = async (record: BlockRecord | undefined, config: unknown, notFound: string): Promise<unknown[]> => {
    if (!record) throw serverError(notFound)
    tracerFor(config, 1, limits.maxTraceSteps)
    const out: unknown[] = []
    for (let i = 0; i < record.block.transactions.length; i++) {
      out.push({txHash: hex(record.block.transactions[i]!.hash()), result: await traceAt(record, i, config, 1)})
    }
    return out
  }

  return {
    debug_traceTransaction: async (params) => {
      arity(params, 1, 2)
      const txHash = hash(params[0], 0)
      tracerFor(params[1], 1, limits.maxTraceSteps)
      const found = await chain.getTransaction(txHash)
      if (!found) throw serverError('transaction not found')
      return traceAt(found.record, found.index, params[1], 1)
    },
    debug_traceCall: async (params) => {
      arity(params, 1, 3)
      const req = callRequest(params[0], 0)
      const config = params[2]
      const tracer = tracerFor(config, 2, limits.maxTraceSteps)
      const c = config && typeof config === 'object' ? (config as {stateOverrides?: unknown; blockOverrides?: unknown}) : {}
      const overrides = stateOverrides(c.stateOverrides, 2)
      const at = {...(await state.resolve(blockId(params[1], 1))), overrides: blockOverrides(c.blockOverrides, 2)}
      const gas = req.gas ?? state.defaultGas(at)
      return state.traceCall(req, at, gas, overrides, tracer)
    },
    debug_traceBlockByNumber: async (params) => {
      arity(params, 1, 2)
      const id = blockNumberOrTag(params[0], 0)
      return traceBlock(await state.findBlock(id), params[1], 'block not found')
    },
    debug_traceBlockByHash: async (params) => {
      arity(params, 1, 2)
      return traceBlock(await chain.getBlock(hash(params[0], 0)), params[1], 'block not found')
    },
  }
}
