// End to end: the module, governance and faucet routes of a real devnet node's REST surface
// (GET /modules, /modules/{id}, /governance/proposals, /governance/proposals/{id}; POST
// /governance/vote and /faucet/claim), every response checked against the node's own
// /openapi.json by an independent JSON Schema validator, and writes refused without the key.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Hex, getAddress} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {explain, json, runXai} from '../helpers/cli.js'
import {type E2eDevnet, rpc, startE2eDevnet} from '../helpers/devnet.js'
import {type OpenApiSpec, type RestReply, type RestRequestOptions, RestClient} from '../helpers/rest-client.js'

let devnet: E2eDevnet | undefined
let tmp: string
let spec: OpenApiSpec
const restClient = new RestClient(() => devnet!.rpcUrl, () => devnet!.apiKey)


/** A REST request to node 0; the answer is checked against the OpenAPI document (path template given). */
function rest(method: 'GET' | 'POST', path: string, options: RestRequestOptions = {}): Promise<RestReply> {
  return restClient.request(method, path, options)
}

async function blockNumber(): Promise<number> {
  return Number(BigInt(await rpc<Hex>(devnet!.rpcUrl, 'eth_blockNumber')))
}

describe('the module, governance and faucet REST routes (devnet)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-rest-modules-e2e-'))
    devnet = await startE2eDevnet({target: 'xai', blockTime: 0, upArgs: ['--voting-period', '6', '--timelock', '1']})
    spec = await restClient.load()
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('documents the routes in /openapi.json, the writes behind the API key', () => {
    for (const path of ['/modules', '/modules/{id}', '/governance/proposals', '/governance/proposals/{id}', '/governance/vote', '/faucet/claim']) expect(Object.keys(spec.paths)).toContain(path)
    expect(spec.paths['/governance/vote']!.post!.security).toEqual([{apiKey: []}, {bearer: []}])
    expect(spec.paths['/faucet/claim']!.post!.security).toEqual([{apiKey: []}, {bearer: []}])
    expect(spec.paths['/modules']!.get!.security).toBeUndefined()
  })

  it('lists the modules and shows one; an unknown id is 404, a malformed one 400', async () => {
    const modules = await rest('GET', '/modules')
    expect(modules.status).toBe(200)
    expect(modules.body.modules.map((m: {id: string}) => m.id)).toEqual(['registry', 'governance', 'treasury', 'faucet', 'withdrawal-guard', 'mev-redistribution', 'rule-engine', 'fl'])
    const governance = await rest('GET', '/modules/governance', {template: '/modules/{id}'})
    expect(governance).toMatchObject({status: 200, body: {id: 'governance', builtin: true, params: {votingPeriod: 6, timelock: 1}, effectiveParams: {votingPeriod: '6', quorum: '3340'}}})
    const unknown = await rest('GET', '/modules/no-such-module', {template: '/modules/{id}'})
    expect(unknown).toMatchObject({status: 404, body: {error: {code: 'MODULE_NOT_FOUND'}}})
    const malformed = await rest('GET', '/modules/Not_An_Id', {template: '/modules/{id}'})
    expect(malformed).toMatchObject({status: 400, body: {error: {code: 'REST_INVALID_REQUEST'}}})
  })

  it('lists and shows proposals; votes with an unlocked account, refuses a second vote with the reason (422) and a write without the key (401)', async () => {
    await writeFile(
      join(tmp, 'text.yaml'),
      'kind: text\ntitle: Adopt the style guide\nsummary: We write code the same way.\n',
    )
    const proposed = await runXai(['governance', 'propose', 'text.yaml', '--rpc-url', devnet!.rpcUrl, '--json'], tmp)
    expect(proposed.exitCode, explain(proposed)).toBe(0)
    const {id} = json(proposed)

    const listed = await rest('GET', '/governance/proposals')
    expect(listed.status).toBe(200)
    expect(listed.body.proposals.map((p: {id: number; state: string}) => [p.id, p.state])).toEqual([[id, 'Active']])
    expect((await rest('GET', '/governance/proposals?state=active')).body.proposals).toHaveLength(1)
    expect((await rest('GET', '/governance/proposals?state=Executed')).body.proposals).toEqual([])
    expect((await rest('GET', '/governance/proposals?state=done')).status).toBe(400)

    const before = await blockNumber()
    const noKey = await rest('POST', '/governance/vote', {body: {proposalId: id, support: 'yes'}, key: null})
    expect(noKey).toMatchObject({status: 401, body: {error: {code: 'REST_UNAUTHORIZED'}}})
    expect(await blockNumber()).toBe(before)

    const voted = await rest('POST', '/governance/vote', {body: {proposalId: id, support: 'yes'}})
    expect(voted.status, JSON.stringify(voted.body)).toBe(200)
    expect(voted.body).toMatchObject({id, support: 'yes', voter: getAddress(devnet!.accounts[0]!.address), weight: expect.stringMatching(/^[1-9]\d+$/)})
    const second = await rest('POST', '/governance/vote', {body: {proposalId: id, support: 'no'}})
    expect(second).toMatchObject({status: 422, body: {error: {code: 'GOV_REJECTED', details: {reason: `${getAddress(devnet!.accounts[0]!.address)} has already voted on proposal ${id}; votes are final`}}}})
    const other = await rest('POST', '/governance/vote', {body: {proposalId: id, support: 'veto', from: devnet!.accounts[2]!.address}})
    expect(other).toMatchObject({status: 200, body: {support: 'veto', voter: getAddress(devnet!.accounts[2]!.address)}})
    const stranger = await rest('POST', '/governance/vote', {body: {proposalId: id, support: 'no', from: '0x000000000000000000000000000000000000dEaD'}})
    expect(stranger).toMatchObject({status: 400, body: {error: {code: 'REST_NO_ACCOUNT'}}})
    expect((await rest('POST', '/governance/vote', {body: {proposalId: id, support: 'maybe'}})).status).toBe(400)
    const noProposal = await rest('POST', '/governance/vote', {body: {proposalId: 99, support: 'yes'}})
    expect(noProposal).toMatchObject({status: 422, body: {error: {details: {reason: 'no proposal 99'}}}})

    const shown = await rest('GET', `/governance/proposals/${id}`, {template: '/governance/proposals/{id}'})
    expect(shown.status).toBe(200)
    expect(shown.body).toMatchObject({id, state: 'Active', kind: 'text', title: 'Adopt the style guide', actions: ['no on-chain change (signalling only)']})
    expect(shown.body.votes.map((v: {support: string}) => v.support)).toEqual(['yes', 'veto'])
    expect(shown.body.tallySummary).toMatchObject({percent: {yes: 50, veto: 50}, quorum: {reached: false}, vetoThreshold: {vetoShare: 50}, outcome: 'no-quorum'})
    expect(shown.body.history.map((e: {event: string}) => e.event)).toEqual(['ProposalCreated', 'VoteCast', 'VoteCast'])
    const missing = await rest('GET', '/governance/proposals/99', {template: '/governance/proposals/{id}'})
    expect(missing).toMatchObject({status: 404, body: {error: {code: 'GOV_PROPOSAL_NOT_FOUND'}}})
  })

  it('pays a faucet claim signed by the first unlocked account, and refuses the next within the cooldown (422)', async () => {
    const fresh = '0x000000000000000000000000000000000000Fa5e'
    const noKey = await rest('POST', '/faucet/claim', {body: {address: fresh}, key: null})
    expect(noKey.status).toBe(401)
    expect(BigInt(await rpc<Hex>(devnet!.rpcUrl, 'eth_getBalance', [fresh, 'latest']))).toBe(0n)

    const paid = await rest('POST', '/faucet/claim', {body: {address: fresh}})
    expect(paid.status, JSON.stringify(paid.body)).toBe(200)
    expect(paid.body).toMatchObject({address: getAddress(fresh), amount: '100000000000000000000', from: getAddress(devnet!.accounts[0]!.address)})
    expect(paid.body.nextClaimAt).toBe(paid.body.blockNumber + 100)
    expect(BigInt(await rpc<Hex>(devnet!.rpcUrl, 'eth_getBalance', [fresh, 'latest']))).toBe(100n * 10n ** 18n)

    const again = await rest('POST', '/faucet/claim', {body: {address: fresh}})
    expect(again).toMatchObject({status: 422, body: {error: {code: 'MODULE_CALL_REJECTED'}}})
    expect(again.body.error.details.reason).toContain(`is in its cooldown; the next claim is possible at block ${paid.body.nextClaimAt}`)
    expect((await rest('POST', '/faucet/claim', {body: {address: 'not-an-address'}})).status).toBe(400)
  })
})
