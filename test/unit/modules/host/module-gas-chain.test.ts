import {readFile} from 'node:fs/promises'

import {bytesToHex, encodeFunctionData, parseAbi, stringToHex} from 'viem'
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
import {loadModuleSource} from '../../../../src/modules/host/load-module.js'
import {registryModule} from '../../../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress, moduleCodeHash} from '../../../../src/modules/module.js'
import {createTestHarness} from '../../../../src/modules/test-kit.js'
import {openMemoryStore} from '../../../../src/storage/database.js'
import {DEV_ACCOUNTS, decodeTransaction, mineBlock, signTransfer} from '../../../helpers/chain.js'

const sections = {riskAnalysis: 'r', dependencyDiff: 'd', migrationSteps: 'm'}

describe('the gas of a module call', () => {
  it('is the same in the test kit (xai module test) as in a transaction on chain: storage writes and logs included', async () => {
    const template = await readFile(new URL('../../../../templates/module/src/__name__.ts', import.meta.url), 'utf8')
    const source = template.replaceAll('__name__', 'counter')
    const genesis = addModulesToGenesis(createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules({governance: {votingPeriod: 2, timelock: 1}}))
    const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
    const mempool = new Mempool(chain)
    const nonces = [0, 0, 0]
    const sign = (from: number, to: `0x${string}`, data: `0x${string}`) => signTransfer({from, nonce: nonces[from]!++, to, value: 0n, gas: 1_000_000n, data})
    const send = async (from: number, to: `0x${string}`, data: `0x${string}`) => mempool.addRaw(await sign(from, to, data))
    await send(0, MODULE_REGISTRY_ADDRESS, encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}))
    const proposal = parseProposal({kind: 'module-activate', title: 'counter', summary: 's', ...sections, id: 'counter', version: '0.1.0', codeHash: moduleCodeHash(source), height: 7})
    await send(0, moduleAddress('governance'), encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(proposal))]}))
    await mineBlock(chain, mempool)
    for (const from of [0, 1]) await send(from, moduleAddress('governance'), encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]}))
    while (chain.head.header.number < 7n) await mineBlock(chain, mempool)

    const data = encodeFunctionData({abi: parseAbi(['function increment() returns (uint256)']), functionName: 'increment'})
    const raw = await sign(2, moduleAddress('counter'), data)
    await mempool.addRaw(raw)
    const block = await mineBlock(chain, mempool)
    expect(block.receipts.map((r) => r.status)).toEqual([1])
    const intrinsic = decodeTransaction(chain, raw).getIntrinsicGas()
    const onChain = block.receipts[0]!.gasUsed - intrinsic

    const harness = createTestHarness(await loadModuleSource(source))
    const inKit = harness.call('increment')
    // The template's increment: its table's 25,000, a storage write (5,000), a log with one topic and 64 bytes of data.
    expect(inKit.gasUsed).toBeGreaterThan(25_000n + 5_000n + 375n * 2n + 8n * 64n)
    expect(inKit.gasUsed).toBe(onChain)
    await chain.close()
  }, 120_000)
})
