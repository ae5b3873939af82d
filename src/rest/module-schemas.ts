import {z} from 'zod'

import {PROPOSAL_STATES, VOTE_OPTIONS} from '../governance/lifecycle.js'
import {PROPOSAL_KINDS} from '../governance/proposal.js'
import {MODULE_ID_PATTERN} from '../modules/module.js'
import {addressSchema} from './schemas.js'

// The request and response bodies of the module, governance and faucet routes: the same shapes
// as the JSON of `xai module show`, `xai governance show|list|vote` and `xai devnet faucet`.

const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte 0x-prefixed hash').describe('A 32-byte hash, 0x-prefixed')
const wei = z.string().regex(/^(0|[1-9][0-9]*)$/, 'expected a decimal integer string').describe('An amount of wei (or voting power) as a decimal string')
const height = z.number().int().min(0).describe('A block number')
const percent = z.number().min(0).max(100).describe('A share in percent, two decimals, rounded down')

export const moduleIdParamsSchema = z.strictObject({id: z.string().regex(MODULE_ID_PATTERN, 'expected a module id (lowercase letters, digits and "-")').describe('Module id, e.g. faucet')})

export const moduleInfoSchema = z.strictObject({
  id: z.string(),
  address: addressSchema.describe("The module's system address"),
  version: z.string().describe('The current version'),
  codeHash: hash.describe("keccak256 of the module's source; of xai-builtin:<id>@<version> for a built-in module"),
  activeFrom: height.describe('First block the current version runs in'),
  builtin: z.boolean(),
  next: z.strictObject({version: z.string(), codeHash: hash, from: height}).nullable().describe('A version scheduled by an upgrade'),
  deactivateAt: height.nullable().describe('The block from which the module no longer runs'),
  runningVersion: z.string().nullable().describe('The version that runs in the next block; null when none does'),
  params: z.record(z.string(), z.unknown()).describe('Parameters as governance set them'),
  effectiveParams: z.record(z.string(), z.unknown()).nullable().describe('Every parameter a built-in module runs with, defaults included'),
})

export const moduleListSchema = z.strictObject({modules: z.array(moduleInfoSchema), head: height.describe('The block the registry was read at')})

const tallySchema = z.strictObject({yes: wei, no: wei, abstain: wei, veto: wei, totalPower: wei.describe('Voting power the quorum is measured against')})

export const proposalInfoSchema = z.strictObject({
  id: z.number().int().min(1),
  proposer: addressSchema,
  state: z.enum(PROPOSAL_STATES as [string, ...string[]]),
  kind: z.enum(PROPOSAL_KINDS),
  title: z.string(),
  proposalHash: hash.describe("keccak256 of the proposal's canonical bytes"),
  submitHeight: height,
  snapshotHeight: height.describe('Voting power is the native balance at the end of this block'),
  votingEndHeight: height.describe('The last block that takes votes'),
  executableHeight: height.nullable().describe('The block it executes in, once Queued'),
  failureReason: z.string().nullable(),
  proposal: z.looseObject({kind: z.enum(PROPOSAL_KINDS), title: z.string(), summary: z.string()}).describe('The proposal as submitted (decoded)'),
  actions: z.array(z.string()).describe('What it does, one line per action'),
  tally: tallySchema,
})

export const proposalListQuerySchema = z.strictObject({
  state: z
    .string()
    .regex(new RegExp(`^(${PROPOSAL_STATES.join('|')})$`, 'i'), `expected one of ${PROPOSAL_STATES.join(', ')}`)
    .optional()
    .describe('Only proposals in this state (any case)'),
})

export const proposalListSchema = z.strictObject({proposals: z.array(proposalInfoSchema), head: height.describe('The block the proposals were read at')})

export const proposalIdParamsSchema = z.strictObject({id: z.string().regex(/^[1-9][0-9]{0,15}$/, 'expected a proposal id (1, 2, …)').describe('Proposal id')})

const tallySummarySchema = z.strictObject({
  yes: wei,
  no: wei,
  abstain: wei,
  veto: wei,
  cast: wei,
  totalPower: wei,
  percent: z.strictObject({yes: percent, no: percent, abstain: percent, veto: percent}).describe('Each option as a share of the votes cast'),
  quorum: z.strictObject({bps: z.number().int(), required: wei, turnout: percent, reached: z.boolean()}),
  threshold: z.strictObject({bps: z.number().int(), yesShare: percent, met: z.boolean()}),
  vetoThreshold: z.strictObject({bps: z.number().int(), vetoShare: percent, vetoed: z.boolean()}),
  outcome: z.enum(['passed', 'no-quorum', 'below-threshold', 'vetoed']).describe('The outcome with these votes: final once voting has ended'),
})

const castVoteSchema = z.strictObject({voter: addressSchema, support: z.enum(VOTE_OPTIONS), weight: wei, blockNumber: height, txHash: hash})

const proposalEventSchema = z.strictObject({
  event: z.enum(['ProposalCreated', 'VoteCast', 'ProposalQueued', 'ProposalExecuted', 'ProposalDefeated', 'ProposalVetoed', 'ProposalFailed']),
  blockNumber: height,
  txHash: hash.nullable().describe("The transaction that emitted it; null for the events of governance's endBlock"),
  args: z.record(z.string(), z.unknown()),
})

export const proposalDetailsSchema = proposalInfoSchema.extend({
  tallySummary: tallySummarySchema,
  params: z.record(z.string(), wei).describe('The governance parameters in force'),
  votes: z.array(castVoteSchema),
  history: z.array(proposalEventSchema),
  head: height.describe('The block everything was read at'),
})

export const voteRequestSchema = z.strictObject({
  proposalId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  support: z.enum(VOTE_OPTIONS),
  from: addressSchema.optional().describe('One of the accounts the node signs for (eth_accounts) [default: the first]'),
})

export const voteResponseSchema = z.strictObject({
  id: z.number().int().min(1),
  support: z.enum(VOTE_OPTIONS),
  weight: wei.describe("Voting power counted: the voter's balance at the snapshot"),
  voter: addressSchema,
  txHash: hash,
  blockNumber: height,
})

export const faucetClaimRequestSchema = z.strictObject({address: addressSchema.describe('The address to pay')})

export const faucetClaimResponseSchema = z.strictObject({
  address: addressSchema,
  amount: wei.describe('Wei paid'),
  nextClaimAt: height.describe('The first block from which the address may claim again'),
  from: addressSchema.describe('The account that signed the claim'),
  txHash: hash,
  blockNumber: height,
})

export type VoteRequest = z.infer<typeof voteRequestSchema>
export type FaucetClaimRequest = z.infer<typeof faucetClaimRequestSchema>
export type ProposalListQuery = z.infer<typeof proposalListQuerySchema>
