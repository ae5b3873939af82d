// End to end: a federation of real processes on loopback — xai fl split, xai fl serve, three
// xai fl join — on the digits data; one client is killed mid-federation and the rounds go on.
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type ResultPromise, execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'

import {explain, json} from '../helpers/cli.js'
import {XAI_CLI, cliEnv} from '../helpers/devnet.js'

let home: string
const spawned: ResultPromise[] = []

afterAll(async () => {
  for (const child of spawned) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await Promise.allSettled(spawned)
  if (home) await rm(home, {recursive: true, force: true})
})

function start(args: string[]): ResultPromise {
  const child = execa(process.execPath, [XAI_CLI, ...args], {cwd: home, env: cliEnv(), extendEnv: false, reject: false, timeout: 600_000, stdin: 'ignore'})
  spawned.push(child)
  return child
}

/** Resolves the first match of `pattern` in the process's stderr. */
function waitFor(child: ResultPromise, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = pattern.exec(text)
      if (match) resolve(match)
    })
    child.once('exit', () => reject(new Error(`exited before ${pattern}: ${text}`)))
  })
}

describe('xai fl serve / join (processes on loopback, digits)', () => {
  it('three clients, five rounds, logreg reaches 90 %; a client killed mid-federation is recorded as dropped and the rounds go on', async () => {
    home = await mkdtemp(join(tmpdir(), 'xai-fl-wire-e2e-'))
    const split = await execa(process.execPath, [XAI_CLI, 'fl', 'split', '--dataset', 'digits', '--clients', '3', '--partition', 'iid', '--out', join(home, 'data'), '--json'], {cwd: home, env: cliEnv(), extendEnv: false, reject: false})
    expect(split.exitCode, split.stderr).toBe(0)
    const server = start(['fl', 'serve', '--dir', home, '--name', 'demo', '--model', 'logreg', '--rounds', '5', '--min-clients', '3', '--eval-data', join(home, 'data', 'test.csv'), '--listen', '127.0.0.1:0', '--round-timeout', '120', '--json'])
    const [, url] = await waitFor(server, /Listening on (ws:\/\/\S+)/)
    const clients = [0, 1, 2].map((i) => start(['fl', 'join', '--dir', home, '--server', url!, '--data', join(home, 'data', `client-${i}.csv`)]))
    // client-2 is killed once its first update was accepted: a later round goes on without it.
    await waitFor(clients[2]!, /Round 1: accepted/)
    process.kill(clients[2]!.pid!, 'SIGKILL')
    const served = await server
    expect(served.exitCode, explain({exitCode: served.exitCode ?? -1, stdout: String(served.stdout), stderr: String(served.stderr)})).toBe(0)
    const history = json({exitCode: 0, stdout: String(served.stdout), stderr: ''}).history as {round: number; accuracy: number; participants: number; rejections: {clientId: string; reason: string}[]}[]
    expect(history).toHaveLength(5)
    expect(history[0]!.participants).toBe(3)
    const without = history.filter((r) => r.participants === 2)
    expect(without.length).toBeGreaterThan(0)
    expect(without[0]!.rejections).toEqual([{clientId: 'client-2', reason: 'client-failed: disconnected'}])
    expect(history.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.9)
    for (const client of clients.slice(0, 2)) expect((await client).exitCode).toBe(0)
  }, 600_000)
})
