import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {secp256k1} from '@noble/curves/secp256k1.js'
import {equalBytes} from '@noble/curves/utils.js'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type AttestationVerifier, type ClientAttestor, quoteQualifyingData} from '../../../src/fl/attestation-port.js'
import {loadDataset} from '../../../src/fl/data.js'
import {splitDataset} from '../../../src/fl/split.js'
import {joinFederation} from '../../../src/fl/wire/join.js'
import {serveFederation} from '../../../src/fl/wire/serve.js'

// A test double of the attestation port (not a TPM): the "EK certificate" names its CA, the
// credential is the secret XOR the AK name, and a quote is the qualifying data it was asked for.
const enc = new TextEncoder()
const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((x, i) => x ^ b[i % b.length]!)

function fakeVerifier(): AttestationVerifier {
  const secrets = new Map<string, Uint8Array>()
  const enrolled = new Set<string>()
  return {
    pcrs: [0, 7],
    async beginEnrollment(clientId, _key, request) {
      if (new TextDecoder().decode(request.ekCertificate) !== 'good-ca') throw new Error('attestation: unknown CA')
      const secret = crypto.getRandomValues(new Uint8Array(16))
      secrets.set(clientId, secret)
      return {credentialBlob: xor(secret, request.akName), encryptedSecret: request.akName}
    },
    async finishEnrollment(clientId, secret) {
      if (!equalBytes(secret, secrets.get(clientId) ?? new Uint8Array())) throw new Error('attestation: credential not activated')
      enrolled.add(clientId)
    },
    verifyUpdate(clientId, binding, evidence) {
      if (!enrolled.has(clientId)) return {ok: false, reason: 'attestation: not enrolled'}
      return equalBytes(evidence, quoteQualifyingData(binding)) ? {ok: true, pcrs: {}} : {ok: false, reason: 'attestation: nonce mismatch'}
    },
  }
}

function fakeAttestor(ca: string, lie = false): ClientAttestor {
  const akName = enc.encode('ak-name-0123456789')
  return {
    async enrollment(sign) {
      return {ekCertificate: enc.encode(ca), ekPublic: new Uint8Array(4), akPublic: new Uint8Array(4), akName, akBinding: sign(akName)}
    },
    async activate(challenge) {
      return xor(challenge.credentialBlob, challenge.encryptedSecret)
    },
    async quote(qualifyingData) {
      return lie ? qualifyingData.map((b) => b ^ 1) : qualifyingData
    },
    async close() {},
  }
}

const dirs: string[] = []
let data: string
beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'xai-wire-att-'))
  dirs.push(data)
  await splitDataset({dataset: 'digits', clients: 3, partition: 'iid', seed: 42, out: data})
})
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true})))
})

describe('attestation over the wire (through the port)', () => {
  it('with --attest required: refuses clients without a TPM or of an unknown CA at enrollment, refuses updates whose quote does not match, counts the verified ones', async () => {
    const home = await mkdtemp(join(tmpdir(), 'xai-wire-att-home-'))
    dirs.push(home)
    let resolveUrl!: (url: string) => void
    const url = new Promise<string>((r) => (resolveUrl = r))
    const refused: string[] = []
    const done = serveFederation({
      home,
      name: 'att',
      config: {model: 'logreg', partition: 'own-data', clients: 2, seed: 42},
      rounds: 1,
      minClients: 2,
      host: '127.0.0.1',
      port: 0,
      roundTimeoutMs: 30_000,
      attest: 'required',
      verifier: fakeVerifier(),
      onEvent: (e) => {
        if (e.type === 'listening') resolveUrl(e.url)
        if (e.type === 'refused') refused.push(e.reason)
      },
    })
    const server = await url
    const client = async (i: number) => loadDataset(join(data, `client-${i}.csv`))
    const key = () => secp256k1.utils.randomSecretKey()
    await expect(joinFederation({server, id: 'no-tpm', data: await client(0), privateKey: key()})).rejects.toMatchObject({code: 'FL_ATTEST_REFUSED'})
    await expect(joinFederation({server, id: 'other-ca', data: await client(0), privateKey: key(), attestor: fakeAttestor('other-ca')})).rejects.toThrow(/attestation: unknown CA/)
    const [good, liar] = await Promise.all([
      joinFederation({server, id: 'client-0', data: await client(0), privateKey: key(), attestor: fakeAttestor('good-ca')}),
      joinFederation({server, id: 'client-1', data: await client(1), privateKey: key(), attestor: fakeAttestor('good-ca', true)}),
    ])
    const record = (await done).history[0]!
    expect(refused).toEqual(['attestation: the client sent no enrollment (no TPM)', 'attestation: unknown CA'])
    expect(good.attested).toBe(true)
    expect(good.rounds[0]!.accepted).toBe(true)
    expect(liar.rounds[0]).toMatchObject({accepted: false, reason: 'attestation: nonce mismatch'})
    expect(record.rejections).toEqual([{clientId: 'client-1', reason: 'attestation: nonce mismatch'}])
    expect(record.attestation).toEqual({verified: 1, unattested: 0, refused: 1})
    expect(record.participants).toBe(1)
  }, 120_000)
})
