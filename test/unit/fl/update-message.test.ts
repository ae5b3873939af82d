import {secp256k1} from '@noble/curves/secp256k1.js'
import {sha256} from '@noble/hashes/sha2.js'
import {describe, expect, it} from 'vitest'

import {XaiError} from '../../../src/util/errors.js'
import {createCompressor, decodeUpdate} from '../../../src/fl/compress.js'
import {Random} from '../../../src/fl/random.js'
import {
  type UpdateMessage,
  UpdateVerifier,
  clientKey,
  decodeUpdateMessage,
  encodeUpdateMessage,
  modelHash,
  signUpdate,
} from '../../../src/fl/update-message.js'

const SEED = 42
const model = Float32Array.from({length: 100}, (_, i) => Math.sin(i))
const base = modelHash(model)
const alice = clientKey(SEED, 'client-0')
const bob = clientKey(SEED, 'client-1')
const payload = createCompressor({kind: 'int8'}, 100).encode(Float32Array.from({length: 100}, (_, i) => Math.cos(i) / 10), new Random(1))

function fields(overrides: Partial<Omit<UpdateMessage, 'signature'>> = {}): Omit<UpdateMessage, 'signature'> {
  return {clientId: 'client-0', round: 3, baseModelHash: base, numExamples: 57, payload, ...overrides}
}

function verifier(round = 3, hash = base): UpdateVerifier {
  return new UpdateVerifier({
    round,
    baseModelHash: hash,
    clients: new Map([
      ['client-0', alice.publicKey],
      ['client-1', bob.publicKey],
    ]),
  })
}

function signed(overrides: Partial<Omit<UpdateMessage, 'signature'>> = {}, key = alice.privateKey): Uint8Array {
  return encodeUpdateMessage(signUpdate(fields(overrides), key))
}

function expectBadUpdate(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(XaiError)
    expect((err as XaiError).code).toBe('FL_BAD_UPDATE')
    return
  }
  throw new Error('expected FL_BAD_UPDATE, nothing was thrown')
}

describe('modelHash', () => {
  it('is sha256 of the little-endian float32 bytes', () => {
    const params = Float32Array.from([1, -2.5, 0])
    const bytes = Uint8Array.of(0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0, 0, 0, 0, 0)
    expect(modelHash(params)).toEqual(sha256(bytes))
    expect(modelHash(model)).toHaveLength(32)
    expect(modelHash(new Float32Array(model.buffer, 8, 10))).toEqual(modelHash(model.slice(2, 12)))
  })

  it('changes with any parameter', () => {
    const changed = Float32Array.from(model)
    changed[50] = Math.fround(changed[50]! + 1e-6)
    expect(modelHash(changed)).not.toEqual(base)
  })
})

describe('clientKey', () => {
  it('is deterministic per seed and client id, and distinct across both', () => {
    expect(clientKey(SEED, 'client-0')).toEqual(alice)
    expect(alice.privateKey).not.toEqual(bob.privateKey)
    expect(clientKey(SEED + 1, 'client-0').privateKey).not.toEqual(alice.privateKey)
    expect(clientKey(Uint8Array.of(1, 2, 3), 'client-0')).toEqual(clientKey(Uint8Array.of(1, 2, 3), 'client-0'))
    expect(clientKey(Uint8Array.of(1, 2, 3), 'client-0').privateKey).not.toEqual(clientKey(Uint8Array.of(1, 2, 4), 'client-0').privateKey)
    // A numeric seed and the same bytes as a byte seed are different inputs.
    expect(clientKey(0, 'c').privateKey).not.toEqual(clientKey(new Uint8Array(8), 'c').privateKey)
  })

  it('gives a valid secp256k1 key pair (33-byte compressed public key)', () => {
    for (let i = 0; i < 20; i++) {
      const key = clientKey(i, `client-${i}`)
      expect(secp256k1.utils.isValidSecretKey(key.privateKey)).toBe(true)
      expect(key.publicKey).toHaveLength(33)
      expect([2, 3]).toContain(key.publicKey[0])
      expect(key.publicKey).toEqual(secp256k1.getPublicKey(key.privateKey, true))
    }
  })

  it('refuses a seed that is not an integer', () => {
    for (const seed of [1.5, Number.NaN]) {
      try {
        clientKey(seed, 'c')
        throw new Error('expected FL_INVALID_SEED')
      } catch (err) {
        expect((err as XaiError).code).toBe('FL_INVALID_SEED')
      }
    }
  })
})

