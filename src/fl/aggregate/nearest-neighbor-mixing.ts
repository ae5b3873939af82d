import {pairwiseSquaredDistances} from './pairwise-distances.js'
import {weightedMean} from './weighted-mean.js'

/**
 * Nearest-neighbour mixing, NNM (Allouah et al. 2023, "Fixing by Mixing: A Recipe for Optimal
 * Byzantine ML under Heterogeneity"): each update is replaced by the mean of its n − f nearest
 * updates, itself included. A robust rule applied afterwards sees honest updates pulled together
 * and the Byzantine ones diluted, which is what lets coordinate-wise median and trimmed mean keep
 * their guarantee when honest clients hold very different data (f < n/2).
 *
 * Neighbours are ranked by squared distance, then by index, so the result does not depend on the
 * order of equal distances; an update with a non-finite value is at +∞ from every other and so
 * is nobody's neighbour while n − f finite updates remain. Allocates one mixed update per distinct
 * set of neighbours; the returned arrays must not be modified.
 *
 * @example
 * nearestNeighborMix([Float32Array.of(0), Float32Array.of(1), Float32Array.of(9)], 1)
 * // [[0.5], [0.5], [5]]: 0 and 1 are each other's neighbour, 9's nearest is 1
 */
export function nearestNeighborMix(updates: readonly Float32Array[], f: number): Float32Array[] {
  const n = updates.length
  const keep = n - f
  const dist = pairwiseSquaredDistances(updates)
  const ones = new Array<number>(n).fill(1)
  const order = Array.from({length: n}, (_, j) => j)
  // Updates with the same neighbours share one mixed update (honest ones often do): it is computed
  // once, summed in index order, and the same array is returned for each of them.
  const byNeighbours = new Map<string, Float32Array>()
  return updates.map((update, i) => {
    const row = i * n
    // The update itself first (distance 0), then the others nearest first.
    order.sort((a, b) => (a === i ? -1 : b === i ? 1 : dist[row + a]! - dist[row + b]! || a - b))
    const neighbours = order.slice(0, keep).sort((a, b) => a - b)
    const key = neighbours.join(',')
    let mixed = byNeighbours.get(key)
    if (mixed === undefined) {
      mixed = new Float32Array(update.length)
      weightedMean(updates, neighbours, ones, mixed)
      byNeighbours.set(key, mixed)
    }
    return mixed
  })
}
