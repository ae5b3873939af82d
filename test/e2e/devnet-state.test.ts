// End to end on a ONE-node devnet: anvil's genesis flags give the accounts anvil gives for the same
// mnemonic (anvil itself is run for the comparison), the state is saved, written again by
// `devnet down`, and comes back (balances, nonces, code, storage) in a fresh devnet started with
// --state and in anvil started with --load-state; a conflicting flag on resume is an error.
import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync} from 'node:fs'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {explain, json, runXai} from '../helpers/cli.js'
import {ANVIL_BIN, type E2eDevnet, freePort, isAlive, killProcess, startE2eDevnet} from '../helpers/devnet.js'

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
const GENESIS_FLAGS = ['--chain-id', '1337', '--accounts', '3', '--balance', '5', '--mnemonic', MNEMONIC]
/** Init code: SSTORE(7, 0x2a), then return the runtime code 0x6001. */
const INIT_CODE = '0x602a6007556002601160003960026000f36001'
const STRANGER = '0x00000000000000000000000000000000deadbeef'
const ETH = 10n ** 18n

async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params}),
    signal: AbortSignal.timeout(30_000),
  })
  const body = (await response.json()) as {result?: T; error?: {message: string}}
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

async function waitForReceipt(url: string, hash: string): Promise<{status: string; contractAddress: string | null}> {
  for (let i = 0; i < 600; i++) {
    const receipt = await rpc<{status: string; contractAddress: string | null} | null>(url, 'eth_getTransactionReceipt', [hash])
    if (receipt) return receipt
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no receipt for ${hash}`)
}

/** anvil with `args`, answering on a free port; stopped by PID in `stop`. */
async function startAnvil(dir: string, args: string[]): Promise<{url: string; stop(): Promise<void>}> {
  const port = await freePort()
  const logFd = openSync(join(dir, `anvil-${port}.log`), 'a')
  let child: ChildProcess
  try {
    child = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), ...args], {stdio: ['ignore', logFd, logFd]})
  } finally {
    closeSync(logFd)
  }
  const pid = child.pid!
  anvilPids.add(pid)
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    await killProcess(pid)
    anvilPids.delete(pid)
  }
  for (let i = 0; ; i++) {
    if (await rpc(url, 'eth_chainId').then(() => true, () => false)) break
    if (i > 600 || !isAlive(pid)) {
      await stop()
      throw new Error(`anvil did not answer on ${url}:\n${readFileSync(join(dir, `anvil-${port}.log`), 'utf8')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {url, stop}
}

/** Had a refused `up` started nodes after all, they would outlive the test: stop them by PID. */
async function killStarted(stdout: string): Promise<void> {
  let nodes: {pid?: number}[] = []
  try {
    nodes = (JSON.parse(stdout) as {nodes?: {pid?: number}[]}).nodes ?? []
  } catch {
    return
  }
  for (const {pid} of nodes) if (pid) await killProcess(pid)
}

const anvilPids = new Set<number>()
const devnets: E2eDevnet[] = []
let tmp: string

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'xai-e2e-state-'))
})

afterAll(async () => {
  for (const devnet of devnets) await devnet.stop({keepDir: true})
  for (const pid of anvilPids) await killProcess(pid)
  if (tmp) await rm(tmp, {recursive: true, force: true})
})

