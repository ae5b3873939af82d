/**
 * Client diversity on a real 4-validator devnet: `xai conformance` passes every group against our
 * node and the JSON-RPC group against anvil (the XAI groups skip); the Python light client
 * (clients/python, written from docs/spec) passes its vector tests, follows the devnet verifying
 * every commit through a governance validator-add, proves the balance a faucet claim sent through
 * another node paid against a state root it verified, and refuses the commits of a proxy that
 * alters one signature of each xai_getBlockCommit answer (so does `xai conformance`).
 *
 * Needs /usr/bin/python3 with Debian's python3-ecdsa, python3-pycryptodome, python3-rlp and
 * python3-pytest (XAI_PYTHON names another interpreter); without them the Python parts skip with
 * the reason.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'

import {execa} from 'execa'
import {type Address, type Hex, bytesToHex, encodeFunctionData, parseAbi} from 'viem'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import type {ConformanceReport} from '../../src/conformance/report.js'
import {findFreePortRange} from '../../src/util/ports.js'
import {canonicalProposal, parseProposal} from '../../src/governance/proposal.js'
import {governanceAbi} from '../../src/modules/host/governance-module.js'
import {moduleAddress} from '../../src/modules/module.js'
import {ANVIL_BIN, REPO_ROOT, XAI_CLI, cliEnv, killProcess} from '../helpers/devnet.js'
import {type MultiNodeDevnet, rpc, startMultiNodeDevnet, until} from '../helpers/multinode.js'

const TIMEOUT = 300_000
const PYTHON = process.env.XAI_PYTHON ?? '/usr/bin/python3'
const CLIENT_DIR = join(REPO_ROOT, 'clients/python')
/** anvil's first funded key (the standard test mnemonic's account 0). */
const ANVIL_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

async function pythonMissing(): Promise<string | undefined> {
  const run = await execa(PYTHON, ['-c', 'import ecdsa, Cryptodome, rlp, pytest'], {reject: false})
  if (run.exitCode === 0) return undefined
  return `${PYTHON} lacks a Debian module the light client needs (apt-get install -y python3-ecdsa python3-pycryptodome python3-rlp python3-pytest): ${(run.stderr || String(run.message)).split('\n').at(-1)}`
}

const missing = await pythonMissing()
if (missing) console.warn(`light-client e2e: the Python parts are skipped: ${missing}`)

function pytest(args: string[], env: Record<string, string> = {}) {
  return execa(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...args], {cwd: CLIENT_DIR, reject: false, timeout: 240_000, env: {...cliEnv(), ...env}, extendEnv: false})
}

async function conformance(url: string, args: string[] = []): Promise<{exitCode: number | undefined; report: ConformanceReport}> {
  const run = await execa(process.execPath, [XAI_CLI, 'conformance', '--rpc-url', url, '--json', ...args], {reject: false, timeout: 180_000, env: cliEnv(), extendEnv: false})
  return {exitCode: run.exitCode, report: JSON.parse(run.stdout) as ConformanceReport}
}

