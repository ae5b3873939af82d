import type {BlockRecord} from '../../chain/block-store.js'
import type {MethodTable} from '../dispatcher.js'
import {type Hex, hex, qty} from '../format.js'
import {arity, blockNumberOrTag, data} from '../params.js'
import {invalidParams, serverError} from '../errors.js'
import {decodeProposal} from '../../governance/proposal.js'
import type {RpcDeps} from './deps.js'
import {moduleHostOf} from '../../modules/host/host-of.js'

/**
 * A log of a native module's block hook (beginBlock, endBlock), in eth_getLogs' format. No
 * transaction emitted it, so `transactionHash` and `transactionIndex` are null; `logIndex`
 * continues after the logs of the block's receipts, so (blockHash, logIndex) names one log among
 * both.
 */
export interface BlockEventLog {
  address: Hex
  topics: Hex[]
  data: Hex
  blockNumber: Hex
  blockHash: Hex
  blockTimestamp: Hex
  transactionHash: null
  transactionIndex: null
  logIndex: Hex
  removed: false
}

/** The block hooks' logs of a committed block, in the order the hooks emitted them. */
export function blockEventLogs(record: BlockRecord): BlockEventLog[] {
  const {header} = record.block
  const blockHash = hex(record.block.hash())
  const blockNumber = qty(header.number)
  const blockTimestamp = qty(header.timestamp)
  let logIndex = record.receipts.reduce((sum, receipt) => sum + receipt.logs.length, 0)
  return (record.events ?? []).map(([address, topics, data]) => ({
    address: hex(address),
    topics: topics.map(hex),
    data: hex(data),
    blockNumber,
    blockHash,
    blockTimestamp,
    transactionHash: null,
    transactionIndex: null,
    logIndex: qty(logIndex++),
    removed: false,
  }))
}

/**
 * xai_*: what native modules add to a block beyond its receipts.
 *
 * `xai_getBlockEvents(blockNumberOrTag)`: the logs the modules' block hooks emitted in that block
 * (governance's ProposalQueued, ProposalExecuted, …; the treasury's FeesReceived), which are in no
 * receipt and so not in eth_getLogs. An empty array for a block without any; null for a block
 * the node does not have.
 */
export function moduleMethods(deps: Pick<RpcDeps, 'state' | 'chain'>): MethodTable {
  const {state, chain} = deps
  return {
    /**
     * `xai_simulateProposal(proposalBytes)`: what the proposal (its canonical bytes, as
     * `propose` takes them) would change if it executed in the next block, on a copy of the head
     * state. Nothing is written.
     */
    xai_simulateProposal: async (params) => {
      arity(params, 1, 1)
      const host = moduleHostOf(chain)
      if (!host) throw serverError('this chain runs no native modules')
      let proposal: unknown
      try {
        proposal = decodeProposal(data(params[0], 0))
      } catch (err) {
        throw invalidParams(`invalid argument 0: ${(err as Error).message}`)
      }
      const head = chain.head.header
      const sm = chain.createStateManager()
      await sm.setStateRoot(head.stateRoot)
      const result = await host.simulateProposal(sm as never, {height: head.number + 1n, timestamp: head.timestamp + 1n, coinbase: '0x0000000000000000000000000000000000000000', baseFeePerGas: chain.nextBaseFee()}, proposal)
      return jsonSafe({...result, height: head.number + 1n})
    },
    xai_getBlockEvents: async (params) => {
      arity(params, 1, 1)
      const record = await state.findBlock(blockNumberOrTag(params[0], 0))
      return record ? blockEventLogs(record) : null
    },
  }
}

/** Bigints as 0x quantities, recursively (the JSON-RPC convention). */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return qty(value)
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonSafe(item)]))
  return value
}