describe('devnet up with anvil flags, state save / down / up --state (one node)', () => {
  let devnet: E2eDevnet
  let dir: string
  let contract: string
  const stateFile = (): string => join(tmp, 'state.json')

  it("derives and funds the accounts anvil does for the same flags, on chain 1337", async () => {
    expect(existsSync(ANVIL_BIN), `anvil is not installed at ${ANVIL_BIN}`).toBe(true)
    const anvil = await startAnvil(tmp, ['--chain-id', '1337', '--accounts', '3', '--balance', '5', '--mnemonic', MNEMONIC])
    const anvilAccounts = await rpc<string[]>(anvil.url, 'eth_accounts')
    const anvilBalance = await rpc<string>(anvil.url, 'eth_getBalance', [anvilAccounts[2], 'latest'])
    await anvil.stop()

    dir = join(tmp, 'home')
    await mkdir(dir)
    devnet = await startE2eDevnet({target: 'xai', dir, upArgs: [...GENESIS_FLAGS, '--state', stateFile()]})
    devnets.push(devnet)
    expect(devnet.chainId).toBe(1337)
    expect(await rpc(devnet.rpcUrl, 'eth_chainId')).toBe('0x539')
    expect(anvilAccounts).toHaveLength(3)
    expect(devnet.accounts.map((a) => a.address.toLowerCase())).toEqual(anvilAccounts)
    expect(await rpc<string[]>(devnet.rpcUrl, 'eth_accounts')).toEqual(anvilAccounts)
    for (const address of anvilAccounts) expect(await rpc(devnet.rpcUrl, 'eth_getBalance', [address, 'latest'])).toBe(anvilBalance)
    expect(BigInt(anvilBalance)).toBe(5n * ETH)
  })

  it('saves the state with devnet state save, and devnet down writes the --state file', async () => {
    const [alice, bob] = devnet.accounts.map((a) => a.address.toLowerCase())
    const deployed = await waitForReceipt(devnet.rpcUrl, await rpc<string>(devnet.rpcUrl, 'eth_sendTransaction', [{from: alice, data: INIT_CODE, gas: '0x30000'}]))
    expect(deployed.status).toBe('0x1')
    contract = deployed.contractAddress!.toLowerCase()
    await waitForReceipt(devnet.rpcUrl, await rpc<string>(devnet.rpcUrl, 'eth_sendTransaction', [{from: alice, to: bob, value: `0x${ETH.toString(16)}`}]))
    await rpc(devnet.rpcUrl, 'anvil_setStorageAt', [STRANGER, '0x5', `0x${'ff'.padStart(64, '0')}`])
    await rpc(devnet.rpcUrl, 'anvil_setBalance', [STRANGER, '0x309'])

    const saved = await runXai(['devnet', 'state', 'save', join(tmp, 'saved.json'), '--dir', dir, '--json'], tmp)
    expect(saved.exitCode, explain(saved)).toBe(0)
    expect(json(saved)).toMatchObject({name: 'default', file: join(tmp, 'saved.json')})
    const file = JSON.parse(readFileSync(join(tmp, 'saved.json'), 'utf8')) as {block: unknown; accounts: Record<string, {nonce: number; balance: string; code: string; storage: Record<string, string>}>}
    expect(file.accounts[contract]).toEqual({nonce: 1, balance: '0x0', code: '0x6001', storage: {[`0x${'7'.padStart(64, '0')}`]: `0x${'2a'.padStart(64, '0')}`}})
    expect(file.accounts[STRANGER]).toMatchObject({balance: '0x309', storage: {[`0x${'5'.padStart(64, '0')}`]: `0x${'ff'.padStart(64, '0')}`}})
    expect(file.accounts[alice!]!.nonce).toBe(2)

    const down = await runXai(['devnet', 'down', '--dir', dir, '--json'], tmp)
    expect(down.exitCode, explain(down)).toBe(0)
    expect(json(down).state).toMatchObject({file: stateFile()})
    const written = JSON.parse(readFileSync(stateFile(), 'utf8')) as typeof file
    expect(written.accounts).toEqual(file.accounts)
  })

  it('refuses a genesis flag that conflicts with the stopped devnet, naming it', async () => {
    const port = String(await freePort())
    const conflict = await runXai(['devnet', 'up', '--dir', dir, '--detach', '--json', '--base-port', port, '--chain-id', '31337'], tmp)
    await killStarted(conflict.stdout)
    expect(conflict.exitCode, explain(conflict)).toBe(2)
    const error = json(conflict).error
    expect(error.code).toBe('DEVNET_SETTING_CONFLICT')
    expect(error.message).toMatch(/created with --chain-id 1337, not 31337/)
    expect(error.hint).toMatch(/xai devnet reset --force/)
    const accounts = await runXai(['devnet', 'up', '--dir', dir, '--detach', '--json', '--base-port', port, '--accounts', '10'], tmp)
    await killStarted(accounts.stdout)
    expect(json(accounts).error.code).toBe('DEVNET_SETTING_CONFLICT')
  })

  it('a fresh devnet started with --state has the balances, nonces, code and storage back', async () => {
    await mkdir(join(tmp, 'fresh-home'))
    const fresh = await startE2eDevnet({target: 'xai', dir: join(tmp, 'fresh-home'), upArgs: [...GENESIS_FLAGS, '--state', stateFile()]})
    devnets.push(fresh)
    expect(await rpc(fresh.rpcUrl, 'eth_blockNumber')).toBe('0x0')
    const [alice, bob] = devnet.accounts.map((a) => a.address.toLowerCase())
    const old = JSON.parse(readFileSync(stateFile(), 'utf8')) as {accounts: Record<string, {balance: string}>}
    expect(await rpc(fresh.rpcUrl, 'eth_getCode', [contract, 'latest'])).toBe('0x6001')
    expect(BigInt(await rpc<string>(fresh.rpcUrl, 'eth_getStorageAt', [contract, '0x7', 'latest']))).toBe(0x2an)
    expect(BigInt(await rpc<string>(fresh.rpcUrl, 'eth_getStorageAt', [STRANGER, '0x5', 'latest']))).toBe(0xffn)
    expect(await rpc(fresh.rpcUrl, 'eth_getBalance', [STRANGER, 'latest'])).toBe('0x309')
    expect(BigInt(await rpc<string>(fresh.rpcUrl, 'eth_getBalance', [bob, 'latest']))).toBe(6n * ETH)
    expect(await rpc(fresh.rpcUrl, 'eth_getBalance', [alice, 'latest'])).toBe(old.accounts[alice!]!.balance)
    expect(await rpc(fresh.rpcUrl, 'eth_getTransactionCount', [alice, 'latest'])).toBe('0x2')
    // The restored nonce is the one the next transaction must use.
    const next = await waitForReceipt(fresh.rpcUrl, await rpc<string>(fresh.rpcUrl, 'eth_sendTransaction', [{from: alice, to: STRANGER, value: '0x1'}]))
    expect(next.status).toBe('0x1')
  })

  it('anvil --load-state reads the file xai wrote', async () => {
    const anvil = await startAnvil(tmp, ['--load-state', join(tmp, 'saved.json')])
    try {
      expect(await rpc(anvil.url, 'eth_getCode', [contract, 'latest'])).toBe('0x6001')
      expect(BigInt(await rpc<string>(anvil.url, 'eth_getStorageAt', [contract, '0x7', 'latest']))).toBe(0x2an)
      expect(await rpc(anvil.url, 'eth_getBalance', [STRANGER, 'latest'])).toBe('0x309')
    } finally {
      await anvil.stop()
    }
  })
})
