import {type Address, type PublicClient, createPublicClient, custom, getAddress} from 'viem'

import {listProposals, parseProposalState, readProposalDetails, voteOnProposal} from '../client/governance-client.js'
import {claimFromFaucet} from '../client/faucet-client.js'
import {nodeAccountSender} from '../client/module-tx.js'
import {listModules, readModule} from '../client/registry-client.js'
import {
  type FaucetClaimRequest,
  type ProposalListQuery,
  type VoteRequest,
  faucetClaimRequestSchema,
  faucetClaimResponseSchema,
  moduleIdParamsSchema,
  moduleInfoSchema,
  moduleListSchema,
  proposalDetailsSchema,
  proposalIdParamsSchema,
  proposalListQuerySchema,
  proposalListSchema,
  voteRequestSchema,
  voteResponseSchema,
} from './module-schemas.js'
import {RestErrorCode, restError} from './rest-errors.js'
import type {RestRoute, RouteInput} from './route.js'

export interface ModuleRoutesDeps {
  /** Runs a JSON-RPC method of this node in-process (the same validation and signing as a request). */
  invoke(method: string, params: unknown[]): Promise<unknown>
  /** How long a write waits for its receipt (default 60 s). */
  receiptTimeoutMs?: number
}

/** Error codes answered with a status other than the one their exit code gives. */
/**
 * The native modules, governance and the faucet over REST: the module registry, proposals with
 * their tally, votes and history, voting and faucet claims signed by one of the node's unlocked
 * accounts. They read and send through the node's own JSON-RPC methods (a viem client over
 * `invoke`), so a REST request behaves as the equivalent JSON-RPC requests and the CLI do.
 */
export function moduleRoutes(deps: ModuleRoutesDeps): RestRoute[] {
  const client: PublicClient = createPublicClient({
    transport: custom({request: ({method, params}) => rpcCall(deps.invoke, method, (params ?? []) as unknown[])}, {retryCount: 0}),
    pollingInterval: 100,
  })
  const receiptTimeoutMs = deps.receiptTimeoutMs ?? 60_000

  /** The account that signs: `from` when the node signs for it, else the node's first. */
  const signer = async (from: string | undefined): Promise<Address> => {
    const accounts = ((await deps.invoke('eth_accounts', [])) as string[]).map((a) => a.toLowerCase())
    if (accounts.length === 0) {
      throw restError(RestErrorCode.noAccount, 'This node signs for no accounts', {hint: 'Start it with --unlock-dev-accounts (a devnet does), or send a signed transaction through JSON-RPC.'})
    }
    if (from === undefined) return getAddress(accounts[0]!)
    if (!accounts.includes(from.toLowerCase())) {
      throw restError(RestErrorCode.noAccount, `This node does not sign for ${from}`, {hint: 'Name one of eth_accounts as "from", or leave it out to use the first.', details: {from}})
    }
    return getAddress(from)
  }

  const modules: RestRoute = {
    method: 'GET',
    path: '/modules',
    operationId: 'listModules',
    summary: "The chain's native modules, from the module registry",
    auth: false,
    responses: {200: {description: 'Every module the registry knows, the registry first', schema: moduleListSchema}},
    handle: async () => {
      const head = await client.getBlockNumber()
      return {status: 200, body: {modules: await listModules(client, {blockNumber: head}), head: Number(head)}}
    },
  }

  const module: RestRoute = {
    method: 'GET',
    path: '/modules/{id}',
    operationId: 'getModule',
    summary: "A module's registry entry: address, versions, schedule and parameters",
    auth: false,
    params: moduleIdParamsSchema,
    errors: [404],
    responses: {200: {description: 'The module', schema: moduleInfoSchema}},
    handle: async ({params}: RouteInput<unknown, {id: string}>) => ({status: 200, body: await readModule(client, params.id)}),
  }

  const proposals: RestRoute = {
    method: 'GET',
    path: '/governance/proposals',
    operationId: 'listProposals',
    summary: 'Governance proposals, oldest first',
    auth: false,
    query: proposalListQuerySchema,
    responses: {200: {description: 'The proposals (only those in ?state= when given)', schema: proposalListSchema}},
    handle: async ({query}: RouteInput<unknown, Record<string, string>, ProposalListQuery>) => {
      const head = await client.getBlockNumber()
      const state = query.state === undefined ? undefined : parseProposalState(query.state)
      return {status: 200, body: {proposals: await listProposals(client, {blockNumber: head, state}), head: Number(head)}}
    },
  }

  const proposal: RestRoute = {
    method: 'GET',
    path: '/governance/proposals/{id}',
    operationId: 'getProposal',
    summary: 'A proposal: decoded body, state, heights, the tally against quorum, threshold and veto, the votes and its history',
    auth: false,
    params: proposalIdParamsSchema,
    errors: [404],
    responses: {200: {description: 'The proposal', schema: proposalDetailsSchema}},
    handle: async ({params}: RouteInput<unknown, {id: string}>) => ({status: 200, body: await readProposalDetails(client, Number(params.id))}),
  }

  const vote: RestRoute = {
    method: 'POST',
    path: '/governance/vote',
    operationId: 'vote',
    summary: 'Vote on a proposal with one of the accounts the node signs for, and wait for the vote to be mined',
    description: "Simulated first: a vote the governance module refuses (voting ended, already voted, no power at the snapshot, no such proposal) is answered 422 with the module's reason in error.details.reason, and nothing is sent.",
    auth: true,
    body: voteRequestSchema,
    errors: [422, 504],
    responses: {200: {description: 'The vote was counted', schema: voteResponseSchema}},
    handle: async ({body}: RouteInput<VoteRequest>) => {
      const from = await signer(body.from)
      const result = await voteOnProposal(client, nodeAccountSender(client, from), {id: body.proposalId, support: body.support, receiptTimeoutMs})
      return {status: 200, body: result}
    },
  }

  const faucet: RestRoute = {
    method: 'POST',
    path: '/faucet/claim',
    operationId: 'faucetClaim',
    summary: 'Pay development funds to an address from the faucet module',
    description: "faucet.claimFor(address), signed by the node's first unlocked account. A claim within the address's cooldown is answered 422 with the faucet's reason (the block the next claim is possible at).",
    auth: true,
    body: faucetClaimRequestSchema,
    errors: [422, 504],
    responses: {200: {description: 'Paid', schema: faucetClaimResponseSchema}},
    handle: async ({body}: RouteInput<FaucetClaimRequest>) => {
      const from = await signer(undefined)
      return {status: 200, body: await claimFromFaucet(client, nodeAccountSender(client, from), getAddress(body.address), {receiptTimeoutMs})}
    },
  }

  return [modules, module, proposals, proposal, vote, faucet]
}

/**
 * One JSON-RPC method through `invoke`, its failure as the `{code, message, data}` error a
 * JSON-RPC client would get, so viem classifies it (a revert, the mempool's refusal) as over HTTP.
 */
async function rpcCall(invoke: ModuleRoutesDeps['invoke'], method: string, params: unknown[]): Promise<unknown> {
  try {
    return await invoke(method, params)
  } catch (err) {
    const code = (err as {rpcCode?: unknown}).rpcCode
    if (typeof code !== 'number') throw err
    throw Object.assign(new Error((err as Error).message), {code, data: (err as {data?: unknown}).data})
  }
}
