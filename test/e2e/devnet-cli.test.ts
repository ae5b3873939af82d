// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) starting, inspecting,
// stopping and resuming a devnet in a temporary directory on free ports, as a user would.
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json} from '../helpers/cli.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(repo, 'bin', 'run.js')

/** The environment of every spawned CLI: the caller's, minus anything that would change flags. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('XAI_') && key !== 'ETH_RPC_URL'))

let cwd: string
/** Every node PID any command reported, so cleanup can kill them even if devnet.json is gone. */
const seenPids = new Set<number>()


async function xai(args: string[], options: {cwd?: string} = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? cwd,
    env,
    extendEnv: false,
    reject: false,
    timeout: 90_000,
    stdin: 'ignore',
  })
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}



async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params}),
    signal: AbortSignal.timeout(5_000),
  })
  const body = (await response.json()) as {result?: T; error?: {message: string}}
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

/** Alive and not a zombie (orphans may never be reaped in containers). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z'
  } catch {
    return true
  }
}

/** PIDs recorded anywhere under <cwd>/.xai: devnet.json of every devnet and every node.pid. */
function recordedPids(root: string): number[] {
  const pids: number[] = []
  const devnets = join(root, '.xai', 'devnets')
  if (!existsSync(devnets)) return pids
  for (const name of readdirSync(devnets)) {
    try {
      const record = JSON.parse(readFileSync(join(devnets, name, 'devnet.json'), 'utf8')) as {nodes?: {pid?: number | null}[]}
      for (const node of record.nodes ?? []) if (node.pid) pids.push(node.pid)
    } catch {
      // missing or corrupt: the node.pid files below still name the processes
    }
    for (const entry of readdirSync(join(devnets, name))) {
      try {
        const pid = Number.parseInt(readFileSync(join(devnets, name, entry, 'node.pid'), 'utf8'), 10)
        if (pid > 0) pids.push(pid)
      } catch {
        // not a node folder, or no node running
      }
    }
  }
  return pids
}