describe('encoding', () => {
  it('round-trips every field, and decodes to a message that re-encodes to the same bytes', () => {
    const message = signUpdate(fields({clientId: 'édge-ß-客户端'}), alice.privateKey)
    expect(message.signature).toHaveLength(64)
    expect(message).not.toHaveProperty('attestation')
    const bytes = encodeUpdateMessage(message)
    const decoded = decodeUpdateMessage(bytes)
    expect(decoded).toEqual(message)
    expect(encodeUpdateMessage(decoded)).toEqual(bytes)
    expect(decodeUpdate(decoded.payload)).toEqual(decodeUpdate(payload))
  })

  it('has the documented layout: version, id, round, hash, examples, attestation, payload, signature', () => {
    const message = signUpdate(fields({clientId: 'ab', round: 0x01_02_03_04, numExamples: 9}), alice.privateKey)
    const bytes = encodeUpdateMessage(message)
    expect(bytes.length).toBe(1 + 1 + 2 + 4 + 32 + 4 + 4 + 4 + payload.length + 64)
    expect([...bytes.subarray(0, 8)]).toEqual([1, 2, 0x61, 0x62, 4, 3, 2, 1])
    expect(bytes.subarray(8, 40)).toEqual(base)
    expect([...bytes.subarray(40, 44)]).toEqual([9, 0, 0, 0])
    expect([...bytes.subarray(44, 48)]).toEqual([0, 0, 0, 0])
    expect(new DataView(bytes.buffer).getUint32(48, true)).toBe(payload.length)
    expect(bytes.subarray(52, 52 + payload.length)).toEqual(payload)
    expect(bytes.subarray(-64)).toEqual(message.signature)
  })

  it('signs over sha256("xai-fl-update-v1" ‖ the bytes before the signature)', () => {
    const bytes = signed()
    const digest = sha256(new Uint8Array([...new TextEncoder().encode('xai-fl-update-v1'), ...bytes.subarray(0, -64)]))
    expect(secp256k1.verify(bytes.subarray(-64), digest, alice.publicKey, {prehash: false})).toBe(true)
    // Deterministic signatures: the same update signs to the same bytes.
    expect(signed()).toEqual(bytes)
  })

  it('carries and signs an attestation when one is given', () => {
    const attestation = Uint8Array.of(9, 8, 7)
    const message = signUpdate({...fields(), attestation}, alice.privateKey)
    const bytes = encodeUpdateMessage(message)
    expect(decodeUpdateMessage(bytes).attestation).toEqual(attestation)
    expect(verifier().verify(bytes).ok).toBe(true)
    const stripped = encodeUpdateMessage({...message, attestation: undefined})
    expect(verifier().verify(stripped)).toEqual({ok: false, reason: 'bad-signature', clientId: 'client-0'})
  })

  it('refuses to encode fields outside the format', () => {
    for (const bad of [
      fields({clientId: ''}),
      fields({clientId: 'x'.repeat(256)}),
      fields({clientId: '\uD800'}),
      fields({round: -1}),
      fields({round: 1.5}),
      fields({round: 2 ** 32}),
      fields({numExamples: -1}),
      fields({baseModelHash: new Uint8Array(31)}),
    ]) {
      expectBadUpdate(() => signUpdate(bad, alice.privateKey))
    }
    expectBadUpdate(() => signUpdate({...fields(), attestation: new Uint8Array(65_537)}, alice.privateKey))
  })
})

describe('decodeUpdateMessage refuses malformed bytes with FL_BAD_UPDATE', () => {
  const good = signed()
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(1)],
    ['another version', Uint8Array.from([2, ...good.subarray(1)])],
    ['an empty client id', Uint8Array.from([1, 0, ...good.subarray(2)])],
    ['a client id longer than the message', Uint8Array.of(1, 200, 0x61)],
    ['invalid UTF-8 in the client id', Uint8Array.from([1, 2, 0xc3, 0x28, ...good.subarray(10)])],
    ['an attestation longer than allowed', Uint8Array.from([...good.subarray(0, 50), 0x01, 0x00, 0x01, 0x00, ...good.subarray(54)])],
    ['an attestation longer than the message', Uint8Array.from([...good.subarray(0, 50), 0xff, 0xff, 0x00, 0x00, ...good.subarray(54)])],
    ['a payload longer than the message', Uint8Array.from([...good.subarray(0, 54), 0xff, 0xff, 0xff, 0xff, ...good.subarray(58)])],
    ['a signature cut short', good.subarray(0, good.length - 1)],
    ['a trailing byte', Uint8Array.from([...good, 0])],
    ['only the fixed fields', good.subarray(0, 58)],
  ]
  for (const [name, bytes] of cases) {
    it(name, () => expectBadUpdate(() => decodeUpdateMessage(bytes)))
  }

  it('keeps a leading BOM in a client id (decoding never rewrites what was signed)', () => {
    const bytes = signed({clientId: '\uFEFFclient-0'})
    expect(decodeUpdateMessage(bytes).clientId).toBe('\uFEFFclient-0')
    expect(verifier().verify(bytes)).toEqual({ok: false, reason: 'unknown-client', clientId: '\uFEFFclient-0'})
  })

  it('every prefix of a valid message is refused', () => {
    for (let cut = 0; cut < good.length; cut++) expectBadUpdate(() => decodeUpdateMessage(good.subarray(0, cut)))
  })
})

