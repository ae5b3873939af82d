import {privateKeyToAccount} from 'viem/accounts'
import {afterEach, describe, expect, it} from 'vitest'

import {submitProposal, voteOnProposal} from '../../../src/client/governance-client.js'
import {parseProposal} from '../../../src/governance/proposal.js'
import {type ProposalsUpdate, type WatchSnapshot, readProposalsSnapshot, watchProposals} from '../../../src/client/watch-proposals.js'
import {keySender} from '../../../src/client/module-tx.js'
import {MODULE_NODE_ACCOUNTS, type ModuleNode, createModuleNode} from '../../helpers/module-node.js'

const proposal = parseProposal({
  kind: 'parameter-change',
  title: 'Raise the block gas limit',
  summary: 'More room per block.',
  riskAnalysis: 'Larger blocks take longer to execute.',
  dependencyDiff: 'blockGasLimit: 30000000 -> 40000000',
  migrationSteps: 'None.',
  changes: [{module: 'chain', key: 'blockGasLimit', value: 40_000_000}],
})

let node: ModuleNode | undefined
afterEach(async () => {
  await node?.close()
  node = undefined
})

describe('watchProposals', () => {
  it('yields the open proposals of a real chain with their countdown and tally, block after block', async () => {
    node = await createModuleNode({governance: {votingPeriod: 6, timelock: 1}})
    const n = node
    const signer = (i: number) => keySender(n.client, privateKeyToAccount(MODULE_NODE_ACCOUNTS[i]!.privateKey), Number(n.chain.chainId))
    await submitProposal(n.client, signer(0), {proposal})
    const abort = new AbortController()
    const seen: ProposalsUpdate[] = []
    for await (const update of watchProposals(n.client, {intervalMs: 10, signal: abort.signal})) {
      seen.push(update)
      // Between reads the chain moves on: a yes vote (one block), then an empty block.
      if (seen.length === 1) await voteOnProposal(n.client, signer(1), {id: 1, support: 'yes'})
      if (seen.length === 2) await n.mine()
      if (seen.length === 3) abort.abort()
    }
    expect(seen).toHaveLength(3)
    expect(seen.every((u) => u.error === null)).toBe(true)
    const [first, voted, later] = seen.map((u) => u.snapshot) as [WatchSnapshot, WatchSnapshot, WatchSnapshot]
    expect(first.head).toBe(1)
    expect(first.proposals).toHaveLength(1)
    expect(first.proposals[0]).toMatchObject({id: 1, title: 'Raise the block gas limit', kind: 'parameter-change', state: 'Active', blocksLeft: 6, stage: 'voting until block 7, 6 to go'})
    expect(first.proposals[0]!.tally.percent.yes).toBe(0)
    expect(voted.head).toBe(2)
    expect(voted.proposals[0]).toMatchObject({blocksLeft: 5})
    expect(voted.proposals[0]!.tally.percent.yes).toBe(100)
    expect(later.head).toBe(3)
    expect(later.proposals[0]).toMatchObject({blocksLeft: 4, stage: 'voting until block 7, 4 to go'})
  })

  it('after a good read, yields the last good snapshot with the reason a read failed, and goes on', async () => {
    node = await createModuleNode()
    const n = node
    const initial = await readProposalsSnapshot(n.client)
    let failing = true
    const abort = new AbortController()
    const seen: ProposalsUpdate[] = []
    const read = async (client: typeof n.client): Promise<WatchSnapshot> => {
      if (failing) throw new Error('connect ECONNREFUSED 127.0.0.1:8545')
      return readProposalsSnapshot(client)
    }
    for await (const update of watchProposals(n.client, {intervalMs: 10, signal: abort.signal, initial, read})) {
      seen.push(update)
      if (seen.length === 1) {
        failing = false
        await n.mine()
      }
      if (seen.length === 2) abort.abort()
    }
    // With an initial snapshot, the first yield is a read one interval later.
    expect(seen[0]).toEqual({snapshot: initial, error: 'connect ECONNREFUSED 127.0.0.1:8545'})
    expect(seen[1]!.error).toBeNull()
    expect(seen[1]!.snapshot.head).toBe(initial.head + 1)
  })

  it('throws when the very first read fails, and ends at once when aborted mid-read', async () => {
    const client = {} as ModuleNode['client']
    const refused = watchProposals(client, {read: async () => Promise.reject(new Error('no chain'))})
    await expect(refused.next()).rejects.toThrow('no chain')
    const abort = new AbortController()
    const hanging = watchProposals(client, {signal: abort.signal, read: () => new Promise(() => {})})
    const next = hanging.next()
    setTimeout(() => abort.abort(), 20)
    await expect(next).resolves.toEqual({done: true, value: undefined})
  })
})
