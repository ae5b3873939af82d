import {parseEther} from 'viem'
import {describe, expect, it} from 'vitest'

import {accounts, deploy, publicClient, revertName} from './helpers/xai.js'

const [owner, alice] = accounts as [typeof accounts[0], typeof accounts[0]]

describe('VotesToken', () => {
  it('counts balances as votes once delegated', async () => {
    const token = await deploy('VotesToken', ['VotesToken', 'VOTE', parseEther('100')])
    expect(await token.read('getVotes', [owner.address])).toBe(0n)
    await token.write('delegate', [owner.address])
    expect(await token.read('getVotes', [owner.address])).toBe(parseEther('100'))
  })

  it('moves votes with transfers and remembers past votes', async () => {
    const token = await deploy('VotesToken', ['VotesToken', 'VOTE', parseEther('100')])
    await token.write('delegate', [owner.address])
    await token.write('delegate', [alice.address], {account: alice})
    const before = await token.write('transfer', [alice.address, parseEther('40')])
    await token.write('transfer', [alice.address, parseEther('10')])
    expect(await token.read('getVotes', [alice.address])).toBe(parseEther('50'))
    expect(await token.read('getPastVotes', [alice.address, before.blockNumber])).toBe(parseEther('40'))
    expect(await token.read('getPastVotes', [owner.address, before.blockNumber - 1n])).toBe(parseEther('100'))
  })

  it('refuses to look up the current or a future block', async () => {
    const token = await deploy('VotesToken', ['VotesToken', 'VOTE', 0n])
    const head = await publicClient.getBlockNumber()
    expect(await revertName(token.read('getPastVotes', [owner.address, head + 10n]))).toBe('FutureLookup')
  })
})
