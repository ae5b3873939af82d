import type {MethodTable} from '../dispatcher.js'
import {serverError} from '../errors.js'
import {arity, blockId, callRequest, hash, stateOverrides} from '../params.js'
import {StructLogger, traceOptions} from '../trace.js'
import {runTx} from '@ethereumjs/vm'
import type {RpcDeps} from './deps.js'

/** debug_traceTransaction and debug_traceCall with geth's default struct logger. */
export function debugMethods(deps: Pick<RpcDeps, 'chain' | 'state' | 'limits'>): MethodTable {
  const {chain, state, limits} = deps
  return {
    debug_traceTransaction: async (params) => {
      arity(params, 1, 2)
      const txHash = hash(params[0], 0)
      const options = traceOptions(params[1], 1)
      const found = await chain.getTransaction(txHash)
      if (!found) throw serverError('transaction not found')
      const tracer = new StructLogger(options, limits.maxTraceSteps)
      const result = await state.replay(found.record, found.index, (vm, tx, block) =>
        tracer.attach(vm, () => runTx(vm, {tx, block, skipHardForkValidation: true, skipBlockGasLimitValidation: true})),
      )
      return tracer.result(result)
    },
    debug_traceCall: async (params) => {
      arity(params, 1, 3)
      const req = callRequest(params[0], 0)
      const at = await state.resolve(blockId(params[1], 1))
      const config = params[2]
      const options = traceOptions(config, 2)
      const overrides = config && typeof config === 'object' ? stateOverrides((config as {stateOverrides?: unknown}).stateOverrides, 2) : undefined
      const tracer = new StructLogger(options, limits.maxTraceSteps)
      const gas = req.gas ?? state.defaultGas(at)
      const outcome = await state.withCall(req, at, gas, overrides, (vm, run) => tracer.attach(vm, run))
      if (outcome.rejected) throw outcome.rejected
      return tracer.result(outcome.result!)
    },
  }
}