/** A JSON-RPC proxy to `target` that flips one byte of the first signature of every commit it serves. */
async function forgingProxy(target: string): Promise<{url: string; server: Server; forged: () => number}> {
  let forged = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      fetch(target, {method: 'POST', headers: {'content-type': 'application/json'}, body})
        .then(async (reply) => {
          const text = await reply.text()
          let out = text
          try {
            const request = JSON.parse(body) as {method?: string} | {method?: string}[]
            const json = JSON.parse(text) as {result?: {signatures?: string[]}} | {result?: {signatures?: string[]}}[]
            const pairs = Array.isArray(request) ? request.map((r, i) => [r, (json as unknown[])[i]] as const) : [[request, json] as const]
            for (const [r, answer] of pairs) {
              const sigs = (answer as {result?: {signatures?: string[]}} | undefined)?.result?.signatures
              if ((r as {method?: string}).method === 'xai_getBlockCommit' && sigs && sigs.length > 0) {
                const flipped = (parseInt(sigs[0]!.slice(12, 14), 16) ^ 0x01).toString(16).padStart(2, '0')
                sigs[0] = `${sigs[0]!.slice(0, 12)}${flipped}${sigs[0]!.slice(14)}`
                forged++
              }
            }
            out = JSON.stringify(json)
          } catch {
            // not JSON: pass it through unchanged
          }
          res.writeHead(reply.status, {'content-type': 'application/json'})
          res.end(out)
        })
        .catch((err: unknown) => {
          res.writeHead(502)
          res.end(String(err))
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, forged: () => forged}
}

let devnet: MultiNodeDevnet | undefined
let proxy: Awaited<ReturnType<typeof forgingProxy>> | undefined
let anvil: ChildProcess | undefined
let anvilUrl = ''

describe('client diversity: xai conformance and the Python light client on a 4-validator devnet', () => {
  beforeAll(async () => {
    devnet = await startMultiNodeDevnet({nodes: 4, blockTime: 500, extraArgs: ['--voting-period', '6', '--timelock', '1']})
    proxy = await forgingProxy(devnet.nodes[0]!.rpcUrl)
    const port = await findFreePortRange(1)
    anvil = spawn(ANVIL_BIN, ['--port', String(port), '--silent'], {stdio: 'ignore'})
    anvilUrl = `http://127.0.0.1:${port}`
    await until(() => rpc<string>(anvilUrl, 'eth_chainId').catch(() => undefined), 'anvil up', 30_000)
  }, TIMEOUT)

  afterAll(async () => {
    if (anvil?.pid) await killProcess(anvil.pid, {graceMs: 2_000}).catch(() => undefined)
    await new Promise((resolve) => proxy?.server.close(resolve) ?? resolve(undefined))
    await devnet?.stop()
  }, TIMEOUT)

  test.skipIf(missing !== undefined)('the Python client passes its vector tests (docs/spec/vectors)', async () => {
    const run = await pytest(['tests/test_vectors.py'])
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(run.stdout).toMatch(/\d+ passed/)
  }, TIMEOUT)

  test('xai conformance passes every group against our node', async () => {
    const {exitCode, report} = await conformance(devnet!.nodes[1]!.rpcUrl, ['--private-key', devnet!.accounts[9]!.privateKey])
    const failed = report.groups.flatMap((g) => g.checks.filter((c) => !c.ok).map((c) => `${g.group}: ${c.name}: ${c.detail}`))
    expect(failed).toEqual([])
    expect(report.groups.map((g) => [g.group, g.status])).toEqual([['jsonrpc', 'pass'], ['rest', 'pass'], ['commits', 'pass'], ['registry', 'pass']])
    expect(report.groups.find((g) => g.group === 'jsonrpc')!.checks.map((c) => c.name)).toContain('a signed EIP-1559 transfer is mined with a receipt that matches it')
    expect(exitCode).toBe(0)
  }, TIMEOUT)

  test('xai conformance: the JSON-RPC group passes against anvil and the XAI groups skip with a reason', async () => {
    const {exitCode, report} = await conformance(anvilUrl, ['--private-key', ANVIL_KEY])
    expect(report.groups.find((g) => g.group === 'jsonrpc')!.checks.filter((c) => !c.ok)).toEqual([])
    expect(report.groups.map((g) => [g.group, g.status])).toEqual([['jsonrpc', 'pass'], ['rest', 'skip'], ['commits', 'skip'], ['registry', 'skip']])
    expect(report.groups.find((g) => g.group === 'commits')!.reason).toMatch(/not an XAI node/)
    expect(exitCode).toBe(0)
  }, TIMEOUT)

  test('xai conformance fails the commits group (exit 1) against a node serving a forged signature', async () => {
    const {exitCode, report} = await conformance(proxy!.url, ['--group', 'commits', '--max-blocks', '5'])
    expect(report.groups[0]!.status).toBe('fail')
    expect(report.groups[0]!.checks.find((c) => !c.ok)!.detail).toMatch(/signature by no validator/)
    expect(exitCode).toBe(1)
  }, TIMEOUT)

  test.skipIf(missing !== undefined)('the Python client follows through a validator-add proposal, proves a faucet claim made through another node and refuses a forged commit', async () => {
    const url = devnet!.nodes[0]!.rpcUrl
    const joining = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Address
    const nonces = new Map<number, number>()
    const send = async (from: number, data: Hex, gas: bigint): Promise<Hex> => {
      const account = privateKeyToAccount(devnet!.accounts[from]!.privateKey)
      const nonce = nonces.get(from) ?? Number(BigInt(await rpc<string>(url, 'eth_getTransactionCount', [account.address, 'pending'])))
      nonces.set(from, nonce + 1)
      const raw = await account.signTransaction({chainId: devnet!.chainId, type: 'eip1559', nonce, to: moduleAddress('governance'), data, gas, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n})
      return rpc<Hex>(url, 'eth_sendRawTransaction', [raw])
    }
    const receipt = (hash: Hex) => until(() => rpc<{status: string; logs: {topics: Hex[]}[]} | null>(url, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined), `receipt of ${hash}`, 60_000)
    const proposal = parseProposal({kind: 'validator-add', title: 'Add a validator', summary: 'Light-client e2e.', riskAnalysis: 'Its node never runs: 4 of 5 keep the quorum.', dependencyDiff: 'None.', migrationSteps: 'None.', address: joining})
    const created = await receipt(await send(0, encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [bytesToHex(canonicalProposal(proposal))]}), 3_000_000n))
    expect(created.status).toBe('0x1')
    const id = BigInt(created.logs[0]!.topics[1]!)
    for (const voter of [1, 2, 3, 4]) await send(voter, encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [id, 1]}), 500_000n)

    // A faucet claim sent through another node (node 2): the light client, following node 0,
    // proves the recipient's balance against a state root it verified.
    const claimer = privateKeyToAccount(devnet!.accounts[6]!.privateKey)
    const recipient = privateKeyToAccount(generatePrivateKey()).address
    const claim = await claimer.signTransaction({
      chainId: devnet!.chainId, type: 'eip1559', nonce: Number(BigInt(await rpc<string>(devnet!.nodes[2]!.rpcUrl, 'eth_getTransactionCount', [claimer.address, 'pending']))),
      to: moduleAddress('faucet'), data: encodeFunctionData({abi: parseAbi(['function claimFor(address to) returns (uint256)']), functionName: 'claimFor', args: [recipient]}),
      gas: 500_000n, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n,
    })
    expect((await receipt(await rpc<Hex>(devnet!.nodes[2]!.rpcUrl, 'eth_sendRawTransaction', [claim]))).status).toBe('0x1')

    // The proposal executes while the light client follows from genesis: it must pick the new set
    // up from the registry's storage, proven against a verified state root, at the right height.
    const run = await pytest(['-s', 'tests/test_devnet.py'], {
      XAI_RPC_URL: url, XAI_FORGED_RPC_URL: proxy!.url, XAI_EXPECT_VALIDATORS: '5', XAI_FOLLOW_TIMEOUT: '60', XAI_EXPECT_WITHIN_BLOCKS: '200',
      XAI_PROVE_ACCOUNT: recipient, XAI_PROVE_MIN_BALANCE: String(100n * 10n ** 18n),
    })
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(run.stdout).toMatch(/4 passed/)
    expect(run.stdout).toMatch(/validator set of 5 from height \d+/)
    expect(run.stdout).toMatch(/holds 100000000000000000000 wei/)
    expect(proxy!.forged()).toBeGreaterThan(0)
    const validators = await rpc<{address: string}[]>(url, 'xai_validators')
    expect(validators.map((v) => v.address)).toContain(joining)
  }, TIMEOUT)
})
