import {describe, expect, it} from 'vitest'

import {ether, formatModule, formatModuleList, formatProposal, formatProposalList, formatTally, stage} from '../../../src/cli/governance-format.js'
import {type ProposalDetails, type ProposalInfo, parseProposalState, parseVoteOption, percent, tallySummary} from '../../../src/client/governance-client.js'
import {DEFAULT_GOVERNANCE_PARAMS} from '../../../src/governance/lifecycle.js'
import {parseProposal} from '../../../src/governance/proposal.js'
import type {ModuleInfo} from '../../../src/client/registry-client.js'

const E = 10n ** 18n
const votes = (yes: bigint, no: bigint, abstain: bigint, veto: bigint, totalPower: bigint) => ({yes: String(yes * E), no: String(no * E), abstain: String(abstain * E), veto: String(veto * E), totalPower: String(totalPower * E)})

describe('tallySummary', () => {
  it('measures turnout against the quorum, yes against the threshold (abstain excluded) and veto against the votes cast', () => {
    const s = tallySummary(votes(30n, 10n, 20n, 0n, 100n), DEFAULT_GOVERNANCE_PARAMS)
    expect(s).toMatchObject({
      cast: String(60n * E),
      percent: {yes: 50, no: 16.66, abstain: 33.33, veto: 0},
      quorum: {bps: 3340, required: String(334n * 10n ** 17n), turnout: 60, reached: true},
      threshold: {bps: 5000, yesShare: 75, met: true},
      vetoThreshold: {bps: 3340, vetoShare: 0, vetoed: false},
      outcome: 'passed',
    })
  })

  it('gives the outcome the lifecycle gives: no quorum, vetoed, below the threshold', () => {
    // 33.39 % turnout is below a 33.40 % quorum even with every vote yes.
    expect(tallySummary({yes: '3339', no: '0', abstain: '0', veto: '0', totalPower: '10000'}, DEFAULT_GOVERNANCE_PARAMS)).toMatchObject({outcome: 'no-quorum', quorum: {reached: false, required: '3340', turnout: 33.39}, threshold: {met: true}})
    expect(tallySummary({yes: '3340', no: '0', abstain: '0', veto: '0', totalPower: '10000'}, DEFAULT_GOVERNANCE_PARAMS).outcome).toBe('passed')
    const vetoed = tallySummary(votes(60n, 0n, 0n, 40n, 100n), DEFAULT_GOVERNANCE_PARAMS)
    expect(vetoed).toMatchObject({outcome: 'vetoed', vetoThreshold: {vetoShare: 40, vetoed: true}, threshold: {yesShare: 60, met: true}})
    // Exactly half yes does not exceed a 50 % threshold.
    expect(tallySummary(votes(25n, 25n, 0n, 0n, 100n), DEFAULT_GOVERNANCE_PARAMS)).toMatchObject({outcome: 'below-threshold', threshold: {yesShare: 50, met: false}})
    expect(tallySummary(votes(0n, 0n, 0n, 0n, 0n), DEFAULT_GOVERNANCE_PARAMS)).toMatchObject({outcome: 'below-threshold', percent: {yes: 0}, quorum: {turnout: 0, required: '0'}})
  })

  it('rounds shares down to two decimals', () => {
    expect(percent(1n, 3n)).toBe(33.33)
    expect(percent(2n, 3n)).toBe(66.66)
    expect(percent(5n, 0n)).toBe(0)
    expect(percent(7n, 7n)).toBe(100)
  })
})

describe('parsing states and vote options', () => {
  it('accepts any case and refuses the rest', () => {
    expect(parseProposalState('queued')).toBe('Queued')
    expect(parseProposalState(' EXECUTED ')).toBe('Executed')
    expect(parseProposalState('done')).toBeUndefined()
    expect(parseVoteOption('Veto')).toBe('veto')
    expect(parseVoteOption('maybe')).toBeUndefined()
  })
})

const proposal = parseProposal({
  kind: 'parameter-change',
  title: 'Raise the block gas limit',
  summary: 'More room.',
  riskAnalysis: 'Some.',
  dependencyDiff: 'None.',
  migrationSteps: 'None.',
  changes: [{module: 'chain', key: 'blockGasLimit', value: 40_000_000}],
})

const info = (over: Partial<ProposalInfo> = {}): ProposalInfo => ({
  id: 1,
  proposer: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  state: 'Active',
  kind: 'parameter-change',
  title: 'Raise the block gas limit',
  proposalHash: `0x${'ab'.repeat(32)}`,
  submitHeight: 1,
  snapshotHeight: 0,
  votingEndHeight: 5,
  executableHeight: null,
  failureReason: null,
  proposal,
  actions: ['set chain.blockGasLimit = 40000000'],
  tally: votes(40n, 0n, 0n, 0n, 100n),
  ...over,
})

