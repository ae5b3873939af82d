import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {describe, expect, it} from 'vitest'

import {FlView} from '../../../src/cli/fl-view.js'
import {initialFlView, reduceFlView} from '../../../src/cli/fl-view-model.js'
import {DEFAULT_FEDERATION_CONFIG} from '../../../src/fl/run-federation.js'

describe('FlView', () => {
  it('shows the federation, the clients of the round, the accuracy sparkline and ε', () => {
    let view = initialFlView(3)
    view = reduceFlView(view, {type: 'setup', name: 'demo', folder: '/f', config: {...DEFAULT_FEDERATION_CONFIG, dp: true}, resumedAt: 0, parameters: 4810, trainExamples: 1437, testExamples: 360, workers: 2})
    view = reduceFlView(view, {type: 'round-start', round: 1, sampled: ['client-0', 'client-1']})
    view = reduceFlView(view, {type: 'client-done', round: 1, clientId: 'client-0', edge: 0, loss: 0.3, trainMs: 5, bytesUp: 100, bytesDown: 200})
    const base = {loss: 0.4, participants: 2, sampled: 2, rejected: 0, rejections: [], bytesUp: 100, bytesDown: 200, durationMs: 900, modelHash: 'ab', edges: []}
    view = reduceFlView(view, {type: 'round-end', record: {...base, round: 1, accuracy: 0.5, epsilon: 0.8}})
    const {lastFrame, unmount} = render(createElement(FlView, {view}))
    const frame = lastFrame() ?? ''
    unmount()
    expect(frame).toContain('Federation "demo" · digits · mlp(64) · 20 clients')
    expect(frame).toContain('Round 1 (1/3 of this run)  ●·')
    expect(frame).toContain('accuracy █ 50.00 %')
    expect(frame).toContain('ε so far 0.800')
  })
})
