import {EventEmitter} from 'node:events'

import {render} from 'ink-testing-library'
import {createElement} from 'react'
import {afterAll, afterEach, describe, expect, it, vi} from 'vitest'

// Ink draws nothing but the last frame when it thinks it runs in CI (the CI variable, read once
// when Ink loads); these tests are about the live drawing a terminal gets, so Ink must not think so.
const ciBefore = vi.hoisted(() => {
  const before = {CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION}
  process.env.CI = 'false'
  process.env.CONTINUOUS_INTEGRATION = 'false'
  return before
})
afterAll(() => {
  for (const [key, value] of Object.entries(ciBefore)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
})

import {Dashboard} from '../../../src/cli/dashboard/dashboard.js'
import {runDashboard} from '../../../src/cli/dashboard/run-dashboard.js'
import type {DevnetSnapshot} from '../../../src/devnet/watch-devnet.js'

const snapshot: DevnetSnapshot = {
  name: 'default',
  chainId: 31337,
  blockTime: 1000,
  headHeight: 128,
  txPerSecond: 42.25,
  nodes: [
    {index: 0, pid: 4242, state: {kind: 'running', label: 'running', tone: 'ok', behind: 0}, height: 128, round: 0, step: 'propose', peers: 3, headAgeS: 0.4, headHash: '0x1a2b…9f0e', mempool: 17, rssMiB: 131, cpuPercent: 12.5},
    {index: 1, pid: 4243, state: {kind: 'paused', label: 'PAUSED', tone: 'fault', behind: 0}, height: null, round: null, step: null, peers: null, headAgeS: null, headHash: null, mempool: null, rssMiB: 120, cpuPercent: 0},
    {index: 2, pid: null, state: {kind: 'down', label: 'DOWN', tone: 'fault', behind: 0}, height: null, round: null, step: null, peers: null, headAgeS: null, headHash: null, mempool: null, rssMiB: null, cpuPercent: null},
    {index: 3, pid: 4245, state: {kind: 'behind', label: 'behind by 5', tone: 'warn', behind: 5}, height: 123, round: 1, step: 'prevote', peers: 0, headAgeS: 6.2, headHash: '0x7777…8888', mempool: 0, rssMiB: null, cpuPercent: null},
  ],
  blocks: [
    {number: 128, hash: '0x1a2b…9f0e', txs: 12, proposer: 3, ageS: 0.4},
    {number: 127, hash: '0x5555…6666', txs: 0, proposer: null, ageS: 1.4},
  ],
  error: null,
  updatedAt: 1,
}

let cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups) cleanup()
  cleanups = []
})

