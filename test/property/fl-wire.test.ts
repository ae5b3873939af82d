/**
 * Properties of what federated clients send: compressed updates round-trip (exactly for none,
 * within one quantization step for int8, split exactly between message and residual for topk),
 * and the decoders of updates and update messages, given random or mutated bytes, either decode
 * or throw an FL_BAD_UPDATE XaiError; nothing else escapes, and nothing is read past the input
 * (a view inside a larger buffer decodes exactly as a copy of it does).
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the cases; on failure the message names
 * the seed, so `FC_SEED=<seed> npx vitest run test/property/fl-wire.test.ts` replays it.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {XaiError} from '../../src/util/errors.js'
import {type CompressionSpec, createCompressor, decodeUpdate} from '../../src/fl/compress.js'
import {Random} from '../../src/fl/random.js'
import {UpdateVerifier, clientKey, decodeUpdateMessage, encodeUpdateMessage, modelHash, signUpdate} from '../../src/fl/update-message.js'

const seed = Number(process.env.FC_SEED ?? 0x5eed_f1)
const runs = Number(process.env.FC_RUNS ?? 500)

function check<T>(property: fc.IProperty<T>, numRuns = runs): void {
  try {
    fc.assert(property, {seed, numRuns})
  } catch (err) {
    throw new Error(`fl wire property failed; replay with FC_SEED=${seed}\n${(err as Error).message}`, {cause: err})
  }
}

const finiteUpdate = (maxLength = 300): fc.Arbitrary<Float32Array> =>
  fc.float32Array({noNaN: true, noDefaultInfinity: true, maxLength})

const specs: CompressionSpec[] = [{kind: 'none'}, {kind: 'int8'}, {kind: 'topk', fraction: 0.01}, {kind: 'topk', fraction: 0.3}, {kind: 'topk', fraction: 1}]

/** The outcome of a decode: its value, or the code of the XaiError it threw. Anything else fails the test. */
function outcome<T>(decode: () => T): {value: T} | {code: string} {
  try {
    return {value: decode()}
  } catch (err) {
    if (!(err instanceof XaiError)) throw new Error(`a decoder threw something other than an XaiError: ${String(err)}`, {cause: err})
    expect(err.code).toBe('FL_BAD_UPDATE')
    return {code: err.code}
  }
}

/** Decodes `bytes` as given and as a view at `offset` inside a larger buffer of junk: the outcomes agree. */
function decodesInPlace<T>(bytes: Uint8Array, offset: number, decode: (bytes: Uint8Array) => T): {value: T} | {code: string} {
  const alone = outcome(() => decode(Uint8Array.from(bytes)))
  const host = new Uint8Array(offset + bytes.length + 16).fill(0xa5)
  host.set(bytes, offset)
  const embedded = outcome(() => decode(host.subarray(offset, offset + bytes.length)))
  if ('value' in alone && alone.value instanceof Float32Array && 'value' in embedded && embedded.value instanceof Float32Array) {
    // Bitwise, and fast: a mutated d can make a decoded update millions of parameters long.
    expect(Buffer.compare(asBytes(embedded.value), asBytes(alone.value))).toBe(0)
  } else expect(embedded).toEqual(alone)
  return alone
}

function asBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
}

/** Valid bytes changed by a few flips, a cut, or appended bytes. */
const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({min: 1, max: 255})), {maxLength: 3}),
  cut: fc.option(fc.nat(), {nil: undefined}),
  extra: fc.uint8Array({maxLength: 4}),
})

function mutate(bytes: Uint8Array, m: {flips: Array<[number, number]>; cut?: number; extra: Uint8Array}): Uint8Array {
  let out = Uint8Array.from(bytes)
  for (const [at, xor] of m.flips) if (out.length > 0) out[at % out.length]! ^= xor
  if (m.cut !== undefined) out = out.slice(0, m.cut % (out.length + 1))
  return m.extra.length > 0 ? Uint8Array.from([...out, ...m.extra]) : out
}

