/**
 * Quickselect over a[lo..hi] of a Float64Array, in place and allocation-free: afterwards a[k]
 * holds the value of rank k − lo in that range, every element before it is ≤ a[k] and every
 * element after it is ≥ a[k]. NaN must not occur (callers map it to +∞ first).
 *
 * The pivot is the median of three, and the partition is Lomuto's without a branch on the data
 * (every element is swapped, the boundary advances by the comparison's 0 or 1): on random values
 * a branch there is mispredicted half of the time, which made a branching partition about twice
 * as slow. Lomuto's scheme sends every value equal to the pivot to one side; when a pass leaves
 * almost nothing on the smaller side (as with many equal values, e.g. zeros of sparse updates), a
 * second pass gathers the values equal to the pivot so that equal runs cannot make it quadratic.
 * Ranges of up to 16 elements are finished by insertion sort.
 *
 * @example
 * const a = Float64Array.of(5, 1, 4, 2, 3)
 * select(a, 0, 4, 2) // 3, with a[0..1] = {1, 2} and a[3..4] = {4, 5}
 */
export function select(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < a[lo]!) swap(a, lo, mid)
    if (a[hi]! < a[lo]!) swap(a, lo, hi)
    if (a[hi]! < a[mid]!) swap(a, mid, hi)
    swap(a, mid, hi)
    const pivot = a[hi]!
    let store = lo
    for (let i = lo; i < hi; i++) {
      const x = a[i]!
      a[i] = a[store]!
      a[store] = x
      store += +(x < pivot)
    }
    swap(a, store, hi)
    // a[lo..store − 1] < pivot = a[store] ≤ a[store + 1..hi]
    if (k < store) {
      hi = store - 1
      continue
    }
    if (k === store) return pivot
    let equalEnd = store + 1
    if ((store - lo) * 8 < hi - lo) {
      for (let i = store + 1; i <= hi; i++) {
        const x = a[i]!
        a[i] = a[equalEnd]!
        a[equalEnd] = x
        equalEnd += +(x <= pivot)
      }
      // a[store..equalEnd − 1] = pivot < a[equalEnd..hi]
      if (k < equalEnd) return pivot
    }
    lo = equalEnd
  }
  for (let i = lo + 1; i <= hi; i++) {
    const x = a[i]!
    let j = i - 1
    while (j >= lo && a[j]! > x) {
      a[j + 1] = a[j]!
      j--
    }
    a[j + 1] = x
  }
  return a[k]!
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!
  a[i] = a[j]!
  a[j] = t
}
