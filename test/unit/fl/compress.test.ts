import {describe, expect, it} from 'vitest'

import {
  type CompressionSpec,
  MAX_UPDATE_SIZE,
  createCompressor,
  decodeUpdate,
  encodedSizeBound,
  formatCompression,
  parseCompression,
} from '../../../src/fl/compress.js'
import {Random} from '../../../src/fl/random.js'
import {thrown} from '../../helpers/errors.js'

function gaussian(d: number, seed: number, std = 1): Float32Array {
  const rng = new Random(seed)
  const out = new Float32Array(d)
  for (let i = 0; i < d; i++) out[i] = std * rng.normal()
  return out
}

function maxAbs(values: Float32Array): number {
  let max = 0
  for (const x of values) max = Math.max(max, Math.abs(x))
  return max
}

function scaleOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getFloat32(5, true)
}


describe('parseCompression', () => {
  it('reads none, int8 and topk:<fraction>', () => {
    expect(parseCompression('none')).toEqual({kind: 'none'})
    expect(parseCompression('int8')).toEqual({kind: 'int8'})
    expect(parseCompression('topk:0.1')).toEqual({kind: 'topk', fraction: 0.1})
    expect(parseCompression('topk:1')).toEqual({kind: 'topk', fraction: 1})
    expect(parseCompression(' TopK:.25 ')).toEqual({kind: 'topk', fraction: 0.25})
    expect(parseCompression('topk:1e-3')).toEqual({kind: 'topk', fraction: 0.001})
    expect(formatCompression(parseCompression('topk:0.1'))).toBe('topk:0.1')
  })

  it('refuses anything else with a usage error that names the choices', () => {
    for (const text of ['', 'int4', 'topk', 'topk:', 'topk:0', 'topk:1.5', 'topk:-0.1', 'topk:abc', 'topk:0.1x', 'none:1', 'topk:NaN', 'topk:Infinity']) {
      const err = thrown(() => parseCompression(text), 'FL_INVALID_COMPRESSION')
      expect(err.exitCode).toBe(2)
      expect(err.hint).toMatch(/topk:<fraction>/)
    }
  })
})

describe('none', () => {
  it('round-trips exactly, in 5 + 4d bytes', () => {
    const update = gaussian(1000, 1)
    update[3] = -0
    update[4] = 3.4e38
    update[5] = 1e-45
    const bytes = createCompressor({kind: 'none'}, 1000).encode(update, new Random(0))
    expect(bytes.length).toBe(5 + 4 * 1000)
    expect(bytes[0]).toBe(0)
    const decoded = decodeUpdate(bytes)
    expect(decoded).toEqual(update)
    expect(Object.is(decoded[3], -0)).toBe(true)
  })

  it('decodes into a given buffer, and refuses one of the wrong size', () => {
    const update = gaussian(10, 2)
    const bytes = createCompressor({kind: 'none'}, 10).encode(update, new Random(0))
    const out = new Float32Array(10)
    expect(decodeUpdate(bytes, out)).toBe(out)
    expect(out).toEqual(update)
    thrown(() => decodeUpdate(bytes, new Float32Array(11)), 'FL_BAD_UPDATE')
  })

  it('an empty update is 5 bytes', () => {
    const bytes = createCompressor({kind: 'none'}, 0).encode(new Float32Array(0), new Random(0))
    expect(bytes.length).toBe(5)
    expect(decodeUpdate(bytes)).toEqual(new Float32Array(0))
  })
})

