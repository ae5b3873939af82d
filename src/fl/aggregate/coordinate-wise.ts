import {select} from './select.js'

/**
 * What each coordinate of the result is, over the chosen updates' values at that coordinate:
 * - `median`: the median (the mean of the two middle values for an even count);
 * - `trimmed`: the mean after dropping the `trim` largest and the `trim` smallest values;
 * - `closest-to-median`: the mean of the `keep` values closest to the median (Bulyan's second
 *   stage); of two values at the same distance, the lower one is taken first.
 */
export type CoordinateRule = {kind: 'median'} | {kind: 'trimmed'; trim: number} | {kind: 'closest-to-median'; keep: number}

/** Coordinates gathered per block: BLOCK × rows doubles (200 KB for 100 rows) stay in L2. */
const BLOCK = 256

/**
 * Applies `rule` to every coordinate of the updates named by `rows`, writing the result to `out`.
 * The values of a block of coordinates are first gathered, coordinate-major, into one reused
 * Float64Array; each coordinate is then reduced in place by quickselect, so nothing is allocated
 * per coordinate. NaN counts as +∞: a NaN sent by a Byzantine client is an outlier like any other.
 */
export function coordinateWise(updates: readonly Float32Array[], rows: readonly number[], rule: CoordinateRule, out: Float32Array): void {
  const m = rows.length
  const d = out.length
  const tile = new Float64Array(m * Math.min(BLOCK, Math.max(d, 1)))
  const distances = new Float64Array(m)
  for (let j0 = 0; j0 < d; j0 += BLOCK) {
    const len = Math.min(BLOCK, d - j0)
    for (let r = 0; r < m; r++) {
      const u = updates[rows[r]!]!
      for (let c = 0, p = r; c < len; c++, p += m) {
        const x = u[j0 + c]!
        tile[p] = x === x ? x : Infinity
      }
    }
    for (let c = 0, base = 0; c < len; c++, base += m) {
      let value: number
      switch (rule.kind) {
        case 'median':
          value = median(tile, base, m)
          break
        case 'trimmed':
          value = trimmedMean(tile, base, m, rule.trim)
          break
        case 'closest-to-median':
          value = closestToMedianMean(tile, base, m, rule.keep, distances)
          break
      }
      out[j0 + c] = value
    }
  }
}

/** The median of a[base .. base + m − 1] (reorders that range). */
export function median(a: Float64Array, base: number, m: number): number {
  const half = m >> 1
  const upper = select(a, base, base + m - 1, base + half)
  if (m & 1) return upper
  let lower = a[base]!
  for (let i = base + 1; i < base + half; i++) if (a[i]! > lower) lower = a[i]!
  return (lower + upper) / 2
}

/** The mean of a[base .. base + m − 1] without its `trim` smallest and `trim` largest values. */
export function trimmedMean(a: Float64Array, base: number, m: number, trim: number): number {
  const last = base + m - 1
  if (trim > 0) {
    select(a, base, last, base + trim)
    select(a, base + trim, last, last - trim)
  }
  // Only the kept values are summed: subtracting the trimmed ones from a total would let a huge
  // outlier swamp the honest values.
  let sum = 0
  for (let i = base + trim; i <= last - trim; i++) sum += a[i]!
  return sum / (m - 2 * trim)
}

/** The mean of the `keep` values of a[base .. base + m − 1] closest to their median. */
export function closestToMedianMean(a: Float64Array, base: number, m: number, keep: number, distances: Float64Array): number {
  const center = median(a, base, m)
  for (let i = 0; i < m; i++) {
    const gap = Math.abs(a[base + i]! - center)
    distances[i] = gap === gap ? gap : Infinity
  }
  const cutoff = select(distances, 0, m - 1, keep - 1)
  // Everything strictly inside the cutoff is kept; the rest comes from the values at exactly the
  // cutoff distance, those below the median first, so the result depends only on the values.
  let sum = 0
  let taken = 0
  let lowTies = 0
  let lowValue = 0
  let highValue = 0
  for (let i = base; i < base + m; i++) {
    const x = a[i]!
    const gap = Math.abs(x - center)
    if (gap < cutoff) {
      sum += x
      taken++
    } else if (gap === cutoff || (gap !== gap && cutoff === Infinity)) {
      if (x < center) {
        lowTies++
        lowValue = x
      } else highValue = x
    }
  }
  const fromLow = Math.min(keep - taken, lowTies)
  if (fromLow > 0) sum += fromLow * lowValue
  if (keep - taken - fromLow > 0) sum += (keep - taken - fromLow) * highValue
  return sum / keep
}
