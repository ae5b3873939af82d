/**
 * Crash safety of an xai node, seen from its clients: `kill -9` under a steady load of transfers,
 * restart the devnet from the same folder, and everything a client was told before the crash
 * (block hashes, receipts) must still hold, state must add up, and the chain must go on.
 *
 * xai only: anvil keeps its chain in memory, so there is nothing to recover after kill -9.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'

import {type Address, type Hash, type Hex, numberToHex, parseEther, parseGwei} from 'viem'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'
import {afterAll, afterEach, describe, expect, test} from 'vitest'

import {type RawBlock, computeBlockHash, publicClientFor, walletClientFor} from '../helpers/clients.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, XAI_CLI, cliEnv, e2eTarget, freePort, isAlive, kill9, killProcess, rpc, startE2eDevnet, waitFor} from '../helpers/devnet.js'

const TIMEOUT = 300_000
const BLOCK_TIME_MS = 1_000
/** Senders 1..5: not account 0, which a devnet may use as its coinbase. */
const SENDERS = [1, 2, 3, 4, 5]
const TXS_PER_SENDER = 60 // 300 transfers in all
const IN_FLIGHT_PER_SENDER = 6
const KILL_AFTER_RECEIPTS = 100
const VALUE = 1_000_000_000n // 1 gwei of value per transfer
const FEES = {maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1'), gas: 21_000n}

const target = e2eTarget()
const started: E2eDevnet[] = []
const tempDirs: string[] = []
const spawnedPids: number[] = []

afterEach(async () => {
  // Every process started by a test is stopped by PID, whatever the test's outcome.
  await Promise.all(started.splice(0).map((d) => d.stop({keepDir: true})))
  await Promise.all(spawnedPids.splice(0).map((pid) => killProcess(pid, {graceMs: 5_000})))
}, TIMEOUT)

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, {recursive: true, force: true})))
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xai-e2e-crash-'))
  tempDirs.push(dir)
  return dir
}

async function up(options: {dir: string; port?: number; blockTime: number}): Promise<E2eDevnet> {
  const devnet = await startE2eDevnet({target: 'xai', ...options})
  started.push(devnet)
  return devnet
}

interface SentTx {
  hash: Hash
  sender: Address
  nonce: number
  to: Address
}

interface SeenReceipt {
  blockHash: Hash
  blockNumber: bigint
  status: Hex
  gasUsed: bigint
  effectiveGasPrice: bigint
}

const SKIP_REASON = 'crash recovery is xai only: anvil keeps its chain in memory, so nothing survives kill -9 (XAI_E2E_TARGET=anvil)'

test.runIf(target === 'anvil')('crash recovery (skipped on anvil)', (context) => {
  context.skip(SKIP_REASON)
})