describe('int8', () => {
  it('quantizes to within one step (scale = max|x| / 127) in d + 9 bytes', () => {
    const d = 5000
    const update = gaussian(d, 3, 0.01)
    const bytes = createCompressor({kind: 'int8'}, d).encode(update, new Random(4))
    expect(bytes.length).toBe(d + 9)
    const scale = scaleOf(bytes)
    expect(scale).toBeCloseTo(maxAbs(update) / 127, 10)
    expect(scale * 127).toBeGreaterThanOrEqual(maxAbs(update))
    const decoded = decodeUpdate(bytes)
    let worst = 0
    for (let i = 0; i < d; i++) worst = Math.max(worst, Math.abs(decoded[i]! - update[i]!))
    // One quantization step, up to the float32 rounding of q · scale.
    expect(worst).toBeLessThanOrEqual(scale * (1 + 1e-5))
    expect(worst).toBeGreaterThan(scale / 2)
  })

  it('is unbiased: the mean of many stochastic encodings approaches the input', () => {
    const d = 200
    const update = gaussian(d, 5)
    const compressor = createCompressor({kind: 'int8'}, d)
    const rng = new Random(6)
    const sum = new Float64Array(d)
    const out = new Float32Array(d)
    const draws = 4000
    for (let t = 0; t < draws; t++) {
      decodeUpdate(compressor.encode(update, rng), out)
      for (let i = 0; i < d; i++) sum[i]! += out[i]!
    }
    const scale = maxAbs(update) / 127
    // Each draw has variance ≤ scale²/4, so the mean's standard deviation is ≤ scale / (2√draws).
    const sigma = scale / (2 * Math.sqrt(draws))
    let worst = 0
    let meanError = 0
    for (let i = 0; i < d; i++) {
      const error = sum[i]! / draws - update[i]!
      worst = Math.max(worst, Math.abs(error))
      meanError += error / d
    }
    expect(worst).toBeLessThan(5 * sigma)
    expect(Math.abs(meanError)).toBeLessThan((5 * sigma) / Math.sqrt(d))
    // Deterministic rounding would be off by up to scale / 2: the test tells the two apart.
    expect(5 * sigma).toBeLessThan(scale / 10)
  })

  it('cuts bytes ≥ 3.9× against none for d ≥ 1000', () => {
    for (const d of [1000, 4810, 100_000]) {
      const update = gaussian(d, d)
      const none = createCompressor({kind: 'none'}, d).encode(update, new Random(0))
      const int8 = createCompressor({kind: 'int8'}, d).encode(update, new Random(0))
      expect(none.length / int8.length).toBeGreaterThanOrEqual(3.9)
      expect(int8.length).toBe(encodedSizeBound({kind: 'int8'}, d))
    }
  })

  it('maps the extremes to ±127 and zero to 0; an all-zero update has scale 0', () => {
    const update = Float32Array.from([1, -1, 0, 0.5])
    const bytes = createCompressor({kind: 'int8'}, 4).encode(update, new Random(1))
    expect([...new Int8Array(bytes.buffer, 9, 3)]).toEqual([127, -127, 0])
    const decoded = decodeUpdate(bytes)
    // The scale is rounded up to a float32, so ±127 · scale is ±1 within a float32 ulp or two.
    expect(decoded[0]).toBeCloseTo(1, 6)
    expect(decoded[1]).toBeCloseTo(-1, 6)
    expect(decoded[2]).toBe(0)
    const zeros = createCompressor({kind: 'int8'}, 3).encode(new Float32Array(3), new Random(1))
    expect(scaleOf(zeros)).toBe(0)
    expect(decodeUpdate(zeros)).toEqual(new Float32Array(3))
  })

  it('keeps values near the float32 maximum finite', () => {
    const update = Float32Array.from([3.4028234663852886e38, -3.4028234663852886e38, 1e38, 0])
    const decoded = decodeUpdate(createCompressor({kind: 'int8'}, 4).encode(update, new Random(2)))
    expect(decoded.every(Number.isFinite)).toBe(true)
    expect(decoded[0]! / update[0]!).toBeCloseTo(1, 6)
    expect(decoded[1]! / update[1]!).toBeCloseTo(1, 6)
  })

  it('is reproducible for the same generator seed', () => {
    const update = gaussian(300, 7)
    const compressor = createCompressor({kind: 'int8'}, 300)
    expect(compressor.encode(update, new Random(9))).toEqual(compressor.encode(update, new Random(9)))
    expect(compressor.encode(update, new Random(9))).not.toEqual(compressor.encode(update, new Random(10)))
  })
})

