import type {MethodTable} from '../dispatcher.js'
import {RpcError, RpcErrorCode, invalidParams} from '../errors.js'
import {arity, bool, fail, filterCriteria} from '../params.js'
import type {RpcDeps} from './deps.js'

function filterId(value: unknown, index: number): string {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) fail(index, 'expected a filter id (hex string)')
  return value
}

/** Polled filters (eth_newFilter & co.), eth_getLogs, and WebSocket subscriptions. */
export function filterMethods(deps: Pick<RpcDeps, 'filters'>): MethodTable {
  const {filters} = deps
  return {
    eth_getLogs: (params) => {
      arity(params, 1, 1)
      return filters.getLogs(filterCriteria(params[0], 0))
    },
    eth_newFilter: (params) => {
      arity(params, 1, 1)
      return filters.newFilter(filterCriteria(params[0], 0))
    },
    eth_newBlockFilter: (params) => {
      arity(params, 0, 0)
      return filters.newBlockFilter()
    },
    eth_newPendingTransactionFilter: (params) => {
      arity(params, 0, 1)
      return filters.newPendingTransactionFilter()
    },
    eth_getFilterChanges: (params) => {
      arity(params, 1, 1)
      return filters.changes(filterId(params[0], 0))
    },
    eth_getFilterLogs: (params) => {
      arity(params, 1, 1)
      return filters.filterLogs(filterId(params[0], 0))
    },
    eth_uninstallFilter: (params) => {
      arity(params, 1, 1)
      return filters.uninstall(filterId(params[0], 0))
    },
    eth_subscribe: (params, context) => {
      if (!context.connection) throw new RpcError(RpcErrorCode.methodNotFound, 'notifications not supported')
      arity(params, 1, 2)
      const kind = params[0]
      switch (kind) {
        case 'newHeads':
          arity(params, 1, 1)
          return filters.subscribe(context.connection, 'newHeads', {})
        case 'logs': {
          const criteria = filterCriteria(params[1], 1)
          if (criteria.blockHash || criteria.fromBlock || criteria.toBlock) fail(1, 'a logs subscription follows new blocks: fromBlock, toBlock and blockHash are not allowed')
          return filters.subscribe(context.connection, 'logs', {criteria})
        }
        case 'newPendingTransactions':
          return filters.subscribe(context.connection, 'newPendingTransactions', {fullTx: params[1] === undefined || params[1] === null ? false : bool(params[1], 1)})
        default:
          throw invalidParams(`invalid argument 0: unsupported subscription type ${JSON.stringify(kind)}; use newHeads, logs or newPendingTransactions`)
      }
    },
    eth_unsubscribe: (params, context) => {
      if (!context.connection) throw new RpcError(RpcErrorCode.methodNotFound, 'notifications not supported')
      arity(params, 1, 1)
      return filters.unsubscribe(context.connection, filterId(params[0], 0))
    },
  }
}