describe('human output', () => {
  it('shows ether with grouping, and tiny amounts in wei', () => {
    expect(ether(40_000n * E)).toBe('40,000 ETH')
    expect(ether(1234567n * 10n ** 15n)).toBe('1,234.567 ETH')
    expect(ether('0')).toBe('0 ETH')
    expect(ether(5n)).toBe('5 wei')
  })

  it('says where a proposal stands', () => {
    expect(stage(info(), 3)).toBe('voting until block 5, 2 to go')
    expect(stage(info({state: 'Queued', executableHeight: 6}), 5)).toBe('executes in block 6')
    expect(stage(info({state: 'Executed', executableHeight: 6}), 9)).toBe('executed in block 6')
    expect(stage(info({state: 'Defeated'}), 9)).toBe('tallied at block 5')
  })

  it('lists proposals one per line, aligned', () => {
    const text = formatProposalList([info(), info({id: 12, state: 'Executed', executableHeight: 6, kind: 'text', title: 'Hello'})], 3)
    expect(text).toBe('#1   Active    parameter-change  Raise the block gas limit  (voting until block 5, 2 to go)\n#12  Executed  text              Hello  (executed in block 6)\n')
    expect(formatProposalList([], 0)).toBe('No proposals.\n')
  })

  it('prints the tally with what each rule needs and the outcome', () => {
    const lines = formatTally(tallySummary(votes(30n, 10n, 0n, 0n, 100n), DEFAULT_GOVERNANCE_PARAMS))
    expect(lines[0]).toBe('Tally (share of the votes cast)')
    expect(lines[1]).toMatch(/^ {2}yes +30 ETH +75\.00 %$/)
    expect(lines).toContain('  ✔ quorum      33.40 % of the voting power must vote (33.4 ETH); 40.00 % did')
    expect(lines).toContain('  ✔ threshold   yes must be more than 50.00 % of yes + no + veto; it is 75.00 %')
    expect(lines.at(-1)).toBe('  → with these votes the proposal passes')
    expect(formatTally(tallySummary(votes(1n, 0n, 0n, 0n, 100n), DEFAULT_GOVERNANCE_PARAMS), {final: true}).at(-1)).toBe('  → with these votes the proposal failed: no quorum')
  })

  it('prints a proposal with its votes and history', () => {
    const details: ProposalDetails = {
      ...info({state: 'Executed', executableHeight: 6}),
      tallySummary: tallySummary(votes(40n, 0n, 0n, 0n, 100n), DEFAULT_GOVERNANCE_PARAMS),
      params: {votingPeriod: '4', quorum: '3340', threshold: '5000', vetoThreshold: '3340', timelock: '1', minDeposit: '0'},
      votes: [{voter: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', support: 'yes', weight: String(40n * E), blockNumber: 2, txHash: `0x${'cd'.repeat(32)}`}],
      history: [
        {event: 'ProposalCreated', blockNumber: 1, txHash: `0x${'ef'.repeat(32)}`, args: {proposer: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'}},
        {event: 'ProposalQueued', blockNumber: 5, txHash: null, args: {proposalId: '1', etaBlock: '6'}},
      ],
      head: 7,
    }
    const text = formatProposal(details)
    expect(text).toContain('Proposal #1: Raise the block gas limit\n  state       Executed (executed in block 6)\n')
    expect(text).toContain('  executes    block 6 (timelock 1 block)\n')
    expect(text).toContain('Votes (1)\n  0x70997970C51812dc3A010C7d01b50e0d17dc79C8  yes      40 ETH  (block 2)\n')
    expect(text).toContain('History\n  block      1  ProposalCreated by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n  block      5  ProposalQueued (executes in block 6)\n')
    expect(text).toContain('→ with these votes the proposal passed')
  })

  it('prints modules and their parameters, marking defaults', () => {
    const faucet: ModuleInfo = {
      id: 'faucet',
      address: '0x00000000000000000000000000000a112d0594BD',
      version: '1.0.0',
      codeHash: `0x${'81'.repeat(32)}`,
      activeFrom: 0,
      builtin: true,
      next: null,
      deactivateAt: null,
      runningVersion: '1.0.0',
      params: {cooldownBlocks: 5},
      effectiveParams: {amount: '100000000000000000000', cooldownBlocks: '5'},
    }
    const text = formatModule(faucet)
    expect(text).toContain('Module faucet (built-in)\n  address       0x00000000000000000000000000000a112d0594BD\n')
    expect(text).toContain('  params\n    amount = 100000000000000000000  (default)\n    cooldownBlocks = 5\n')
    const upgrading = {...faucet, id: 'counter', builtin: false, next: {version: '2.0.0', codeHash: faucet.codeHash, from: 40}, deactivateAt: null}
    expect(formatModuleList([faucet, upgrading, {...faucet, id: 'gone', runningVersion: null, deactivateAt: 9}])).toBe(
      [
        'faucet   1.0.0  built-in  0x00000000000000000000000000000a112d0594BD  active',
        'counter  1.0.0  user      0x00000000000000000000000000000a112d0594BD  active; 2.0.0 from block 40',
        'gone     -      built-in  0x00000000000000000000000000000a112d0594BD  deactivated',
        '',
      ].join('\n'),
    )
  })
})
