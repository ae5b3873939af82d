// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) against a single-node
// automine devnet with short governance periods: a parameter-change proposal is submitted, voted
// through by four dev accounts, executed after the timelock, and the next block carries the new
// gas limit; a late vote is refused with the module's reason; the registry lists the built-in
// modules; a module's source is uploaded with its activation proposal; and the devnet faucet pays
// once per cooldown.
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Hex, createPublicClient, getAddress, http} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {registryModule} from '../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleCodeHash} from '../../src/modules/module.js'
import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {type E2eDevnet, rpc, startE2eDevnet} from '../helpers/devnet.js'
import {fillPlaceholders} from '../helpers/proposal-fill.js'

let devnet: E2eDevnet | undefined
let tmp: string

function xai(args: string[]): Promise<CliResult> {
  return runXai(args, tmp, 120_000)
}

/** A governance or module command against the devnet's node. */
function onChain(args: string[]): Promise<CliResult> {
  return xai([...args, '--rpc-url', devnet!.rpcUrl])
}

const GAS_LIMIT_PROPOSAL = `# Raise the block gas limit
kind: parameter-change
title: Raise the block gas limit
summary: Blocks are full at peak hours.
riskAnalysis: Larger blocks take longer to validate.
dependencyDiff: "blockGasLimit: 30000000 -> 40000000"
migrationSteps: Nothing to do for operators.
changes:
  - module: chain
    key: blockGasLimit
    value: 40000000
`

async function blockNumber(): Promise<number> {
  return Number(BigInt(await rpc<Hex>(devnet!.rpcUrl, 'eth_blockNumber')))
}

