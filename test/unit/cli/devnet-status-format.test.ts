import {describe, expect, it} from 'vitest'

import {formatStatus} from '../../../src/commands/devnet/status.js'
import type {DevnetNodeStatus, DevnetStatus} from '../../../src/devnet/devnet-status.js'

function node(index: number, extra: Partial<DevnetNodeStatus> = {}): DevnetNodeStatus {
  return {
    index,
    pid: 100 + index,
    running: true,
    height: 40,
    rpcUrl: `http://127.0.0.1:${8545 + index}`,
    wsUrl: `ws://127.0.0.1:${8545 + index}`,
    home: `/d/node-${index}`,
    round: 0,
    step: 'propose',
    peers: 3,
    network: 'connected',
    paused: false,
    headHash: '0xab',
    headTime: 1,
    mempool: 2,
    validator: null,
    ...extra,
  }
}

const devnet = (nodes: DevnetNodeStatus[]): DevnetStatus => ({
  name: 'default',
  folder: '/d',
  chainId: 31337,
  blockTime: 1000,
  createdAt: '2025-01-01T00:00:00.000Z',
  running: nodes.every((n) => n.running),
  nodes,
})

const down = {pid: null, running: false, height: null, round: null, step: null, peers: null, network: null, mempool: null}

describe('formatStatus', () => {
  it('keeps the single-node form unchanged', () => {
    const single = devnet([node(0, {round: null, step: null, peers: null, network: null})])
    expect(formatStatus(single)).toBe('Devnet "default": running (chain 31337, block time 1000 ms)\n  node 0  running  PID 100  http://127.0.0.1:8545  height 40\n')
  })

  it('shows round, step, peers, mempool and fault states on a multi-node devnet', () => {
    const text = formatStatus(
      devnet([
        node(0, {round: 1, step: 'prevote'}),
        node(1, {paused: true, height: null, round: null, step: null, peers: null, mempool: null}),
        node(2, {network: 'disconnected', height: 35, peers: 0}),
        node(3, {height: 30}),
        node(4, down),
      ]),
    )
    const lines = text.trimEnd().split('\n')
    expect(lines[0]).toBe('Devnet "default": degraded (chain 31337, block time 1000 ms)')
    expect(lines[1]).toMatch(/node 0 {2}running +PID 100 {2}\S+ {2}height 40 {2}round 1 \(prevote\) {2}peers 3 {2}mempool 2$/)
    expect(lines[2]).toMatch(/node 1 {2}PAUSED +PID 101 /)
    expect(lines[3]).toMatch(/node 2 {2}DISCONNECTED +PID 102 .*height 35 .*peers 0/)
    expect(lines[4]).toMatch(/node 3 {2}behind by 10 +PID 103 /)
    expect(lines[5]).toMatch(/node 4 {2}DOWN +http/)
  })

  it('says stopped (not DOWN) when no node runs, and stamps watch blocks with the time', () => {
    const text = formatStatus(devnet([node(0, down), node(1, down)]), new Date(2025, 0, 1, 9, 5, 7))
    expect(text.split('\n')[0]).toBe('[09:05:07] Devnet "default": stopped (chain 31337, block time 1000 ms)')
    expect(text).toMatch(/node 1 {2}stopped +http/)
  })
})
