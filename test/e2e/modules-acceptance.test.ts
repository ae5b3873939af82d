/**
 * Native modules and governance on a 4-validator devnet: proposals pass, fail for want of quorum
 * and are vetoed; a passed gas-limit change reaches the block headers; a module made with
 * `xai module create` is activated by proposal and its validateTx refuses on every node; an
 * upgrade swaps its version at the set height; a YAML rule set and the withdrawal guard refuse
 * transactions through eth_sendRawTransaction; and every node holds the same blocks throughout.
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Address, type Hex, bytesToHex, decodeFunctionResult, encodeFunctionData, parseAbi, parseEther, stringToHex} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, onTestFailed, test} from 'vitest'

import {canonicalProposal, parseProposal} from '../../src/governance/proposal.js'
import {governanceAbi} from '../../src/modules/host/governance-module.js'
import {registryModule} from '../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress, moduleCodeHash} from '../../src/modules/module.js'
import {json, runXai} from '../helpers/cli.js'
import {linkModuleDependencies} from '../helpers/module-project.js'
import {fillPlaceholders} from '../helpers/proposal-fill.js'
import {type MultiNodeDevnet, blockHashes, height, rpc, startMultiNodeDevnet, until} from '../helpers/multinode.js'

const TIMEOUT = 600_000
const VOTING_PERIOD = 30
const TIMELOCK = 2
const GOVERNANCE = moduleAddress('governance')
const COUNTER = moduleAddress('counter')
const counterAbi = parseAbi(['function increment() returns (uint256)', 'function value() view returns (uint256)'])
const sections = {riskAnalysis: 'Tested on a devnet.', dependencyDiff: 'None.', migrationSteps: 'None.'}

let devnet: MultiNodeDevnet
let tmp: string

/** Signs and sends transactions from one dev account with its own nonce count, to node 0. */
class Sender {
  private nonce?: number
  constructor(readonly key: Hex) {}
  get address(): Address {
    return privateKeyToAccount(this.key).address
  }

  async sign(tx: {to: Address; data?: Hex; value?: bigint; gas?: bigint}, nonce?: number): Promise<Hex> {
    this.nonce ??= Number(BigInt(await rpc<string>(devnet.nodes[0]!.rpcUrl, 'eth_getTransactionCount', [this.address, 'pending'])))
    return privateKeyToAccount(this.key).signTransaction({
      chainId: devnet.chainId,
      type: 'eip1559',
      nonce: nonce ?? this.nonce,
      to: tx.to,
      data: tx.data,
      value: tx.value ?? 0n,
      gas: tx.gas ?? 1_000_000n,
      maxFeePerGas: 20_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    })
  }

  /** Sends and counts the nonce; returns the hash. */
  async send(tx: {to: Address; data?: Hex; value?: bigint; gas?: bigint}, node = 0): Promise<Hex> {
    const raw = await this.sign(tx)
    const hash = await rpc<Hex>(devnet.nodes[node]!.rpcUrl, 'eth_sendRawTransaction', [raw])
    this.nonce! += 1
    return hash
  }
}

async function receipt(hash: Hex): Promise<{status: string; blockNumber: string; logs: unknown[]}> {
  return until(() => rpc<{status: string; blockNumber: string; logs: unknown[]} | null>(devnet.nodes[0]!.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), `receipt of ${hash}`, 120_000)
}

async function view<T>(to: Address, abi: typeof governanceAbi | typeof counterAbi | typeof registryModule.abi, functionName: string, args: readonly unknown[] = [], node = 0): Promise<T> {
  const data = encodeFunctionData({abi, functionName, args} as never)
  const out = await rpc<Hex>(devnet.nodes[node]!.rpcUrl, 'eth_call', [{to, data}, 'latest'])
  return decodeFunctionResult({abi, functionName, data: out} as never) as T
}

/** The refusal eth_sendRawTransaction gives `raw` on node `node`. */
async function refusal(raw: Hex, node: number): Promise<string> {
  try {
    await rpc(devnet.nodes[node]!.rpcUrl, 'eth_sendRawTransaction', [raw])
  } catch (err) {
    return (err as Error).message
  }
  throw new Error(`node ${node} accepted a transaction it should refuse`)
}

/** Sends a proposal; returns its transaction hash. */
async function propose(sender: Sender, proposal: Record<string, unknown>): Promise<Hex> {
  const body = bytesToHex(canonicalProposal(parseProposal(proposal)))
  return sender.send({to: GOVERNANCE, data: encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [body]}), gas: 3_000_000n})
}

