import type {MethodTable} from '../dispatcher.js'
import {qty} from '../format.js'
import {arity} from '../params.js'
import type {RpcDeps} from './deps.js'

/** net_*: network id (the chain id, in decimal as geth writes it), listening, peers. */
export function netMethods(deps: Pick<RpcDeps, 'chain' | 'peerCount'>): MethodTable {
  const version = deps.chain.chainId.toString()
  return {
    net_version: (params) => {
      arity(params, 0, 0)
      return version
    },
    net_listening: (params) => {
      arity(params, 0, 0)
      return true
    },
    net_peerCount: (params) => {
      arity(params, 0, 0)
      return qty(deps.peerCount())
    },
  }
}