describe('topk', () => {
  it('keeps exactly the k = ceil(fraction·d) largest |x|, with their values', () => {
    const d = 1000
    const update = gaussian(d, 8)
    const compressor = createCompressor({kind: 'topk', fraction: 0.1}, d)
    const decoded = decodeUpdate(compressor.encode(update, new Random(0)))
    const order = [...update.keys()].sort((a, b) => Math.abs(update[b]!) - Math.abs(update[a]!))
    const kept = new Set(order.slice(0, 100))
    for (let i = 0; i < d; i++) expect(decoded[i]).toBe(kept.has(i) ? update[i] : 0)
    expect(compressor.residual).toEqual(update.map((x, i) => (kept.has(i) ? 0 : x)))
  })

  it('rounds k up, keeps at least one coordinate and breaks ties by the lowest index', () => {
    const update = Float32Array.from([1, -3, 3, 2, -3, 0, 0])
    const one = decodeUpdate(createCompressor({kind: 'topk', fraction: 0.01}, 7).encode(update, new Random(0)))
    expect([...one]).toEqual([0, -3, 0, 0, 0, 0, 0])
    const three = decodeUpdate(createCompressor({kind: 'topk', fraction: 0.3}, 7).encode(update, new Random(0)))
    expect([...three]).toEqual([0, -3, 3, 0, -3, 0, 0])
    const all = createCompressor({kind: 'topk', fraction: 1}, 7)
    expect(decodeUpdate(all.encode(update, new Random(0)))).toEqual(update)
    expect(all.residual).toEqual(new Float32Array(7))
  })

  it('selects correctly among magnitudes that share their high bits', () => {
    const d = 4096
    const update = new Float32Array(d)
    const rng = new Random(11)
    // All in [1, 1.0078): one 16-bit bucket of magnitude bits, so the second pass decides.
    for (let i = 0; i < d; i++) update[i] = (rng.next() < 0.5 ? -1 : 1) * (1 + rng.next() / 128)
    const decoded = decodeUpdate(createCompressor({kind: 'topk', fraction: 0.05}, d).encode(update, new Random(0)))
    const threshold = [...update].map(Math.abs).sort((a, b) => b - a)[204]!
    let kept = 0
    for (let i = 0; i < d; i++) {
      if (decoded[i] !== 0) {
        kept++
        expect(decoded[i]).toBe(update[i])
        expect(Math.abs(update[i]!)).toBeGreaterThanOrEqual(threshold)
      } else expect(Math.abs(update[i]!)).toBeLessThanOrEqual(threshold)
    }
    expect(kept).toBe(Math.ceil(0.05 * d))
  })

  it('error feedback: over T rounds of one update, the decoded sum approaches T·update', () => {
    const d = 2000
    const update = gaussian(d, 12)
    const compressor = createCompressor({kind: 'topk', fraction: 0.05}, d)
    const sum = new Float64Array(d)
    const out = new Float32Array(d)
    const relativeError = (rounds: number): number => {
      let error = 0
      let norm = 0
      for (let i = 0; i < d; i++) {
        error += (sum[i]! - rounds * update[i]!) ** 2
        norm += (rounds * update[i]!) ** 2
      }
      return Math.sqrt(error / norm)
    }
    const errors: number[] = []
    for (let round = 1; round <= 200; round++) {
      decodeUpdate(compressor.encode(update, new Random(0)), out)
      for (let i = 0; i < d; i++) sum[i]! += out[i]!
      // What was sent plus what is owed is exactly what was given.
      if (round % 50 === 0) {
        errors.push(relativeError(round))
        for (let i = 0; i < d; i += 97) expect(sum[i]! + compressor.residual![i]!).toBeCloseTo(round * update[i]!, 2)
      }
    }
    // Without feedback, 95 % of the coordinates would never be sent: the error would stay ≈ 0.9.
    // With it, the error is the bounded residual over T·‖update‖: it falls like 1/T.
    expect(errors[0]).toBeLessThan(0.25)
    expect(errors.at(-1)!).toBeLessThan(0.06)
    expect(errors.at(-1)!).toBeLessThan(errors[0]! / 3)
  })

  it('costs about 5 bytes per kept coordinate', () => {
    const d = 100_000
    const bytes = createCompressor({kind: 'topk', fraction: 0.1}, d).encode(gaussian(d, 13), new Random(0))
    expect(bytes.length).toBeLessThanOrEqual(9 + 10_000 * 6)
    expect(bytes.length).toBeLessThanOrEqual(encodedSizeBound({kind: 'topk', fraction: 0.1}, d))
    expect((5 + 4 * d) / bytes.length).toBeGreaterThan(7)
  })
})

