import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Hex, getAddress} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {
  listProposals,
  proposalCount,
  readGovernanceParams,
  readProposal,
  readProposalDetails,
  submitProposal,
  voteOnProposal,
} from '../../../src/client/governance-client.js'
import {prepareProposal, submitPreparedProposal} from '../../../src/client/propose-file.js'
import {type Proposal, parseProposal, proposalHash} from '../../../src/governance/proposal.js'
import {claimFromFaucet} from '../../../src/client/faucet-client.js'
import {builtinCodeHash} from '../../../src/modules/host/registry.js'
import {moduleCodeHash} from '../../../src/modules/module.js'
import {keySender, nodeAccountSender} from '../../../src/client/module-tx.js'
import {hasModuleCode, listModules, readModule, storeModuleCode} from '../../../src/client/registry-client.js'
import {XaiError} from '../../../src/util/errors.js'
import {MODULE_NODE_ACCOUNTS, type ModuleNode, createModuleNode} from '../../helpers/module-node.js'

const gasLimitProposal = (limit: number): Proposal =>
  parseProposal({
    kind: 'parameter-change',
    title: 'Raise the block gas limit',
    summary: 'More room per block.',
    riskAnalysis: 'Larger blocks take longer to execute.',
    dependencyDiff: `blockGasLimit: 30000000 -> ${limit}`,
    migrationSteps: 'None.',
    changes: [{module: 'chain', key: 'blockGasLimit', value: limit}],
  })

let node: ModuleNode | undefined
afterEach(async () => {
  await node?.close()
  node = undefined
})

