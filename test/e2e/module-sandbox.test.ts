/**
 * User modules in the QuickJS sandbox on a 4-validator devnet. A module activated by proposal
 * (a) runs a normal call, (b) tries to escape to the node, (c) loops forever, (d) allocates past
 * the 32 MiB cap and (e) calls another module: (a) and (e) work, (b)-(d) revert with their
 * reasons, the chain commits throughout and every node has the same state root at every height.
 */
import {readFile} from 'node:fs/promises'

import {type Address, type Hex, bytesToHex, decodeFunctionResult, encodeFunctionData, parseAbi, stringToHex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, onTestFailed, test} from 'vitest'

import {canonicalProposal, parseProposal} from '../../src/governance/proposal.js'
import {governanceAbi} from '../../src/modules/host/governance-module.js'
import {registryModule} from '../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress, moduleCodeHash} from '../../src/modules/module.js'
import {type MultiNodeDevnet, height, rpc, startMultiNodeDevnet, until} from '../helpers/multinode.js'

const TIMEOUT = 900_000
const VOTING_PERIOD = 8
const TIMELOCK = 1
const GOVERNANCE = moduleAddress('governance')
const CALLEE = moduleAddress('callee')
const PROBE = moduleAddress('probe')
const sections = {riskAnalysis: 'Tested on a devnet.', dependencyDiff: 'None.', migrationSteps: 'None.'}

const probeAbi = parseAbi([
  'function normal() returns (uint256)',
  'function escape() returns (uint256)',
  'function spin() returns (uint256)',
  'function allocate() returns (uint256)',
  'function callOther() returns (uint256)',
  'function value() view returns (uint256)',
])
const calleeAbi = parseAbi(['function value() view returns (uint256)'])

const PROBE_SOURCE = `import {parseAbi} from 'viem'
import {z} from 'zod'

const abi = parseAbi([
${probeAbi.map((item) => `  '${item.type} ${item.name}() ${item.stateMutability === 'view' ? 'view ' : ''}returns (uint256)',`).join('\n')}
])

const module = {
  manifest: {id: 'probe', version: '0.1.0', description: 'Sandbox probe'},
  params: z.object({}),
  abi,
  gas: {normal: 25_000n, value: 2_100n},
  calls: {
    normal(ctx: any) {
      const next = ctx.storage.get(0n) + 1n
      ctx.storage.set(0n, next)
      return next
    },
    escape(ctx: any) {
      const F = (abi as any).constructor.constructor
      const proc = F('return this.process')()
      proc.stdout.write('ESCAPED: pid ' + proc.pid + ' cwd ' + proc.cwd() + '\\n')
      ctx.storage.set(1n, 1n)
      return 1n
    },
    spin(ctx: any) {
      ctx.storage.set(2n, 1n)
      for (;;) {}
    },
    allocate(ctx: any) {
      ctx.storage.set(3n, 1n)
      const kept: string[] = []
      for (let i = 0; i < 64; i++) kept.push('x'.repeat(1 << 20) + i)
      return BigInt(kept.length)
    },
    callOther(ctx: any) {
      const value = ctx.call('callee', 'increment', []) as bigint
      ctx.storage.set(4n, value)
      return value
    },
    value(ctx: any) {
      return ctx.storage.get(0n)
    },
  },
}

export default module
`

let devnet: MultiNodeDevnet

class Sender {
  private nonce?: number
  constructor(readonly key: Hex) {}
  get address(): Address {
    return privateKeyToAccount(this.key).address
  }
  async send(tx: {to: Address; data?: Hex; gas?: bigint}): Promise<Hex> {
    this.nonce ??= Number(BigInt(await rpc<string>(devnet.nodes[0]!.rpcUrl, 'eth_getTransactionCount', [this.address, 'pending'])))
    const raw = await privateKeyToAccount(this.key).signTransaction({
      chainId: devnet.chainId, type: 'eip1559', nonce: this.nonce, to: tx.to, data: tx.data, value: 0n, gas: tx.gas ?? 1_000_000n,
      maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n,
    })
    const hash = await rpc<Hex>(devnet.nodes[0]!.rpcUrl, 'eth_sendRawTransaction', [raw])
    this.nonce += 1
    return hash
  }
}

async function receipt(hash: Hex): Promise<{status: string; blockNumber: string; gasUsed: string; logs: {topics: Hex[]}[]}> {
  return until(() => rpc<{status: string; blockNumber: string; gasUsed: string; logs: {topics: Hex[]}[]} | null>(devnet.nodes[0]!.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), `receipt of ${hash}`, 180_000)
}

async function revertReason(to: Address, data: Hex, gas: bigint): Promise<string> {
  try {
    await rpc(devnet.nodes[1]!.rpcUrl, 'eth_call', [{to, data, gas: `0x${gas.toString(16)}`}, 'latest'], 120_000)
  } catch (err) {
    return (err as Error).message
  }
  return 'no revert'
}

async function viewValue(to: Address, node: number): Promise<bigint> {
  const data = encodeFunctionData({abi: calleeAbi, functionName: 'value'})
  return decodeFunctionResult({abi: calleeAbi, functionName: 'value', data: await rpc<Hex>(devnet.nodes[node]!.rpcUrl, 'eth_call', [{to, data}, 'latest'], 60_000)}) as bigint
}