describe('compressed updates round-trip', () => {
  it('none is exact, bit for bit', () => {
    check(
      fc.property(finiteUpdate(), (update) => {
        const decoded = decodeUpdate(createCompressor({kind: 'none'}, update.length).encode(update, new Random(0)))
        expect(new Uint32Array(decoded.buffer)).toEqual(new Uint32Array(update.buffer, update.byteOffset, update.length))
      }),
    )
  })

  it('int8 is within one step of the input, the step being max|x| / 127', () => {
    check(
      fc.property(finiteUpdate(), fc.integer(), (update, rngSeed) => {
        const bytes = createCompressor({kind: 'int8'}, update.length).encode(update, new Random(rngSeed))
        const decoded = decodeUpdate(bytes)
        let max = 0
        for (const x of update) max = Math.max(max, Math.abs(x))
        const scale = new DataView(bytes.buffer).getFloat32(5, true)
        // Rounded up so nothing clamps, unless 127 · scale would overflow float32.
        if (Math.fround(max * (1 + 2 ** -20)) < Infinity) expect(scale * 127).toBeGreaterThanOrEqual(max)
        expect(scale).toBeLessThanOrEqual((max / 127) * (1 + 2 ** -22) + 2 ** -149)
        for (let i = 0; i < update.length; i++) {
          expect(Number.isFinite(decoded[i])).toBe(true)
          expect(Math.abs(decoded[i]! - update[i]!)).toBeLessThanOrEqual(scale * (1 + 1e-5))
          // Zero is a step: it stays zero, whatever the generator draws.
          if (update[i] === 0) expect(decoded[i]).toBe(0)
        }
      }),
    )
  })

  it('topk sends k = ceil(fraction·d) coordinates, the largest, and keeps exactly the rest as residual', () => {
    check(
      fc.property(finiteUpdate(), fc.constantFrom(0.01, 0.1, 0.5, 1), (update, fraction) => {
        const d = update.length
        const compressor = createCompressor({kind: 'topk', fraction}, d)
        const bytes = compressor.encode(update, new Random(0))
        const decoded = decodeUpdate(bytes)
        const residual = compressor.residual!
        const k = Math.ceil(fraction * d)
        expect(new DataView(bytes.buffer).getUint32(5, true)).toBe(k)
        let smallestSent = Infinity
        let largestKept = 0
        let nonZero = 0
        for (let i = 0; i < d; i++) {
          // Each coordinate is either sent or kept, never split: the two add back to the input.
          expect(decoded[i] === 0 || residual[i] === 0).toBe(true)
          expect(decoded[i]! + residual[i]!).toBe(update[i]! + 0)
          if (decoded[i] !== 0) {
            nonZero++
            smallestSent = Math.min(smallestSent, Math.abs(decoded[i]!))
          }
          largestKept = Math.max(largestKept, Math.abs(residual[i]!))
        }
        expect(largestKept).toBeLessThanOrEqual(smallestSent)
        expect(nonZero).toBeLessThanOrEqual(k)
      }),
    )
  })

  it('topk error feedback: what was sent plus the residual is the sum of the inputs', () => {
    check(
      fc.property(fc.integer({min: 1, max: 60}), fc.array(fc.integer(), {minLength: 1, maxLength: 8}), (d, seeds) => {
        const compressor = createCompressor({kind: 'topk', fraction: 0.2}, d)
        const given = new Float64Array(d)
        const sent = new Float64Array(d)
        const out = new Float32Array(d)
        for (const s of seeds) {
          const rng = new Random(s)
          const update = Float32Array.from({length: d}, () => rng.normal())
          for (let i = 0; i < d; i++) given[i]! += update[i]!
          decodeUpdate(compressor.encode(update, rng), out)
          for (let i = 0; i < d; i++) sent[i]! += out[i]!
        }
        for (let i = 0; i < d; i++) expect(sent[i]! + compressor.residual![i]!).toBeCloseTo(given[i]!, 4)
      }),
      200,
    )
  })
})

