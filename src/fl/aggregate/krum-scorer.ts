import {select} from './select.js'

/**
 * Krum's choice among candidates (Blanchard et al. 2017), from the matrix of squared distances.
 *
 * The score of a candidate is the sum of its squared distances to its k = c − f − 2 nearest other
 * candidates (c candidates; k is taken as 0 when negative, which only happens in the last rounds
 * of Bulyan's iterated Krum). The lowest score wins. The paper breaks ties arbitrarily; here a tie
 * goes to the smaller sum of squared distances to all other candidates, then to the lowest index,
 * so the choice depends on the order of the updates only when both keys are equal. That matters
 * for Bulyan, whose last rounds leave k = 0 or 1 and would otherwise always tie.
 */
export class KrumScorer {
  private readonly score: Float64Array
  private readonly spread: Float64Array
  private readonly gaps: Float64Array

  constructor(
    private readonly dist: Float64Array,
    private readonly n: number,
    private readonly f: number,
  ) {
    this.score = new Float64Array(n)
    this.spread = new Float64Array(n)
    this.gaps = new Float64Array(n)
  }

  /** Scores every candidate in `alive` (indices into the distance matrix) against the others. */
  scoreAll(alive: readonly number[]): void {
    const c = alive.length
    const k = Math.max(0, c - this.f - 2)
    for (const i of alive) {
      let spread = 0
      let m = 0
      for (const j of alive) {
        if (j === i) continue
        const v = this.dist[i * this.n + j]!
        this.gaps[m++] = v
        spread += v
      }
      let score = 0
      if (k > 0) {
        select(this.gaps, 0, m - 1, k - 1)
        for (let t = 0; t < k; t++) score += this.gaps[t]!
      }
      this.score[i] = score
      this.spread[i] = spread
    }
  }

  /** Negative when candidate a ranks before b (lower score, then lower spread, then lower index). */
  compare(a: number, b: number): number {
    return this.score[a]! - this.score[b]! || this.spread[a]! - this.spread[b]! || a - b
  }

  /** Indices of all n updates, best first. */
  ranking(): number[] {
    const all = Array.from({length: this.n}, (_, i) => i)
    this.scoreAll(all)
    return all.sort((a, b) => this.compare(a, b))
  }

  /**
   * Bulyan's selection (El Mhamdi et al. 2018): `count` updates chosen one at a time by Krum, each
   * removed from the candidates before the scores are recomputed over those left.
   */
  iterated(count: number): number[] {
    const alive = Array.from({length: this.n}, (_, i) => i)
    const chosen: number[] = []
    while (chosen.length < count) {
      this.scoreAll(alive)
      let best = 0
      for (let t = 1; t < alive.length; t++) if (this.compare(alive[t]!, alive[best]!) < 0) best = t
      chosen.push(alive[best]!)
      alive.splice(best, 1)
    }
    return chosen
  }
}
