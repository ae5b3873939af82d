/**
 * Squared Euclidean distances between every pair of updates: the O(n² d) core of Krum,
 * Multi-Krum and Bulyan, computed once per aggregation.
 *
 * The coordinates are walked in blocks. A block of every update is copied, as doubles, into one
 * tile small enough for L2 (1 MiB), and all n(n − 1)/2 pairs are accumulated over that tile before
 * the next block, so each update is read from memory once instead of n times. The inner loop
 * pairs one row with four others per pass (five loads for four distances). It runs as a small
 * WebAssembly SIMD kernel (two doubles per instruction, built below) and falls back to the same
 * loop in JavaScript where WebAssembly is unavailable. Differences and sums are in double
 * precision either way: a difference of two float32 values is exact in a double.
 */

/** Bytes of the tile holding one block of coordinates of every update. */
const TILE_BYTES = 1 << 20

export interface PairwiseDistanceOptions {
  /** Use the WebAssembly SIMD kernel when available (default true); false forces the JavaScript loop. */
  simd?: boolean
}

/**
 * The n × n matrix (row-major, symmetric, zero diagonal) of ‖uᵢ − uⱼ‖². A distance that is not a
 * number (an update holding ±∞ or NaN) is +∞, so such an update is never anyone's neighbour.
 *
 * @example
 * const dist = pairwiseSquaredDistances([Float32Array.of(0, 0), Float32Array.of(3, 4)])
 * dist[1] // 25
 */
export function pairwiseSquaredDistances(updates: readonly Float32Array[], options: PairwiseDistanceOptions = {}): Float64Array {
  const n = updates.length
  const d = n === 0 ? 0 : updates[0]!.length
  const dist = new Float64Array(n * n)
  if (n < 2 || d === 0) return dist
  // Coordinates per block: even, so every row is a whole number of 16-byte SIMD lanes.
  const width = Math.max(16, Math.floor(TILE_BYTES / (8 * n)) & ~1)
  const simd = options.simd === false ? undefined : simdKernel(n * width + 4)
  const tile = simd ? simd.view : new Float64Array(n * width + 4)
  const resultSlot = n * width
  const rowBytes = width * 8
  const last = n - 1
  for (let j0 = 0; j0 < d; j0 += width) {
    const len = Math.min(width, d - j0)
    for (let r = 0; r < n; r++) {
      const u = updates[r]!
      const o = r * width
      for (let k = 0; k < len; k++) tile[o + k] = u[j0 + k]!
      if (len < width) tile.fill(0, o + len, o + width)
    }
    const lanes = (len + 1) >> 1
    for (let i = 0; i < last; i++) {
      const rowI = i * n
      for (let j = i + 1; j < n; j += 4) {
        // Past the last row the kernel is handed the last row again; those sums are ignored.
        const j1 = j + 1 < n ? j + 1 : last
        const j2 = j + 2 < n ? j + 2 : last
        const j3 = j + 3 < n ? j + 3 : last
        if (simd) simd.kernel(i * rowBytes, j * rowBytes, j1 * rowBytes, j2 * rowBytes, j3 * rowBytes, lanes * 16, resultSlot * 8)
        else distances4(tile, i * width, j * width, j1 * width, j2 * width, j3 * width, lanes * 2, resultSlot)
        dist[rowI + j] += tile[resultSlot]!
        if (j + 1 < n) dist[rowI + j + 1] += tile[resultSlot + 1]!
        if (j + 2 < n) dist[rowI + j + 2] += tile[resultSlot + 2]!
        if (j + 3 < n) dist[rowI + j + 3] += tile[resultSlot + 3]!
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = dist[i * n + j]!
      const value = v === v ? v : Infinity
      dist[i * n + j] = value
      dist[j * n + i] = value
    }
  }
  return dist
}

/** The JavaScript twin of the SIMD kernel: Σ (t[a+k] − t[bq+k])² for q = 0..3 into t[out..out+3]. */
function distances4(t: Float64Array, a: number, b0: number, b1: number, b2: number, b3: number, len: number, out: number): void {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (let k = 0; k < len; k++) {
    const x = t[a + k]!
    const e0 = x - t[b0 + k]!
    const e1 = x - t[b1 + k]!
    const e2 = x - t[b2 + k]!
    const e3 = x - t[b3 + k]!
    s0 += e0 * e0
    s1 += e1 * e1
    s2 += e2 * e2
    s3 += e3 * e3
  }
  t[out] = s0
  t[out + 1] = s1
  t[out + 2] = s2
  t[out + 3] = s3
}

// ---- The WebAssembly SIMD kernel ------------------------------------------------------------

type Kernel = (a: number, b0: number, b1: number, b2: number, b3: number, bytes: number, out: number) => void

interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}

