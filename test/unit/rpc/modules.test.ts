import type {BlockEventLog} from '../../../src/rpc/methods/modules.js'
import {type Hex, type Log, bytesToHex, decodeEventLog, encodeFunctionData, numberToHex, parseEventLogs} from 'viem'
import {afterEach, describe, expect, it} from 'vitest'

import {canonicalProposal, parseProposal} from '../../../src/governance/proposal.js'
import {governanceAbi} from '../../../src/modules/host/governance-module.js'
import {moduleAddress} from '../../../src/modules/module.js'
import {faucetAbi} from '../../../src/modules/builtin/faucet.js'
import {treasuryAbi} from '../../../src/modules/builtin/treasury.js'
import {MODULE_NODE_ACCOUNTS, type ModuleNode, createModuleNode} from '../../helpers/module-node.js'

const GOVERNANCE = moduleAddress('governance')
const TREASURY = moduleAddress('treasury')

type BlockEvent = BlockEventLog

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

/** Sends from dev account `from` through eth_sendTransaction (the node automines it). */
async function send(n: ModuleNode, from: number, to: Hex, data: Hex): Promise<void> {
  await n.rpc('eth_sendTransaction', [{from: MODULE_NODE_ACCOUNTS[from]!.address, to, data, gas: numberToHex(2_000_000)}])
  await n.mine()
}

describe('xai_getBlockEvents', () => {
  it("returns governance's endBlock events (in no receipt) in eth_getLogs format, and [] for a block without any", async () => {
    node = await createModuleNode({governance: {votingPeriod: 2, timelock: 1}})
    await send(node, 0, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(proposal))]})) // block 1
    for (const voter of [0, 1, 2, 3]) await node.mempool.addRaw(await signVote(node, voter))
    await node.mine() // block 2: four votes; voting ends at block 3
    await node.mine() // block 3: tallied, Queued
    await node.mine() // block 4: executed
    expect(node.chain.head.header.number).toBe(4n)

    const decode = (logs: BlockEvent[]) => logs.filter((l) => l.address === GOVERNANCE.toLowerCase()).map((l) => decodeEventLog({abi: governanceAbi, data: l.data, topics: l.topics as [Hex, ...Hex[]]}))
    const queued = await node.rpc<BlockEvent[]>('xai_getBlockEvents', ['0x3'])
    expect(decode(queued).map((e) => e.eventName)).toEqual(['ProposalQueued'])
    expect(decode(queued)[0]!.args).toEqual({proposalId: 1n, etaBlock: 4n})
    const executed = await node.rpc<BlockEvent[]>('xai_getBlockEvents', ['0x4'])
    expect(decode(executed).map((e) => e.eventName)).toEqual(['ProposalExecuted'])

    const block4 = (await node.chain.getBlock(4n))!
    const event = executed.find((l) => l.address === GOVERNANCE.toLowerCase())!
    expect(event).toMatchObject({
      blockNumber: '0x4',
      blockHash: bytesToHex(block4.block.hash()),
      blockTimestamp: numberToHex(block4.block.header.timestamp),
      transactionHash: null,
      transactionIndex: null,
      removed: false,
    })
    // Not in any receipt, so eth_getLogs does not see them.
    const logs = await node.rpc<unknown[]>('eth_getLogs', [{address: GOVERNANCE, fromBlock: '0x3', toBlock: '0x4'}])
    expect(logs).toEqual([])

    // The block with the votes: the treasury's FeesReceived is its only block event, numbered after the receipts' four logs.
    const votes = await node.rpc<BlockEvent[]>('xai_getBlockEvents', ['0x2'])
    expect(votes.map((l) => l.address)).toEqual([TREASURY.toLowerCase()])
    expect(decodeEventLog({abi: treasuryAbi, data: votes[0]!.data, topics: votes[0]!.topics as [Hex, ...Hex[]]}).eventName).toBe('FeesReceived')
    expect(votes[0]!.logIndex).toBe('0x4')
    expect(await node.rpc('xai_getBlockEvents', ['0x0'])).toEqual([])
  })

  it('takes tags, answers null beyond the head, and rejects bad params with -32602', async () => {
    node = await createModuleNode()
    await node.mine()
    expect(await node.rpc('xai_getBlockEvents', ['latest'])).toEqual(await node.rpc('xai_getBlockEvents', ['0x1']))
    expect(await node.rpc('xai_getBlockEvents', ['earliest'])).toEqual([])
    expect(await node.rpc('xai_getBlockEvents', ['0x64'])).toBeNull()
    await expect(node.rpc('xai_getBlockEvents', [])).rejects.toMatchObject({code: -32602, message: 'missing value for required argument 0'})
    await expect(node.rpc('xai_getBlockEvents', ['one'])).rejects.toMatchObject({code: -32602, message: expect.stringContaining('invalid argument 0')})
    await expect(node.rpc('xai_getBlockEvents', ['0x1', true])).rejects.toMatchObject({code: -32602, message: 'too many arguments, want at most 1'})
  })
})

async function signVote(n: ModuleNode, from: number): Promise<Uint8Array> {
  const {privateKeyToAccount} = await import('viem/accounts')
  const account = privateKeyToAccount(MODULE_NODE_ACCOUNTS[from]!.privateKey)
  const nonce = Number(BigInt(await n.rpc<Hex>('eth_getTransactionCount', [account.address, 'pending'])))
  const raw = await account.signTransaction({
    chainId: Number(n.chain.chainId),
    type: 'eip1559',
    nonce,
    to: GOVERNANCE,
    gas: 500_000n,
    maxFeePerGas: 10_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
    data: encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]}),
  })
  return Buffer.from(raw.slice(2), 'hex')
}

describe('debug_traceTransaction with native modules', () => {
  it('replays the block with its module hooks: a faucet claim traces with the gas and return value it had', async () => {
    node = await createModuleNode()
    const n = node
    const faucet = moduleAddress('faucet')
    // Two claims in one block: the second is traced after the first and the block's hooks.
    const hashes: Hex[] = []
    for (const from of [3, 4]) {
      hashes.push(await n.rpc<Hex>('eth_sendTransaction', [{from: MODULE_NODE_ACCOUNTS[from]!.address, to: faucet, data: encodeFunctionData({abi: faucetAbi, functionName: 'claim'}), gas: numberToHex(500_000)}]))
    }
    await n.mine()
    for (const hash of hashes) {
      const receipt = await n.rpc<{status: Hex; gasUsed: Hex; logs: Log[]}>('eth_getTransactionReceipt', [hash])
      expect(receipt.status).toBe('0x1')
      const [claimed] = parseEventLogs({abi: faucetAbi, logs: receipt.logs, eventName: 'Claimed'})
      const trace = await n.rpc<{gas: number; failed: boolean; returnValue: string}>('debug_traceTransaction', [hash])
      expect(trace.failed).toBe(false)
      expect(trace.gas).toBe(Number(BigInt(receipt.gasUsed)))
      expect(BigInt(`0x${trace.returnValue}`)).toBe(claimed!.args.amount)
    }
  })
})
