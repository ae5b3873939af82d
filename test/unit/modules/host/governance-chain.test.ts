import {encodeFunctionData, decodeEventLog, bytesToHex, toHex} from 'viem'
import {describe, expect, it} from 'vitest'

import {Chain} from '../../../../src/chain/chain.js'
import {createDevGenesis} from '../../../../src/chain/genesis.js'
import {Mempool} from '../../../../src/chain/mempool.js'
import {canonicalProposal, parseProposal} from '../../../../src/governance/proposal.js'
import {defaultGenesisModules} from '../../../../src/modules/builtin/index.js'
import {createModuleHost} from '../../../../src/modules/host/create-host.js'
import {addModulesToGenesis} from '../../../../src/modules/host/genesis-modules.js'
import {governanceAbi} from '../../../../src/modules/host/governance-module.js'
import {moduleAddress} from '../../../../src/modules/module.js'
import {silentLogger} from '../../../../src/util/logger.js'
import {openMemoryStore} from '../../../../src/storage/database.js'
import {DEV_ACCOUNTS, mineBlock, signTransfer} from '../../../helpers/chain.js'

const GOVERNANCE = moduleAddress('governance')

async function moduleChain() {
  const genesis = addModulesToGenesis(
    createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}),
    defaultGenesisModules({governance: {votingPeriod: 3, timelock: 1}}),
  )
  const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
  return {chain, mempool: new Mempool(chain)}
}

function gasLimitProposal(limit: number) {
  return parseProposal({
    kind: 'parameter-change',
    title: 'Raise the block gas limit',
    summary: 'More room per block.',
    riskAnalysis: 'Larger blocks take longer to execute.',
    dependencyDiff: 'blockGasLimit: 30000000 -> 40000000',
    migrationSteps: 'None.',
    changes: [{module: 'chain', key: 'blockGasLimit', value: limit}],
  })
}

const fromGovernance = (log: [Uint8Array, Uint8Array[], Uint8Array]) => bytesToHex(log[0]) === GOVERNANCE.toLowerCase()

const call = (functionName: 'propose' | 'vote', args: readonly unknown[]) => encodeFunctionData({abi: governanceAbi, functionName, args} as never)