/** The slice of the WebAssembly API used here (not in the ES lib nor in @types/node 20). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => {exports: Record<string, unknown>}
}

interface SimdKernel {
  kernel: Kernel
  memory: WasmMemory
  view: Float64Array
}

let compiled: SimdKernel | null | undefined

/** The kernel with a memory of at least `slots` doubles, or undefined without WebAssembly SIMD. */
function simdKernel(slots: number): SimdKernel | undefined {
  if (compiled === undefined) compiled = compileKernel()
  if (compiled === null) return undefined
  const bytes = slots * 8
  const have = compiled.memory.buffer.byteLength
  if (have < bytes) {
    compiled.memory.grow(Math.ceil((bytes - have) / 65_536))
    compiled.view = new Float64Array(compiled.memory.buffer)
  }
  return compiled
}

function compileKernel(): SimdKernel | null {
  const wasm = (globalThis as {WebAssembly?: WasmApi}).WebAssembly
  const bytes = kernelModule()
  try {
    if (!wasm || !wasm.validate(bytes)) return null
    const {exports} = new wasm.Instance(new wasm.Module(bytes))
    const memory = exports.memory as WasmMemory
    return {kernel: exports.distances4 as Kernel, memory, view: new Float64Array(memory.buffer)}
  } catch {
    return null // WebAssembly present but not allowed to compile (e.g. --jitless): use the JavaScript loop
  }
}

/**
 * The binary of a module exporting `memory` (one page to start) and
 * `distances4(a, b0, b1, b2, b3, bytes, out)`: for the rows of doubles at byte offsets a and
 * b0..b3, each `bytes` long (a positive multiple of 16), it stores Σ (a − bq)² for q = 0..3 as four
 * doubles at byte offset `out`. In the text format the loop body reads:
 *
 *     x = v128.load(a + k)
 *     sq = f64x2.add(sq, f64x2.mul(t = f64x2.sub(x, v128.load(bq + k)), t))   ;; q = 0..3
 *     k += 16; br_if loop (k < bytes)
 */
function kernelModule(): Uint8Array {
  const A = 0
  const BYTES = 5
  const OUT = 6
  const K = 7 // i32 index; then four f64x2 sums, x and t
  const SUM = 8
  const X = 12
  const T = 13
  const loadAt = (pointer: number) => [get(pointer), get(K), I32_ADD, simd(V128_LOAD), 4, 0]
  const body = [
    ...vector([[1, I32], [6, V128]]),
    LOOP, VOID,
    ...loadAt(A), set(X),
    ...[0, 1, 2, 3].flatMap((q) => [
      get(X), ...loadAt(1 + q), simd(F64X2_SUB), tee(T), get(T), simd(F64X2_MUL), get(SUM + q), simd(F64X2_ADD), set(SUM + q),
    ]),
    get(K), I32_CONST, 16, I32_ADD, tee(K), get(BYTES), I32_LT_U, BR_IF, 0,
    END,
    ...[0, 1, 2, 3].flatMap((q) => [
      get(OUT), get(SUM + q), simd(F64X2_EXTRACT_LANE), 0, get(SUM + q), simd(F64X2_EXTRACT_LANE), 1, F64_ADD, F64_STORE, 3, q * 8,
    ]),
    END,
  ].flat()
  const name = (text: string) => vector([...text].map((c) => [c.charCodeAt(0)]))
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vector([[0x60, ...vector(Array.from({length: 7}, () => [I32])), 0]])), // type: (i32 × 7) → ()
    ...section(3, vector([[0]])), // one function of type 0
    ...section(5, vector([[0x00, 1]])), // memory: min 1 page
    ...section(7, vector([[...name('distances4'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vector([[...leb128(body.length), ...body]])),
  ])
}

const I32 = 0x7f
const V128 = 0x7b
const VOID = 0x40
const LOOP = 0x03
const END = 0x0b
const BR_IF = 0x0d
const I32_CONST = 0x41
const I32_LT_U = 0x49
const I32_ADD = 0x6a
const F64_ADD = 0xa0
const F64_STORE = 0x39
const V128_LOAD = 0x00
const F64X2_EXTRACT_LANE = 0x21
const F64X2_ADD = 0xf0
const F64X2_SUB = 0xf1
const F64X2_MUL = 0xf2

const get = (local: number): number[] => [0x20, local]
const set = (local: number): number[] => [0x21, local]
const tee = (local: number): number[] => [0x22, local]
const simd = (opcode: number): number[] => [0xfd, ...leb128(opcode)]

function leb128(value: number): number[] {
  const out: number[] = []
  do {
    let byte = value & 0x7f
    value >>>= 7
    if (value !== 0) byte |= 0x80
    out.push(byte)
  } while (value !== 0)
  return out
}

function vector(items: number[][]): number[] {
  return [...leb128(items.length), ...items.flat()]
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb128(content.length), ...content]
}