describe('UpdateVerifier', () => {
  it('accepts a well-signed update for the round and model from a registered client', () => {
    const result = verifier().verify(signed())
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.message.clientId).toBe('client-0')
      expect(result.message.numExamples).toBe(57)
      expect(result.message.payload).toEqual(payload)
    }
  })

  it('malformed: bytes that do not decode', () => {
    expect(verifier().verify(Uint8Array.of(1, 2, 3))).toEqual({ok: false, reason: 'malformed'})
  })

  it('unknown-client: an id the edge does not serve', () => {
    const stranger = clientKey(SEED, 'client-9')
    expect(verifier().verify(signed({clientId: 'client-9'}, stranger.privateKey))).toEqual({ok: false, reason: 'unknown-client', clientId: 'client-9'})
  })

  it('bad-signature: a flipped payload byte', () => {
    const bytes = signed()
    const flipped = Uint8Array.from(bytes)
    // 'client-0' is 8 bytes, so the payload starts at byte 91.
    flipped[91 + 20]! ^= 0x01
    expect(decodeUpdateMessage(flipped).payload).not.toEqual(payload)
    expect(verifier().verify(flipped)).toEqual({ok: false, reason: 'bad-signature', clientId: 'client-0'})
  })

  it('bad-signature: any flipped byte of the signed fields or the signature', () => {
    const bytes = signed()
    for (let at = 2; at < bytes.length; at += 7) {
      const flipped = Uint8Array.from(bytes)
      flipped[at]! ^= 0x10
      const result = verifier().verify(flipped)
      expect(result.ok, `byte ${at}`).toBe(false)
      if (!result.ok) expect(['bad-signature', 'malformed', 'unknown-client']).toContain(result.reason)
    }
  })

  it('bad-signature: signed by another key under a registered id', () => {
    expect(verifier().verify(signed({}, bob.privateKey))).toEqual({ok: false, reason: 'bad-signature', clientId: 'client-0'})
  })

  it('bad-signature: a high-s (malleated) copy of a valid signature', () => {
    const message = signUpdate(fields(), alice.privateKey)
    const sig = secp256k1.Signature.fromBytes(message.signature)
    const high = new secp256k1.Signature(sig.r, secp256k1.Point.Fn.ORDER - sig.s).toBytes()
    expect(verifier().verify(encodeUpdateMessage({...message, signature: high}))).toEqual({ok: false, reason: 'bad-signature', clientId: 'client-0'})
  })

  it('wrong-round and wrong-model', () => {
    expect(verifier().verify(signed({round: 2}))).toEqual({ok: false, reason: 'wrong-round', clientId: 'client-0'})
    const other = modelHash(Float32Array.from(model, (x) => x + 1))
    expect(verifier().verify(signed({baseModelHash: other}))).toEqual({ok: false, reason: 'wrong-model', clientId: 'client-0'})
  })

  it('replay: the same update twice, or a second update for the same round', () => {
    const edge = verifier()
    const bytes = signed()
    expect(edge.verify(bytes).ok).toBe(true)
    expect(edge.verify(bytes)).toEqual({ok: false, reason: 'replay', clientId: 'client-0'})
    expect(edge.verify(signed({numExamples: 1}))).toEqual({ok: false, reason: 'replay', clientId: 'client-0'})
    expect(edge.verify(signed({clientId: 'client-1'}, bob.privateKey)).ok).toBe(true)
  })

  it('a rejected update does not count as accepted (no replay after a rejection)', () => {
    const edge = verifier()
    expect(edge.verify(signed({round: 2})).ok).toBe(false)
    expect(edge.verify(signed()).ok).toBe(true)
  })

  it('advance: the next round accepts fresh updates and refuses old ones', () => {
    const edge = verifier()
    const first = signed()
    expect(edge.verify(first).ok).toBe(true)
    const next = modelHash(Float32Array.from(model, (x) => x / 2))
    edge.advance(4, next)
    expect(edge.verify(first)).toEqual({ok: false, reason: 'wrong-round', clientId: 'client-0'})
    expect(edge.verify(signed({round: 4, baseModelHash: next})).ok).toBe(true)
    expect(edge.verify(signed({round: 4, baseModelHash: next}))).toEqual({ok: false, reason: 'replay', clientId: 'client-0'})
  })
})