describe('governance on a chain', () => {
  it('passes a gas-limit proposal with quorum; the new limit is in the headers after the timelock', async () => {
    const {chain, mempool} = await moduleChain()
    const body = bytesToHex(canonicalProposal(gasLimitProposal(40_000_000)))
    await mempool.addRaw(await signTransfer({from: 0, nonce: 0, to: GOVERNANCE, value: 0n, gas: 2_000_000n, data: call('propose', [body])}))
    const b1 = await mineBlock(chain, mempool)
    expect(b1.block.transactions).toHaveLength(1)
    expect(b1.receipts[0]!.status).toBe(1)
    const created = decodeEventLog({abi: governanceAbi, data: bytesToHex(b1.receipts[0]!.logs[0]![2]), topics: b1.receipts[0]!.logs[0]![1].map((t) => bytesToHex(t)) as never})
    expect(created.eventName).toBe('ProposalCreated')
    expect((created.args as {proposalId: bigint}).proposalId).toBe(1n)

    await mempool.addRaw(await signTransfer({from: 0, nonce: 1, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 1])}))
    await mempool.addRaw(await signTransfer({from: 1, nonce: 0, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 1])}))
    // A second vote in the same block passes admission (the first is not in a block yet) but is
    // left out of the block: validateTx runs again against the block's state.
    await mempool.addRaw(await signTransfer({from: 0, nonce: 2, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 0])}))
    const b2 = await mineBlock(chain, mempool)
    expect(b2.receipts.map((r) => r.status)).toEqual([1, 1])
    // Once the vote is in a block, another is refused at admission with the reason.
    await expect(mempool.addRaw(await signTransfer({from: 0, nonce: 2, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 0])}))).rejects.toThrow(/already voted on proposal 1; votes are final/)

    for (let i = 0; i < 4; i++) await mineBlock(chain, mempool)
    expect(chain.head.header.number).toBe(6n)
    const headers = await Promise.all([4n, 5n, 6n].map(async (n) => (await chain.getBlock(n))!.block.header.gasLimit))
    expect(headers).toEqual([30_000_000n, 30_000_000n, 40_000_000n])
    const b5 = (await chain.getBlock(5n))!
    expect(b5.events?.length).toBeGreaterThan(0)
    const names = b5.events!.filter(fromGovernance).map((log) => decodeEventLog({abi: governanceAbi, data: bytesToHex(log[2]), topics: log[1].map((t) => bytesToHex(t)) as never}).eventName)
    expect(names).toContain('ProposalExecuted')
    await chain.close()
  })

  it('changes the EIP-1559 parameters: the blocks after execution take their base fee with the new ones', async () => {
    const {chain, mempool} = await moduleChain()
    const proposal = parseProposal({
      kind: 'parameter-change',
      title: 'Slower base fee',
      summary: 'Smaller steps.',
      riskAnalysis: 'r',
      dependencyDiff: 'd',
      migrationSteps: 'm',
      changes: [{module: 'chain', key: 'baseFeeMaxChangeDenominator', value: 50}, {module: 'chain', key: 'elasticityMultiplier', value: 4}],
    })
    await mempool.addRaw(await signTransfer({from: 0, nonce: 0, to: GOVERNANCE, value: 0n, gas: 2_000_000n, data: call('propose', [bytesToHex(canonicalProposal(proposal))])}))
    await mineBlock(chain, mempool)
    await mempool.addRaw(await signTransfer({from: 0, nonce: 1, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 1])}))
    await mempool.addRaw(await signTransfer({from: 1, nonce: 0, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 1])}))
    while (chain.head.header.number < 5n) await mineBlock(chain, mempool)
    // Block 5 executed it; block 6 follows the new rule from its parent.
    await mempool.addRaw(await signTransfer({from: 2, nonce: 0, gas: 21_000n}))
    const b6 = await mineBlock(chain, mempool)
    const b7 = await mineBlock(chain, mempool)
    const expected = (parent: {baseFeePerGas?: bigint; gasLimit: bigint; gasUsed: bigint}) => {
      const base = parent.baseFeePerGas!
      const target = parent.gasLimit / 4n
      const delta = (base * (target - parent.gasUsed)) / target / 50n
      return base - delta
    }
    expect(b7.block.header.baseFeePerGas).toBe(expected(b6.block.header))
    expect(b7.block.header.baseFeePerGas).not.toBe(b6.block.header.calcNextBaseFee())
    expect(chain.nextBaseFee()).toBe(expected(b7.block.header))
    await chain.close()
  })

  it('defeats a proposal without quorum and changes nothing', async () => {
    const {chain, mempool} = await moduleChain()
    const body = bytesToHex(canonicalProposal(gasLimitProposal(50_000_000)))
    await mempool.addRaw(await signTransfer({from: 0, nonce: 0, to: GOVERNANCE, value: 0n, gas: 2_000_000n, data: call('propose', [body])}))
    await mineBlock(chain, mempool)
    await mempool.addRaw(await signTransfer({from: 2, nonce: 0, to: GOVERNANCE, value: 0n, gas: 500_000n, data: call('vote', [1n, 1])}))
    for (let i = 0; i < 6; i++) await mineBlock(chain, mempool)
    expect(chain.head.header.gasLimit).toBe(30_000_000n)
    const events = []
    for (let n = 1n; n <= chain.head.header.number; n++) for (const log of ((await chain.getBlock(n))!.events ?? []).filter(fromGovernance)) events.push(decodeEventLog({abi: governanceAbi, data: bytesToHex(log[2]), topics: log[1].map((t) => bytesToHex(t)) as never}))
    expect(events.map((e) => e.eventName)).toEqual(['ProposalDefeated'])
    expect((events[0]!.args as {reason: string}).reason).toBe('no-quorum')
    await chain.close()
  })

  it('refuses a malformed proposal at admission with the reason', async () => {
    const {chain, mempool} = await moduleChain()
    await expect(mempool.addRaw(await signTransfer({from: 0, nonce: 0, to: GOVERNANCE, value: 0n, gas: 2_000_000n, data: call('propose', [toHex('{"kind":"text"}')])}))).rejects.toThrow(/rejected by module governance: invalid proposal/)
    await chain.close()
  })
})
