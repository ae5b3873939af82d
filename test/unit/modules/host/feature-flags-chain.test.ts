import {readFile} from 'node:fs/promises'

import {bytesToHex, encodeFunctionData, getContractAddress, hexToBytes, parseAbi, stringToHex} from 'viem'
import {describe, expect, it} from 'vitest'

import {Chain} from '../../../../src/chain/chain.js'
import {ChainState} from '../../../../src/rpc/state.js'
import {createDevGenesis} from '../../../../src/chain/genesis.js'
import {Mempool} from '../../../../src/chain/mempool.js'
import {canonicalProposal, parseProposal} from '../../../../src/governance/proposal.js'
import {silentLogger} from '../../../../src/util/logger.js'
import {defaultGenesisModules} from '../../../../src/modules/builtin/index.js'
import {createModuleHost} from '../../../../src/modules/host/create-host.js'
import {addModulesToGenesis} from '../../../../src/modules/host/genesis-modules.js'
import {governanceAbi} from '../../../../src/modules/host/governance-module.js'
import {registryModule} from '../../../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress, moduleCodeHash} from '../../../../src/modules/module.js'
import {openMemoryStore} from '../../../../src/storage/database.js'
import {DEV_ACCOUNTS, mineBlock, signTransfer} from '../../../helpers/chain.js'

const GOVERNANCE = moduleAddress('governance')
const COUNTER = moduleAddress('counter')
const counterAbi = parseAbi(['function increment() returns (uint256)'])
const sections = {riskAnalysis: 'r', dependencyDiff: 'd', migrationSteps: 'm'}

describe('feature flags the chain reads', () => {
  it('user-modules off stops a running user module (built-ins go on); contract-deployment off refuses contract creation', async () => {
    const template = await readFile(new URL('../../../../templates/module/src/__name__.ts', import.meta.url), 'utf8')
    const source = template.replaceAll('__name__', 'counter')
    const genesis = addModulesToGenesis(createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules({governance: {votingPeriod: 2, timelock: 1}}))
    const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
    const mempool = new Mempool(chain)
    const nonces = [0, 0, 0]
    const send = async (from: number, to: `0x${string}`, data: `0x${string}`) => mempool.addRaw(await signTransfer({from, nonce: nonces[from]!++, to, value: 0n, gas: 5_000_000n, data}))
    const propose = async (proposal: Record<string, unknown>) => send(0, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(parseProposal(proposal)))]}))

    await send(0, MODULE_REGISTRY_ADDRESS, encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}))
    await propose({kind: 'module-activate', title: 'counter', summary: 's', ...sections, id: 'counter', version: '0.1.0', codeHash: moduleCodeHash(source), height: 7})
    await propose({kind: 'feature-flag', title: 'brake', summary: 's', ...sections, flag: 'user-modules', enabled: false})
    await propose({kind: 'feature-flag', title: 'no deploys', summary: 's', ...sections, flag: 'contract-deployment', enabled: false})
    await mineBlock(chain, mempool)
    for (const from of [0, 1]) for (const id of [1n, 2n, 3n]) await send(from, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [id, 1]}))
    while (chain.head.header.number < 8n) await mineBlock(chain, mempool)

    // The module is active from block 7, but the brake is on: it does not run.
    await expect(send(2, COUNTER, encodeFunctionData({abi: counterAbi, functionName: 'increment'}))).rejects.toThrow(/user modules are switched off: feature flag user-modules/)
    nonces[2]!--
    // A contract creation (no `to`) is refused.
    const creation = await DEV_ACCOUNTS[2]!.signTransaction({chainId: 31337, type: 'eip1559', nonce: nonces[2]!, value: 0n, gas: 200_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, data: '0x6000600055'})
    await expect(mempool.addRaw(hexToBytes(creation))).rejects.toThrow(/contract deployment is switched off \(feature flag contract-deployment\)/)
    // Built-in modules go on: governance still takes a proposal.
    await propose({kind: 'feature-flag', title: 'release', summary: 's', ...sections, flag: 'user-modules', enabled: true})
    const block = await mineBlock(chain, mempool)
    expect(block.receipts.map((r) => r.status)).toEqual([1])
    await chain.close()
  })

  it('contract-deployment off also refuses CREATE from inside a contract, with the reason as the revert', async () => {
    // A factory whose make() runs CREATE of a 5-byte init code and returns the new address, or
    // reverts with the creation's return data when it fails.
    const runtime = '6460006000f3600052600560' + '1b6000f080601e573d600060003e3d6000fd5b60005260206000f3'
    const factoryInit = `0x602780600b6000396000f3${runtime}` as const
    const genesis = addModulesToGenesis(createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules({governance: {votingPeriod: 2, timelock: 1}}))
    const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
    const mempool = new Mempool(chain)
    const state = await ChainState.create(chain, {logger: silentLogger})
    const nonces = [0, 0, 0]
    const sign = (from: number, to: `0x${string}` | undefined, data: `0x${string}`) =>
      DEV_ACCOUNTS[from]!.signTransaction({chainId: 31337, type: 'eip1559', nonce: nonces[from]!++, to, value: 0n, gas: 1_000_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, data})
    const send = async (from: number, to: `0x${string}` | undefined, data: `0x${string}`) => mempool.addRaw(hexToBytes(await sign(from, to, data)))
    const factory = getContractAddress({from: DEV_ACCOUNTS[2]!.address, nonce: 0n})
    const make = async (): Promise<Uint8Array> => state.call({from: hexToBytes(DEV_ACCOUNTS[2]!.address), to: hexToBytes(factory), data: new Uint8Array(0), gas: 500_000n}, await state.resolve({tag: 'latest'}))

    await send(2, undefined, factoryInit)
    await send(0, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(parseProposal({kind: 'feature-flag', title: 'no deploys', summary: 's', ...sections, flag: 'contract-deployment', enabled: false})))]}))
    await mineBlock(chain, mempool)
    // While deployment is on, the factory creates.
    expect((await make()).length).toBe(32)
    await send(2, factory, '0x')
    expect((await mineBlock(chain, mempool)).receipts.map((r) => r.status)).toEqual([1])
    for (const from of [0, 1]) await send(from, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]}))
    while (chain.head.header.number < 8n) await mineBlock(chain, mempool)

    // Off: the factory's CREATE is refused, the transaction reverts and creates nothing.
    await send(2, factory, '0x')
    const block = await mineBlock(chain, mempool)
    expect(block.receipts.map((r) => r.status)).toEqual([0])
    await expect(make()).rejects.toThrow(/contract deployment is switched off \(feature flag contract-deployment\): CREATE refused/)
    state.close()
    await chain.close()
  }, 120_000)
})
