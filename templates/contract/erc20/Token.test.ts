import {parseEther} from 'viem'
import {describe, expect, it} from 'vitest'

import {accounts, deploy, revertName} from './helpers/xai.js'

const [owner, alice, bob] = accounts as [typeof accounts[0], typeof accounts[0], typeof accounts[0]]

describe('Token', () => {
  it('mints the initial supply to the deployer and transfers', async () => {
    const token = await deploy('Token', ['Token', 'TKN', parseEther('1000')])
    expect(await token.read('totalSupply')).toBe(parseEther('1000'))
    await token.write('transfer', [alice.address, parseEther('10')])
    expect(await token.read('balanceOf', [alice.address])).toBe(parseEther('10'))
    expect(await token.read('balanceOf', [owner.address])).toBe(parseEther('990'))
  })

  it('reverts with InsufficientBalance when a holder sends more than it has', async () => {
    const token = await deploy('Token', ['Token', 'TKN', 0n])
    expect(await revertName(token.write('transfer', [bob.address, 1n], {account: alice}))).toBe('InsufficientBalance')
  })

  it('spends allowances with transferFrom', async () => {
    const token = await deploy('Token', ['Token', 'TKN', parseEther('5')])
    await token.write('approve', [alice.address, parseEther('2')])
    await token.write('transferFrom', [owner.address, bob.address, parseEther('2')], {account: alice})
    expect(await token.read('balanceOf', [bob.address])).toBe(parseEther('2'))
    expect(await revertName(token.write('transferFrom', [owner.address, bob.address, 1n], {account: alice}))).toBe('InsufficientAllowance')
  })

  it('lets only the owner mint', async () => {
    const token = await deploy('Token', ['Token', 'TKN', 0n])
    await token.write('mint', [alice.address, 7n])
    expect(await token.read('balanceOf', [alice.address])).toBe(7n)
    expect(await revertName(token.write('mint', [alice.address, 1n], {account: alice}))).toBe('NotOwner')
  })
})