/** Waits for the proposals' transactions; returns their ids (from ProposalCreated, the first log). */
async function proposalIds(hashes: Hex[]): Promise<bigint[]> {
  const ids: bigint[] = []
  for (const hash of hashes) {
    const mined = (await receipt(hash)) as {status: string; logs: {topics: Hex[]}[]}
    expect(mined.status).toBe('0x1')
    ids.push(BigInt(mined.logs[0]!.topics[1]!))
  }
  return ids
}

async function vote(sender: Sender, id: bigint, support: 0 | 1 | 2 | 3): Promise<Hex> {
  return sender.send({to: GOVERNANCE, data: encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [id, support]}), gas: 500_000n})
}

async function state(id: bigint): Promise<string> {
  return view<string>(GOVERNANCE, governanceAbi, 'state', [id])
}

async function waitForState(id: bigint, wanted: string): Promise<void> {
  const final = ['Executed', 'Failed', 'Defeated', 'Vetoed', 'Canceled']
  const reached = await until(async () => {
    const now = await state(id)
    return now === wanted || final.includes(now) ? now : undefined
  }, `proposal ${id} ${wanted}`, 180_000)
  if (reached !== wanted) {
    const record = await view<readonly unknown[]>(GOVERNANCE, governanceAbi, 'proposal', [id])
    throw new Error(`proposal ${id} is ${reached}, not ${wanted}${record[7] ? `: ${String(record[7])}` : ''}`)
  }
}

async function uploadCode(sender: Sender, source: string): Promise<void> {
  const hash = await sender.send({to: MODULE_REGISTRY_ADDRESS, data: encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}), gas: 5_000_000n})
  expect((await receipt(hash)).status).toBe('0x1')
}