function killEverything(): void {
  if (!cwd) return
  for (const pid of new Set([...seenPids, ...recordedPids(cwd)])) {
    if (!isAlive(pid)) continue
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

const DEV_ACCOUNT_0 = {
  address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
}

interface UpJson {
  name: string
  chainId: number
  nodes: {index: number; rpcUrl: string; wsUrl: string; pid: number}[]
  accounts: {address: string; privateKey: string}[]
  resumed?: boolean
}

beforeAll(async () => {
  if (!existsSync(join(repo, 'dist', 'commands', 'devnet', 'up.js'))) throw new Error('dist/ is missing: run `npm run build` before the e2e tests')
  cwd = await mkdtemp(join(tmpdir(), 'xai-e2e-devnet-'))
})

afterAll(async () => {
  killEverything()
  if (cwd) await rm(cwd, {recursive: true, force: true})
})

describe('xai devnet (single node)', () => {
  let port: number
  let up: UpJson
  let heightBeforeDown = 0
  /** The tests below build on the devnet the first one starts; say so plainly when it did not. */
  const requireUp = (): void => {
    if (!up) throw new Error('the devnet did not start (see the first test of this group)')
  }

  beforeAll(async () => {
    port = await freePort()
  })

  it('up --detach --json starts a node and prints one JSON document', async () => {
    const result = await xai(['devnet', 'up', '--detach', '--json', '--base-port', String(port), '--block-time', '500'])
    expect(result.exitCode, explain(result)).toBe(0)
    up = json<UpJson>(result)
    for (const node of up.nodes ?? []) seenPids.add(node.pid)

    expect(up.name).toBe('default')
    expect(up.chainId).toBe(31337)
    expect(up.nodes).toHaveLength(1)
    expect(up.nodes[0]).toMatchObject({index: 0, rpcUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`})
    expect(up.nodes[0]!.pid).toBeGreaterThan(0)
    expect(isAlive(up.nodes[0]!.pid)).toBe(true)
    expect(up.accounts).toHaveLength(10)
    expect(up.accounts[0]).toMatchObject(DEV_ACCOUNT_0)
    for (const account of up.accounts) {
      expect(account.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
      expect(account.privateKey).toMatch(/^0x[0-9a-f]{64}$/)
    }

    expect(await rpc(up.nodes[0]!.rpcUrl, 'eth_chainId')).toBe('0x7a69')

    const folder = join(cwd, '.xai', 'devnets', 'default')
    const record = JSON.parse(readFileSync(join(folder, 'devnet.json'), 'utf8'))
    expect(record).toMatchObject({name: 'default', chainId: 31337, nodes: [{index: 0, rpcPort: port, pid: up.nodes[0]!.pid}]})
    expect(JSON.parse(readFileSync(join(folder, 'genesis.json'), 'utf8')).config.chainId).toBe(31337)
    expect(existsSync(join(folder, 'node-0', 'node.log'))).toBe(true)
  })

  it('status --json shows the node running with its height', async () => {
    requireUp()
    const result = await xai(['devnet', 'status', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const status = json(result)
    expect(status.running).toBe(true)
    expect(status.nodes).toHaveLength(1)
    expect(status.nodes[0]).toMatchObject({index: 0, pid: up.nodes[0]!.pid, running: true, rpcUrl: up.nodes[0]!.rpcUrl})
    expect(typeof status.nodes[0].height).toBe('number')
  })

  it('a second up fails with DEVNET_ALREADY_RUNNING and exit code 3', async () => {
    requireUp()
    const result = await xai(['devnet', 'up', '--detach', '--json', '--base-port', String(port)])
    expect(result.exitCode, explain(result)).toBe(3)
    expect(json(result).error.code).toBe('DEVNET_ALREADY_RUNNING')

    const human = await xai(['devnet', 'up', '--detach', '--base-port', String(port)])
    expect(human.exitCode).toBe(3)
    expect(human.stdout).toBe('')
    expect(human.stderr).toContain('[DEVNET_ALREADY_RUNNING]')
    expect(human.stderr).toContain('Hint: ')
    expect(human.stderr).toContain('xai devnet down')
  })

  it('reset refuses while the devnet runs', async () => {
    requireUp()
    const result = await xai(['devnet', 'reset', '--json'])
    expect(result.exitCode, explain(result)).toBe(3)
    expect(json(result).error.code).toBe('DEVNET_RUNNING')
    expect(isAlive(up.nodes[0]!.pid)).toBe(true)
  })

  it('down --json stops the node by PID and clears it from devnet.json', async () => {
    requireUp()
    heightBeforeDown = Number(BigInt(await rpc<string>(up.nodes[0]!.rpcUrl, 'eth_blockNumber')))
    const result = await xai(['devnet', 'down', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const down = json(result)
    expect(down.stopped).toBe(1)
    expect(down.nodes[0]).toMatchObject({index: 0, pid: up.nodes[0]!.pid})
    expect(['SIGTERM', 'SIGKILL']).toContain(down.nodes[0].outcome)
    expect(isAlive(up.nodes[0]!.pid)).toBe(false)

    const record = JSON.parse(readFileSync(join(cwd, '.xai', 'devnets', 'default', 'devnet.json'), 'utf8'))
    expect(record.nodes[0].pid).toBeNull()
    const status = json(await xai(['devnet', 'status', '--json']))
    expect(status.running).toBe(false)
    expect(status.nodes[0]).toMatchObject({running: false, pid: null, height: null})

    const again = await xai(['devnet', 'down', '--json'])
    expect(again.exitCode, explain(again)).toBe(0)
    expect(json(again).stopped).toBe(0)
  })

  it('up again resumes the same chain: same genesis, block number does not go backwards', async () => {
    requireUp()
    const genesisBefore = readFileSync(join(cwd, '.xai', 'devnets', 'default', 'genesis.json'), 'utf8')
    const result = await xai(['devnet', 'up', '--detach', '--json', '--base-port', String(port), '--block-time', '500'])
    expect(result.exitCode, explain(result)).toBe(0)
    const resumed = json<UpJson>(result)
    for (const node of resumed.nodes ?? []) seenPids.add(node.pid)
    expect(resumed.resumed).toBe(true)
    expect(resumed.nodes[0]!.pid).not.toBe(up.nodes[0]!.pid)
    expect(readFileSync(join(cwd, '.xai', 'devnets', 'default', 'genesis.json'), 'utf8')).toBe(genesisBefore)
    const height = Number(BigInt(await rpc<string>(resumed.nodes[0]!.rpcUrl, 'eth_blockNumber')))
    expect(height).toBeGreaterThanOrEqual(heightBeforeDown)

    const down = await xai(['devnet', 'down', '--json'])
    expect(down.exitCode, explain(down)).toBe(0)
    expect(isAlive(resumed.nodes[0]!.pid)).toBe(false)
  })

  it('reset removes the stopped devnet; --force also stops a running one', async () => {
    const result = await xai(['devnet', 'reset', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(json(result).removed).toBe(true)
    expect(existsSync(join(cwd, '.xai', 'devnets', 'default'))).toBe(false)

    const started = await xai(['devnet', 'up', '--detach', '--json', '--base-port', String(port), '--block-time', '0'])
    expect(started.exitCode, explain(started)).toBe(0)
    const fresh = json<UpJson>(started)
    seenPids.add(fresh.nodes[0]!.pid)
    expect(fresh.resumed).toBe(false)

    // Resumed without --block-time, the devnet keeps the block time it was created with (automine).
    const stopped = await xai(['devnet', 'down', '--json'])
    expect(stopped.exitCode, explain(stopped)).toBe(0)
    const resumed = await xai(['devnet', 'up', '--detach', '--json', '--base-port', String(port)])
    expect(resumed.exitCode, explain(resumed)).toBe(0)
    const again = json<UpJson>(resumed)
    seenPids.add(again.nodes[0]!.pid)
    expect(again.resumed).toBe(true)
    expect(JSON.parse(readFileSync(join(cwd, '.xai', 'devnets', 'default', 'devnet.json'), 'utf8')).blockTime).toBe(0)
    expect(readFileSync(`/proc/${again.nodes[0]!.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--block-time', '0']))

    const forced = await xai(['devnet', 'reset', '--force', '--json'])
    expect(forced.exitCode, explain(forced)).toBe(0)
    expect(json(forced).stopped[0]).toMatchObject({index: 0, pid: again.nodes[0]!.pid})
    expect(isAlive(again.nodes[0]!.pid)).toBe(false)
    expect(existsSync(join(cwd, '.xai', 'devnets', 'default'))).toBe(false)
  })
})

describe('xai devnet errors', () => {
  it('--nodes above 16 is a usage error (exit 2)', async () => {
    const result = await xai(['devnet', 'up', '--nodes', '17', '--detach', '--json'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(existsSync(join(cwd, '.xai', 'devnets', 'default'))).toBe(false)
  })

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await xai(['devnet', 'up', '--no-such-flag'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(result.stderr).toContain('[USAGE]')
  })

  it('a port in use is DEVNET_PORT_IN_USE (exit 3), checked before any node starts', async () => {
    const server = createServer()
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as {port: number}).port)),
    )
    try {
      const result = await xai(['devnet', 'up', '--name', 'busy', '--detach', '--json', '--base-port', String(port)])
      expect(result.exitCode, explain(result)).toBe(3)
      expect(json(result).error.code).toBe('DEVNET_PORT_IN_USE')
      expect(recordedPids(cwd)).toEqual([])
    } finally {
      server.close()
    }
  })

  it('down, status and reset without a devnet are DEVNET_NOT_FOUND (exit 3)', async () => {
    for (const verb of ['down', 'status', 'reset']) {
      const result = await xai(['devnet', verb, '--name', 'nothing-here', '--json'])
      expect(result.exitCode, `${verb}: ${explain(result)}`).toBe(3)
      expect(json(result).error.code).toBe('DEVNET_NOT_FOUND')
    }
    const forced = await xai(['devnet', 'reset', '--name', 'nothing-here', '--force', '--json'])
    expect(forced.exitCode, explain(forced)).toBe(0)
    expect(json(forced).removed).toBe(false)
  })

  it('a corrupt devnet.json is DEVNET_CORRUPT (exit 3) with a reset hint', async () => {
    const {mkdir, writeFile} = await import('node:fs/promises')
    const folder = join(cwd, '.xai', 'devnets', 'broken')
    await mkdir(folder, {recursive: true})
    await writeFile(join(folder, 'devnet.json'), '{not json')
    const result = await xai(['devnet', 'up', '--name', 'broken', '--detach', '--json', '--base-port', String(await freePort())])
    expect(result.exitCode, explain(result)).toBe(3)
    const {error} = json(result)
    expect(error.code).toBe('DEVNET_CORRUPT')
    expect(error.hint).toContain('xai devnet reset --name broken --force')
    const reset = await xai(['devnet', 'reset', '--name', 'broken', '--json'])
    expect(reset.exitCode, explain(reset)).toBe(0)
  })

  it('--dir (XAI_HOME) moves the devnet root', async () => {
    const other = await mkdtemp(join(tmpdir(), 'xai-e2e-home-'))
    try {
      const result = await xai(['devnet', 'status', '--dir', other, '--json'])
      expect(result.exitCode).toBe(3)
      expect(json(result).error.details.folder).toBe(join(other, 'devnets', 'default'))
    } finally {
      await rm(other, {recursive: true, force: true})
    }
  })
})
