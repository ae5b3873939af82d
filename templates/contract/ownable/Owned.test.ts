import {describe, expect, it} from 'vitest'

import {accounts, deploy, revertName} from './helpers/xai.js'

const [owner, alice] = accounts as [typeof accounts[0], typeof accounts[0]]

describe('Owned', () => {
  it('lets the owner change the message', async () => {
    const owned = await deploy('Owned', ['hello'])
    expect(await owned.read('owner')).toBe(owner.address)
    await owned.write('setMessage', ['bonjour'])
    expect(await owned.read('message')).toBe('bonjour')
  })

  it('refuses anyone else with NotOwner', async () => {
    const owned = await deploy('Owned', ['hello'])
    expect(await revertName(owned.write('setMessage', ['hi'], {account: alice}))).toBe('NotOwner')
  })

  it('hands ownership over', async () => {
    const owned = await deploy('Owned', ['hello'])
    await owned.write('transferOwnership', [alice.address])
    expect(await owned.read('owner')).toBe(alice.address)
    await owned.write('setMessage', ['hi'], {account: alice})
    expect(await owned.read('message')).toBe('hi')
  })
})
