import {MerklePatriciaTrie} from '@ethereumjs/mpt'
import {RLP} from '@ethereumjs/rlp'
import {bytesToHex} from '@ethereumjs/util'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {orderedTrieRoot} from '../../../src/chain/trie-root.js'

async function referenceRoot(values: Uint8Array[]): Promise<string> {
  const trie = new MerklePatriciaTrie()
  for (let i = 0; i < values.length; i++) await trie.put(RLP.encode(i), values[i]!)
  return bytesToHex(trie.root())
}

describe('orderedTrieRoot', () => {
  it.each([0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 300, 1000])('matches @ethereumjs/mpt for %i items', async (n) => {
    const values = Array.from({length: n}, (_, i) => new Uint8Array(1 + ((i * 37) % 120)).fill(i % 251))
    expect(bytesToHex(orderedTrieRoot(values))).toBe(await referenceRoot(values))
  })

  it('matches @ethereumjs/mpt for random lists (short values embed, long ones hash)', async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({minLength: 1, maxLength: 80}), {maxLength: 200}), async (values) => {
        expect(bytesToHex(orderedTrieRoot(values))).toBe(await referenceRoot(values))
      }),
      {numRuns: 60, seed},
    )
  })
})
