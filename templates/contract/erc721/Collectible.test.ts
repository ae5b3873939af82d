import {describe, expect, it} from 'vitest'

import {accounts, deploy, revertName} from './helpers/xai.js'

const [owner, alice, bob] = accounts as [typeof accounts[0], typeof accounts[0], typeof accounts[0]]

describe('Collectible', () => {
  it('mints increasing token ids', async () => {
    const nft = await deploy('Collectible', ['Collectible', 'CLT'])
    await nft.write('mint', [alice.address])
    await nft.write('mint', [alice.address])
    expect(await nft.read('ownerOf', [1n])).toBe(alice.address)
    expect(await nft.read('balanceOf', [alice.address])).toBe(2n)
  })

  it('transfers by the holder and an approved account only', async () => {
    const nft = await deploy('Collectible', ['Collectible', 'CLT'])
    await nft.write('mint', [alice.address])
    expect(await revertName(nft.write('transferFrom', [alice.address, bob.address, 0n], {account: bob}))).toBe('NotApprovedOrHolder')
    await nft.write('approve', [bob.address, 0n], {account: alice})
    await nft.write('transferFrom', [alice.address, bob.address, 0n], {account: bob})
    expect(await nft.read('ownerOf', [0n])).toBe(bob.address)
  })

  it('refuses safe transfers to contracts that do not accept tokens', async () => {
    const nft = await deploy('Collectible', ['Collectible', 'CLT'])
    await nft.write('mint', [owner.address])
    expect(await revertName(nft.write('safeTransferFrom', [owner.address, nft.address, 0n]))).toBe('InvalidReceiver')
  })
})