describe('Dashboard', () => {
  it('renders the header, one row per node with its state, the committed blocks and the footer', () => {
    const view = render(createElement(Dashboard, {snapshot, footer: 'Ctrl-C leaves the view; the devnet keeps running.'}))
    cleanups.push(view.unmount)
    const frame = view.lastFrame() ?? ''
    expect(frame).toContain('devnet "default"')
    expect(frame).toContain('chain 31337')
    expect(frame).toContain('block time 1000 ms')
    expect(frame).toContain('head #128')
    expect(frame).toContain('42.3 tx/s')
    for (const title of ['NODE', 'PID', 'STATE', 'HEIGHT', 'ROUND', 'STEP', 'PEERS', 'LAST BLOCK', 'MEMPOOL', 'RSS']) expect(frame).toContain(title)
    const rows = frame.split('\n')
    const row = (index: number): string => rows.find((line) => line.startsWith(`${index}    `)) ?? ''
    expect(row(0)).toMatch(/4242\s+running\s+128\s+0\s+propose\s+3\s+0s 0x1a2b…9f0e\s+17\s+131 MiB/)
    expect(row(1)).toMatch(/4243\s+PAUSED/)
    expect(row(2)).toMatch(/–\s+DOWN/)
    expect(row(3)).toMatch(/behind by 5\s+123\s+1\s+prevote\s+0\s+6s 0x7777…8888/)
    expect(frame).toContain('Committed blocks')
    expect(frame).toMatch(/#128\s+0x1a2b…9f0e\s+12 tx\s+node 3\s+0s ago/)
    expect(frame).toMatch(/#127\s+0x5555…6666\s+0 tx\s+node \?\s+1s ago/)
    expect(frame).toContain('Ctrl-C leaves the view; the devnet keeps running.')
  })

  it('fits an 80-column terminal by leaving out the RSS column', () => {
    const view = render(createElement(Dashboard, {snapshot, footer: 'Ctrl-C to stop', columns: 80}))
    cleanups.push(view.unmount)
    const frame = view.lastFrame() ?? ''
    const table = frame.split('\n').filter((line) => /^(NODE|\d) /.test(line))
    expect(table).toHaveLength(5)
    for (const line of table) expect(line.trimEnd().length).toBeLessThanOrEqual(80)
    expect(frame).not.toContain('RSS')
    expect(frame).toMatch(/4242\s+running\s+128\s+0\s+propose\s+3\s+0s 0x1a2b…9f0e\s+17/)
  })

  it('says so while nothing has arrived yet, and shows a poll error', () => {
    const waiting = render(createElement(Dashboard, {snapshot: {...snapshot, chainId: null, blockTime: null, headHeight: null, txPerSecond: null, nodes: [], blocks: [], updatedAt: null}, footer: 'Ctrl-C to stop'}))
    cleanups.push(waiting.unmount)
    expect(waiting.lastFrame()).toContain('Polling the devnet…')
    expect(waiting.lastFrame()).toContain('none yet')
    const failing = render(createElement(Dashboard, {snapshot: {...snapshot, error: 'No devnet named "default"'}, footer: 'Ctrl-C to stop'}))
    cleanups.push(failing.unmount)
    expect(failing.lastFrame()).toContain('✖ No devnet named "default"')
  })
})

/** A stand-in terminal stream that keeps what Ink writes. */
class FakeStdout extends EventEmitter {
  readonly columns = 120
  readonly rows = 40
  readonly isTTY = false
  output = ''
  write(chunk: string): boolean {
    this.output += chunk
    return true
  }
}

describe('runDashboard', () => {
  it('draws "Polling" first, then the snapshots it is given, and returns when they end', async () => {
    const stdout = new FakeStdout()
    const frames: string[] = []
    async function* snapshots(): AsyncGenerator<DevnetSnapshot> {
      // Ink may write its first frame a tick after it is asked to: give it up to 5 s before any
      // snapshot exists, so the frame captured is what was drawn with none.
      for (let waited = 0; !stdout.output.includes('Polling the devnet') && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10))
      frames.push(stdout.output)
      yield {...snapshot, headHeight: 127}
      yield snapshot
    }
    await runDashboard({snapshots: snapshots(), name: 'default', signal: new AbortController().signal, footer: 'Ctrl-C to stop the devnet', stdout: stdout as unknown as NodeJS.WriteStream})
    expect(frames[0]).toContain('Polling the devnet…')
    // Ink throttles redraws, so only the first and the last frame are certain to be written.
    expect(stdout.output).toContain('head #128')
    expect(stdout.output).toContain('behind by 5')
    expect(stdout.output).toContain('Ctrl-C to stop the devnet')
  })

  it('returns once the signal aborts, even while the snapshots are stuck, and tells them to stop', async () => {
    const stdout = new FakeStdout()
    const abort = new AbortController()
    let returned = false
    const stuck: AsyncIterableIterator<DevnetSnapshot> = {
      [Symbol.asyncIterator]: () => stuck,
      next: () => {
        setTimeout(() => abort.abort(), 10)
        return new Promise(() => {})
      },
      return: async () => {
        returned = true
        return {done: true, value: undefined}
      },
    }
    await runDashboard({snapshots: stuck, name: 'staging', signal: abort.signal, stdout: stdout as unknown as NodeJS.WriteStream})
    expect(stdout.output).toContain('devnet "staging"')
    expect(stdout.output).toContain('Polling the devnet…')
    expect(returned).toBe(true)
  })

  it('throws what the snapshots throw, after leaving the last frame', async () => {
    const stdout = new FakeStdout()
    async function* failing(): AsyncGenerator<DevnetSnapshot> {
      yield snapshot
      throw new Error('boom')
    }
    await expect(runDashboard({snapshots: failing(), name: 'default', signal: new AbortController().signal, stdout: stdout as unknown as NodeJS.WriteStream})).rejects.toThrow('boom')
    expect(stdout.output).toContain('head #128')
  })
})