describe('decodeUpdate on hostile input', () => {
  it('random bytes decode or fail with FL_BAD_UPDATE, read only inside the input', () => {
    check(
      fc.property(
        fc.oneof(
          fc.uint8Array({maxLength: 200}),
          // Random bytes behind a plausible header, so the kind-specific checks get exercised.
          fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 64}), fc.uint8Array({maxLength: 300})).map(([kind, d, rest]) => {
            const bytes = new Uint8Array(5 + rest.length)
            bytes[0] = kind
            new DataView(bytes.buffer).setUint32(1, d, true)
            bytes.set(rest, 5)
            return bytes
          }),
        ),
        fc.nat({max: 7}),
        (bytes, offset) => {
          decodesInPlace(bytes, offset, (b) => decodeUpdate(b))
        },
      ),
      3000,
    )
  })

  it('mutated valid updates of every kind decode or fail with FL_BAD_UPDATE, also into a given buffer', () => {
    check(
      fc.property(finiteUpdate(64), fc.constantFrom(...specs), mutation, fc.nat({max: 7}), (update, spec, m, offset) => {
        const bytes = mutate(createCompressor(spec, update.length).encode(update, new Random(1)), m)
        const result = decodesInPlace(bytes, offset, (b) => decodeUpdate(b))
        if ('value' in result) expect(result.value.every(Number.isFinite)).toBe(true)
        // Into a model-sized buffer: a size mismatch is a bad update, not a write past `out`.
        const out = new Float32Array(update.length)
        const into = outcome(() => decodeUpdate(bytes, out))
        if ('value' in into) expect(into.value).toBe(out)
      }),
      3000,
    )
  })
})

describe('update messages on hostile input', () => {
  const key = clientKey(7, 'client-3')
  const base = modelHash(Float32Array.of(1, 2, 3))
  const payload = createCompressor({kind: 'int8'}, 8).encode(Float32Array.of(1, -2, 3, -4, 5, -6, 7, -8), new Random(2))
  const good = encodeUpdateMessage(signUpdate({clientId: 'client-3', round: 5, baseModelHash: base, numExamples: 40, payload}, key.privateKey))
  const verifier = (): UpdateVerifier => new UpdateVerifier({round: 5, baseModelHash: base, clients: new Map([['client-3', key.publicKey]])})

  it('random bytes decode or fail with FL_BAD_UPDATE, and the verifier calls them malformed', () => {
    check(
      fc.property(fc.uint8Array({maxLength: 300}), fc.nat({max: 7}), (bytes, offset) => {
        decodesInPlace(bytes, offset, (b) => decodeUpdateMessage(b))
        const result = verifier().verify(bytes)
        expect(result.ok).toBe(false)
      }),
      3000,
    )
  })

  it('a mutated message that still decodes re-encodes to the same bytes and never verifies', () => {
    check(
      fc.property(mutation, fc.nat({max: 7}), (m, offset) => {
        const bytes = mutate(good, m)
        const result = decodesInPlace(bytes, offset, (b) => decodeUpdateMessage(b))
        if ('value' in result) expect(encodeUpdateMessage(result.value)).toEqual(bytes)
        const verdict = verifier().verify(bytes)
        // A changed message is never accepted: canonical decoding leaves no second encoding to sign.
        const same = bytes.length === good.length && bytes.every((b, i) => b === good[i])
        expect(verdict.ok).toBe(same)
        if (!verdict.ok) expect(['malformed', 'bad-signature', 'unknown-client']).toContain(verdict.reason)
      }),
      1500,
    )
  })

  it('any well-formed fields sign, round-trip and verify', () => {
    const clientId = fc
      .string({unit: 'grapheme', minLength: 1, maxLength: 40})
      .filter((s) => new TextEncoder().encode(s).length <= 255)
    check(
      fc.property(
        clientId,
        fc.nat({max: 0xff_ff_ff_ff}),
        fc.nat({max: 0xff_ff_ff_ff}),
        fc.uint8Array({minLength: 32, maxLength: 32}),
        fc.uint8Array({maxLength: 200}),
        fc.option(fc.uint8Array({minLength: 1, maxLength: 50}), {nil: undefined}),
        (id, round, numExamples, hash, body, attestation) => {
          const k = clientKey(11, id)
          const message = signUpdate({clientId: id, round, baseModelHash: hash, numExamples, payload: body, ...(attestation ? {attestation} : {})}, k.privateKey)
          const bytes = encodeUpdateMessage(message)
          expect(decodeUpdateMessage(bytes)).toEqual(message)
          const edge = new UpdateVerifier({round, baseModelHash: hash, clients: new Map([[id, k.publicKey]])})
          expect(edge.verify(bytes).ok).toBe(true)
          expect(edge.verify(bytes)).toEqual({ok: false, reason: 'replay', clientId: id})
        },
      ),
      150,
    )
  })
})
