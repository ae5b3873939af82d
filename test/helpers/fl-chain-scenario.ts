// The FL-on-chain scenario shared by the one-node and the four-validator e2e tests: a federation
// (logreg, digits, 5 clients, 3 rounds) anchored with `xai fl round --chain`, checked on every
// node, verified, tampered with, rewarded, and re-rewarded after a parameter-change proposal.
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {type Hex, createPublicClient, http} from 'viem'
import {expect} from 'vitest'

import {FL_ADDRESS} from '../../src/fl/anchor.js'
import {federationId, flAbi} from '../../src/modules/builtin/fl.js'
import {moduleAddress} from '../../src/modules/module.js'
import {type CliResult, explain, json, runXai} from './cli.js'
import {type E2eDevnet, rpc} from './devnet.js'

const TREASURY = moduleAddress('treasury')
const REWARD = 10n ** 15n
const NEW_REWARD = 2n * 10n ** 15n

const REWARD_PROPOSAL = `kind: parameter-change
title: Double the FL reward
summary: Pay 0.002 ether per accepted update.
riskAnalysis: The treasury pays twice as much per round.
dependencyDiff: "fl.reward: 1000000000000000 -> 2000000000000000"
migrationSteps: Nothing to do.
changes:
  - module: fl
    key: reward
    value: "2000000000000000"
`