describe('compressors refuse bad input', () => {
  it('an update of another size or with a non-finite value', () => {
    for (const spec of [{kind: 'none'}, {kind: 'int8'}, {kind: 'topk', fraction: 0.5}] satisfies CompressionSpec[]) {
      const compressor = createCompressor(spec, 4)
      thrown(() => compressor.encode(new Float32Array(5), new Random(0)), 'FL_UPDATE_SIZE_MISMATCH')
      thrown(() => compressor.encode(Float32Array.from([0, Number.NaN, 0, 0]), new Random(0)), 'FL_NON_FINITE_UPDATE')
      thrown(() => compressor.encode(Float32Array.from([0, 0, Number.POSITIVE_INFINITY, 0]), new Random(0)), 'FL_NON_FINITE_UPDATE')
    }
    thrown(() => createCompressor({kind: 'none'}, MAX_UPDATE_SIZE + 1), 'FL_UPDATE_SIZE_MISMATCH')
    thrown(() => createCompressor({kind: 'topk', fraction: 0}, 4), 'FL_INVALID_COMPRESSION')
  })
})

/** Little-endian bytes from a list of [type, value] fields. */
function bytesOf(...fields: Array<['u8' | 'u32' | 'f32' | 'i8', number] | Uint8Array>): Uint8Array {
  const parts: number[] = []
  const scratch = new DataView(new ArrayBuffer(4))
  for (const field of fields) {
    if (field instanceof Uint8Array) {
      parts.push(...field)
      continue
    }
    const [type, value] = field
    if (type === 'u8' || type === 'i8') parts.push(value & 0xff)
    else {
      if (type === 'u32') scratch.setUint32(0, value, true)
      else scratch.setFloat32(0, value, true)
      parts.push(...new Uint8Array(scratch.buffer))
    }
  }
  return Uint8Array.from(parts)
}

