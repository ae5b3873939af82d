import {describe, expect, it} from 'vitest'

import {FL_SEEDS_DEFAULTS, seedsTable, spread, summarizeSeeds} from '../../../bench/fl-seeds.js'

describe('bench fl-seeds: figures over seeds', () => {
  it('reports mean, min and max, not one draw', () => {
    expect(spread([0.8694, 0.8778, 0.9028, 0.8583, 0.8917])).toEqual({mean: expect.closeTo(0.88, 10), min: 0.8583, max: 0.9028})
    expect(() => spread([])).toThrow('spread of an empty list')
  })

  it('compares each aggregator with the first seed by seed', () => {
    const figures = summarizeSeeds(['median', 'nnm+median'], [
      [0.8, 0.9, 0.85],
      [0.95, 0.92, 0.97],
    ])
    expect(figures[0]!.gain).toBeUndefined()
    expect(figures[1]!.summary.mean).toBeCloseTo(0.9467, 4)
    // Paired gains 0.15, 0.02, 0.12: the range of the gain is not max − min of the means.
    expect(figures[1]!.gain!.min).toBeCloseTo(0.02, 10)
    expect(figures[1]!.gain!.max).toBeCloseTo(0.15, 10)
    expect(figures[1]!.gain!.mean).toBeCloseTo(0.0967, 4)
  })

  it('prints a row per aggregator with every seed', () => {
    const text = seedsTable(summarizeSeeds(['median', 'nnm+median'], [[0.869, 0.879], [0.975, 0.981]]), [42, 43])
    const lines = text.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^aggregator\s+mean\s+min\s+max\s+gain over median .*seed 42\s+seed 43$/)
    expect(lines[1]).toMatch(/^median\s+87\.4 %\s+86\.9 %\s+87\.9 %\s+-\s+86\.9 %\s+87\.9 %$/)
    expect(lines[2]).toMatch(/^nnm\+median\s+97\.8 %\s+97\.5 %\s+98\.1 %\s+\+10\.4 \(\+10\.2\.\.\+10\.6\)\s+97\.5 %\s+98\.1 %$/)
  })

  it('defaults to the README setting over at least five seeds', () => {
    expect(FL_SEEDS_DEFAULTS.seeds.length).toBeGreaterThanOrEqual(5)
    expect(FL_SEEDS_DEFAULTS).toMatchObject({dataset: 'digits', clients: 20, partition: 'dirichlet:0.5', byzantine: 0.3, attack: 'sign-flip', rounds: 30})
    expect(FL_SEEDS_DEFAULTS.aggregators).toEqual(['median', 'nnm+median'])
  })
})
