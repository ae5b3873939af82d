import {bytesToHex, encodeFunctionData, hexToBigInt, hexToBytes, stringToHex} from 'viem'
import {describe, expect, it} from 'vitest'

import {Chain} from '../../../../src/chain/chain.js'
import {createDevGenesis} from '../../../../src/chain/genesis.js'
import {Mempool} from '../../../../src/chain/mempool.js'
import {canonicalProposal, parseProposal} from '../../../../src/governance/proposal.js'
import {ChainState} from '../../../../src/rpc/state.js'
import {type Logger, silentLogger} from '../../../../src/util/logger.js'
import {defaultGenesisModules} from '../../../../src/modules/builtin/index.js'
import {createModuleHost} from '../../../../src/modules/host/create-host.js'
import {addModulesToGenesis} from '../../../../src/modules/host/genesis-modules.js'
import {governanceAbi} from '../../../../src/modules/host/governance-module.js'
import {registryModule} from '../../../../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress, moduleCodeHash} from '../../../../src/modules/module.js'
import {openMemoryStore} from '../../../../src/storage/database.js'
import {DEV_ACCOUNTS, mineBlock, signTransfer} from '../../../helpers/chain.js'

const sections = {riskAnalysis: 'r', dependencyDiff: 'd', migrationSteps: 'm'}

const SPINNER = `
import {parseAbi} from 'viem'
import {z} from 'zod'
const module = {
  manifest: {id: 'spinner', version: '1.0.0', description: 'spins'},
  params: z.object({}),
  abi: parseAbi(['function spinFor(uint256 n) returns (uint256)']),
  gas: {},
  calls: {
    spinFor(_ctx: any, [n]: [bigint]) {
      let x = 0
      for (let i = 0; i < Number(n); i++) x += i
      return BigInt(x)
    },
  },
}
export default module
`

/** A module whose endBlock has the spinner spin `n` rounds (~29 gas each) and then records the height. */
const caller = (id: string, n: number) => `
import {parseAbi} from 'viem'
import {z} from 'zod'
const module = {
  manifest: {id: '${id}', version: '1.0.0', description: 'calls the spinner from a hook'},
  params: z.object({}),
  abi: parseAbi(['function noop()']),
  gas: {},
  calls: {noop() {}},
  endBlock(ctx: any) {
    ctx.call('spinner', 'spinFor', [${n}n])
    ctx.storage.set(0n, ctx.height)
  },
}
export default module
`

describe('gas of a user module hook', () => {
  it('covers the modules it reaches through ctx.call: a hook whose callee needs more than 2,000,000 gas fails, a lighter one runs', async () => {
    const warnings: Record<string, unknown>[] = []
    const logger: Logger = {...silentLogger, warn: (_message, context) => void warnings.push(context ?? {})}
    const genesis = addModulesToGenesis(createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules({governance: {votingPeriod: 2, timelock: 1}}))
    const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, logger)})
    const mempool = new Mempool(chain)
    const state = await ChainState.create(chain, {logger: silentLogger})
    const nonces = [0, 0, 0]
    const send = async (from: number, to: `0x${string}`, data: `0x${string}`) => mempool.addRaw(await signTransfer({from, nonce: nonces[from]!++, to, value: 0n, gas: 5_000_000n, data}))
    // ~8.7M gas: within the old 30M cap of a call made from a hook, far past a hook's 2M.
    const sources = {spinner: SPINNER, light: caller('light', 1_000), heavy: caller('heavy', 300_000)}
    for (const [id, source] of Object.entries(sources)) {
      await send(0, MODULE_REGISTRY_ADDRESS, encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}))
      const proposal = parseProposal({kind: 'module-activate', title: id, summary: 's', ...sections, id, version: '1.0.0', codeHash: moduleCodeHash(source), height: 7})
      await send(0, moduleAddress('governance'), encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(proposal))]}))
    }
    await mineBlock(chain, mempool)
    for (const from of [0, 1]) for (const id of [1n, 2n, 3n]) await send(from, moduleAddress('governance'), encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [id, 1]}))
    while (chain.head.header.number < 8n) await mineBlock(chain, mempool)

    const at = await state.resolve({tag: 'latest'})
    const slot0 = async (id: string) => hexToBigInt(bytesToHex(await state.getStorage(hexToBytes(moduleAddress(id)), new Uint8Array(32), at)))
    expect(await slot0('light')).toBe(8n)
    expect(await slot0('heavy')).toBe(0n)
    expect(warnings).toContainEqual({module: 'heavy', hook: 'endBlock', error: expect.stringMatching(/out of gas/)})
    expect(warnings.filter((warning) => warning.module === 'light')).toEqual([])
    state.close()
    await chain.close()
  }, 180_000)
})
