import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {secp256k1} from '@noble/curves/secp256k1.js'
import WebSocket from 'ws'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {loadDataset} from '../../../src/fl/data.js'
import {runFederation} from '../../../src/fl/run-federation.js'
import {splitDataset} from '../../../src/fl/split.js'
import {runEdge} from '../../../src/fl/wire/edge.js'
import {joinFederation} from '../../../src/fl/wire/join.js'
import {FL_SUBPROTOCOL} from '../../../src/fl/wire/messages.js'
import {type ServeOptions, type ServeResult, serveFederation} from '../../../src/fl/wire/serve.js'

const dirs: string[] = []
let data: string
const CONFIG = {model: 'logreg', clients: 3, seed: 42, dataset: 'digits'} as const
const key = (): Uint8Array => secp256k1.utils.randomSecretKey()

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'xai-wire-data-'))
  dirs.push(data)
  await splitDataset({dataset: 'digits', clients: 3, partition: 'iid', seed: 42, out: data})
})
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true})))
})

async function home(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'xai-wire-'))
  dirs.push(dir)
  return dir
}

/** Starts a server on a free loopback port; resolves its URL and the run's promise. */
async function serve(options: Partial<ServeOptions> & {home: string; rounds: number}): Promise<{url: string; done: Promise<ServeResult>}> {
  let resolveUrl!: (url: string) => void
  const url = new Promise<string>((r) => (resolveUrl = r))
  const done = serveFederation({
    name: 'wire',
    config: {model: 'logreg', partition: 'own-data', clients: 3, seed: 42},
    minClients: 3,
    host: '127.0.0.1',
    port: 0,
    roundTimeoutMs: 30_000,
    attest: 'off',
    ...options,
    onEvent: (event) => {
      if (event.type === 'listening') resolveUrl(event.url)
      options.onEvent?.(event)
    },
  })
  done.catch(() => {})
  return {url: await url, done}
}

const client = async (i: number): Promise<Awaited<ReturnType<typeof loadDataset>>> => loadDataset(join(data, `client-${i}.csv`))

describe('federation over the wire', () => {
  it('serve + three joins give the same model at round 1 as fl round on the same seed and split', async () => {
    const simulated = await runFederation({home: await home(), name: 'sim', config: {...CONFIG, partition: 'iid', edges: 0}, rounds: 1, workers: 1})
    const server = await serve({home: await home(), rounds: 1})
    const joins = await Promise.all([0, 1, 2].map(async (i) => joinFederation({server: server.url, id: `client-${i}`, data: await client(i), privateKey: key()})))
    const served = await server.done
    expect(served.history[0]!.modelHash).toBe(simulated.history[0]!.modelHash)
    expect(served.history[0]!.participants).toBe(3)
    for (const j of joins) {
      expect(j.finished).toBe(true)
      expect(j.rounds).toEqual([expect.objectContaining({round: 1, accepted: true})])
    }
  }, 120_000)

  it('through an edge (two clients under it, one direct) rounds complete, and a client that leaves mid-round is recorded as dropped', async () => {
    const dir = await home()
    const server = await serve({home: dir, rounds: 2, roundTimeoutMs: 20_000})
    let edgeUrl!: (url: string) => void
    const edgeListening = new Promise<string>((r) => (edgeUrl = r))
    const edge = runEdge({server: server.url, id: 'edge-a', privateKey: key(), host: '127.0.0.1', port: 0, attest: 'off', onEvent: (e) => e.type === 'listening' && edgeUrl(e.url)})
    const url = await edgeListening
    const abort = new AbortController()
    const joins = [0, 1].map(async (i) => joinFederation({server: i === 0 ? url : server.url, id: `client-${i}`, data: await client(i), privateKey: key()}))
    // client-2 trains round 1, then leaves while round 2 waits for it.
    const leaver = joinFederation({server: url, id: 'client-2', data: await client(2), privateKey: key(), signal: abort.signal, onEvent: (e) => e.type === 'verdict' && abort.abort()})
    await expect(leaver).rejects.toThrow()
    const served = await server.done
    await Promise.all([...joins, edge])
    expect(served.history).toHaveLength(2)
    expect(served.history[0]!.participants).toBe(3)
    expect(served.history[1]!.participants).toBe(2)
    expect(served.history[1]!.rejections).toEqual([{clientId: 'client-2', reason: 'client-failed: disconnected'}])
    expect(served.history[1]!.edges).toEqual([expect.objectContaining({clients: 2, accepted: 1})])
  }, 120_000)

  it('refuses hostile connections with a reason and keeps serving', async () => {
    const server = await serve({home: await home(), rounds: 1, config: {model: 'logreg', partition: 'own-data', clients: 1, seed: 42}, minClients: 1})
    const closes = await Promise.all(
      [
        (ws: WebSocket) => ws.send('not json'),
        (ws: WebSocket) => ws.send(JSON.stringify({type: 'update', round: 1, clientId: 'x', message: 'AAAA'})),
        (ws: WebSocket) => ws.send(JSON.stringify({type: 'hello', version: 1, role: 'client', id: 'x', publicKey: Buffer.alloc(33, 2).toString('base64'), proof: Buffer.alloc(64).toString('base64')})),
        (ws: WebSocket) => ws.send(Buffer.from([1, 2, 3])),
      ].map(
        (attack) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(server.url, FL_SUBPROTOCOL)
            ws.once('message', () => attack(ws))
            ws.on('close', (code, reason) => resolve(`${code} ${reason.toString()}`))
          }),
      ),
    )
    expect(closes[0]).toMatch(/^1008 not JSON/)
    expect(closes[1]).toMatch(/^1008 expected hello/)
    expect(closes[2]).toMatch(/^1008 the hello proof does not verify/)
    expect(closes[3]).toMatch(/^1008 text frames only/)
    const joined = await joinFederation({server: server.url, id: 'client-0', data: await client(0), privateKey: key()})
    expect(joined.finished).toBe(true)
    expect((await server.done).history).toHaveLength(1)
  }, 120_000)
})
