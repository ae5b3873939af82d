// End to end: bin/xai-node.js, the node process entry `xai devnet up` spawns (`xai node start`
// without the CLI framework; built, so `npm run build` first), beside `xai node start` itself.
import {existsSync, readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {type E2eDevnet, REPO_ROOT, cliEnv, freePort, isAlive, killProcess, rpc, startE2eDevnet, waitFor} from '../helpers/devnet.js'

const NODE_ENTRY = join(REPO_ROOT, 'bin', 'xai-node.js')

let tmp: string
/** Every node process a test started, stopped by PID in afterAll whatever happened. */
const spawnedPids = new Set<number>()

async function xaiNode(args: string[], cwd = tmp): Promise<CliResult> {
  const result = await execa(process.execPath, [NODE_ENTRY, ...args], {cwd, env: cliEnv(), extendEnv: false, reject: false, timeout: 120_000, stdin: 'ignore'})
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'xai-node-entry-'))
})
afterAll(async () => {
  await Promise.all([...spawnedPids].map((pid) => killProcess(pid)))
  if (tmp) await rm(tmp, {recursive: true, force: true})
})

describe('bin/xai-node.js', () => {
  it.each([
    ['a value that is not an integer', ['--rpc-port', 'abc']],
    ['an unknown flag', ['--bogus']],
    ['a value outside the options', ['--log-level', 'loud']],
    ['a port out of range, with --json', ['--rpc-port', '70000', '--json']],
  ])('refuses %s exactly as `xai node start` does (exit 2)', async (_, bad) => {
    const args = ['--home', join(tmp, 'refused'), ...bad]
    const lean = await xaiNode(args)
    const command = await runXai(['node', 'start', ...args], tmp)
    expect(lean.exitCode, explain(lean)).toBe(2)
    expect(lean).toEqual(command)
    if (bad.includes('--json')) expect(json(lean).error).toMatchObject({code: 'USAGE', message: expect.stringContaining('--rpc-port')})
    else expect(lean.stderr).toMatch(/^✖ .+ \[USAGE\]\nHint: /)
    expect(existsSync(join(tmp, 'refused'))).toBe(false)
  })

  it('--help prints the help of `xai node start`', async () => {
    const lean = await xaiNode(['--help'])
    expect(lean.exitCode, explain(lean)).toBe(0)
    expect(lean.stdout).toContain('--rpc-port')
    expect(lean).toEqual(await runXai(['node', 'start', '--help'], tmp))
  })

  it('starts a node that answers eth_blockNumber and mines, and on SIGTERM stops with the --json result', async () => {
    const home = join(tmp, 'node')
    const port = await freePort()
    const child = execa(process.execPath, [NODE_ENTRY, '--home', home, '--rpc-port', String(port), '--block-time', '0', '--json'], {
      cwd: tmp,
      env: cliEnv(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    })
    const pid = child.pid!
    spawnedPids.add(pid)
    const rpcUrl = `http://127.0.0.1:${port}`
    await waitFor(
      async () => {
        if (!isAlive(pid)) throw new Error(`the node exited before answering; see ${home}/node.log`)
        return rpc<string>(rpcUrl, 'eth_blockNumber').catch(() => undefined)
      },
      {timeoutMs: 60_000, what: `the node to answer on ${rpcUrl}`},
    )
    expect(await rpc(rpcUrl, 'eth_blockNumber')).toBe('0x0')
    expect(readFileSync(join(home, 'node.pid'), 'utf8').trim()).toBe(String(pid))

    // Automine with the unlocked dev accounts, as `xai node start` does by default.
    const [from] = await rpc<string[]>(rpcUrl, 'eth_accounts')
    const hash = await rpc<string>(rpcUrl, 'eth_sendTransaction', [{from, to: '0x000000000000000000000000000000000000dEaD', value: '0x1'}])
    const receipt = await rpc<{status: string; blockNumber: string}>(rpcUrl, 'eth_getTransactionReceipt', [hash])
    expect(receipt).toMatchObject({status: '0x1', blockNumber: '0x1'})
    expect(await rpc(rpcUrl, 'eth_blockNumber')).toBe('0x1')

    process.kill(pid, 'SIGTERM')
    const result = await child
    spawnedPids.delete(pid)
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({pid, home, rpcUrl, wsUrl: `ws://127.0.0.1:${port}`, genesisPath: join(home, 'genesis.json'), stoppedBy: 'SIGTERM'})
    expect(existsSync(join(home, 'node.pid'))).toBe(false)
  })
})

describe('xai devnet up', () => {
  let devnet: E2eDevnet | undefined
  afterAll(async () => {
    await devnet?.stop()
  })

  it('runs its nodes with bin/xai-node.js, and devnet status sees them running', async () => {
    devnet = await startE2eDevnet({blockTime: 0, target: 'xai'})
    const {pid} = devnet.nodes[0]!
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    expect(cmdline.map((arg) => basename(arg))).toContain('xai-node.js')
    expect(cmdline).not.toContain('start')

    const status = await runXai(['devnet', 'status', '--json', '--dir', devnet.dir], devnet.dir)
    expect(status.exitCode, explain(status)).toBe(0)
    expect(json(status)).toMatchObject({running: true, nodes: [{index: 0, pid, running: true}]})
  })
})