describe.skipIf(target === 'anvil')('crash recovery', {timeout: TIMEOUT}, () => {
  test('kill -9 under load, restart from the same folder: nothing a client saw is lost', async ({annotate}) => {
    const dir = await tempDir()
    const first = await up({dir, blockTime: BLOCK_TIME_MS})
    const url = first.rpcUrl
    const pid = first.nodes[0]!.pid
    const client0 = publicClientFor(first)

    const senders = SENDERS.map((i) => privateKeyToAccount(first.accounts[i]!.privateKey))
    const recipients = new Map(senders.map((s) => [s.address, privateKeyToAccount(generatePrivateKey()).address]))
    const genesisMiner = (await rpc<RawBlock>(url, 'eth_getBlockByNumber', ['0x0', false])).miner as string
    expect(senders.map((s) => s.address.toLowerCase())).not.toContain(genesisMiner.toLowerCase())
    const startNonces = new Map<Address, number>()
    for (const s of senders) startNonces.set(s.address, await client0.getTransactionCount({address: s.address}))

    // What the clients were told before the kill.
    const sent = new Map<Hash, SentTx>()
    const blockHashes = new Map<bigint, Hash>()
    const receipts = new Map<Hash, SeenReceipt>()
    let killed = false
    let head = -1n
    let sendError: unknown

    // The load: each sender keeps up to IN_FLIGHT_PER_SENDER transfers unmined.
    const sendLoop = async (index: number): Promise<void> => {
      const account = senders[index]!
      const to = recipients.get(account.address)!
      const startNonce = startNonces.get(account.address)!
      for (let n = 0; n < TXS_PER_SENDER && !killed; n++) {
        await waitFor(
          async () => killed || [...sent.values()].filter((t) => t.sender === account.address && !receipts.has(t.hash)).length < IN_FLIGHT_PER_SENDER,
          {timeoutMs: 60_000, what: `room in ${account.address}'s window`},
        )
        if (killed) return
        const nonce = startNonce + n
        const raw = await account.signTransaction({chainId: first.chainId, type: 'eip1559', nonce, to, value: VALUE, ...FEES})
        try {
          const hash = await rpc<Hash>(url, 'eth_sendRawTransaction', [raw])
          sent.set(hash, {hash, sender: account.address, nonce, to})
        } catch (err) {
          if (!killed) sendError = err
          return
        }
        // Kill mid-load: enough receipts seen, and this transfer was just accepted (in flight).
        if (!killed && receipts.size >= KILL_AFTER_RECEIPTS) {
          killed = true
          await kill9(pid)
          return
        }
      }
    }

    // The observer: every new block's hash and its receipts, recorded as they are returned.
    // A block's hash counts as seen once the block and all its receipts were returned.
    const observe = async (): Promise<void> => {
      try {
        while (!killed) {
          const latest = BigInt(await rpc<Hex>(url, 'eth_blockNumber'))
          for (let n = head + 1n; n <= latest && !killed; n++) {
            const block = await rpc<RawBlock>(url, 'eth_getBlockByNumber', [numberToHex(n), false])
            for (const hash of block.transactions as Hash[]) {
              const r = await rpc<{blockHash: Hash; blockNumber: Hex; status: Hex; gasUsed: Hex; effectiveGasPrice: Hex} | null>(url, 'eth_getTransactionReceipt', [hash])
              if (r === null) throw new Error(`Block ${n} lists ${hash} but eth_getTransactionReceipt returned null`)
              receipts.set(hash, {blockHash: r.blockHash, blockNumber: BigInt(r.blockNumber), status: r.status, gasUsed: BigInt(r.gasUsed), effectiveGasPrice: BigInt(r.effectiveGasPrice)})
            }
            blockHashes.set(n, block.hash)
            head = n
          }
          await waitFor(async () => killed || BigInt(await rpc<Hex>(url, 'eth_blockNumber')) > head, {timeoutMs: 30_000, what: `a block after ${head}`, intervalMs: 50})
        }
      } catch (err) {
        if (!killed) throw err // after the kill, requests fail: that is expected
      }
    }

    await Promise.all([observe(), ...senders.map((_, i) => sendLoop(i))])
    expect(sendError, `a transfer was rejected before the kill: ${String(sendError)}`).toBeUndefined()
    expect(isAlive(pid)).toBe(false)
    expect(receipts.size).toBeGreaterThanOrEqual(KILL_AFTER_RECEIPTS)
    expect(sent.size).toBeGreaterThan(receipts.size) // killed with transfers still pending
    const headBeforeKill = head

    // Restart from the same folder, on the same port.
    const second = await up({dir, port: first.port, blockTime: BLOCK_TIME_MS})
    const client = publicClientFor(second)
    const pinned = await client.getBlockNumber({cacheTime: 0})
    expect(pinned, 'the head went backwards after the restart').toBeGreaterThanOrEqual(headBeforeKill)

    // Every block hash a client saw is still the block at that height.
    for (const [height, hash] of blockHashes) {
      const block = await rpc<RawBlock | null>(second.rpcUrl, 'eth_getBlockByNumber', [numberToHex(height), false])
      expect(block?.hash, `block ${height} changed after the restart`).toBe(hash)
      expect(computeBlockHash(block!), `block ${height}'s header no longer hashes to its hash`).toBe(hash)
    }
    // Every receipt a client got is still there, in the same block.
    for (const [hash, seen] of receipts) {
      const r = await rpc<{blockHash: Hash; blockNumber: Hex; status: Hex; gasUsed: Hex} | null>(second.rpcUrl, 'eth_getTransactionReceipt', [hash])
      expect(r, `receipt of ${hash} (block ${seen.blockNumber}) is gone after the restart`).not.toBeNull()
      expect(r!.blockHash).toBe(seen.blockHash)
      expect(BigInt(r!.blockNumber)).toBe(seen.blockNumber)
      expect(r!.status).toBe(seen.status)
      expect(BigInt(r!.gasUsed)).toBe(seen.gasUsed)
    }

    // State at the pinned head adds up: nonces, sender balances, recipient balances.
    let minedByPinned = 0n
    for (const account of senders) {
      const address = account.address
      const nonceAt = await client.getTransactionCount({address, blockNumber: pinned})
      const mine = [...sent.values()].filter((t) => t.sender === address)
      const maxSeenNonce = Math.max(-1, ...mine.filter((t) => receipts.has(t.hash)).map((t) => t.nonce))
      expect(nonceAt).toBeGreaterThan(maxSeenNonce)
      let spent = 0n
      let mined = 0n
      for (const tx of mine) {
        const r = await rpc<{blockNumber: Hex; gasUsed: Hex; effectiveGasPrice: Hex; status: Hex} | null>(second.rpcUrl, 'eth_getTransactionReceipt', [tx.hash])
        const minedByPin = r !== null && BigInt(r.blockNumber) <= pinned
        expect(minedByPin, `${address} nonce ${tx.nonce}: mined by ${pinned} = ${minedByPin} but the account nonce there is ${nonceAt}`).toBe(tx.nonce < nonceAt)
        if (minedByPin) {
          expect(r!.status).toBe('0x1')
          spent += VALUE + BigInt(r!.gasUsed) * BigInt(r!.effectiveGasPrice)
          mined++
          minedByPinned++
        }
      }
      // Only these transfers moved the senders' funds since genesis (they were fresh accounts there).
      expect(nonceAt - startNonces.get(address)!).toBe(Number(mined))
      const genesisBalance = await client.getBalance({address, blockNumber: 0n})
      const startBalance = startNonces.get(address)! === 0 ? genesisBalance : undefined
      if (startBalance !== undefined) expect(await client.getBalance({address, blockNumber: pinned})).toBe(startBalance - spent)
      expect(await client.getBalance({address: recipients.get(address)!, blockNumber: pinned})).toBe(VALUE * mined)
    }

    await annotate(
      `sent ${sent.size} transfers, killed at height ${headBeforeKill} after ${receipts.size} receipts; ` +
        `restarted at height ${pinned} with ${minedByPinned} of them mined (${sent.size - Number(minedByPinned)} pending ones not kept or not yet mined)`,
    )

    // The chain goes on: new blocks, and new transfers continue each sender's nonces.
    await waitFor(async () => (await client.getBlockNumber({cacheTime: 0})) >= pinned + 2n, {timeoutMs: 60_000, what: `blocks after ${pinned} on the restarted node`})
    for (const index of SENDERS) {
      const wallet = walletClientFor(second, index)
      const address = wallet.account.address
      const pending = await client.getTransactionCount({address, blockTag: 'pending'})
      const hash = await wallet.sendTransaction({to: recipients.get(address)!, value: VALUE})
      const receipt = await client.waitForTransactionReceipt({hash, timeout: 60_000, pollingInterval: 200})
      expect(receipt.status).toBe('success')
      expect((await client.getTransaction({hash})).nonce).toBe(pending)
      expect(await client.getTransactionCount({address})).toBeGreaterThan(pending)
    }
  })

  test('a node killed before it committed any block restarts cleanly', async () => {
    const dir = await tempDir()
    // One block an hour: the node answers RPC and then never commits a block before the kill.
    const first = await up({dir, blockTime: 3_600_000})
    expect(BigInt(await rpc<Hex>(first.rpcUrl, 'eth_blockNumber'))).toBe(0n)
    const genesis = await rpc<RawBlock>(first.rpcUrl, 'eth_getBlockByNumber', ['0x0', false])
    await kill9(first.nodes[0]!.pid)

    const second = await up({dir, port: first.port, blockTime: BLOCK_TIME_MS})
    await expectHealthyChain(second, genesis.hash)
  })

  test('a node killed while it initializes its database restarts cleanly', async () => {
    // `xai node start` in the foreground; SIGKILL as soon as its db/ folder appears.
    const home = await tempDir()
    const port = await freePort()
    const args = [XAI_CLI, 'node', 'start', '--home', home, '--rpc-port', String(port), '--block-time', String(BLOCK_TIME_MS)]
    const child = spawn(process.execPath, args, {stdio: 'ignore', env: cliEnv()})
    spawnedPids.push(child.pid!)
    await waitFor(async () => existsSync(join(home, 'db')) || !isAlive(child.pid!), {timeoutMs: 60_000, what: `${home}/db to appear`, intervalMs: 5})
    await kill9(child.pid!)

    const again = spawn(process.execPath, args, {stdio: 'ignore', env: cliEnv()})
    spawnedPids.push(again.pid!)
    const rpcUrl = `http://127.0.0.1:${port}`
    await waitFor(
      async () => {
        if (!isAlive(again.pid!)) throw new Error(`the restarted node exited; see ${home}/node.log`)
        return rpc(rpcUrl, 'eth_chainId').then(() => true, () => false)
      },
      {timeoutMs: 120_000, what: `the restarted node to answer on ${rpcUrl}`},
    )
    const devnet = {
      target: 'xai',
      chainId: 31337,
      rpcUrl,
      wsUrl: `ws://127.0.0.1:${port}`,
      port,
      blockTime: BLOCK_TIME_MS,
      nodes: [],
      accounts: STANDARD_DEV_ACCOUNTS.map((a) => ({...a})),
      dir: home,
      pids: () => [again.pid!],
      logTail: async () => '',
      stop: async () => killProcess(again.pid!),
    } satisfies E2eDevnet
    await expectHealthyChain(devnet)
  })
})

