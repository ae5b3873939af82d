import {describe, expect, it} from 'vitest'

import {applyAttack, formatAttack, parseAttack} from '../../../src/fl/attacks.js'
import {Random} from '../../../src/fl/random.js'

describe('attacks', () => {
  it('parses every form and formats it back', () => {
    expect(parseAttack('sign-flip')).toEqual({kind: 'sign-flip', k: 4})
    expect(parseAttack('sign-flip:1')).toEqual({kind: 'sign-flip', k: 1})
    expect(parseAttack('scale:-3')).toEqual({kind: 'scale', k: -3})
    expect(parseAttack('gaussian:0.5')).toEqual({kind: 'gaussian', sigma: 0.5})
    expect(parseAttack('label-flip')).toEqual({kind: 'label-flip'})
    for (const text of ['sign-flip:4', 'scale:2', 'gaussian:0.5', 'label-flip']) expect(formatAttack(parseAttack(text))).toBe(text)
  })

  it('refuses anything else with FL_INVALID_ATTACK', () => {
    for (const text of ['', 'sideways', 'scale', 'scale:x', 'gaussian:0', 'gaussian:-1', 'sign-flip:0', 'label-flip:2', 'scale:1:2']) {
      expect(() => parseAttack(text), text).toThrow(expect.objectContaining({code: 'FL_INVALID_ATTACK'}))
    }
  })

  it('turns an honest update into the attacker’s', () => {
    const rng = new Random(1)
    const flip = Float32Array.of(1, -2, 0.5)
    applyAttack(parseAttack('sign-flip'), flip, rng)
    expect([...flip]).toEqual([-4, 8, -2])
    const scaled = Float32Array.of(1, -2)
    applyAttack(parseAttack('scale:3'), scaled, rng)
    expect([...scaled]).toEqual([3, -6])
    const noise = new Float32Array(20_000).fill(5)
    applyAttack(parseAttack('gaussian:2'), noise, rng)
    const mean = noise.reduce((s, v) => s + v, 0) / noise.length
    const std = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / noise.length)
    expect(Math.abs(mean)).toBeLessThan(0.05)
    expect(std).toBeGreaterThan(1.95)
    expect(std).toBeLessThan(2.05)
    const honest = Float32Array.of(1, 2)
    applyAttack(parseAttack('label-flip'), honest, rng)
    expect([...honest]).toEqual([1, 2])
  })
})
