import {readFile} from 'node:fs/promises'

import {bytesToHex, encodeFunctionData, hexToBytes, parseAbi, stringToHex} from 'viem'
import {describe, expect, it} from 'vitest'

import {Chain} from '../../../../src/chain/chain.js'
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
})
