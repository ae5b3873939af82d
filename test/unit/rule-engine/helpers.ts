import type {Address, Hex} from 'viem'

import type {RuleState, RuleTx} from '../../../src/modules/rule-engine/index.js'

export const ALICE = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as Address
export const BOB = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as Address
export const CAROL = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' as Address
export const ETHER = 10n ** 18n

export function tx(overrides: Partial<RuleTx> = {}): RuleTx {
  return {from: ALICE, to: BOB, value: 0n, gasLimit: 21_000n, maxFeePerGas: 1_000_000_000n, data: '0x' as Hex, nonce: 0n, ...overrides}
}

/** A state backed by maps, recording every lookup it answers. */
export function recordingState(balances: Record<string, bigint> = {}, contracts: Record<string, boolean> = {}): RuleState & {calls: string[]} {
  const calls: string[] = []
  const lower = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).map(([key, value]) => [key.toLowerCase(), value]))
  const b = lower(balances) as Record<string, bigint>
  const c = lower(contracts) as Record<string, boolean>
  return {
    calls,
    balance(address) {
      calls.push(`balance:${address}`)
      return b[address.toLowerCase()] ?? 0n
    },
    isContract(address) {
      calls.push(`isContract:${address}`)
      return c[address.toLowerCase()] ?? false
    },
  }
}

/** A one-rule set that rejects with reason "hit" when `when` (YAML flow text) holds. */
export function oneRule(when: string, extra = ''): string {
  return `version: 1
name: t
${extra}rules:
  - id: r
    when: ${when}
    action: reject
    reason: hit
default: allow
`
}
