import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {describe, expect, it} from 'vitest'

import {GovernanceWatch, bar} from '../../../src/cli/governance-watch-view.js'
import {tallySummary} from '../../../src/client/governance-client.js'

const tally = tallySummary({yes: '40', no: '10', abstain: '0', veto: '0', totalPower: '100'}, {quorum: 3340n, threshold: 5000n, vetoThreshold: 3340n})

describe('governance watch view', () => {
  it('draws each proposal with its countdown, tally bars and outcome', () => {
    const {lastFrame, unmount} = render(
      createElement(GovernanceWatch, {snapshot: {head: 12, proposals: [{id: 3, title: 'Raise the gas limit', kind: 'parameter-change', state: 'Active', stage: 'voting until block 15, 3 to go', blocksLeft: 3, tally}]}}),
    )
    const frame = lastFrame() ?? ''
    expect(frame).toContain('block 12')
    expect(frame).toContain('#3 Raise the gas limit (parameter-change) Active · 3 blocks left')
    expect(frame).toContain('voting until block 15, 3 to go')
    expect(frame).toContain('yes ████████████████░░░░ 80.0 %')
    expect(frame).toContain('turnout ██████████░░░░░░░░░░ 50.0 % of 33.40 % quorum')
    expect(frame).toContain('→ passes')
    unmount()
  })

  it('says when nothing is open, and shows a read error', () => {
    const {lastFrame, unmount} = render(createElement(GovernanceWatch, {snapshot: {head: 7, proposals: []}, error: 'Cannot read the chain: refused (retrying)'}))
    expect(lastFrame()).toContain('No open proposals.')
    expect(lastFrame()).toContain('Cannot read the chain: refused (retrying)')
    unmount()
  })

  it('fills bars by share, clamped', () => {
    expect(bar(0, 4)).toBe('░░░░')
    expect(bar(50, 4)).toBe('██░░')
    expect(bar(150, 4)).toBe('████')
  })
})
