import type {Log} from '@ethereumjs/evm'
import {bytesToHex} from '@ethereumjs/util'
import {type Abi, type Hex, decodeEventLog} from 'viem'

import type {BlockRecord, Chain} from '../chain/chain.js'
import {governanceAbi} from '../modules/host/governance-module.js'
import {moduleAddress} from '../modules/module.js'
import {RULE_ENGINE_ID, ruleEngineAbi} from '../modules/builtin/rule-engine.js'
import {WITHDRAWAL_GUARD_ID, withdrawalGuardAbi} from '../modules/builtin/withdrawal-guard.js'
import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import type {Telemetry} from '../util/telemetry.js'

/** A governance state change, as webhooks send it. */
export interface GovernanceEvent {
  /**
   * The same on every node (block hash and log position), so a receiver that hears from several
   * validators, or twice from one, de-duplicates on it.
   */
  id: string
  type: 'governance'
  /** The event's name: ProposalCreated, ProposalQueued, ProposalExecuted, ProposalDefeated, ProposalVetoed, ProposalFailed. */
  event: string
  /** The proposal's state after it. */
  state: string
  proposalId: string
  block: {number: string; hash: Hex}
  tx?: Hex
  time: string
  args: Record<string, unknown>
}

const STATE_AFTER: Record<string, string> = {
  ProposalCreated: 'Active',
  ProposalQueued: 'Queued',
  ProposalExecuted: 'Executed',
  ProposalDefeated: 'Defeated',
  ProposalVetoed: 'Vetoed',
  ProposalFailed: 'Failed',
}

/**
 * Reads the native modules' logs of every block this node commits and raises what they mean:
 * `guard-delay` (the withdrawal guard queued a large transfer) and `rule-flag` (the rule engine
 * flagged a transaction) as security events, and governance state changes for `onGovernance`.
 * Every node commits every block, so every node raises them. Returns the function that stops it.
 */
export function watchChainEvents(chain: Chain, options: {telemetry: Telemetry; logger: Logger; onGovernance?: (event: GovernanceEvent) => void}): () => void {
  const governance = moduleAddress('governance').toLowerCase()
  const guard = moduleAddress(WITHDRAWAL_GUARD_ID).toLowerCase()
  const rules = moduleAddress(RULE_ENGINE_ID).toLowerCase()
  const onBlock = (record: BlockRecord): void => {
    const blockHash = bytesToHex(record.block.hash())
    const number = record.block.header.number.toString()
    const time = new Date(Number(record.block.header.timestamp) * 1000).toISOString()
    const visit = (log: Log, position: string, tx?: Hex): void => {
      const address = bytesToHex(log[0]).toLowerCase()
      if (address !== governance && address !== guard && address !== rules) return
      const abi: Abi = address === governance ? governanceAbi : address === guard ? withdrawalGuardAbi : ruleEngineAbi
      let decoded: {eventName: string; args: Record<string, unknown>}
      try {
        decoded = decodeEventLog({abi, topics: log[1].map((t) => bytesToHex(t)) as [Hex, ...Hex[]], data: bytesToHex(log[2])}) as never
      } catch (err) {
        options.logger.debug('undecodable module log', {address, error: errorMessage(err)})
        return
      }
      const args = jsonArgs(decoded.args)
      if (address === guard && decoded.eventName === 'TransferQueued') {
        options.telemetry.security('guard-delay', 'withdrawal guard delayed a large transfer', {block: number, tx, ...args})
      } else if (address === rules && decoded.eventName === 'RuleFlagged') {
        options.telemetry.security('rule-flag', 'rule engine flagged a transaction', {block: number, ...args})
      } else if (address === governance && STATE_AFTER[decoded.eventName] && options.onGovernance) {
        options.onGovernance({
          id: `gov-${blockHash}-${position}`,
          type: 'governance',
          event: decoded.eventName,
          state: STATE_AFTER[decoded.eventName]!,
          proposalId: String(args.proposalId),
          block: {number, hash: blockHash},
          ...(tx ? {tx} : {}),
          time,
          args,
        })
      }
    }
    try {
      record.receipts.forEach((receipt, i) => {
        const tx = bytesToHex(record.block.transactions[i]!.hash())
        receipt.logs.forEach((log, j) => visit(log, `${i}-${j}`, tx))
      })
      record.events?.forEach((log, j) => visit(log, `b-${j}`))
    } catch (err) {
      options.logger.error('reading module events of a block failed', {block: number, error: errorMessage(err)})
    }
  }
  chain.on('block', onBlock)
  return () => chain.off('block', onBlock)
}

function jsonArgs(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args ?? {}).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]))
}