/** The XaiError `promise` rejects with, checked for its code and exit code. */
async function expectXaiError(promise: Promise<unknown>, code: string, exitCode: number): Promise<XaiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}`).toBeInstanceOf(XaiError)
  expect((err as XaiError).code, (err as Error).message).toBe(code)
  expect((err as XaiError).exitCode).toBe(exitCode)
  return err as XaiError
}

const signer = (n: ModuleNode, i: number) => keySender(n.client, privateKeyToAccount(MODULE_NODE_ACCOUNTS[i]!.privateKey), Number(n.chain.chainId))

describe('governance client', () => {
  it('submits, votes, and reads the proposal, its tally, votes and history through to execution', async () => {
    node = await createModuleNode({governance: {votingPeriod: 4, timelock: 1}})
    const params = await readGovernanceParams(node.client)
    expect(params).toEqual({votingPeriod: 4n, quorum: 3340n, threshold: 5000n, vetoThreshold: 3340n, timelock: 1n, minDeposit: 0n})

    const proposal = gasLimitProposal(40_000_000)
    const submitted = await submitProposal(node.client, signer(node, 0), {proposal})
    expect(submitted).toMatchObject({id: 1, proposalHash: proposalHash(proposal), submitHeight: 1, snapshotHeight: 0, votingEndHeight: 5, deposit: '0', proposer: MODULE_NODE_ACCOUNTS[0]!.address})
    expect(await proposalCount(node.client)).toBe(1)

    const votes = []
    for (const i of [0, 1, 2]) votes.push(await voteOnProposal(node.client, signer(node, i), {id: 1, support: 'yes'}))
    votes.push(await voteOnProposal(node.client, nodeAccountSender(node.client, MODULE_NODE_ACCOUNTS[3]!.address), {id: 1, support: 'no'}))
    expect(votes.map((v) => [v.support, v.weight, v.blockNumber])).toEqual([
      ['yes', '10000000000000000000000', 2],
      ['yes', '10000000000000000000000', 3],
      ['yes', '10000000000000000000000', 4],
      ['no', '10000000000000000000000', 5],
    ])

    // A second vote is refused by the module before anything is sent.
    const head = node.chain.head.header.number
    const again = await expectXaiError(voteOnProposal(node.client, signer(node, 0), {id: 1, support: 'no'}), 'GOV_REJECTED', 4)
    expect(again.message).toContain('is Queued, not Active: it takes no more votes')
    expect(again.details?.reason).toBe('proposal 1 is Queued, not Active: it takes no more votes')
    expect(node.chain.head.header.number).toBe(head)

    await node.mine() // block 6: executed
    await node.mine() // block 7: the new limit
    expect(node.chain.head.header.gasLimit).toBe(40_000_000n)

    const details = await readProposalDetails(node.client, 1)
    expect(details).toMatchObject({
      id: 1,
      state: 'Executed',
      kind: 'parameter-change',
      title: 'Raise the block gas limit',
      proposer: MODULE_NODE_ACCOUNTS[0]!.address,
      submitHeight: 1,
      votingEndHeight: 5,
      executableHeight: 6,
      failureReason: null,
      actions: ['set chain.blockGasLimit = 40000000'],
      proposal,
      head: 7,
      params: {votingPeriod: '4', quorum: '3340', threshold: '5000', vetoThreshold: '3340', timelock: '1', minDeposit: '0'},
    })
    expect(details.tallySummary).toMatchObject({
      yes: '30000000000000000000000',
      no: '10000000000000000000000',
      cast: '40000000000000000000000',
      percent: {yes: 75, no: 25, abstain: 0, veto: 0},
      quorum: {bps: 3340, reached: true},
      threshold: {bps: 5000, yesShare: 75, met: true},
      vetoThreshold: {bps: 3340, vetoShare: 0, vetoed: false},
      outcome: 'passed',
    })
    expect(details.votes.map((v) => [v.voter, v.support, v.blockNumber])).toEqual([0, 1, 2, 3].map((i) => [getAddress(MODULE_NODE_ACCOUNTS[i]!.address), i === 3 ? 'no' : 'yes', i + 2]))
    expect(details.history.map((e) => [e.event, e.blockNumber, e.txHash === null])).toEqual([
      ['ProposalCreated', 1, false],
      ['VoteCast', 2, false],
      ['VoteCast', 3, false],
      ['VoteCast', 4, false],
      ['VoteCast', 5, false],
      ['ProposalQueued', 5, true],
      ['ProposalExecuted', 6, true],
    ])
    expect(details.history[5]!.args).toEqual({proposalId: '1', etaBlock: '6'})
    expect(details.history[4]!.args).toMatchObject({support: 'no', weight: '10000000000000000000000'})
  })

  it('lists proposals by state, and names a missing one', async () => {
    node = await createModuleNode({governance: {votingPeriod: 2, timelock: 1}})
    await submitProposal(node.client, signer(node, 0), {proposal: gasLimitProposal(40_000_000)})
    await node.mine()
    await node.mine() // no votes: defeated at block 3
    await submitProposal(node.client, signer(node, 1), {proposal: gasLimitProposal(50_000_000)})
    const all = await listProposals(node.client)
    expect(all.map((p) => [p.id, p.state])).toEqual([
      [1, 'Defeated'],
      [2, 'Active'],
    ])
    expect((await listProposals(node.client, {state: 'Active'})).map((p) => p.id)).toEqual([2])
    expect(await listProposals(node.client, {state: 'Executed'})).toEqual([])
    const defeated = await readProposalDetails(node.client, 1)
    expect(defeated.history.map((e) => e.event)).toEqual(['ProposalCreated', 'ProposalDefeated'])
    expect(defeated.history[1]!.args.reason).toBe('no-quorum')
    expect(defeated.tallySummary.outcome).toBe('no-quorum')
    await expectXaiError(readProposal(node.client, 3), 'GOV_PROPOSAL_NOT_FOUND', 2)
  })

  it('refuses a deposit below minDeposit with the module reason, and sends the default deposit', async () => {
    node = await createModuleNode({governance: {votingPeriod: 3, timelock: 1, minDeposit: '1000'}})
    const low = await expectXaiError(submitProposal(node.client, signer(node, 0), {proposal: gasLimitProposal(40_000_000), deposit: 5n}), 'GOV_REJECTED', 4)
    expect(low.details?.reason).toBe('a proposal needs a deposit of at least 1000 wei; 5 sent')
    const ok = await submitProposal(node.client, signer(node, 0), {proposal: gasLimitProposal(40_000_000)})
    expect(ok.deposit).toBe('1000')
  })
})

describe('module registry and faucet clients', () => {
  it('lists the built-in modules with their parameters, defaults filled in', async () => {
    node = await createModuleNode({governance: {votingPeriod: 3, timelock: 1}})
    const modules = await listModules(node.client)
    expect(modules.map((m) => m.id)).toEqual(['registry', 'governance', 'treasury', 'faucet', 'withdrawal-guard', 'mev-redistribution', 'rule-engine', 'fl'])
    expect(modules.every((m) => m.builtin && m.runningVersion === '1.0.0' && m.next === null && m.deactivateAt === null)).toBe(true)
    const governance = modules.find((m) => m.id === 'governance')!
    expect(governance).toMatchObject({
      address: '0x00000000000000000000000000000a116609A5B1',
      codeHash: builtinCodeHash('governance', '1.0.0'),
      params: {votingPeriod: 3, timelock: 1},
      effectiveParams: {votingPeriod: '3', timelock: '1', quorum: '3340', threshold: '5000', vetoThreshold: '3340', minDeposit: '0'},
    })
    expect((await readModule(node.client, 'faucet')).effectiveParams).toEqual({amount: '100000000000000000000', cooldownBlocks: '100'})
    await expectXaiError(readModule(node.client, 'nope'), 'MODULE_NOT_FOUND', 2)
    await expectXaiError(readModule(node.client, 'Not An Id'), 'MODULE_INVALID_NAME', 2)
  })

  it('stores module source by its code hash', async () => {
    node = await createModuleNode()
    const source = 'export default {manifest: {id: "x", version: "0.1.0"}}\n'
    expect(await hasModuleCode(node.client, moduleCodeHash(source))).toBe(false)
    const stored = await storeModuleCode(node.client, signer(node, 2), source)
    expect(stored).toMatchObject({codeHash: moduleCodeHash(source), size: source.length, blockNumber: 1})
    expect(await hasModuleCode(node.client, moduleCodeHash(source))).toBe(true)
  })

  it("pays a faucet claim and refuses the next one within the cooldown with the faucet's reason", async () => {
    node = await createModuleNode()
    const to = '0x000000000000000000000000000000000000bEEF'
    const sender = nodeAccountSender(node.client, MODULE_NODE_ACCOUNTS[0]!.address)
    const paid = await claimFromFaucet(node.client, sender, to)
    expect(paid).toMatchObject({address: getAddress(to), amount: '100000000000000000000', nextClaimAt: 101, blockNumber: 1, from: MODULE_NODE_ACCOUNTS[0]!.address})
    expect(await node.client.getBalance({address: to})).toBe(100n * 10n ** 18n)
    const refused = await expectXaiError(claimFromFaucet(node.client, sender, to), 'MODULE_CALL_REJECTED', 4)
    expect(refused.details?.reason).toBe(`faucet: ${getAddress(to)} is in its cooldown; the next claim is possible at block 101 (now 1)`)
    expect(await node.client.getBalance({address: to})).toBe(100n * 10n ** 18n)
  })
})

describe('proposing a module activation from its folder', () => {
  let tmp: string
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-propose-'))
  })
  afterAll(async () => {
    await rm(tmp, {recursive: true, force: true})
  })

  const activation = (codeHash: Hex) => `kind: module-activate