/** Genesis intact, blocks advancing with chained hashes, a transfer mined. */
async function expectHealthyChain(devnet: E2eDevnet, genesisHash?: Hash): Promise<void> {
  const client = publicClientFor(devnet)
  const genesis = await rpc<RawBlock>(devnet.rpcUrl, 'eth_getBlockByNumber', ['0x0', false])
  if (genesisHash) expect(genesis.hash).toBe(genesisHash)
  expect(computeBlockHash(genesis)).toBe(genesis.hash)
  expect(await client.getBalance({address: devnet.accounts[0]!.address, blockNumber: 0n})).toBe(parseEther('10000'))
  await waitFor(async () => (await client.getBlockNumber({cacheTime: 0})) >= 2n, {timeoutMs: 60_000, what: 'two blocks after the restart'})
  const one = await rpc<RawBlock>(devnet.rpcUrl, 'eth_getBlockByNumber', ['0x1', false])
  expect(one.parentHash).toBe(genesis.hash)
  const wallet = walletClientFor(devnet, 1)
  const hash = await wallet.sendTransaction({to: privateKeyToAccount(generatePrivateKey()).address, value: 1n})
  const receipt = await client.waitForTransactionReceipt({hash, timeout: 60_000, pollingInterval: 200})
  expect(receipt.status).toBe('success')
}