describe('native modules and governance on four validators', {timeout: TIMEOUT}, () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-modules-'))
    await linkModuleDependencies(tmp)
    devnet = await startMultiNodeDevnet({nodes: 4, blockTime: 500, extraArgs: ['--voting-period', String(VOTING_PERIOD), '--timelock', String(TIMELOCK)]})
  }, TIMEOUT)

  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  test('proposals pass, fail without quorum and are vetoed; a module is created, activated, enforced and upgraded; rules and the guard refuse; all nodes agree', async () => {
    onTestFailed(async () => {
      const tails = await Promise.all(devnet.nodes.map(async (n) => `--- node ${n.index}\n${(await readFile(n.logPath, 'utf8').catch(() => '')).split('\n').filter((line) => !line.includes('committed block')).slice(-25).join('\n')}`))
      console.error(tails.join('\n'))
    })
    const [proposer, ...voters] = [0, 1, 2, 3, 4].map((i) => new Sender(devnet.accounts[i]!.privateKey))
    const yesVoters = voters.slice(0, 4)

    // A module from the scaffold, checked by its own tests.
    const created = await runXai(['module', 'create', 'counter', '--json'], tmp)
    expect(created.exitCode, created.stderr).toBe(0)
    const moduleDir = join(tmp, 'counter')
    const tested = await runXai(['module', 'test', moduleDir, '--json'], tmp)
    expect(tested.exitCode, tested.stderr).toBe(0)
    const source = await readFile(join(moduleDir, 'src/counter.ts'), 'utf8')
    const codeHash = moduleCodeHash(source)
    expect(json<{codeHash: string}>(tested).codeHash).toBe(codeHash)

    // Before activation the module cannot run: a transaction to it is refused.
    const early = await proposer!.sign({to: COUNTER, data: encodeFunctionData({abi: counterAbi, functionName: 'increment'}), gas: 200_000n})
    expect(await refusal(early, 3)).toMatch(/no active native module at/)

    // The scaffold's activation proposal, through the CLI: it uploads the source, then proposes.
    const start = await height(devnet.nodes[0]!.rpcUrl)
    // Room for the upload, the proposal and the votes to land before voting ends, on a slow machine.
    const activation = start + VOTING_PERIOD + TIMELOCK + 15
    const activateFile = join(moduleDir, 'proposals/activate.yaml')
    await writeFile(activateFile, fillPlaceholders((await readFile(activateFile, 'utf8')).replace('<<ACTIVATION_HEIGHT>>', String(activation))))
    const proposed = await runXai(['governance', 'propose', activateFile, '--rpc-url', devnet.nodes[1]!.rpcUrl, '--account', '5', '--json'], tmp)
    expect(proposed.exitCode, proposed.stderr).toBe(0)
    expect(json<{id: number; codeUploaded: boolean}>(proposed)).toMatchObject({id: 1, codeUploaded: true})
    const sent = {
      gasLimit: await propose(proposer!, {kind: 'parameter-change', title: 'Raise the block gas limit', summary: 'Room for more.', ...sections, changes: [{module: 'chain', key: 'blockGasLimit', value: 45_000_000}]}),
      noQuorum: await propose(proposer!, {kind: 'text', title: 'A thought', summary: 'Few care.'}),
      vetoed: await propose(proposer!, {kind: 'parameter-change', title: 'Lower the gas limit', summary: 'Contested.', ...sections, changes: [{module: 'chain', key: 'blockGasLimit', value: 10_000_000}]}),
      rules: await propose(proposer!, {
        kind: 'parameter-change',
        title: 'Large transfers need review',
        summary: 'A rule set.',
        ...sections,
        changes: [{module: 'rule-engine', key: 'ruleSet', value: {version: 1, name: 'review', rules: [{id: 'large', when: {field: 'tx.value', gt: '5 ether'}, action: 'reject', reason: 'transfers above 5 ether need review'}], default: 'allow'}}],
      }),
      guard: await propose(proposer!, {kind: 'parameter-change', title: 'Limit outflows', summary: 'At most 8 ether per 1000 blocks.', ...sections, changes: [{module: 'withdrawal-guard', key: 'limit', value: parseEther('8').toString()}, {module: 'withdrawal-guard', key: 'windowBlocks', value: 1000}]}),
    }
    const [gasLimit, noQuorum, vetoed, rules, guard] = await proposalIds(Object.values(sent))
    const ids = {activate: 1n, gasLimit: gasLimit!, noQuorum: noQuorum!, vetoed: vetoed!, rules: rules!, guard: guard!}
    expect([ids.gasLimit, ids.noQuorum, ids.vetoed, ids.rules, ids.guard]).toEqual([2n, 3n, 4n, 5n, 6n])

    const votes: Hex[] = []
    for (const voter of yesVoters) for (const id of [ids.gasLimit, ids.activate, ids.rules, ids.guard]) votes.push(await vote(voter, id, 1))
    votes.push(await vote(voters[0]!, ids.noQuorum, 1))
    votes.push(await vote(voters[0]!, ids.vetoed, 1), await vote(voters[1]!, ids.vetoed, 1), await vote(voters[2]!, ids.vetoed, 3), await vote(voters[3]!, ids.vetoed, 3))
    for (const hash of votes) expect((await receipt(hash)).status).toBe('0x1')
    const [yes, no, abstain, veto, total] = await view<[bigint, bigint, bigint, bigint, bigint]>(GOVERNANCE, governanceAbi, 'tally', [ids.gasLimit])
    expect([no, abstain, veto]).toEqual([0n, 0n, 0n])
    expect(yes * 10_000n).toBeGreaterThan(3340n * total)

    await waitForState(ids.gasLimit, 'Executed')
    await waitForState(ids.noQuorum, 'Defeated')
    await waitForState(ids.vetoed, 'Vetoed')
    await waitForState(ids.activate, 'Executed')
    await waitForState(ids.rules, 'Executed')
    await waitForState(ids.guard, 'Executed')

    // The new gas limit is in the registry and, from the block after the one that executed it, in
    // the headers, on every node.
    expect(await view<bigint>(MODULE_REGISTRY_ADDRESS, registryModule.abi, 'chainParam', ['blockGasLimit'])).toBe(45_000_000n)
    const executedIn = Number((await view<readonly unknown[]>(GOVERNANCE, governanceAbi, 'proposal', [ids.gasLimit]))[4])
    await until(async () => (await Promise.all(devnet.nodes.map((n) => height(n.rpcUrl)))).every((h) => h > executedIn), `all nodes past block ${executedIn}`, 60_000)
    for (const node of devnet.nodes) {
      const [at, after] = await Promise.all([executedIn, executedIn + 1].map((n) => rpc<{gasLimit: Hex}>(node.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])))
      expect([BigInt(at!.gasLimit), BigInt(after!.gasLimit)]).toEqual([30_000_000n, 45_000_000n])
    }

    // The module runs from its activation height; its validateTx refuses value on all four nodes.
    const activeFrom = Number((await view<readonly unknown[]>(MODULE_REGISTRY_ADDRESS, registryModule.abi, 'moduleInfo', ['counter']))[3])
    expect(activeFrom).toBe(activation)
    await until(async () => (await height(devnet.nodes[0]!.rpcUrl)) >= activation, `height ${activation}`, 120_000)
    const bump = await proposer!.send({to: COUNTER, data: encodeFunctionData({abi: counterAbi, functionName: 'increment'}), gas: 200_000n})
    expect((await receipt(bump)).status).toBe('0x1')
    for (const node of devnet.nodes) expect(await view<bigint>(COUNTER, counterAbi, 'value', [], node.index)).toBe(1n)
    const withValue = await proposer!.sign({to: COUNTER, data: encodeFunctionData({abi: counterAbi, functionName: 'increment'}), value: 1n, gas: 200_000n})
    for (const node of devnet.nodes) expect(await refusal(withValue, node.index)).toMatch(/rejected by module counter: counter does not accept value/)

    // The rule set refuses a large transfer with its reason; the guard limits outflow.
    const large = await voters[0]!.sign({to: '0x000000000000000000000000000000000000bEEF', value: parseEther('6'), gas: 21_000n})
    expect(await refusal(large, 1)).toMatch(/rejected by module rule-engine: .*transfers above 5 ether need review/)
    const spender = new Sender(devnet.accounts[6]!.privateKey)
    for (const amount of ['4', '4']) expect((await receipt(await spender.send({to: '0x000000000000000000000000000000000000bEEF', value: parseEther(amount), gas: 21_000n}))).status).toBe('0x1')
    const over = await spender.sign({to: '0x000000000000000000000000000000000000bEEF', value: parseEther('1'), gas: 21_000n})
    expect(await refusal(over, 2)).toMatch(/rejected by module withdrawal-guard: withdrawal guard: outflow limit/)

    // An upgrade swaps the version at the set height: increment then adds 2.
    const upgraded = source.replace("version: '0.1.0'", "version: '0.2.0'").replace('const value = ctx.storage.get(VALUE_SLOT) + by', 'const value = ctx.storage.get(VALUE_SLOT) + by * 2n')
    expect(upgraded).not.toBe(source)
    await uploadCode(proposer!, upgraded)
    const swapAt = (await height(devnet.nodes[0]!.rpcUrl)) + VOTING_PERIOD + TIMELOCK + 12
    const [upgrade] = await proposalIds([await propose(proposer!, {kind: 'module-upgrade', title: 'counter 0.2.0', summary: 'Counts by two.', ...sections, id: 'counter', version: '0.2.0', codeHash: moduleCodeHash(upgraded), height: swapAt})])
    for (const hash of await Promise.all(yesVoters.map((voter) => vote(voter, upgrade!, 1)))) expect((await receipt(hash)).status).toBe('0x1')
    await waitForState(upgrade!, 'Executed')
    const info = await view<readonly unknown[]>(MODULE_REGISTRY_ADDRESS, registryModule.abi, 'moduleInfo', ['counter'])
    expect(info[4]).toBe('0.2.0')
    expect(info[6]).toBe(BigInt(swapAt))
    await until(async () => (await height(devnet.nodes[0]!.rpcUrl)) >= swapAt, `height ${swapAt}`, 120_000)
    const after = await proposer!.send({to: COUNTER, data: encodeFunctionData({abi: counterAbi, functionName: 'increment'}), gas: 200_000n})
    const afterBlock = Number(BigInt((await receipt(after)).blockNumber))
    expect(afterBlock).toBeGreaterThanOrEqual(swapAt)
    expect(await view<bigint>(COUNTER, counterAbi, 'value')).toBe(3n)

    // Every node holds the same blocks (so the same state roots) from genesis to here.
    const end = await height(devnet.nodes[0]!.rpcUrl)
    await until(async () => (await Promise.all(devnet.nodes.map((n) => height(n.rpcUrl)))).every((h) => h >= end), `all nodes at ${end}`, 120_000)
    const [first, ...rest] = await Promise.all(devnet.nodes.map((n) => blockHashes(n.rpcUrl, end)))
    for (const other of rest) expect(other).toEqual(first)
  })

  test('a seeded random workload of module calls and transfers, sent to random nodes, leaves every node with the same state root at every height', async () => {
    let seed = 0x5eed_1234n
    const next = (bound: number): number => {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n)
      return Number((seed >> 33n) % BigInt(bound))
    }
    const senders = [7, 8, 9].map((i) => new Sender(devnet.accounts[i]!.privateKey))
    const faucetAbi = parseAbi(['function claimFor(address to) returns (uint256)'])
    const guardAbi = parseAbi(['function queue(address to) payable returns (uint256)'])
    const from = await height(devnet.nodes[0]!.rpcUrl)
    const hashes: Hex[] = []
    for (let i = 0; i < 36; i++) {
      const sender = senders[next(senders.length)]!
      const node = next(devnet.nodes.length)
      const fresh = `0x${(0xa000_0000 + i).toString(16).padStart(40, '0')}` as Address
      const choice = next(6)
      const tx =
        choice === 0 ? {to: fresh, value: BigInt(1 + next(1000)) * 10n ** 12n, gas: 21_000n}
        : choice === 1 ? {to: moduleAddress('faucet'), data: encodeFunctionData({abi: faucetAbi, functionName: 'claimFor', args: [fresh]})}
        : choice === 2 ? {to: moduleAddress('withdrawal-guard'), data: encodeFunctionData({abi: guardAbi, functionName: 'queue', args: [fresh]}), value: 10n ** 15n}
        : choice === 3 ? {to: MODULE_REGISTRY_ADDRESS, data: encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(`export default ${i * 7919}`)]})}
        : choice === 4 ? {to: COUNTER, data: encodeFunctionData({abi: counterAbi, functionName: 'increment'})}
        : {to: GOVERNANCE, data: encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(parseProposal({kind: 'text', title: `Note ${i}`, summary: 'Random.'})))]}), gas: 3_000_000n}
      hashes.push(await sender.send(tx, node))
    }
    const statuses = await Promise.all(hashes.map(async (hash) => (await receipt(hash)).status))
    expect(statuses.every((status) => status === '0x1')).toBe(true)
    const end = await height(devnet.nodes[0]!.rpcUrl)
    await until(async () => (await Promise.all(devnet.nodes.map((n) => height(n.rpcUrl)))).every((h) => h >= end), `all nodes at ${end}`, 120_000)
    const roots = await Promise.all(
      devnet.nodes.map(async (node) => {
        const out: string[] = []
        for (let n = from; n <= end; n++) out.push((await rpc<{stateRoot: string}>(node.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])).stateRoot)
        return out
      }),
    )
    for (const other of roots.slice(1)) expect(other).toEqual(roots[0])
  })

  test('a node added to the devnet follows; governance makes it a validator and removes another: every node takes each set at the same height', async () => {
    const proposer = new Sender(devnet.accounts[0]!.privateKey)
    const yesVoters = [1, 2, 3, 4].map((i) => new Sender(devnet.accounts[i]!.privateKey))
    const validatorsOf = (node: number) => rpc<{address: string; power: number}[]>(devnet.nodes[node]!.rpcUrl, 'xai_validators')
    const validating = async (node: number) => (await rpc<{validating: boolean}>(devnet.nodes[node]!.rpcUrl, 'xai_nodeInfo')).validating
    const everyNodeHas = (count: number) => until(async () => (await Promise.all(devnet.nodes.map((n) => validatorsOf(n.index)))).every((set) => set.length === count), `every node on the ${count}-validator set`, 60_000)
    const change = async (kind: 'validator-remove' | 'validator-add', address: string): Promise<void> => {
      const [id] = await proposalIds([await propose(proposer, {kind, title: `${kind} ${address}`, summary: 'Rotation.', ...sections, address})])
      for (const hash of await Promise.all(yesVoters.map((voter) => vote(voter, id!, 1)))) expect((await receipt(hash)).status).toBe('0x1')
      await waitForState(id!, 'Executed')
    }

    // `devnet up --nodes 5` grows the running devnet: node 4 follows the chain without voting.
    const grown = await devnet.cli<{nodes: MultiNodeDevnet['nodes']}>(['up', '--nodes', '5', '--detach'])
    devnet.nodes = grown.nodes.map((n) => ({index: n.index, rpcUrl: n.rpcUrl, wsUrl: n.wsUrl, pid: n.pid, logPath: n.logPath, validator: n.validator}))
    await devnet.refresh()
    expect(devnet.nodes).toHaveLength(5)
    const joining = devnet.nodes[4]!
    const target = await height(devnet.nodes[0]!.rpcUrl)
    await until(async () => (await height(joining.rpcUrl)) >= target, 'node 4 caught up', 120_000)
    expect(await validating(4)).toBe(false)

    await change('validator-add', joining.validator)
    await everyNodeHas(5)
    expect(await validating(4)).toBe(true)

    const leaving = devnet.nodes[3]!
    await change('validator-remove', leaving.validator)
    await everyNodeHas(4)
    expect((await validatorsOf(0)).map((v) => v.address)).not.toContain(leaving.validator.toLowerCase())
    expect(await validating(3)).toBe(false)
    expect(await validating(4)).toBe(true)

    // Blocks keep coming, and all five nodes (four validators and the one removed, following) agree.
    const end = (await height(devnet.nodes[0]!.rpcUrl)) + 3
    await until(async () => (await Promise.all(devnet.nodes.map((n) => height(n.rpcUrl)))).every((h) => h >= end), `all nodes at ${end}`, 120_000)
    const [first, ...rest] = await Promise.all(devnet.nodes.map((n) => blockHashes(n.rpcUrl, end)))
    for (const other of rest) expect(other).toEqual(first)
  })
})