describe('governance, modules and the faucet through the CLI (devnet)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-governance-flow-'))
    // Four votes take four blocks on an automining devnet (one block per transaction), so the
    // voting period is four blocks: the last vote lands in the block that ends the vote.
    devnet = await startE2eDevnet({target: 'xai', blockTime: 0, upArgs: ['--voting-period', '4', '--timelock', '1']})
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('passes a gas-limit proposal with four yes votes; it executes after the timelock and the next block has the new limit', async () => {
    await writeFile(join(tmp, 'gas.yaml'), GAS_LIMIT_PROPOSAL)
    const proposed = await onChain(['governance', 'propose', 'gas.yaml', '--json'])
    expect(proposed.exitCode, explain(proposed)).toBe(0)
    const submitted = json(proposed)
    expect(submitted).toMatchObject({id: 1, kind: 'parameter-change', proposalHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/)})
    expect(submitted.votingEndHeight).toBe(submitted.submitHeight + 4)
    expect(submitted.snapshotHeight).toBe(submitted.submitHeight - 1)
    expect(submitted.codeUploaded).toBeUndefined()
    const validated = json(await xai(['governance', 'validate', 'gas.yaml', '--json']))
    expect(submitted.proposalHash).toBe(validated.hash)

    for (const account of [0, 1, 2, 3]) {
      const voted = await onChain(['governance', 'vote', '1', 'yes', '--account', String(account), '--json'])
      expect(voted.exitCode, explain(voted)).toBe(0)
      expect(json(voted)).toMatchObject({id: 1, support: 'yes', voter: getAddress(devnet!.accounts[account]!.address), weight: expect.stringMatching(/^[1-9]\d{21,}$/)})
    }
    expect(await blockNumber()).toBe(submitted.votingEndHeight)

    const tally = json(await onChain(['governance', 'tally', '1', '--json']))
    expect(tally).toMatchObject({id: 1, state: 'Queued', outcome: 'passed', quorum: {reached: true}, threshold: {met: true, yesShare: 100}})

    // Mine empty blocks until governance's endBlock has executed it (bounded: the timelock is one block).
    let shown: any
    for (let i = 0; i < 5; i++) {
      await rpc(devnet!.rpcUrl, 'evm_mine')
      const show = await onChain(['governance', 'show', '1', '--json'])
      expect(show.exitCode, explain(show)).toBe(0)
      shown = json(show)
      if (shown.state === 'Executed') break
    }
    expect(shown).toMatchObject({id: 1, state: 'Executed', executableHeight: submitted.votingEndHeight + 1, failureReason: null, actions: ['set chain.blockGasLimit = 40000000']})
    expect(shown.votes.map((v: {voter: string}) => v.voter)).toEqual(devnet!.accounts.slice(0, 4).map((a) => getAddress(a.address)))
    expect(shown.history.map((e: {event: string}) => e.event)).toEqual(['ProposalCreated', 'VoteCast', 'VoteCast', 'VoteCast', 'VoteCast', 'ProposalQueued', 'ProposalExecuted'])
    expect(shown.history.at(-1)).toMatchObject({blockNumber: submitted.votingEndHeight + 1, txHash: null})

    await rpc(devnet!.rpcUrl, 'evm_mine')
    const latest = await rpc<{gasLimit: Hex}>(devnet!.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(latest.gasLimit)).toBe(40_000_000n)

    const human = await onChain(['governance', 'show', '1'])
    expect(human.exitCode, explain(human)).toBe(0)
    expect(human.stdout).toContain('Proposal #1: Raise the block gas limit')
    expect(human.stdout).toMatch(/state +Executed/)
    expect(human.stdout).toContain('ProposalExecuted')
  })

  it("refuses a vote after the end with the module's reason (exit 4) and sends nothing", async () => {
    const before = await blockNumber()
    const late = await onChain(['governance', 'vote', '1', 'no', '--account', '5'])
    expect(late.exitCode, explain(late)).toBe(4)
    expect(late.stderr).toContain('proposal 1 is Executed, not Active: it takes no more votes [GOV_REJECTED]')
    expect(late.stdout).toBe('')
    expect(await blockNumber()).toBe(before)
    const asJson = json(await onChain(['governance', 'vote', '1', 'veto', '--account', '6', '--json']))
    expect(asJson.error).toMatchObject({code: 'GOV_REJECTED', details: {reason: 'proposal 1 is Executed, not Active: it takes no more votes'}})
  })

  it('lists proposals by state and names a missing one (exit 2)', async () => {
    expect(json(await onChain(['governance', 'list', '--state', 'executed', '--json'])).proposals.map((p: {id: number}) => p.id)).toEqual([1])
    expect(json(await onChain(['governance', 'list', '--state', 'Active', '--json'])).proposals).toEqual([])
    const missing = await onChain(['governance', 'show', '99'])
    expect(missing.exitCode, explain(missing)).toBe(2)
    expect(missing.stderr).toContain('There is no proposal 99 [GOV_PROPOSAL_NOT_FOUND]')
    const badState = await onChain(['governance', 'list', '--state', 'done'])
    expect(badState.exitCode).toBe(2)
  })

  it('simulates a proposal on a copy of the state: the changes, or why it would fail; nothing is written', async () => {
    const file = join(tmp, 'raise-again.yaml')
    await writeFile(file, GAS_LIMIT_PROPOSAL.replace('value: 40000000', 'value: 50000000'))
    const before = await blockNumber()
    const simulated = json(await onChain(['governance', 'simulate', file, '--json']))
    expect(simulated).toMatchObject({ok: true, kind: 'parameter-change', changes: ['chain.blockGasLimit: 40000000 → 50000000']})
    expect(simulated.storage.length).toBeGreaterThan(0)
    const pinned = join(tmp, 'deactivate-governance.yaml')
    await writeFile(pinned, ['kind: module-deactivate', 'title: Switch governance off', 'summary: s', 'riskAnalysis: r', 'dependencyDiff: d', 'migrationSteps: m', 'id: governance', 'version: "1.0.0"', `codeHash: "0x${'11'.repeat(32)}"`, 'height: 1000', ''].join('\n'))
    const refused = await onChain(['governance', 'simulate', pinned])
    expect(refused.exitCode, explain(refused)).toBe(0)
    expect(refused.stdout).toContain('would fail: module governance is part of the chain and cannot be deactivated')
    const byId = json(await onChain(['governance', 'simulate', '1', '--json']))
    expect(byId).toMatchObject({ok: true, changes: []})
    expect(await blockNumber()).toBe(before)
    const limit = await rpc<{gasLimit: Hex}>(devnet!.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(limit.gasLimit)).toBe(40_000_000n)
  })

  it('watch prints a snapshot of open and recently ended proposals when not on a terminal', async () => {
    const snapshot = json(await onChain(['governance', 'watch', '--json']))
    expect(snapshot.head).toBe(await blockNumber())
    expect(snapshot.proposals).toEqual([expect.objectContaining({id: 1, state: 'Executed', blocksLeft: null, tally: expect.objectContaining({outcome: 'passed'})})])
    const text = await onChain(['governance', 'watch'])
    expect(text.exitCode, explain(text)).toBe(0)
    expect(text.stdout).toMatch(/^#1 Executed +Raise the block gas limit — executed in block \d+; yes 100\.0 %/m)
  })

  it('exposes governance metrics at /metrics', async () => {
    const text = await (await fetch(new URL('/metrics', devnet!.rpcUrl))).text()
    expect(text).toContain('xai_governance_proposals{state="Executed"} 1')
    expect(text).toContain('xai_governance_proposals{state="Active"} 0')
    expect(text).toMatch(/^xai_governance_votes_total 4$/m)
  })

  it('module list and show read the registry of the devnet named by --dir', async () => {
    const listed = await xai(['module', 'list', '--dir', devnet!.dir, '--json'])
    expect(listed.exitCode, explain(listed)).toBe(0)
    const modules = json(listed).modules as {id: string; builtin: boolean; runningVersion: string}[]
    expect(modules.map((m) => m.id)).toEqual(['registry', 'governance', 'treasury', 'faucet', 'withdrawal-guard', 'mev-redistribution', 'rule-engine', 'fl'])
    expect(modules.every((m) => m.builtin && m.runningVersion === '1.0.0')).toBe(true)

    const governance = json(await onChain(['module', 'show', 'governance', '--json']))
    expect(governance).toMatchObject({id: 'governance', address: '0x00000000000000000000000000000a116609A5B1', effectiveParams: {votingPeriod: '4', timelock: '1', quorum: '3340'}})
    const human = await onChain(['module', 'show', 'faucet'])
    expect(human.stdout).toContain('cooldownBlocks = 100  (default)')
    const unknown = await onChain(['module', 'show', 'no-such-module'])
    expect(unknown.exitCode, explain(unknown)).toBe(2)
    expect(unknown.stderr).toContain('[MODULE_NOT_FOUND]')
  })

  it("proposes a scaffolded module's activation: its source is uploaded first, and a changed source is refused", async () => {
    const created = await xai(['module', 'create', 'tally-counter', '--json'])
    expect(created.exitCode, explain(created)).toBe(0)
    const proposalPath = join(tmp, 'tally-counter/proposals/activate.yaml')
    await writeFile(proposalPath, fillPlaceholders(await readFile(proposalPath, 'utf8')))
    const proposed = await onChain(['governance', 'propose', 'tally-counter/proposals/activate.yaml', '--json'])
    expect(proposed.exitCode, explain(proposed)).toBe(0)
    expect(json(proposed)).toMatchObject({id: 2, kind: 'module-activate', codeUploaded: true})
    const source = await readFile(join(tmp, 'tally-counter/src/tally-counter.ts'), 'utf8')
    const client = createPublicClient({transport: http(devnet!.rpcUrl)})
    expect(await client.readContract({address: MODULE_REGISTRY_ADDRESS, abi: registryModule.abi, functionName: 'hasCode', args: [moduleCodeHash(source)]})).toBe(true)

    await writeFile(join(tmp, 'tally-counter/src/tally-counter.ts'), `${source}\n// changed\n`)
    const before = await blockNumber()
    const stale = await onChain(['governance', 'propose', 'tally-counter/proposals/activate.yaml'])
    expect(stale.exitCode, explain(stale)).toBe(2)
    expect(stale.stderr).toContain('[GOV_CODE_HASH_MISMATCH]')
    expect(stale.stderr).toContain(moduleCodeHash(`${source}\n// changed\n`))
    expect(stale.stderr).toContain(moduleCodeHash(source))
    expect(await blockNumber()).toBe(before)
  })

  it('devnet faucet pays a fresh address once, and refuses a second claim within the cooldown (exit 4)', async () => {
    const fresh = '0x000000000000000000000000000000000000fa11'
    const paid = await xai(['devnet', 'faucet', fresh, '--dir', devnet!.dir, '--json'])
    expect(paid.exitCode, explain(paid)).toBe(0)
    const claim = json(paid)
    expect(claim).toMatchObject({address: getAddress(fresh), amount: '100000000000000000000', from: getAddress(devnet!.accounts[0]!.address)})
    expect(claim.nextClaimAt).toBe(claim.blockNumber + 100)
    expect(BigInt(await rpc<Hex>(devnet!.rpcUrl, 'eth_getBalance', [fresh, 'latest']))).toBe(100n * 10n ** 18n)

    const again = await xai(['devnet', 'faucet', fresh, '--dir', devnet!.dir])
    expect(again.exitCode, explain(again)).toBe(4)
    expect(again.stderr).toContain(`is in its cooldown; the next claim is possible at block ${claim.nextClaimAt}`)
    expect(again.stderr).toContain('[MODULE_CALL_REJECTED]')
    expect(BigInt(await rpc<Hex>(devnet!.rpcUrl, 'eth_getBalance', [fresh, 'latest']))).toBe(100n * 10n ** 18n)
  })
})