describe('user modules in the sandbox on four validators', {timeout: TIMEOUT}, () => {
  beforeAll(async () => {
    devnet = await startMultiNodeDevnet({nodes: 4, blockTime: 500, extraArgs: ['--voting-period', String(VOTING_PERIOD), '--timelock', String(TIMELOCK)]})
  }, TIMEOUT)

  afterAll(async () => {
    await devnet?.stop()
  })

  test('a normal call and a call to another module work; escape, endless loop and over-allocation revert with reasons; every node has the same state roots', async () => {
    onTestFailed(async () => {
      const tails = await Promise.all(devnet.nodes.map(async (n) => `--- node ${n.index}\n${(await readFile(n.logPath, 'utf8').catch(() => '')).split('\n').filter((line) => !line.includes('committed block')).slice(-25).join('\n')}`))
      console.error(tails.join('\n'))
    })
    const [proposer, ...voters] = [0, 1, 2, 3, 4].map((i) => new Sender(devnet.accounts[i]!.privateKey))
    const from = await height(devnet.nodes[0]!.rpcUrl)
    const callee = (await readFile(new URL('../../templates/module/src/__name__.ts', import.meta.url), 'utf8')).replaceAll('__name__', 'callee')

    for (const source of [callee, PROBE_SOURCE]) {
      const hash = await proposer!.send({to: MODULE_REGISTRY_ADDRESS, data: encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}), gas: 8_000_000n})
      expect((await receipt(hash)).status).toBe('0x1')
    }
    const activation = (await height(devnet.nodes[0]!.rpcUrl)) + VOTING_PERIOD + TIMELOCK + 10
    const ids: bigint[] = []
    for (const [id, source] of [['callee', callee], ['probe', PROBE_SOURCE]] as const) {
      const body = bytesToHex(canonicalProposal(parseProposal({kind: 'module-activate', title: id, summary: 'Sandboxed.', ...sections, id, version: '0.1.0', codeHash: moduleCodeHash(source), height: activation})))
      const mined = await receipt(await proposer!.send({to: GOVERNANCE, data: encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [body]}), gas: 3_000_000n}))
      expect(mined.status).toBe('0x1')
      ids.push(BigInt(mined.logs[0]!.topics[1]!))
    }
    const votes: Hex[] = []
    for (const voter of voters) for (const id of ids) votes.push(await voter.send({to: GOVERNANCE, data: encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [id, 1]}), gas: 500_000n}))
    for (const hash of votes) expect((await receipt(hash)).status).toBe('0x1')
    await until(async () => ((await height(devnet.nodes[0]!.rpcUrl)) >= activation ? true : undefined), `height ${activation}`, 300_000)

    const call = (name: (typeof probeAbi)[number]['name']) => encodeFunctionData({abi: probeAbi, functionName: name})
    // (b)-(d) first: they must not stop the chain or change anything.
    expect(await revertReason(PROBE, call('escape'), 1_000_000n)).toMatch(/undefined|not an object|cannot read/i)
    expect(await revertReason(PROBE, call('allocate'), 1_000_000n)).toMatch(/out of memory: a module call may use at most 32 MiB/)
    const sent = {
      escape: await proposer!.send({to: PROBE, data: call('escape'), gas: 1_000_000n}),
      spin: await proposer!.send({to: PROBE, data: call('spin'), gas: 2_000_000n}),
      allocate: await proposer!.send({to: PROBE, data: call('allocate'), gas: 1_000_000n}),
      normal: await proposer!.send({to: PROBE, data: call('normal'), gas: 1_000_000n}),
      callOther: await proposer!.send({to: PROBE, data: call('callOther'), gas: 1_000_000n}),
    }
    const receipts = Object.fromEntries(await Promise.all(Object.entries(sent).map(async ([name, hash]) => [name, await receipt(hash)] as const)))
    expect(receipts.escape!.status).toBe('0x0')
    expect(receipts.spin!.status).toBe('0x0')
    // An endless loop costs the sender all the gas it gave.
    expect(BigInt(receipts.spin!.gasUsed)).toBe(2_000_000n)
    expect(receipts.allocate!.status).toBe('0x0')
    expect(receipts.normal!.status).toBe('0x1')
    expect(receipts.callOther!.status).toBe('0x1')

    // The reverted calls wrote nothing; (a) and (e) did, on every node.
    const end = await height(devnet.nodes[0]!.rpcUrl)
    await until(async () => ((await Promise.all(devnet.nodes.map((n) => height(n.rpcUrl)))).every((h) => h >= end) ? true : undefined), `all nodes at ${end}`, 180_000)
    for (const node of devnet.nodes) {
      expect(await viewValue(PROBE, node.index)).toBe(1n)
      expect(await viewValue(CALLEE, node.index)).toBe(1n)
      for (const slot of [1n, 2n, 3n]) expect(BigInt(await rpc<Hex>(node.rpcUrl, 'eth_getStorageAt', [PROBE, `0x${slot.toString(16)}`, 'latest']))).toBe(0n)
      expect(BigInt(await rpc<Hex>(node.rpcUrl, 'eth_getStorageAt', [PROBE, '0x4', 'latest']))).toBe(1n)
    }
    const logs = await Promise.all(devnet.nodes.map((n) => readFile(n.logPath, 'utf8')))
    for (const log of logs) expect(log).not.toContain('ESCAPED')

    // Every node has the same state root at every height.
    const roots = await Promise.all(
      devnet.nodes.map(async (node) => {
        const out: string[] = []
        for (let n = from; n <= end; n++) out.push((await rpc<{stateRoot: string}>(node.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])).stateRoot)
        return out
      }),
    )
    for (const other of roots.slice(1)) expect(other).toEqual(roots[0])
  })
})
