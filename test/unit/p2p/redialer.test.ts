import {afterEach, describe, expect, it} from 'vitest'

import {Redialer, type RedialTarget} from '../../../src/p2p/redialer.js'
import {memoryLogger, sleep, waitFor} from './helpers.js'

const target: RedialTarget = {peerId: 'peer-b', addr: '/ip4/127.0.0.1/tcp/1/p2p/peer-b'}

/** A fake network: dials fail until `up`, and a successful dial marks the peer connected. */
function fakeNetwork() {
  const net = {up: false, connected: false, dials: [] as number[]}
  return {
    net,
    dial: async (_target: RedialTarget, _signal: AbortSignal): Promise<void> => {
      net.dials.push(Date.now())
      if (!net.up) throw new Error('ECONNREFUSED')
      net.connected = true
    },
    isConnected: () => net.connected,
  }
}

const redialers: Redialer[] = []
afterEach(() => {
  for (const redialer of redialers.splice(0)) redialer.close()
})

function create(fake: ReturnType<typeof fakeNetwork>, overrides: Partial<ConstructorParameters<typeof Redialer>[0]> = {}): Redialer {
  const redialer = new Redialer({targets: [target], dial: fake.dial, isConnected: fake.isConnected, logger: memoryLogger(), ...overrides})
  redialers.push(redialer)
  return redialer
}

describe('Redialer', () => {
  it('keeps dialing an absent peer with capped exponential backoff until it comes up', async () => {
    const fake = fakeNetwork()
    const redialer = create(fake, {minBackoffMs: 10, maxBackoffMs: 80, checkIntervalMs: 50})
    await redialer.start()
    await waitFor(() => fake.net.dials.length >= 8, '8 dial attempts')
    const gaps = fake.net.dials.slice(1).map((t, i) => t - fake.net.dials[i]!)
    // 10, 20, 40, 80, 80, … (±10 % jitter, plus timer slack on a busy machine)
    expect(gaps[0]!).toBeLessThan(60)
    expect(Math.max(...gaps.slice(4))).toBeLessThan(80 * 1.1 + 400)
    expect(Math.min(...gaps.slice(4))).toBeGreaterThanOrEqual(70)

    fake.net.up = true
    await waitFor(() => fake.net.connected, 'connected once the peer is up')
  })

  it('redials soon after a drop, and not while paused', async () => {
    const fake = fakeNetwork()
    fake.net.up = true
    const redialer = create(fake, {minBackoffMs: 10, maxBackoffMs: 40, checkIntervalMs: 60_000})
    await redialer.start()
    expect(fake.net.connected).toBe(true)

    fake.net.connected = false
    redialer.onDisconnect('someone-else')
    redialer.onDisconnect(target.peerId)
    await waitFor(() => fake.net.connected, 'redialed after the drop', 2_000)
    expect(fake.net.dials.length).toBe(2)

    redialer.pause()
    fake.net.connected = false
    redialer.onDisconnect(target.peerId)
    await sleep(200)
    expect(fake.net.dials.length).toBe(2)

    await redialer.start()
    expect(fake.net.connected).toBe(true)
    expect(fake.net.dials.length).toBe(3)
  })

  it('aborts a hanging dial after the dial timeout and retries', async () => {
    let attempts = 0
    const redialer = create(fakeNetwork(), {
      minBackoffMs: 10,
      dialTimeoutMs: 50,
      dial: (_target, signal) => {
        attempts++
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
      },
    })
    await redialer.start()
    await waitFor(() => attempts >= 2, 'a second attempt after the first timed out', 5_000)
  })

  it('stops for good on close', async () => {
    const fake = fakeNetwork()
    const redialer = create(fake, {minBackoffMs: 10, maxBackoffMs: 20})
    await redialer.start()
    redialer.close()
    const count = fake.net.dials.length
    await sleep(150)
    expect(fake.net.dials.length).toBe(count)
    await redialer.start()
    expect(fake.net.dials.length).toBe(count)
  })
})
