import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {deriveDevnetSeeds, validatorKeyFromPrivate} from '../../src/consensus/keys.js'
import {MessageError, decodeCommit, decodeEvidenceList, decodeMessage, encodeMessage, signVote} from '../../src/consensus/messages.js'

const CHAIN = 31337
const key = validatorKeyFromPrivate(deriveDevnetSeeds(CHAIN, 'fuzz', 0).validator)
const good = encodeMessage({kind: 'vote', vote: signVote(CHAIN, key, {type: 'prevote', height: 3, round: 1, value: `0x${'11'.repeat(32)}`})})

/** Decoding input from the network either succeeds or throws MessageError: nothing else escapes. */
function onlyMessageErrors(decode: () => unknown): void {
  try {
    decode()
  } catch (err) {
    expect(err).toBeInstanceOf(MessageError)
  }
}

describe('consensus decoders on arbitrary input', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), (bytes) => {
        onlyMessageErrors(() => decodeMessage(CHAIN, bytes))
        onlyMessageErrors(() => decodeCommit(bytes))
        onlyMessageErrors(() => decodeEvidenceList(CHAIN, bytes))
      }),
      {numRuns: 2_000},
    )
  })

  it('a valid vote with bytes flipped or cut', () => {
    fc.assert(
      fc.property(fc.nat({max: good.length - 1}), fc.integer({min: 1, max: 255}), fc.nat({max: good.length}), (at, xor, cut) => {
        const flipped = Uint8Array.from(good)
        flipped[at]! ^= xor
        onlyMessageErrors(() => decodeMessage(CHAIN, flipped))
        onlyMessageErrors(() => decodeMessage(CHAIN, good.subarray(0, cut)))
      }),
      {numRuns: 2_000},
    )
  })
})

describe('block bundles from the network', () => {
  it('random bytes and random RLP lists decode or fail with MessageError', async () => {
    const {Chain} = await import('../../src/chain/chain.js')
    const {createDevGenesis} = await import('../../src/chain/genesis.js')
    const {openMemoryStore} = await import('../../src/storage/database.js')
    const {ValidatorSet} = await import('../../src/consensus/validator-set.js')
    const {decodeBundle} = await import('../../src/consensus/block-codec.js')
    const {RLP} = await import('@ethereumjs/rlp')
    const chain = await Chain.create({store: openMemoryStore(), genesis: createDevGenesis({accounts: [key.address]})})
    const validators = new ValidatorSet([{address: key.address, power: 1}])
    const rlpItem = fc.letrec((tie) => ({
      item: fc.oneof({depthSize: 'small'}, fc.uint8Array({maxLength: 40}), fc.array(tie('item'), {maxLength: 5})),
    })).item
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({maxLength: 200}), rlpItem.map((item) => RLP.encode(item as never))), (bytes) => {
        onlyMessageErrors(() => decodeBundle(chain, bytes, validators))
      }),
      {numRuns: 1_000},
    )
    await chain.close()
  })
})
