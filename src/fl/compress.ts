import {XaiError} from '../util/errors.js'
import type {Random} from './random.js'

/**
 * Update compression: what a client sends up instead of its raw Float32Array update.
 *
 * Wire format (little-endian, self-describing so an edge decodes any client's update):
 *
 *     u8 kind            0 none, 1 int8, 2 topk
 *     u32 d              the number of parameters
 *     none:  f32 × d                                   (5 + 4d bytes)
 *     int8:  f32 scale, i8 × d                         (9 + d bytes)
 *     topk:  u32 k, f32 × k values, varint × k indices (9 + 4k + ≈k bytes)
 *
 * int8 stores q_i ∈ [-127, 127] with x_i ≈ q_i · scale, scale = max|x| / 127 (rounded up to a
 * float32 so no |x_i| / scale exceeds 127), and q_i drawn by stochastic rounding so that
 * E[q_i · scale] = x_i. topk stores the k largest-|x| coordinates in ascending index order; the
 * indices are LEB128 varints, the first one absolute and each next one as the gap minus one
 * (so indices are strictly increasing by construction). Values come before indices so they sit
 * at a fixed offset.
 *
 * Decoding is strict: exact lengths, k ≤ d, indices < d, minimal varints, no trailing bytes, a
 * non-negative scale with 127 · scale a finite float32, int8 values in [-127, 127], finite values,
 * so a decoded update is always finite. Anything else is an
 * FL_BAD_UPDATE XaiError, raised before any read past the end of the input.
 */

export const CompressErrorCode = {
  invalidCompression: 'FL_INVALID_COMPRESSION',
  badUpdate: 'FL_BAD_UPDATE',
  nonFiniteUpdate: 'FL_NON_FINITE_UPDATE',
  sizeMismatch: 'FL_UPDATE_SIZE_MISMATCH',
} as const
export type CompressErrorCode = (typeof CompressErrorCode)[keyof typeof CompressErrorCode]

export type CompressionSpec = {kind: 'none'} | {kind: 'int8'} | {kind: 'topk'; fraction: number}

/** The largest update (parameter count) this codec encodes or decodes: 2^26 float32, 256 MiB. */
export const MAX_UPDATE_SIZE = 1 << 26

const KIND_NONE = 0
const KIND_INT8 = 1
const KIND_TOPK = 2
const HEADER = 5
const INT8_MAX = 127

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Parses `none`, `int8` or `topk:<fraction>` (0 < fraction ≤ 1). */
export function parseCompression(text: string): CompressionSpec {
  const value = text.trim().toLowerCase()
  if (value === 'none') return {kind: 'none'}
  if (value === 'int8') return {kind: 'int8'}
  const match = /^topk:(\d*\.?\d+(?:e[+-]?\d+)?)$/.exec(value)
  if (match) {
    const fraction = Number(match[1])
    if (fraction > 0 && fraction <= 1) return {kind: 'topk', fraction}
  }
  throw invalidCompression(text)
}

/** The spec back in the form parseCompression reads. */
export function formatCompression(spec: CompressionSpec): string {
  return spec.kind === 'topk' ? `topk:${spec.fraction}` : spec.kind
}

/**
 * Per-client compressor: int8 = stochastic rounding to 8 bits with one per-tensor scale
 * (max |x| / 127), unbiased; topk = keep the k = ceil(fraction·d) largest-|x| coordinates, with
 * error feedback (the residual of what was not sent is added to the next update before selecting)
 * kept in the compressor.
 */
export interface Compressor {
  spec: CompressionSpec
  /** Encodes one update of length `size`. Only int8 draws from `rng`. */
  encode(update: Float32Array, rng: Random): Uint8Array
  /** Residual state for error feedback (topk), for tests. */
  residual?: Float32Array
}

export function createCompressor(spec: CompressionSpec, size: number): Compressor {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_UPDATE_SIZE) {
    throw new XaiError(CompressErrorCode.sizeMismatch, `Cannot compress updates of ${size} parameters`, {
      hint: `A model must have between 0 and ${MAX_UPDATE_SIZE} parameters.`,
      details: {size},
    })
  }
  switch (spec.kind) {
    case 'none':
      return {spec, encode: (update) => encodeNone(checkUpdate(update, size))}
    case 'int8':
      return {spec, encode: (update, rng) => encodeInt8(checkUpdate(update, size), rng)}
    case 'topk': {
      if (!(spec.fraction > 0 && spec.fraction <= 1)) throw invalidCompression(formatCompression(spec))
      return createTopK(spec, size)
    }
  }
}

