/**
 * viem's test client (`createTestClient({mode: 'anvil'})`) against a single-node devnet: the
 * actions a dApp's test loop uses (snapshot/revert, mine, time, balances, code, storage,
 * impersonation, mining modes, the pool). The same file runs against anvil with
 * XAI_E2E_TARGET=anvil, so xai's cheat methods cannot drift from anvil's.
 */
import {type Address, type Hex, createTestClient, createWalletClient, http, parseEther, publicActions} from 'viem'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {e2eChain} from '../helpers/clients.js'
import {type E2eDevnet, startE2eDevnet} from '../helpers/devnet.js'

const STRANGER = '0x00000000000000000000000000000000c0ffee00' as Address
const RECIPIENT = '0x000000000000000000000000000000000000bEEF' as Address

describe(`viem test client (${process.env.XAI_E2E_TARGET ?? 'xai'})`, () => {
  let devnet: E2eDevnet
  let client: ReturnType<typeof makeClient>
  const makeClient = (d: E2eDevnet) => createTestClient({mode: 'anvil', chain: e2eChain(d), transport: http(d.rpcUrl), cacheTime: 0}).extend(publicActions)

  beforeAll(async () => {
    devnet = await startE2eDevnet({blockTime: 0})
    client = makeClient(devnet)
  }, 180_000)
  afterAll(async () => {
    await devnet?.stop()
  }, 60_000)

  const sender = (): Address => devnet.accounts[0]!.address
  const send = async (value = 1n, from: Address = sender()): Promise<Hex> => {
    const wallet = createWalletClient({chain: e2eChain(devnet), transport: http(devnet.rpcUrl)})
    const hash = await wallet.sendTransaction({account: from, to: RECIPIENT, value, chain: e2eChain(devnet)})
    return hash
  }

  test('snapshot and revert: blocks, transactions and balances come back; ids are single-use', async () => {
    const id = await client.snapshot()
    const before = await client.getBlock()
    const recipientBefore = await client.getBalance({address: RECIPIENT})
    const hash = await send(5n)
    await client.waitForTransactionReceipt({hash})
    await client.mine({blocks: 3})
    expect(await client.getBlockNumber()).toBe(before.number + 4n)
    await client.revert({id})
    expect((await client.getBlock()).hash).toBe(before.hash)
    expect(await client.getBalance({address: RECIPIENT})).toBe(recipientBefore)
    expect(await client.request({method: 'eth_getTransactionByHash', params: [hash]} as never)).toBeNull()
    expect(await client.request({method: 'evm_revert', params: [id]} as never)).toBe(false)
  }, 120_000)

  test('nested snapshots, as loadFixture takes them: inner first, then outer', async () => {
    const start = await client.getBlockNumber()
    const outer = await client.snapshot()
    await client.mine({blocks: 1})
    const inner = await client.snapshot()
    await client.mine({blocks: 1})
    await client.revert({id: inner})
    expect(await client.getBlockNumber()).toBe(start + 1n)
    await client.revert({id: outer})
    expect(await client.getBlockNumber()).toBe(start)
  }, 60_000)

  test('mine, increaseTime and setNextBlockTimestamp move block numbers and timestamps', async () => {
    const start = await client.getBlock()
    await client.mine({blocks: 2})
    expect(await client.getBlockNumber()).toBe(start.number + 2n)
    await client.increaseTime({seconds: 3600})
    await client.mine({blocks: 1})
    const later = await client.getBlock()
    expect(later.timestamp - start.timestamp).toBeGreaterThanOrEqual(3600n)
    const exact = later.timestamp + 10_000n
    await client.setNextBlockTimestamp({timestamp: exact})
    await client.mine({blocks: 1})
    expect((await client.getBlock()).timestamp).toBe(exact)
  }, 60_000)

  test('setBlockTimestampInterval spaces blocks exactly; removeBlockTimestampInterval ends it', async () => {
    await client.setBlockTimestampInterval({interval: 12})
    const a = await client.getBlock()
    await client.mine({blocks: 1})
    await client.mine({blocks: 1})
    expect((await client.getBlock()).timestamp).toBe(a.timestamp + 24n)
    await client.removeBlockTimestampInterval()
  }, 60_000)

  test('setBalance, setNonce, setCode and setStorageAt are visible at once, without a block', async () => {
    const n = await client.getBlockNumber()
    await client.setBalance({address: STRANGER, value: parseEther('42')})
    expect(await client.getBalance({address: STRANGER})).toBe(parseEther('42'))
    await client.setNonce({address: STRANGER, nonce: 9})
    expect(await client.getTransactionCount({address: STRANGER})).toBe(9)
    await client.setCode({address: STRANGER, bytecode: '0x60016000f3'})
    expect(await client.getCode({address: STRANGER})).toBe('0x60016000f3')
    const value = `0x${'00'.repeat(31)}2a` as Hex
    await client.setStorageAt({address: STRANGER, index: 3, value})
    expect(await client.getStorageAt({address: STRANGER, slot: '0x3'})).toBe(value)
    expect(await client.getBlockNumber()).toBe(n)
    await client.setCode({address: STRANGER, bytecode: '0x'})
  }, 60_000)

  test('impersonateAccount: eth_sendTransaction from an address whose key nobody has', async () => {
    const who = '0x00000000000000000000000000000000000a11ce' as Address
    await client.setBalance({address: who, value: parseEther('1')})
    await client.impersonateAccount({address: who})
    const hash = await send(7n, who)
    const receipt = await client.waitForTransactionReceipt({hash})
    expect(receipt.status).toBe('success')
    expect(receipt.from.toLowerCase()).toBe(who)
    await client.stopImpersonatingAccount({address: who})
    await expect(send(1n, who)).rejects.toThrow()
  }, 60_000)

  test('setAutomine(false) holds transactions until mine; dropTransaction removes one', async () => {
    expect(await client.getAutomine()).toBe(true)
    await client.setAutomine(false)
    expect(await client.getAutomine()).toBe(false)
    const n = await client.getBlockNumber()
    const kept = await send(1n)
    const dropped = await send(2n, devnet.accounts[1]!.address)
    await client.dropTransaction({hash: dropped})
    expect(await client.getBlockNumber()).toBe(n)
    await client.mine({blocks: 1})
    expect((await client.getTransactionReceipt({hash: kept})).status).toBe('success')
    expect(await client.request({method: 'eth_getTransactionReceipt', params: [dropped]} as never)).toBeNull()
    await client.setAutomine(true)
  }, 60_000)

  test('setIntervalMining makes blocks on its own and 0 stops it', async () => {
    await client.setIntervalMining({interval: 1})
    const n = await client.getBlockNumber()
    const until = Date.now() + 20_000
    while ((await client.getBlockNumber()) < n + 2n && Date.now() < until) await new Promise((r) => setTimeout(r, 200))
    expect(await client.getBlockNumber()).toBeGreaterThanOrEqual(n + 2n)
    await client.setIntervalMining({interval: 0})
    await client.setAutomine(true)
  }, 60_000)

  test('setNextBlockBaseFeePerGas and setCoinbase shape the next block; setMinGasPrice is refused under EIP-1559', async () => {
    await client.setNextBlockBaseFeePerGas({baseFeePerGas: 123_456_789n})
    await client.setCoinbase({address: STRANGER})
    await client.mine({blocks: 1})
    const block = await client.getBlock()
    expect(block.baseFeePerGas).toBe(123_456_789n)
    expect(block.miner.toLowerCase()).toBe(STRANGER)
    await expect(client.setMinGasPrice({gasPrice: 1n})).rejects.toThrow(/not supported when EIP-1559 is active/)
  }, 60_000)

  test('tracers, eth_createAccessList and eth_simulateV1 answer in the shapes anvil and geth share', async () => {
    const hash = await send(9n)
    await client.waitForTransactionReceipt({hash})
    const from = sender().toLowerCase()
    const to = RECIPIENT.toLowerCase()
    const call = (await client.request({method: 'debug_traceTransaction', params: [hash, {tracer: 'callTracer', tracerConfig: {withLog: true}}]} as never)) as Record<string, unknown>
    // The top frame's gas differs (geth: the gas limit; anvil: what is left after the intrinsic cost).
    expect({...call, gas: undefined}).toEqual({type: 'CALL', from, to, value: '0x9', gasUsed: '0x5208', input: '0x', gas: undefined})
    const diff = (await client.request({method: 'debug_traceTransaction', params: [hash, {tracer: 'prestateTracer', tracerConfig: {diffMode: true}}]} as never)) as {
      pre: Record<string, {balance: string; nonce?: number}>
      post: Record<string, {balance?: string; nonce?: number}>
    }
    expect(BigInt(diff.post[to]!.balance!) - BigInt(diff.pre[to]?.balance ?? '0x0')).toBe(9n)
    expect(diff.post[from]!.nonce).toBe((diff.pre[from]!.nonce ?? 0) + 1)
    const block = await client.getTransactionReceipt({hash})
    const traces = (await client.request({method: 'debug_traceBlockByNumber', params: [`0x${block.blockNumber.toString(16)}`, {tracer: 'callTracer'}]} as never)) as {txHash: string}[]
    expect(traces.map((t) => t.txHash)).toEqual([hash])
    expect(await client.createAccessList({account: sender(), to: RECIPIENT, value: 1n})).toEqual({accessList: [], gasUsed: 21_000n})
    const [simulated] = (await client.request({
      method: 'eth_simulateV1',
      params: [{blockStateCalls: [{stateOverrides: {[STRANGER]: {balance: '0x100'}}, calls: [{from: STRANGER, to: RECIPIENT, value: '0x10'}]}], traceTransfers: true}, 'latest'],
    } as never)) as {calls: {status: string; gasUsed: string; logs: {address: string}[]}[]}[]
    expect(simulated!.calls[0]).toMatchObject({status: '0x1', gasUsed: '0x5208', logs: [{address: '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'}]})
  }, 60_000)

  test('reset returns to a chain at block 0 with the dev accounts funded; reset to a fork is refused', async () => {
    await client.mine({blocks: 2})
    // viem's reset() always sends a forking section, which anvil without a fork refuses as xai does.
    await expect(client.reset()).rejects.toThrow(/[Ff]ork/)
    await client.request({method: 'anvil_reset', params: []} as never)
    expect(await client.getBlockNumber()).toBe(0n)
    expect(await client.getBalance({address: STRANGER})).toBe(0n)
    expect(await client.getBalance({address: sender()})).toBe(parseEther('10000'))
  }, 60_000)
})
