// End to end: a real `xai contract deploy` process killed (SIGKILL) after it sent the deployment
// and before the receipt, then run again: it resumes the recorded transaction and deploys once.
// The devnet mines only on evm_mine, so the kill lands between send and receipt by construction.
import {existsSync} from 'node:fs'
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {type ResultPromise, execa} from 'execa'
import {type Hex, createPublicClient, http} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai, tokenProject} from '../helpers/cli.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, XAI_CLI, cliEnv, startE2eDevnet} from '../helpers/devnet.js'

let devnet: E2eDevnet | undefined
let tmp: string
let project: string
const running = new Set<ResultPromise>()

function spawnXai(args: string[]): ResultPromise {
  const subprocess = execa(process.execPath, [XAI_CLI, ...args], {cwd: project, env: cliEnv(), extendEnv: false, reject: false, timeout: 120_000, stdin: 'ignore'})
  running.add(subprocess)
  void subprocess.finally(() => running.delete(subprocess))
  return subprocess
}

function xai(args: string[], cwd = project): Promise<CliResult> {
  return runXai(args, cwd)
}

/** Polls `check` until it returns a value (every 50 ms, up to `timeoutMs`). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const [alice] = STANDARD_DEV_ACCOUNTS

describe('xai contract deploy killed between send and receipt', () => {
  beforeAll(async () => {
    ;({tmp, project} = await tokenProject('xai-deploy-kill-'))
    // One block an hour: the test mines with evm_mine when it chooses to.
    devnet = await startE2eDevnet({target: 'xai', blockTime: 3_600_000})
  })
  afterAll(async () => {
    for (const subprocess of running) subprocess.kill('SIGKILL')
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('resumes the recorded transaction without signing a second one', async () => {
    const client = createPublicClient({transport: http(devnet!.rpcUrl)})
    const nonce = await client.getTransactionCount({address: alice!.address})
    const journalFile = join(project, '.xai/deployments', String(devnet!.chainId), 'Token.json')
    const args = ['contract', 'deploy', 'Token', 'Kept', 'KPT', '42', '--rpc-url', devnet!.rpcUrl, '--json']

    const first = spawnXai(args)
    // Sent: the journal holds the signed transaction and the node's mempool has it.
    const txHash = await until('the deployment to be sent', async () => {
      if (!existsSync(journalFile)) return undefined
      const entry = JSON.parse(await readFile(journalFile, 'utf8')).deployments.at(-1)
      if (entry?.status !== 'sent') return undefined
      const pending = await client.getTransaction({hash: entry.txHash}).catch(() => undefined)
      return pending ? (entry.txHash as Hex) : undefined
    })
    expect(first.pid).toBeGreaterThan(0)
    process.kill(first.pid!, 'SIGKILL')
    const killed = await first
    expect(killed.signal).toBe('SIGKILL')
    expect(JSON.parse(await readFile(journalFile, 'utf8')).deployments.map((e: {status: string}) => e.status)).toEqual(['sent'])

    const second = spawnXai(args)
    await rpc(devnet!.rpcUrl, 'evm_mine')
    const resumed = await second
    const result: CliResult = {exitCode: resumed.exitCode ?? -1, stdout: String(resumed.stdout), stderr: String(resumed.stderr)}
    expect(result.exitCode, explain(result)).toBe(0)
    expect(json(result)).toMatchObject({status: 'resumed', txHash, nonce})
    const address = json(result).address as Hex

    expect(await client.getTransactionCount({address: alice!.address})).toBe(nonce + 1)
    const receipt = await client.getTransactionReceipt({hash: txHash})
    expect(receipt.contractAddress?.toLowerCase()).toBe(address.toLowerCase())
    const journal = JSON.parse(await readFile(journalFile, 'utf8'))
    expect(journal.deployments).toHaveLength(1)
    expect(journal.deployments[0]).toMatchObject({status: 'deployed', txHash, address})

    const again = await xai(args)
    expect(json(again)).toMatchObject({status: 'existing', address})
  })
})

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params})})
  const body = (await response.json()) as {result?: unknown; error?: {message: string}}
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}
