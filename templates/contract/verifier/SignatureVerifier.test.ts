import {type Hex, keccak256, toHex} from 'viem'
import {describe, expect, it} from 'vitest'

import {accounts, deploy, revertName} from './helpers/xai.js'

const [signer, other] = accounts as [typeof accounts[0], typeof accounts[0]]
/** secp256k1's curve order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('SignatureVerifier', () => {
  it('recovers the signer of an EIP-191 signed hash', async () => {
    const verifier = await deploy('SignatureVerifier')
    const hash = keccak256(toHex('hello xai'))
    const signature = await signer.signMessage({message: {raw: hash}})
    expect(await verifier.read('recover', [hash, signature])).toBe(signer.address)
    expect(await verifier.read('verify', [signer.address, hash, signature])).toBe(true)
    expect(await verifier.read('verify', [other.address, hash, signature])).toBe(false)
  })

  it('rejects the malleable twin of a valid signature', async () => {
    const verifier = await deploy('SignatureVerifier')
    const hash = keccak256(toHex('hello xai'))
    const signature = await signer.signMessage({message: {raw: hash}})
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const v = Number.parseInt(signature.slice(130, 132), 16)
    const twin = `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex
    expect(await revertName(verifier.read('recover', [hash, twin]))).toBe('MalleableSignature')
  })
})
