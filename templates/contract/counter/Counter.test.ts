import {describe, expect, it} from 'vitest'

import {deploy, revertName} from './helpers/xai.js'

describe('Counter', () => {
  it('starts at zero, counts up and down', async () => {
    const counter = await deploy('Counter')
    expect(await counter.read('count')).toBe(0n)
    await counter.write('increment')
    await counter.write('increment')
    await counter.write('decrement')
    expect(await counter.read('count')).toBe(1n)
  })

  it('refuses to go below zero', async () => {
    const counter = await deploy('Counter')
    expect(await revertName(counter.write('decrement'))).toBe('CountIsZero')
  })
})
