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
import {registryModule} from '../../../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress, moduleCodeHash} from '../../../../src/modules/module.js'
import {openMemoryStore} from '../../../../src/storage/database.js'
import {DEV_ACCOUNTS, mineBlock, signTransfer} from '../../../helpers/chain.js'

const GOVERNANCE = moduleAddress('governance')
const COUNTER = moduleAddress('counter')
const counterAbi = parseAbi(['function increment() returns (uint256)', 'function value() view returns (uint256)'])
const sections = {riskAnalysis: 'r', dependencyDiff: 'd', migrationSteps: 'm'}

describe('a user module on a chain', () => {
  it('is uploaded, activated by proposal at its height, then runs; a transaction its validateTx refuses is refused', async () => {
    const template = await readFile(new URL('../../../../templates/module/src/__name__.ts', import.meta.url), 'utf8')
    const source = template.replaceAll('__name__', 'counter')
    const genesis = addModulesToGenesis(createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules({governance: {votingPeriod: 2, timelock: 1}}))
    const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
    const mempool = new Mempool(chain)
    const nonces = [0, 0, 0]
    const send = async (from: number, to: `0x${string}`, data: `0x${string}`, value = 0n) => mempool.addRaw(await signTransfer({from, nonce: nonces[from]!++, to, value, gas: 5_000_000n, data}))

    await send(0, MODULE_REGISTRY_ADDRESS, encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}))
    const proposal = parseProposal({kind: 'module-activate', title: 'counter', summary: 's', ...sections, id: 'counter', version: '0.1.0', codeHash: moduleCodeHash(source), height: 7})
    await send(0, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(proposal))]}))
    await mineBlock(chain, mempool)
    for (const from of [0, 1]) await send(from, GOVERNANCE, encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]}))
    // The mempool judges for the next block: at head 5 that is block 6, before the activation.
    while (chain.head.header.number < 5n) await mineBlock(chain, mempool)
    await expect(send(2, COUNTER, encodeFunctionData({abi: counterAbi, functionName: 'increment'}))).rejects.toThrow(/no active native module/)
    nonces[2]!--
    await mineBlock(chain, mempool)
    await send(2, COUNTER, encodeFunctionData({abi: counterAbi, functionName: 'increment'}))
    const block = await mineBlock(chain, mempool)
    expect(block.block.header.number).toBe(7n)
    expect(block.receipts.map((r) => r.status)).toEqual([1])
    expect(block.receipts[0]!.logs).toHaveLength(1)
    await expect(send(2, COUNTER, encodeFunctionData({abi: counterAbi, functionName: 'increment'}), 1n)).rejects.toThrow(/rejected by module counter: counter does not accept value/)
    await chain.close()
  })
})
