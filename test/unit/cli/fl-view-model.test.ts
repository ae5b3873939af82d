import {describe, expect, it} from 'vitest'

import {formatBytes, formatRound, initialFlView, reduceFlView, sparkline} from '../../../src/cli/fl-view-model.js'
import type {RoundRecord} from '../../../src/fl/federation.js'
import {DEFAULT_FEDERATION_CONFIG} from '../../../src/fl/run-federation.js'

const record = (round: number, accuracy: number, extra: Partial<RoundRecord> = {}): RoundRecord => ({
  round,
  accuracy,
  loss: 0.5,
  participants: 3,
  sampled: 3,
  rejected: 0,
  rejections: [],
  bytesUp: 3000,
  bytesDown: 6000,
  epsilon: null,
  durationMs: 1500,
  modelHash: 'ab',
  edges: [],
  ...extra,
})

describe('the fl view model', () => {
  it('folds a run into what the view shows', () => {
    let view = initialFlView(2)
    view = reduceFlView(view, {type: 'setup', name: 'demo', folder: '/f', config: {...DEFAULT_FEDERATION_CONFIG, byzantine: 0.3, compress: 'int8'}, resumedAt: 4, parameters: 4810, trainExamples: 1437, testExamples: 360, workers: 2})
    expect(view.title).toBe('Federation "demo" · digits · mlp(64) · 20 clients')
    expect(view.detail).toContain('byzantine 30 % sign-flip')
    expect(view.detail).toContain('compress int8')
    view = reduceFlView(view, {type: 'round-start', round: 5, sampled: ['client-0', 'client-1', 'client-2']})
    expect(view.clients.map((c) => c.state)).toEqual(['waiting', 'waiting', 'waiting'])
    view = reduceFlView(view, {type: 'client-done', round: 5, clientId: 'client-1', edge: 0, loss: 0.2, trainMs: 10, bytesUp: 1000, bytesDown: 2000})
    expect(view.clients.map((c) => c.state)).toEqual(['waiting', 'done', 'waiting'])
    view = reduceFlView(view, {
      type: 'round-end',
      record: record(5, 0.9, {rejected: 2, rejections: [{clientId: 'client-0', reason: 'bad-signature'}, {clientId: 'client-2', reason: 'excluded-by-aggregator'}], epsilon: 1.5}),
    })
    expect(view.clients.map((c) => c.state)).toEqual(['rejected', 'done', 'excluded'])
    expect(view).toMatchObject({bytesUp: 3000, bytesDown: 6000, epsilon: 1.5})
    expect(view.history).toHaveLength(1)
  })

  it('draws sparklines and formats rounds and bytes', () => {
    expect(sparkline([0.1, 0.5, 0.9])).toBe('▁▅█')
    expect(sparkline([0.5, 0.5])).toBe('██')
    expect(sparkline([])).toBe('')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(2048)).toBe('2.0 KiB')
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.00 MiB')
    expect(formatRound(record(3, 0.9612, {epsilon: 2.5}), 30)).toBe('round 3/30  accuracy 96.12 %  loss 0.5000  clients 3/3  up 2.9 KiB  down 5.9 KiB  ε 2.500  1.50 s')
  })
})