export async function flChainScenario(devnet: E2eDevnet, tmp: string, options: {mine: boolean}): Promise<{chainMs: number; plainMs: number}> {
  const xai = (args: string[]): Promise<CliResult> => runXai([...args, '--dir', tmp], tmp, 600_000)
  const balance = async (url: string, address: Hex): Promise<bigint> => BigInt(await rpc<Hex>(url, 'eth_getBalance', [address, 'latest']))
  const treasuryBefore = await balance(devnet.rpcUrl, TREASURY)

  // The same federation without --chain, for the overhead figure.
  let started = performance.now()
  const plain = await xai(['fl', 'round', '--name', 'plain', '--model', 'logreg', '--dataset', 'digits', '--clients', '5', '--rounds', '3', '--json'])
  expect(plain.exitCode, explain(plain)).toBe(0)
  const plainMs = performance.now() - started

  started = performance.now()
  const run = await xai(['fl', 'round', '--name', 'anchored', '--model', 'logreg', '--dataset', 'digits', '--clients', '5', '--rounds', '3', '--chain', devnet.rpcUrl, '--json'])
  expect(run.exitCode, explain(run)).toBe(0)
  const chainMs = performance.now() - started
  const result = json(run)
  expect(result.history).toHaveLength(3)
  expect(result.chain.pending).toEqual([])
  expect(Object.keys(result.chain.committed)).toEqual(['1', '2', '3'])
  const id = result.chain.federationId as Hex
  expect(id).toBe(federationId(result.chain.coordinator, 'anchored'))
  const key = await readFile(join(tmp, 'fl', 'anchored', 'coordinator.key'), 'utf8')
  expect(key.trim()).toMatch(/^0x[0-9a-f]{64}$/)

  // Every round is on chain on every node, with the history's model hash.
  const head = Math.max(...Object.values(result.chain.committed as Record<string, {blockNumber: number}>).map((c) => c.blockNumber))
  for (const node of devnet.nodes) {
    const client = createPublicClient({transport: http(node.rpcUrl)})
    for (let i = 0; i < 120 && Number(await client.getBlockNumber()) < head; i++) await new Promise((r) => setTimeout(r, 500))
    for (const round of result.history as {round: number; modelHash: string; participants: number}[]) {
      const onChain = (await client.readContract({address: FL_ADDRESS, abi: flAbi, functionName: 'getRound', args: [id, BigInt(round.round)]})) as readonly unknown[]
      expect(onChain[0]).toBe(`0x${round.modelHash}`)
      expect(onChain[2]).toBe(BigInt(round.participants))
      expect(onChain[9]).toBeGreaterThan(0n)
    }
    const verified = await xai(['fl', 'verify', '--name', 'anchored', '--chain', node.rpcUrl, '--json'])
    expect(verified.exitCode, explain(verified)).toBe(0)
    expect(json(verified)).toMatchObject({ok: true, federationId: id})
  }

  // Rewards: each accepted update paid from the treasury.
  const rewards = json(await xai(['fl', 'rewards', '--name', 'anchored', '--chain', devnet.rpcUrl, '--json']))
  const accepted = (result.history as {anchor: {updates: {address: string}[]}}[]).flatMap((r) => r.anchor.updates.map((u) => u.address.toLowerCase()))
  expect(accepted).toHaveLength(15)
  expect(rewards.clients).toHaveLength(5)
  for (const client of rewards.clients) {
    const count = accepted.filter((a) => a === client.address.toLowerCase()).length
    expect(client).toMatchObject({accepted: count, reputation: String(10 * count), earned: String(REWARD * BigInt(count)), balance: String(REWARD * BigInt(count))})
    expect(client.clientId).toMatch(/^client-\d$/)
  }
  const treasuryAfter = await balance(devnet.rpcUrl, TREASURY)
  // The treasury paid 15 rewards; it also received its share of the fees of the blocks since (far less).
  expect(treasuryBefore - treasuryAfter).toBeGreaterThan(14n * REWARD)
  expect(treasuryBefore - treasuryAfter).toBeLessThanOrEqual(15n * REWARD)

  // A proposal doubles the reward; the next round pays the new amount.
  await writeFile(join(tmp, 'reward.yaml'), REWARD_PROPOSAL)
  const proposed = await runXai(['governance', 'propose', 'reward.yaml', '--rpc-url', devnet.rpcUrl, '--json'], tmp, 120_000)
  expect(proposed.exitCode, explain(proposed)).toBe(0)
  const proposalId = String(json(proposed).id)
  for (const account of [0, 1, 2, 3]) {
    const voted = await runXai(['governance', 'vote', proposalId, 'yes', '--account', String(account), '--rpc-url', devnet.rpcUrl, '--json'], tmp, 120_000)
    expect(voted.exitCode, explain(voted)).toBe(0)
  }
  let state = ''
  for (let i = 0; i < 120 && state !== 'Executed'; i++) {
    if (options.mine) await rpc(devnet.rpcUrl, 'evm_mine')
    else await new Promise((r) => setTimeout(r, 1000))
    state = json(await runXai(['governance', 'show', proposalId, '--rpc-url', devnet.rpcUrl, '--json'], tmp, 120_000)).state
    expect(state).not.toMatch(/Defeated|Vetoed|Failed/)
  }
  expect(state).toBe('Executed')
  const before = new Map<string, bigint>()
  for (const c of rewards.clients) before.set(c.address.toLowerCase(), await balance(devnet.rpcUrl, c.address))
  const next = await xai(['fl', 'round', '--name', 'anchored', '--rounds', '1', '--chain', devnet.rpcUrl, '--json'])
  expect(next.exitCode, explain(next)).toBe(0)
  const round4 = json(next)
  expect(round4.chain.pending).toEqual([])
  const paid = (round4.history.at(-1).anchor.updates as {address: string}[]).map((u) => u.address.toLowerCase())
  expect(paid.length).toBeGreaterThan(0)
  for (const address of paid) expect((await balance(devnet.rpcUrl, address as Hex)) - before.get(address)!).toBe(NEW_REWARD)

  // Editing one model hash in the local history makes verify fail on that round only.
  const file = join(tmp, 'fl', 'anchored', 'federation.json')
  const doc = JSON.parse(await readFile(file, 'utf8'))
  doc.rounds[1].modelHash = doc.rounds[1].modelHash.replace(/^./, (c: string) => (c === '0' ? '1' : '0'))
  await writeFile(file, JSON.stringify(doc))
  const tampered = await xai(['fl', 'verify', '--name', 'anchored', '--chain', devnet.rpcUrl, '--json'])
  expect(tampered.exitCode, explain(tampered)).toBe(4)
  const report = json(tampered)
  expect(report.ok).toBe(false)
  expect(report.rounds.map((r: {ok: boolean}) => r.ok)).toEqual([true, false, true, true])
  expect(report.rounds[1].problems.join('; ')).toMatch(/model hash: history 0x[0-9a-f]{64}, chain 0x[0-9a-f]{64}/)
  const human = await xai(['fl', 'verify', '--name', 'anchored', '--chain', devnet.rpcUrl])
  expect(human.exitCode).toBe(4)
  expect(human.stdout).toMatch(/round 2 {2}MISMATCH/)

  return {chainMs: Math.round(chainMs), plainMs: Math.round(plainMs)}
}
