/** Coordinates accumulated per block: 4,096 doubles (32 KB) stay in L1. */
const BLOCK = 4096

/**
 * out = Σ wᵢ·uᵢ / Σ wᵢ over the updates named by `rows` (FedAvg; Multi-Krum over its choice).
 * Sums are kept in a Float64Array block of coordinates, one pass over each update per block, so
 * the result is exact to double precision before the final rounding to float32 and nothing is
 * allocated per element. `out` may be one of the updates: a block is written only after every
 * update has been read there.
 */
export function weightedMean(updates: readonly Float32Array[], rows: readonly number[], weights: readonly number[], out: Float32Array): void {
  const d = out.length
  let total = 0
  for (const r of rows) total += weights[r]!
  const acc = new Float64Array(Math.min(BLOCK, Math.max(d, 1)))
  for (let j0 = 0; j0 < d; j0 += BLOCK) {
    const len = Math.min(BLOCK, d - j0)
    acc.fill(0, 0, len)
    for (const r of rows) {
      const u = updates[r]!
      const w = weights[r]!
      for (let k = 0; k < len; k++) acc[k]! += w * u[j0 + k]!
    }
    for (let k = 0; k < len; k++) out[j0 + k] = acc[k]! / total
  }
}
