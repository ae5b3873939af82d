import {bytesToHex} from '@ethereumjs/util'

import type {Chain} from '../../chain/chain.js'
import type {Mempool} from '../../chain/mempool.js'
import type {P2PHost} from '../../p2p/host.js'
import type {MethodTable} from '../dispatcher.js'
import {invalidParams} from '../errors.js'
import {arity} from '../params.js'
import type {ConsensusEngine} from '../../consensus/engine.js'
import type {Evidence, SignedVote} from '../../consensus/messages.js'

export interface ConsensusRpcDeps {
  chain: Chain
  mempool: Mempool
  engine: ConsensusEngine
  host: P2PHost
  clientVersion: string
  /** This node's index in its devnet, when it belongs to one. */
  index?: number
  rpcUrl: () => string
}

function voteJson(v: SignedVote): Record<string, unknown> {
  return {...v.vote, signature: bytesToHex(v.signature)}
}

function evidenceJson(e: Evidence): Record<string, unknown> {
  return {
    kind: 'duplicate-vote',
    validator: e.first.vote.validator,
    height: e.first.vote.height,
    round: e.first.vote.round,
    type: e.first.vote.type,
    first: voteJson(e.first),
    second: voteJson(e.second),
  }
}

/**
 * xai_*: what a node knows of consensus and its peers. Results are plain JSON (numbers, not hex
 * quantities): they are for the CLI, dashboards and operators, not for Ethereum clients.
 */
export function consensusMethods(deps: ConsensusRpcDeps): MethodTable {
  const {chain, engine, host} = deps
  return {
    xai_nodeInfo: (params) => {
      arity(params, 0, 0)
      return {
        version: deps.clientVersion,
        index: deps.index ?? null,
        chainId: Number(chain.chainId),
        validator: engine.address,
        /** Whether this node's validator is in the set deciding the next height (governance changes it). */
        validating: engine.address !== null && engine.validators.has(engine.address as never),
        peerId: host.peerId,
        p2pAddrs: host.listenAddrs,
        rpcUrl: deps.rpcUrl(),
        height: Number(chain.head.header.number),
        headHash: bytesToHex(chain.head.hash()),
        headTime: Number(chain.head.header.timestamp),
        network: host.connected ? 'connected' : 'disconnected',
        peers: host.peers().length,
        mempool: deps.mempool.status(),
        stats: engine.stats,
        pid: process.pid,
        rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
      }
    },
    xai_consensusState: (params) => {
      arity(params, 0, 0)
      return engine.consensusState()
    },
    xai_validators: (params) => {
      arity(params, 0, 0)
      return engine.validators.validators.map((v) => ({address: v.address, power: v.power}))
    },
    xai_evidence: (params) => {
      arity(params, 0, 0)
      const {committed, pending} = engine.evidence()
      return {
        committed: committed.map((c) => ({blockNumber: c.height, ...evidenceJson(c.evidence)})),
        pending: pending.map(evidenceJson),
      }
    },
    xai_peers: (params) => {
      arity(params, 0, 0)
      return host.peers()
    },
    /** The commit (> 2/3 precommit signatures) and evidence stored beside a block. */
    xai_getBlockCommit: async (params) => {
      arity(params, 1, 1)
      const n = params[0]
      const height = typeof n === 'number' ? BigInt(n) : typeof n === 'string' && /^0x[0-9a-fA-F]+$/.test(n) ? BigInt(n) : undefined
      if (height === undefined) throw invalidParams('expected a block number (hex quantity or integer)')
      const record = await engine.blockConsensus(height)
      if (!record) return null
      return {
        height: record.commit.height,
        round: record.commit.round,
        blockHash: record.commit.value,
        signatures: record.commit.signatures.map((s) => bytesToHex(s)),
        evidence: record.evidence.map(evidenceJson),
      }
    },
  }
}

/** Operator methods behind the admin token: fault injection on the network. */
export function adminMethods(host: P2PHost): MethodTable {
  return {
    xai_disconnect: async (params) => {
      arity(params, 0, 0)
      await host.disconnect()
      return {network: 'disconnected'}
    },
    xai_reconnect: async (params) => {
      arity(params, 0, 0)
      await host.reconnect()
      return {network: 'connected'}
    },
  }
}