describe('decodeUpdate refuses malformed updates with FL_BAD_UPDATE', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['a cut header', bytesOf(['u8', 0], ['u8', 1])],
    ['an unknown kind', bytesOf(['u8', 3], ['u32', 0])],
    ['none: too short', bytesOf(['u8', 0], ['u32', 2], ['f32', 1])],
    ['none: too long', bytesOf(['u8', 0], ['u32', 1], ['f32', 1], ['u8', 0])],
    ['none: NaN', bytesOf(['u8', 0], ['u32', 2], ['f32', 1], ['f32', Number.NaN])],
    ['none: Infinity', bytesOf(['u8', 0], ['u32', 1], ['f32', Number.NEGATIVE_INFINITY])],
    ['none: a huge d', bytesOf(['u8', 0], ['u32', 0xff_ff_ff_ff])],
    ['int8: no scale', bytesOf(['u8', 1], ['u32', 0])],
    ['int8: too few values', bytesOf(['u8', 1], ['u32', 3], ['f32', 0.1], ['i8', 1], ['i8', 2])],
    ['int8: trailing bytes', bytesOf(['u8', 1], ['u32', 1], ['f32', 0.1], ['i8', 1], ['i8', 2])],
    ['int8: NaN scale', bytesOf(['u8', 1], ['u32', 1], ['f32', Number.NaN], ['i8', 1])],
    ['int8: infinite scale', bytesOf(['u8', 1], ['u32', 1], ['f32', Number.POSITIVE_INFINITY], ['i8', 1])],
    ['int8: negative scale', bytesOf(['u8', 1], ['u32', 1], ['f32', -0.5], ['i8', 1])],
    ['int8: a scale with 127 · scale past the float32 maximum', bytesOf(['u8', 1], ['u32', 1], ['f32', 3e36], ['i8', 1])],
    ['int8: -128', bytesOf(['u8', 1], ['u32', 2], ['f32', 0.5], ['i8', 1], ['i8', -128])],
    ['topk: no k', bytesOf(['u8', 2], ['u32', 4])],
    ['topk: k > d', bytesOf(['u8', 2], ['u32', 1], ['u32', 2], ['f32', 1], ['f32', 1], ['u8', 0], ['u8', 0])],
    ['topk: a huge k', bytesOf(['u8', 2], ['u32', 0xff_ff_ff_ff], ['u32', 0xff_ff_ff_f0])],
    ['topk: values cut', bytesOf(['u8', 2], ['u32', 4], ['u32', 2], ['f32', 1])],
    ['topk: no indices', bytesOf(['u8', 2], ['u32', 4], ['u32', 1], ['f32', 1])],
    ['topk: index = d', bytesOf(['u8', 2], ['u32', 4], ['u32', 1], ['f32', 1], ['u8', 4])],
    ['topk: a gap past d', bytesOf(['u8', 2], ['u32', 4], ['u32', 2], ['f32', 1], ['f32', 1], ['u8', 2], ['u8', 1])],
    ['topk: a varint cut off', bytesOf(['u8', 2], ['u32', 1000], ['u32', 2], ['f32', 1], ['f32', 1], ['u8', 1], ['u8', 0x81])],
    ['topk: a non-minimal varint', bytesOf(['u8', 2], ['u32', 1000], ['u32', 1], ['f32', 1], ['u8', 0x81], ['u8', 0])],
    ['topk: a 6-byte varint', bytesOf(['u8', 2], ['u32', 1000], ['u32', 1], ['f32', 1], Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))],
    ['topk: a varint over 32 bits', bytesOf(['u8', 2], ['u32', 1000], ['u32', 1], ['f32', 1], Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f))],
    ['topk: trailing bytes', bytesOf(['u8', 2], ['u32', 4], ['u32', 1], ['f32', 1], ['u8', 0], ['u8', 0])],
    ['topk: NaN value', bytesOf(['u8', 2], ['u32', 4], ['u32', 1], ['f32', Number.NaN], ['u8', 0])],
    ['topk: d over the limit', bytesOf(['u8', 2], ['u32', MAX_UPDATE_SIZE + 1], ['u32', 0])],
  ]

  for (const [name, bytes] of cases) {
    it(name, () => {
      const err = thrown(() => decodeUpdate(bytes), 'FL_BAD_UPDATE')
      expect(err.message).toMatch(/^Malformed update: /)
    })
  }

  it('the hand-built valid neighbours of those cases decode', () => {
    expect([...decodeUpdate(bytesOf(['u8', 2], ['u32', 4], ['u32', 2], ['f32', 1], ['f32', 2], ['u8', 1], ['u8', 1]))]).toEqual([0, 1, 0, 2])
    expect([...decodeUpdate(bytesOf(['u8', 1], ['u32', 2], ['f32', 0.5], ['i8', -127], ['i8', 127]))]).toEqual([-63.5, 63.5])
    expect([...decodeUpdate(bytesOf(['u8', 0], ['u32', 2], ['f32', 1], ['f32', -2]))]).toEqual([1, -2])
    expect(decodeUpdate(bytesOf(['u8', 2], ['u32', 1000], ['u32', 1], ['f32', 7], Uint8Array.of(0xe7, 0x07)))[999]).toBe(7)
  })

  it('a decode that fails leaves no partial topk write in the given buffer', () => {
    const out = Float32Array.from([5, 5, 5, 5])
    thrown(() => decodeUpdate(bytesOf(['u8', 2], ['u32', 4], ['u32', 2], ['f32', 1], ['f32', 1], ['u8', 0], ['u8', 9]), out), 'FL_BAD_UPDATE')
    expect([...out]).toEqual([5, 5, 5, 5])
  })

  it('decodes a view into a larger buffer at an odd offset', () => {
    const update = gaussian(33, 14)
    for (const spec of [{kind: 'none'}, {kind: 'int8'}, {kind: 'topk', fraction: 0.3}] satisfies CompressionSpec[]) {
      const bytes = createCompressor(spec, 33).encode(update, new Random(1))
      const host = new Uint8Array(bytes.length + 7).fill(0xff)
      host.set(bytes, 3)
      expect(decodeUpdate(host.subarray(3, 3 + bytes.length))).toEqual(decodeUpdate(bytes))
    }
  })
})
