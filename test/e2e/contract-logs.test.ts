// End to end: `xai contract logs` (the built CLI) against a real devnet (automine): past logs
// decoded and filtered, and --follow streaming new ones over a WebSocket subscription.
import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {createInterface} from 'node:readline'

import {type ResultPromise, execa} from 'execa'
import {type Abi, type Address, type Hex, createPublicClient, getAddress, http} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {WebSocketServer} from 'ws'

import {readContractLogs} from '../../src/contracts/contract-logs.js'
import {type CliResult, explain, json, runXai, tokenProject} from '../helpers/cli.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, XAI_CLI, cliEnv, freePort, startE2eDevnet} from '../helpers/devnet.js'

let devnet: E2eDevnet | undefined
let tmp: string
let project: string
const followers = new Set<ResultPromise>()

function xai(args: string[], cwd = project): Promise<CliResult> {
  return runXai(args, cwd)
}

/** A long-running `xai …` whose stdout is read line by line as it comes. */
function spawnXai(args: string[]): {process: ResultPromise; nextLine(what: string, timeoutMs?: number): Promise<string>; stderrContains(text: string, timeoutMs?: number): Promise<void>; stderr(): string} {
  const child = execa(process.execPath, [XAI_CLI, ...args], {cwd: project, env: cliEnv(), extendEnv: false, reject: false, stdin: 'ignore', buffer: false})
  followers.add(child)
  void child.finally(() => followers.delete(child))
  const lines: string[] = []
  const waiters: (() => void)[] = []
  let errors = ''
  let ended = false
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString()
    for (const wake of waiters.splice(0)) wake()
  })
  const reader = createInterface({input: child.stdout!})
  reader.on('line', (line) => {
    lines.push(line)
    for (const wake of waiters.splice(0)) wake()
  })
  reader.on('close', () => {
    ended = true
    for (const wake of waiters.splice(0)) wake()
  })
  const until = async (done: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (ended) throw new Error(`The command ended before printing ${what}; stderr:\n${errors}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; stderr:\n${errors}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }
  return {
    process: child,
    stderr: () => errors,
    async nextLine(what, timeoutMs = 60_000) {
      await until(() => lines.length > 0, what, timeoutMs)
      return lines.shift()!
    },
    async stderrContains(text, timeoutMs = 60_000) {
      await until(() => errors.includes(text), JSON.stringify(text), timeoutMs)
    },
  }
}

/** Ends a spawned command that is still running (by its PID). */
function killByPid(child: ResultPromise): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  try {
    process.kill(child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

const rpc = (): string[] => ['--rpc-url', devnet!.rpcUrl]
const [alice, bob, carol, dave] = STANDARD_DEV_ACCOUNTS
const ZERO = '0x0000000000000000000000000000000000000000'

describe('xai contract logs (CLI, devnet)', () => {
  let token: Address
  let deployBlock: string
  const transfers: {txHash: Hex; blockNumber: string}[] = []

  beforeAll(async () => {
    ;({tmp, project} = await tokenProject('xai-logs-e2e-'))
    devnet = await startE2eDevnet({blockTime: 0})
    const deployed = await xai(['contract', 'deploy', 'Token', 'MyToken', 'MTK', '1000', ...rpc(), '--json'])
    expect(deployed.exitCode, explain(deployed)).toBe(0)
    token = getAddress(json(deployed).address)
    deployBlock = json(deployed).blockNumber
    for (const [to, value] of [[bob!.address, '250'], [carol!.address, '100']] as const) {
      const sent = await xai(['contract', 'send', 'Token', 'transfer', to, value, ...rpc(), '--json'])
      expect(sent.exitCode, explain(sent)).toBe(0)
      transfers.push({txHash: json(sent).txHash, blockNumber: json(sent).blockNumber})
    }
  })

  afterAll(async () => {
    for (const child of followers) killByPid(child)
    await Promise.allSettled([...followers])
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('lists the events decoded, in order, from the deployment block', async () => {
    const result = await xai(['contract', 'logs', 'Token', ...rpc(), '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc).toMatchObject({address: token, contract: 'Token', chainId: devnet!.chainId, fromBlock: deployBlock, toBlock: transfers[1]!.blockNumber})
    const deployTx = expect.stringMatching(/^0x[0-9a-f]{64}$/)
    expect(doc.logs).toEqual([
      {blockNumber: deployBlock, txHash: deployTx, logIndex: 0, address: token, event: 'OwnershipTransferred', args: {previousOwner: ZERO, newOwner: alice!.address}},
      {blockNumber: deployBlock, txHash: deployTx, logIndex: 1, address: token, event: 'Transfer', args: {from: ZERO, to: alice!.address, value: '1000'}},
      {blockNumber: transfers[0]!.blockNumber, txHash: transfers[0]!.txHash, logIndex: 0, address: token, event: 'Transfer', args: {from: alice!.address, to: bob!.address, value: '250'}},
      {blockNumber: transfers[1]!.blockNumber, txHash: transfers[1]!.txHash, logIndex: 0, address: token, event: 'Transfer', args: {from: alice!.address, to: carol!.address, value: '100'}},
    ])
    expect(doc.logs[1].txHash).toBe(doc.logs[0].txHash)

    const human = await xai(['contract', 'logs', 'Token', ...rpc()])
    expect(human.exitCode, explain(human)).toBe(0)
    expect(human.stdout.split('\n')).toEqual([
      `#${deployBlock} OwnershipTransferred(previousOwner=${ZERO}, newOwner=${alice!.address}) tx ${doc.logs[0].txHash}`,
      `#${deployBlock} Transfer(from=${ZERO}, to=${alice!.address}, value=1000) tx ${doc.logs[0].txHash}`,
      `#${transfers[0]!.blockNumber} Transfer(from=${alice!.address}, to=${bob!.address}, value=250) tx ${transfers[0]!.txHash}`,
      `#${transfers[1]!.blockNumber} Transfer(from=${alice!.address}, to=${carol!.address}, value=100) tx ${transfers[1]!.txHash}`,
    ])
    expect(human.stderr).toContain(`4 logs of Token in blocks ${deployBlock}–${transfers[1]!.blockNumber}`)
  })

  it('--event and --from-block/--to-block filter; an address needs --abi', async () => {
    const from = await xai(['contract', 'logs', 'Token', '--event', 'Transfer', '--from-block', transfers[1]!.blockNumber, ...rpc(), '--json'])
    expect(from.exitCode, explain(from)).toBe(0)
    expect(json(from).fromBlock).toBe(transfers[1]!.blockNumber)
    expect(json(from).logs.map((l: {txHash: Hex}) => l.txHash)).toEqual([transfers[1]!.txHash])

    const range = await xai(['contract', 'logs', token, '--abi', 'Token', '--event', 'Transfer(address,address,uint256)', '--from-block', '0', '--to-block', transfers[0]!.blockNumber, ...rpc(), '--json'])
    expect(range.exitCode, explain(range)).toBe(0)
    expect(json(range)).toMatchObject({fromBlock: '0', toBlock: transfers[0]!.blockNumber})
    expect(json(range).logs.map((l: {args: {value: string}}) => l.args.value)).toEqual(['1000', '250'])

    const approvals = await xai(['contract', 'logs', 'Token', '--event', 'Approval', ...rpc(), '--json'])
    expect(approvals.exitCode, explain(approvals)).toBe(0)
    expect(json(approvals).logs).toEqual([])

    const noAbi = await xai(['contract', 'logs', token, ...rpc()])
    expect(noAbi.exitCode, explain(noAbi)).toBe(2)
    expect(noAbi.stderr).toContain('--abi')
  })

  it('reading in one-block chunks finds the same logs as the CLI', async () => {
    const artifact = JSON.parse(await readFile(join(project, 'artifacts/contracts/Token.sol/Token.json'), 'utf8')) as {abi: Abi}
    const network = {name: null, rpcUrl: devnet!.rpcUrl, chainId: devnet!.chainId, devnet: null}
    const chunked = await readContractLogs({target: {address: token, abi: artifact.abi, contract: 'Token'}, network, fromBlock: 0n, chunkSize: 1})
    const whole = json(await xai(['contract', 'logs', 'Token', '--from-block', '0', ...rpc(), '--json']))
    expect(chunked.logs).toHaveLength(4)
    expect(chunked.logs).toEqual(whole.logs)
  })

  it('an unknown event is a usage error that lists the contract\'s events', async () => {
    const result = await xai(['contract', 'logs', 'Token', '--event', 'Transfered', ...rpc()])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(result.stderr).toContain('No event Transfered in the ABI [CONTRACT_UNKNOWN_EVENT]')
    expect(result.stderr).toContain('Transfer(address,address,uint256)')
    expect(result.stderr).toContain('Approval(address,address,uint256)')

    const asJson = await xai(['contract', 'logs', 'Token', '--event', 'Transfered', '--follow', '--json', ...rpc()])
    expect(asJson.exitCode, explain(asJson)).toBe(2)
    expect(json(asJson).error).toMatchObject({code: 'CONTRACT_UNKNOWN_EVENT', details: {candidates: expect.arrayContaining(['Transfer(address,address,uint256)'])}})

    const both = await xai(['contract', 'logs', 'Token', '--follow', '--to-block', '5', ...rpc()])
    expect(both.exitCode, explain(both)).toBe(2)
  })

  it('--follow --json prints the past logs, then each new one live as NDJSON, and stops cleanly on SIGTERM', async () => {
    const follower = spawnXai(['contract', 'logs', 'Token', '--event', 'Transfer', '--follow', '--json', ...rpc()])
    try {
      const past = [await follower.nextLine('the mint'), await follower.nextLine('the first transfer'), await follower.nextLine('the second transfer')].map((line) => JSON.parse(line))
      expect(past.map((log) => log.args.value)).toEqual(['1000', '250', '100'])

      const sent = await xai(['contract', 'send', 'Token', 'transfer', dave!.address, '7', ...rpc(), '--json'])
      expect(sent.exitCode, explain(sent)).toBe(0)
      const live = JSON.parse(await follower.nextLine('the live transfer'))
      expect(live).toEqual({blockNumber: json(sent).blockNumber, txHash: json(sent).txHash, logIndex: 0, address: token, event: 'Transfer', args: {from: alice!.address, to: dave!.address, value: '7'}})

      const second = await xai(['contract', 'send', 'Token', 'transfer', bob!.address, '3', ...rpc(), '--json'])
      expect(second.exitCode, explain(second)).toBe(0)
      expect(JSON.parse(await follower.nextLine('the second live transfer'))).toMatchObject({txHash: json(second).txHash, args: {to: bob!.address, value: '3'}})

      const started = Date.now()
      follower.process.kill('SIGTERM')
      const ended = await follower.process
      expect(ended.exitCode, follower.stderr()).toBe(0)
      expect(Date.now() - started).toBeLessThan(10_000)
      await expect(follower.nextLine('anything more', 1_000)).rejects.toThrow(/ended before/)
    } finally {
      killByPid(follower.process)
    }
  })

  it('--follow without --json, from a future block: nothing past, then one line per new log', async () => {
    const head = await createPublicClient({transport: http(devnet!.rpcUrl)}).getBlockNumber()
    const follower = spawnXai(['contract', 'logs', 'Token', '--from-block', String(head + 1n), '--follow', ...rpc()])
    try {
      await follower.stderrContains(`caught up at block ${head}`)
      const sent = await xai(['contract', 'send', 'Token', 'transfer', carol!.address, '1', ...rpc(), '--json'])
      expect(sent.exitCode, explain(sent)).toBe(0)
      expect(await follower.nextLine('the live transfer')).toBe(`#${json(sent).blockNumber} Transfer(from=${alice!.address}, to=${carol!.address}, value=1) tx ${json(sent).txHash}`)
      expect(follower.stderr()).toContain(`Following Token at ${token} from block ${head + 1n}`)
      follower.process.kill('SIGINT')
      expect((await follower.process).exitCode, follower.stderr()).toBe(0)
    } finally {
      killByPid(follower.process)
    }
  })

  it('a dropped WebSocket connection ends --follow with exit 3 and a clear error; no WebSocket at all too', async () => {
    const port = await freePort()
    const server = new WebSocketServer({host: '127.0.0.1', port})
    // Answers the subscription like a node, then goes away.
    server.on('connection', (socket) => {
      socket.on('message', (data) => {
        const request = JSON.parse(data.toString()) as {id: number; method: string}
        if (request.method !== 'eth_subscribe') return
        socket.send(JSON.stringify({jsonrpc: '2.0', id: request.id, result: '0x1'}), () => setTimeout(() => socket.terminate(), 200))
      })
    })
    try {
      const dropped = await xai(['contract', 'logs', 'Token', '--follow', '--json', '--ws-url', `ws://127.0.0.1:${port}`, ...rpc()])
      expect(dropped.exitCode, explain(dropped)).toBe(3)
      expect(dropped.stderr).toContain('Lost the log subscription')
      expect(dropped.stderr).toContain('[CONTRACT_SUBSCRIPTION_LOST]')
      const lines = dropped.stdout.trim().split('\n').map((line) => JSON.parse(line))
      expect(lines.at(-1)).toMatchObject({error: {code: 'CONTRACT_SUBSCRIPTION_LOST'}})
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }

    const nowhere = await freePort()
    const unreachable = await xai(['contract', 'logs', 'Token', '--follow', '--ws-url', `ws://127.0.0.1:${nowhere}`, ...rpc()])
    expect(unreachable.exitCode, explain(unreachable)).toBe(3)
    expect(unreachable.stderr).toContain(`Cannot open a WebSocket to ws://127.0.0.1:${nowhere}`)
  })

  it('has --help with examples', async () => {
    const help = await xai(['contract', 'logs', '--help'])
    expect(help.exitCode, explain(help)).toBe(0)
    expect(help.stdout).toContain('EXAMPLES')
    expect(help.stdout).toContain('--follow')
  })
})