title: Activate the tally module
summary: Adds it.
id: tally
version: 0.1.0
codeHash: "${codeHash}"
height: 50
riskAnalysis: None.
dependencyDiff: None.
migrationSteps: None.
`

  it('finds src/<id>.ts above the proposal, uploads it when the registry lacks it, then proposes', async () => {
    const folder = join(tmp, 'tally')
    await mkdir(join(folder, 'src'), {recursive: true})
    await mkdir(join(folder, 'proposals'), {recursive: true})
    const source = '// the tally module\nexport const x = 1\n'
    await writeFile(join(folder, 'src', 'tally.ts'), source)
    await writeFile(join(folder, 'proposals', 'activate.yaml'), activation(moduleCodeHash(source)))

    const prepared = await prepareProposal({file: 'tally/proposals/activate.yaml', cwd: tmp})
    expect(prepared).toMatchObject({needsCode: true, source: {path: join(folder, 'src', 'tally.ts'), codeHash: moduleCodeHash(source)}})

    node = await createModuleNode()
    const progress: string[] = []
    const first = await submitPreparedProposal(prepared, {client: node.client, sender: signer(node, 0), chainId: 31337, onProgress: (e) => progress.push(e.type)})
    expect(first).toMatchObject({id: 1, kind: 'module-activate', codeUploaded: true, submitHeight: 2})
    expect(progress).toEqual(['upload', 'uploaded', 'submit'])
    expect(await hasModuleCode(node.client, moduleCodeHash(source))).toBe(true)
    const second = await submitPreparedProposal(prepared, {client: node.client, sender: signer(node, 0), chainId: 31337})
    expect(second).toMatchObject({id: 2, codeUploaded: false})
  })

  it('refuses a source whose hash is not the proposal’s, naming both, before anything is sent', async () => {
    const folder = join(tmp, 'stale')
    await mkdir(join(folder, 'src'), {recursive: true})
    await writeFile(join(folder, 'src', 'tally.ts'), 'export const changed = true\n')
    await writeFile(join(tmp, 'stale.yaml'), activation(moduleCodeHash('the old source')))
    const err = await expectXaiError(prepareProposal({file: 'stale.yaml', cwd: tmp, moduleDir: 'stale'}), 'GOV_CODE_HASH_MISMATCH', 2)
    expect(err.message).toContain(moduleCodeHash('export const changed = true\n'))
    expect(err.message).toContain(moduleCodeHash('the old source'))
    expect(err.hint).toContain(`codeHash: "${moduleCodeHash('export const changed = true\n')}"`)
    await expectXaiError(prepareProposal({file: 'stale.yaml', cwd: tmp, moduleDir: 'nowhere'}), 'MODULE_SOURCE_NOT_FOUND', 2)
  })

  it('needs no source for a built-in version, and asks for one the registry lacks', async () => {
    await writeFile(join(tmp, 'builtin.yaml'), activation(builtinCodeHash('tally', '0.1.0')))
    expect((await prepareProposal({file: 'builtin.yaml', cwd: tmp})).needsCode).toBe(false)
    await writeFile(join(tmp, 'orphan.yaml'), activation(moduleCodeHash('nowhere to be found')))
    const orphan = await prepareProposal({file: 'orphan.yaml', cwd: tmp})
    expect(orphan.needsCode).toBe(true)
    expect(orphan.source).toBeUndefined()
    node = await createModuleNode()
    await expectXaiError(submitPreparedProposal(orphan, {client: node.client, sender: signer(node, 0), chainId: 31337}), 'MODULE_SOURCE_NOT_FOUND', 2)
    expect(node.chain.head.header.number).toBe(0n)
  })
})
