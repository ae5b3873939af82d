/**
 * Foundry's cast against the devnet: the everyday commands a Foundry user runs, each checked for
 * its exit code and its answer. cast (alloy) is strict about JSON-RPC shapes, so a missing header
 * field or a wrongly encoded quantity fails here even where viem and ethers are lenient.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {REPO_ROOT, type E2eDevnet, STANDARD_DEV_ACCOUNTS, rpc, startE2eDevnet} from '../helpers/devnet.js'
import {e2eContract} from '../helpers/solidity.js'

const CAST = join(REPO_ROOT, 'node_modules/@foundry-rs/cast-linux-amd64/bin/cast')
const run = promisify(execFile)
const TIMEOUT = 120_000
const haveCast = existsSync(CAST)

let devnet: E2eDevnet

async function castOffline(...args: string[]): Promise<string> {
  const {stdout} = await run(CAST, args, {timeout: 60_000, env: {...process.env, NO_COLOR: '1'}})
  return stdout.trim()
}

/** A network command: the RPC URL goes right after the subcommand (`--create` takes the rest). */
const cast = (command: string, ...args: string[]): Promise<string> => castOffline(command, '--rpc-url', devnet.rpcUrl, ...args)

describe.skipIf(!haveCast)('cast', () => {
  beforeAll(async () => {
    devnet = await startE2eDevnet({blockTime: 0})
  }, TIMEOUT)

  afterAll(async () => {
    await devnet?.stop()
  }, TIMEOUT)

  const [alice, bob] = STANDARD_DEV_ACCOUNTS

  test('chain-id, client, block-number, gas-price, base-fee', async () => {
    expect(await cast('chain-id')).toBe('31337')
    expect(await cast('client')).toMatch(devnet.target === 'xai' ? /^xai\// : /anvil/i)
    expect(Number(await cast('block-number'))).toBeGreaterThanOrEqual(0)
    expect(BigInt(await cast('gas-price'))).toBeGreaterThan(0n)
    expect(BigInt(await cast('base-fee'))).toBeGreaterThan(0n)
  }, TIMEOUT)

  test('balance and nonce of a funded account', async () => {
    expect(BigInt(await cast('balance', bob!.address))).toBeGreaterThan(0n)
    expect(Number(await cast('nonce', '0x000000000000000000000000000000000000bEEF'))).toBe(0)
  }, TIMEOUT)

  test('send (EIP-1559 and legacy), then receipt and tx read back', async () => {
    const to = '0x000000000000000000000000000000000000dEaD'
    const before = BigInt(await cast('balance', to))
    const receipt = JSON.parse(await cast('send', to, '--value', '1gwei', '--private-key', alice!.privateKey, '--json')) as {
      status: string
      transactionHash: string
      blockNumber: string
    }
    expect(receipt.status).toBe('0x1')
    const legacy = JSON.parse(await cast('send', to, '--value', '1gwei', '--private-key', alice!.privateKey, '--legacy', '--json')) as {status: string; type: string}
    expect(legacy.status).toBe('0x1')
    expect(legacy.type).toBe('0x0')
    expect(BigInt(await cast('balance', to)) - before).toBe(2n * 10n ** 9n)
    const tx = JSON.parse(await cast('tx', receipt.transactionHash, '--json')) as {from: string; to: string; value: string}
    expect(tx.from.toLowerCase()).toBe(alice!.address.toLowerCase())
    expect(tx.to.toLowerCase()).toBe(to.toLowerCase())
    expect(BigInt(tx.value)).toBe(10n ** 9n)
    expect(await cast('receipt', receipt.transactionHash, 'status')).toMatch(/^(1|true|success)/)
    const block = JSON.parse(await cast('block', String(BigInt(receipt.blockNumber)), '--json')) as {hash: string; transactions: string[]}
    expect(block.transactions).toContain(receipt.transactionHash)
  }, TIMEOUT)

  test('deploy, call, estimate, storage, code and logs of a contract', async () => {
    const token = e2eContract('TestToken')
    const args = await castOffline('abi-encode', 'constructor(string,string,uint256)', 'Cast Token', 'CST', '1000000')
    const deployed = JSON.parse(
      await cast('send', '--json', '--private-key', alice!.privateKey, '--create', `${token.bytecode}${args.slice(2)}`),
    ) as {contractAddress: string; status: string}
    expect(deployed.status).toBe('0x1')
    const address = deployed.contractAddress
    expect((await cast('code', address)).length).toBeGreaterThan(10)
    expect(await cast('call', address, 'balanceOf(address)(uint256)', alice!.address)).toMatch(/^1000000/)
    expect(Number(await cast('estimate', address, 'transfer(address,uint256)', bob!.address, '5', '--from', alice!.address))).toBeGreaterThan(21_000)
    const sent = JSON.parse(await cast('send', address, 'transfer(address,uint256)', bob!.address, '5', '--private-key', alice!.privateKey, '--json')) as {
      blockNumber: string
    }
    expect(await cast('call', address, 'balanceOf(address)(uint256)', bob!.address)).toMatch(/^5/)
    const logs = JSON.parse(await cast('logs', '--from-block', String(BigInt(sent.blockNumber)), '--address', address, 'Transfer(address,address,uint256)', '--json')) as unknown[]
    expect(logs.length).toBeGreaterThanOrEqual(1)
    // The token's balances live in a mapping; the storage read works at any slot.
    expect(await cast('storage', address, '0')).toMatch(/^0x[0-9a-f]{64}$/)
  }, TIMEOUT)

  test('a reverting call reports the decoded error', async () => {
    const token = e2eContract('TestToken')
    const args = await castOffline('abi-encode', 'constructor(string,string,uint256)', 'Cast Token', 'CST', '1')
    const deployed = JSON.parse(await cast('send', '--json', '--private-key', alice!.privateKey, '--create', `${token.bytecode}${args.slice(2)}`)) as {
      contractAddress: string
    }
    const failure = await cast('call', deployed.contractAddress, 'transfer(address,uint256)', bob!.address, '1000', '--from', bob!.address).then(
      () => undefined,
      (err: {stderr?: string}) => err.stderr ?? String(err),
    )
    expect(failure).toMatch(/revert/i)
  }, TIMEOUT)

  test('rpc passthrough', async () => {
    expect(JSON.parse(await cast('rpc', 'eth_syncing'))).toBe(false)
    expect(await rpc(devnet.rpcUrl, 'eth_chainId')).toBe('0x7a69')
  }, TIMEOUT)
})
