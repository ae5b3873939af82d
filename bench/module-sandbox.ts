// `npm run bench -- module-sandbox` — the counter module's increment in the QuickJS sandbox
// against the same module run natively (µs per call, gas), and module transactions per second on
// a single in-process chain (blocks built and committed, no consensus or network).
import {readFile} from 'node:fs/promises'
import {parseArgs} from 'node:util'

import {bytesToHex, encodeFunctionData, parseAbi, stringToHex} from 'viem'

import {Chain} from '../src/chain/chain.js'
import {createDevGenesis} from '../src/chain/genesis.js'
import {Mempool} from '../src/chain/mempool.js'
import {canonicalProposal, parseProposal} from '../src/governance/proposal.js'
import {silentLogger} from '../src/util/logger.js'
import {defaultGenesisModules} from '../src/modules/builtin/index.js'
import {createModuleHost} from '../src/modules/host/create-host.js'
import {addModulesToGenesis} from '../src/modules/host/genesis-modules.js'
import {governanceAbi} from '../src/modules/host/governance-module.js'
import {loadModuleSource} from '../src/modules/host/load-module.js'
import {registryModule} from '../src/modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, type NativeModule, moduleAddress, moduleCodeHash} from '../src/modules/module.js'
import {createTestHarness} from '../src/modules/test-kit.js'
import {openMemoryStore} from '../src/storage/database.js'
import {DEV_ACCOUNTS, mineBlock, signTransfer} from '../test/helpers/chain.js'

const HELP = `Usage: npm run bench -- module-sandbox [--calls N] [--txs N] [--json]
  --calls <n>  increment calls per variant (default 200)
  --txs <n>    module transactions for the single-chain throughput (default 200)
  --json       print the result as JSON`

function perCall(module: NativeModule, calls: number): {usPerCall: number; gas: string} {
  const harness = createTestHarness(module)
  harness.call('increment') // warm up
  const start = process.hrtime.bigint()
  let gas = 0n
  for (let i = 0; i < calls; i++) gas = harness.call('increment').gasUsed
  const us = Number(process.hrtime.bigint() - start) / 1_000 / calls
  return {usPerCall: Math.round(us), gas: gas.toString()}
}

async function chainThroughput(source: string, txs: number): Promise<{txs: number; seconds: number; txPerSecond: number; ok: number}> {
  const genesis = addModulesToGenesis(createDevGenesis({accounts: DEV_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}), defaultGenesisModules({governance: {votingPeriod: 2, timelock: 1}}))
  const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
  const mempool = new Mempool(chain)
  const nonces = DEV_ACCOUNTS.map(() => 0)
  const send = async (from: number, to: `0x${string}`, data: `0x${string}`) => mempool.addRaw(await signTransfer({from, nonce: nonces[from]!++, to, value: 0n, gas: 1_000_000n, data}))
  await send(0, MODULE_REGISTRY_ADDRESS, encodeFunctionData({abi: registryModule.abi, functionName: 'storeCode', args: [stringToHex(source)]}))
  const proposal = parseProposal({kind: 'module-activate', title: 'counter', summary: 's', riskAnalysis: 'r', dependencyDiff: 'd', migrationSteps: 'm', id: 'counter', version: '0.1.0', codeHash: moduleCodeHash(source), height: 7})
  await send(0, moduleAddress('governance'), encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(proposal))]}))
  await mineBlock(chain, mempool)
  for (const from of [0, 1]) await send(from, moduleAddress('governance'), encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]}))
  while (chain.head.header.number < 7n) await mineBlock(chain, mempool)
  const data = encodeFunctionData({abi: parseAbi(['function increment() returns (uint256)']), functionName: 'increment'})
  const start = process.hrtime.bigint()
  for (let i = 0; i < txs; i++) await send(2 + (i % (DEV_ACCOUNTS.length - 2)), moduleAddress('counter'), data)
  let ok = 0
  while (mempool.size > 0) ok += (await mineBlock(chain, mempool)).receipts.filter((r) => r.status === 1).length
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  await chain.close()
  return {txs, seconds: Math.round(seconds * 100) / 100, txPerSecond: Math.round((txs / seconds) * 10) / 10, ok}
}

/** The same source run as the node ran user modules before the sandbox: in the node's own V8. */
async function loadNatively(source: string): Promise<NativeModule> {
  const ts = (await import('typescript')).default
  const {outputText} = ts.transpileModule(source, {compilerOptions: {module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022}})
  const allowed: Record<string, unknown> = {'xai/modules': await import('../src/modules/index.js'), zod: await import('zod'), viem: await import('viem')}
  const exports: Record<string, unknown> = {}
  new Function('require', 'exports', outputText)((name: string) => allowed[name], exports)
  return exports.default as NativeModule
}

export async function main(argv: string[]): Promise<number> {
  const {values} = parseArgs({args: argv, options: {calls: {type: 'string'}, txs: {type: 'string'}, json: {type: 'boolean'}, help: {type: 'boolean', short: 'h'}}})
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const calls = Number(values.calls ?? 200)
  const txs = Number(values.txs ?? 200)
  const template = await readFile(new URL('../templates/module/src/__name__.ts', import.meta.url), 'utf8')
  const source = template.replaceAll('__name__', 'counter')
  const native = await loadNatively(source)
  const sandboxed = await loadModuleSource(source)
  const result = {
    native: perCall(native, calls),
    sandbox: perCall(sandboxed, calls),
    chain: await chainThroughput(source, txs),
  }
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else {
    process.stdout.write(`counter.increment native  ${result.native.usPerCall} µs/call, gas ${result.native.gas} (test kit)\n`)
    process.stdout.write(`counter.increment sandbox ${result.sandbox.usPerCall} µs/call, gas ${result.sandbox.gas} (test kit)\n`)
    process.stdout.write(`module txs on one chain   ${result.chain.txPerSecond} tx/s (${result.chain.ok}/${result.chain.txs} ok in ${result.chain.seconds} s)\n`)
  }
  return 0
}