/**
 * Decodes any encoded update into `out` (length d; allocated when omitted) and returns it. With
 * `out`, d must equal out.length. On failure (FL_BAD_UPDATE) the contents of `out` are unspecified.
 */
export function decodeUpdate(bytes: Uint8Array, out?: Float32Array): Float32Array {
  if (bytes.length < HEADER) throw badUpdate(`${bytes.length} bytes is shorter than the ${HEADER}-byte header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const kind = bytes[0]!
  const d = view.getUint32(1, true)
  if (out !== undefined && out.length !== d) throw badUpdate(`the update has ${d} parameters, the model ${out.length}`)
  if (out === undefined && d > MAX_UPDATE_SIZE) throw badUpdate(`${d} parameters is more than the limit of ${MAX_UPDATE_SIZE}`)
  switch (kind) {
    case KIND_NONE:
      return decodeNone(bytes, d, out)
    case KIND_INT8:
      return decodeInt8(bytes, view, d, out)
    case KIND_TOPK:
      return decodeTopK(bytes, view, d, out)
    default:
      throw badUpdate(`unknown compression kind ${kind}`)
  }
}

/** The bytes of an encoded update of `d` parameters (topk: the largest, with 5-byte varints). */
export function encodedSizeBound(spec: CompressionSpec, d: number): number {
  if (spec.kind === 'none') return HEADER + 4 * d
  if (spec.kind === 'int8') return HEADER + 4 + d
  return HEADER + 4 + 9 * topKCount(spec.fraction, d)
}

// ---------------------------------------------------------------------------------------------
// none

function encodeNone(update: Float32Array): Uint8Array {
  const d = update.length
  const out = new Uint8Array(HEADER + 4 * d)
  const view = writeHeader(out, KIND_NONE, d)
  if (LITTLE_ENDIAN) out.set(new Uint8Array(update.buffer, update.byteOffset, 4 * d), HEADER)
  else for (let i = 0; i < d; i++) view.setFloat32(HEADER + 4 * i, update[i]!, true)
  return out
}

function decodeNone(bytes: Uint8Array, d: number, out: Float32Array | undefined): Float32Array {
  if (bytes.length !== HEADER + 4 * d) throw badUpdate(`a none update of ${d} parameters has ${HEADER + 4 * d} bytes, not ${bytes.length}`)
  const result = out ?? new Float32Array(d)
  if (LITTLE_ENDIAN) {
    new Uint8Array(result.buffer, result.byteOffset, 4 * d).set(bytes.subarray(HEADER))
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < d; i++) result[i] = view.getFloat32(HEADER + 4 * i, true)
  }
  for (let i = 0; i < d; i++) {
    const x = result[i]!
    if (x - x !== 0) throw badUpdate(`parameter ${i} is not finite`)
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// int8

const f32 = new Float32Array(1)
const f32Bits = new Uint32Array(f32.buffer)

/**
 * The smallest float32 scale s with s · 127 ≥ max (so every |x| / s ≤ 127), except that 127 · s
 * must stay a finite float32: for max within an ulp of the float32 maximum the scale steps back
 * and the extreme values are clamped to ±127 (the only place the rounding is not unbiased).
 */
function int8Scale(max: number): number {
  if (max === 0) return 0
  let s = Math.fround(max / INT8_MAX)
  if (s === 0) s = 2 ** -149
  while (s * INT8_MAX < max) s = stepFloat32(s, 1)
  while (Math.fround(s * INT8_MAX) === Infinity) s = stepFloat32(s, -1)
  return s
}

/** The next positive float32 above (+1) or below (−1) a positive float32. */
function stepFloat32(s: number, direction: 1 | -1): number {
  f32[0] = s
  f32Bits[0]! += direction
  return f32[0]!
}

function encodeInt8(update: Float32Array, rng: Random): Uint8Array {
  const d = update.length
  let max = 0
  for (let i = 0; i < d; i++) {
    const a = Math.abs(update[i]!)
    if (a > max) max = a
  }
  const scale = int8Scale(max)
  const out = new Uint8Array(HEADER + 4 + d)
  const view = writeHeader(out, KIND_INT8, d)
  view.setFloat32(HEADER, scale, true)
  if (scale === 0) return out
  const q = new Int8Array(out.buffer, out.byteOffset + HEADER + 4, d)
  for (let i = 0; i < d; i++) {
    const v = update[i]! / scale
    const floor = Math.floor(v)
    let r = rng.next() < v - floor ? floor + 1 : floor
    if (r > INT8_MAX) r = INT8_MAX
    else if (r < -INT8_MAX) r = -INT8_MAX
    q[i] = r
  }
  return out
}

function decodeInt8(bytes: Uint8Array, view: DataView, d: number, out: Float32Array | undefined): Float32Array {
  if (bytes.length !== HEADER + 4 + d) throw badUpdate(`an int8 update of ${d} parameters has ${HEADER + 4 + d} bytes, not ${bytes.length}`)
  const scale = view.getFloat32(HEADER, true)
  // 127 · scale must be a finite float32, or a value would decode to ±Infinity.
  if (!(scale >= 0 && Math.fround(scale * INT8_MAX) < Infinity)) throw badUpdate(`the int8 scale ${scale} is not a non-negative number with 127 · scale finite`)
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER + 4, d)
  const result = out ?? new Float32Array(d)
  for (let i = 0; i < d; i++) {
    const v = q[i]!
    if (v < -INT8_MAX) throw badUpdate(`int8 value ${v} at parameter ${i} is outside [-127, 127]`)
    result[i] = v * scale
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// topk

function topKCount(fraction: number, d: number): number {
  return Math.min(d, Math.ceil(fraction * d))
}

/**
 * Top-k with error feedback. Selection is an exact radix select on the magnitude bits of the
 * float32 values (non-negative float32 bit patterns order like their values): two 16-bit
 * histogram passes find the k-th largest magnitude, a third pass emits the indices above it and,
 * among ties, the lowest ones. O(d) with no sort and no allocation beyond the message.
 */
function createTopK(spec: {kind: 'topk'; fraction: number}, size: number): Compressor {
  const k = topKCount(spec.fraction, size)
  const residual = new Float32Array(size)
  const corrected = new Float32Array(size)
  const bits = new Uint32Array(corrected.buffer)
  const histogram = new Uint32Array(1 << 16)
  const indices = new Uint32Array(k)

  function select(): void {
    histogram.fill(0)
    for (let i = 0; i < size; i++) histogram[(bits[i]! & 0x7f_ff_ff_ff) >>> 16]! += 1
    let high = 0xff_ff
    let above = 0
    while (above + histogram[high]! < k) above += histogram[high--]!
    const needHigh = k - above
    histogram.fill(0)
    for (let i = 0; i < size; i++) {
      const m = bits[i]! & 0x7f_ff_ff_ff
      if (m >>> 16 === high) histogram[m & 0xff_ff]! += 1
    }
    let low = 0xff_ff
    above = 0
    while (above + histogram[low]! < needHigh) above += histogram[low--]!
    const threshold = ((high << 16) | low) >>> 0
    let ties = needHigh - above
    let n = 0
    for (let i = 0; i < size; i++) {
      const m = bits[i]! & 0x7f_ff_ff_ff
      if (m > threshold || (m === threshold && ties-- > 0)) indices[n++] = i
    }
  }

  function encode(update: Float32Array): Uint8Array {
    checkUpdate(update, size)
    for (let i = 0; i < size; i++) corrected[i] = update[i]! + residual[i]!
    for (let i = 0; i < size; i++) {
      const x = corrected[i]!
      if (x - x !== 0) throw nonFinite(i)
    }
    if (k > 0) select()
    let varintBytes = 0
    for (let j = 0; j < k; j++) varintBytes += varintLength(j === 0 ? indices[0]! : indices[j]! - indices[j - 1]! - 1)
    const out = new Uint8Array(HEADER + 4 + 4 * k + varintBytes)
    const view = writeHeader(out, KIND_TOPK, size)
    view.setUint32(HEADER, k, true)
    residual.set(corrected)
    let at = HEADER + 4
    for (let j = 0; j < k; j++) {
      const i = indices[j]!
      view.setFloat32(at, corrected[i]!, true)
      residual[i] = 0
      at += 4
    }
    for (let j = 0; j < k; j++) {
      let v = j === 0 ? indices[0]! : indices[j]! - indices[j - 1]! - 1
      while (v >= 0x80) {
        out[at++] = (v & 0x7f) | 0x80
        v >>>= 7
      }
      out[at++] = v
    }
    return out
  }

  return {spec, encode, residual}
}

function varintLength(v: number): number {
  return v < 0x80 ? 1 : v < 0x40_00 ? 2 : v < 0x20_00_00 ? 3 : v < 0x10_00_00_00 ? 4 : 5
}

function decodeTopK(bytes: Uint8Array, view: DataView, d: number, out: Float32Array | undefined): Float32Array {
  if (bytes.length < HEADER + 4) throw badUpdate(`a topk update has at least ${HEADER + 4} bytes, not ${bytes.length}`)
  const k = view.getUint32(HEADER, true)
  if (k > d) throw badUpdate(`k = ${k} is more than d = ${d}`)
  const valuesAt = HEADER + 4
  const indicesAt = valuesAt + 4 * k
  // Each index takes at least one byte: this bounds k by the input before any loop over k.
  if (bytes.length < indicesAt + k) throw badUpdate(`${k} values and indices do not fit in ${bytes.length} bytes`)
  for (let j = 0; j < k; j++) {
    const x = view.getFloat32(valuesAt + 4 * j, true)
    if (x - x !== 0) throw badUpdate(`value ${j} is not finite`)
  }
  // First pass: validate every index; second pass: write. A bad update never writes out.
  let at = indicesAt
  let index = -1
  for (let j = 0; j < k; j++) {
    const read = readVarint(bytes, at)
    at = read.next
    index += read.value + 1
    if (index >= d) throw badUpdate(`index ${index} is not below d = ${d}`)
  }
  if (at !== bytes.length) throw badUpdate(`${bytes.length - at} trailing bytes after the indices`)
  const result = out ?? new Float32Array(d)
  if (out !== undefined) result.fill(0)
  at = indicesAt
  index = -1
  for (let j = 0; j < k; j++) {
    const read = readVarint(bytes, at)
    at = read.next
    index += read.value + 1
    result[index] = view.getFloat32(valuesAt + 4 * j, true)
  }
  return result
}

const varint = {value: 0, next: 0}

/** One minimal LEB128 varint of at most 32 bits at `at` (the result object is reused). */
function readVarint(bytes: Uint8Array, at: number): {value: number; next: number} {
  let value = 0
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= bytes.length) throw badUpdate('an index is cut off at the end of the update')
    const byte = bytes[at++]!
    value += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) {
      if (byte === 0 && shift > 0) throw badUpdate('an index is not minimally encoded')
      if (value > 0xff_ff_ff_ff) throw badUpdate('an index does not fit in 32 bits')
      varint.value = value
      varint.next = at
      return varint
    }
  }
  throw badUpdate('an index is longer than 5 bytes')
}

// ---------------------------------------------------------------------------------------------

function writeHeader(out: Uint8Array, kind: number, d: number): DataView {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  out[0] = kind
  view.setUint32(1, d, true)
  return view
}

/** The update has the compressor's size and only finite values. */
function checkUpdate(update: Float32Array, size: number): Float32Array {
  if (update.length !== size) {
    throw new XaiError(CompressErrorCode.sizeMismatch, `An update of ${update.length} parameters reached a compressor for ${size}`, {
      details: {size, length: update.length},
    })
  }
  for (let i = 0; i < size; i++) {
    const x = update[i]!
    if (x - x !== 0) throw nonFinite(i)
  }
  return update
}

function nonFinite(index: number): XaiError {
  return new XaiError(CompressErrorCode.nonFiniteUpdate, `The update has a non-finite value at parameter ${index}`, {
    hint: 'Training diverged: lower --lr, or bound updates with --dp --clip.',
    details: {index},
  })
}

export function badUpdate(reason: string): XaiError {
  return new XaiError(CompressErrorCode.badUpdate, `Malformed update: ${reason}`, {
    hint: 'The update is rejected; a client and its edge must run the same xai version.',
    details: {reason},
  })
}

function invalidCompression(text: string): XaiError {
  return new XaiError(CompressErrorCode.invalidCompression, `Unknown compression "${text}"`, {
    hint: 'Use --compress none, int8 or topk:<fraction> with 0 < fraction ≤ 1 (for example topk:0.1).',
    details: {compression: text},
  })
}
