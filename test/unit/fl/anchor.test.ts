import {mkdtemp, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {bytesToHex, createPublicClient, http, keccak256} from 'viem'
import {privateKeyToAddress} from 'viem/accounts'
import {afterAll, describe, expect, it} from 'vitest'

import {anchorRounds, clientAddress, configHash, coordinatorKey, epsilonMicros, localUpdatesRoot, readChainRecord, rejectClass} from '../../../src/fl/anchor.js'
import {type FederationState, type RoundRecord, FEDERATION_FORMAT, federationPaths} from '../../../src/fl/federation.js'
import {DEFAULT_FEDERATION_CONFIG, anchorOf} from '../../../src/fl/run-federation.js'
import {clientKey} from '../../../src/fl/update-message.js'
import {updatesRoot} from '../../../src/modules/builtin/fl.js'

const home = await mkdtemp(join(tmpdir(), 'xai-fl-anchor-'))
afterAll(() => rm(home, {recursive: true, force: true}))

const keys = ['client-0', 'client-1', 'client-2'].map((id) => clientKey(9, id))
const addresses = new Map(keys.map((k, c) => [`client-${c}`, clientAddress(k.publicKey)]))

function round(n: number, anchor: RoundRecord['anchor']): RoundRecord {
  return {round: n, accuracy: 0.9, loss: 0.3, participants: 2, sampled: 3, rejected: 1, rejections: [], bytesUp: 1, bytesDown: 1, epsilon: 1.25, durationMs: 5, modelHash: 'ab'.repeat(32), edges: [], anchor}
}

describe('anchoring rounds', () => {
  it("a client's chain address is the address of its update-signing key", () => {
    keys.forEach((k) => expect(clientAddress(k.publicKey)).toBe(privateKeyToAddress(bytesToHex(k.privateKey))))
  })

  it('maps rejections to the chain classes; a failed client sent nothing and is not counted', () => {
    expect(rejectClass('excluded-by-aggregator')).toBe('aggregator')
    for (const reason of ['bad-signature', 'unknown-client', 'wrong-round', 'wrong-model', 'replay', 'malformed']) expect(rejectClass(reason)).toBe('signature')
    expect(rejectClass('client-failed: FL_NON_FINITE_UPDATE')).toBeUndefined()
    expect(epsilonMicros(null)).toBe(0n)
    expect(epsilonMicros(1.2345671)).toBe(1_234_568n)
  })

  it('records accepted updates in client order with keccak256 of the message as sent, and rejections by class', () => {
    const message = (c: number) => Uint8Array.of(c, 1, 2, 3)
    const results = [0, 1, 2].map((c) => ({clientId: `client-${c}`, message: message(c), residual: null, loss: 0, examples: 1, trainMs: 0}))
    const anchor = anchorOf(results, [{clientId: 'client-1', reason: 'bad-signature'}, {clientId: 'stranger', reason: 'unknown-client'}], addresses)
    expect(anchor).toEqual({
      updates: [
        {clientId: 'client-0', address: addresses.get('client-0'), hash: keccak256(message(0))},
        {clientId: 'client-2', address: addresses.get('client-2'), hash: keccak256(message(2))},
      ],
      rejected: [{clientId: 'client-1', address: addresses.get('client-1'), class: 'signature'}],
    })
    expect(localUpdatesRoot(round(1, anchor))).toBe(updatesRoot(anchor.updates.map((u) => ({hash: u.hash as `0x${string}`, client: u.address as `0x${string}`}))))
    expect(configHash(DEFAULT_FEDERATION_CONFIG)).toBe(configHash({...DEFAULT_FEDERATION_CONFIG}))
    expect(configHash({...DEFAULT_FEDERATION_CONFIG, seed: 1})).not.toBe(configHash(DEFAULT_FEDERATION_CONFIG))
  })

  it('makes the coordinator key once, mode 0600', async () => {
    const paths = federationPaths(home, 'key')
    const key = await coordinatorKey(paths)
    expect(key).toMatch(/^0x[0-9a-f]{64}$/)
    expect((await stat(paths.coordinatorKey)).mode & 0o777).toBe(0o600)
    expect(await coordinatorKey(paths)).toBe(key)
  })

  it('keeps rounds whose commit fails as pending, reports them and does not throw', async () => {
    const paths = federationPaths(home, 'offline')
    const anchor = {updates: [], rejected: []}
    const state: FederationState = {_format: FEDERATION_FORMAT, name: 'offline', createdAt: '2026-01-01T00:00:00.000Z', config: DEFAULT_FEDERATION_CONFIG, rounds: [round(1, anchor), round(2, anchor)], privacy: []}
    const client = createPublicClient({transport: http('http://127.0.0.1:9', {retryCount: 0, timeout: 2_000})})
    const events: unknown[] = []
    const record = await anchorRounds(state, {client, chainId: 31337, paths, onEvent: (e) => events.push(e)})
    expect(record.pending.map((p) => p.round)).toEqual([1, 2])
    expect(record.committed).toEqual({})
    expect(events).toEqual([expect.objectContaining({type: 'commit-failed', round: 1}), expect.objectContaining({type: 'commit-failed', round: 2})])
    expect(await readChainRecord(paths)).toMatchObject({pending: [{round: 1}, {round: 2}]})
    expect(JSON.parse(await readFile(paths.chain, 'utf8')).coordinator).toBe(record.coordinator)
  })
})
