import {keccak_256} from '@noble/hashes/sha3.js'

import type {MethodTable} from '../dispatcher.js'
import {hex} from '../format.js'
import {arity, data} from '../params.js'
import type {RpcDeps} from './deps.js'

/** web3_*: client identity and keccak-256. */
export function web3Methods(deps: Pick<RpcDeps, 'clientVersion'>): MethodTable {
  return {
    web3_clientVersion: (params) => {
      arity(params, 0, 0)
      return deps.clientVersion
    },
    web3_sha3: (params) => {
      arity(params, 1, 1)
      return hex(keccak_256(data(params[0], 0)))
    },
  }
}
