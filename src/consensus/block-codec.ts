import {type BlockHeader, createBlockHeaderFromBytesArray} from '@ethereumjs/block'
import {RLP} from '@ethereumjs/rlp'
import type {TypedTransaction} from '@ethereumjs/tx'
import {bytesToHex} from '@ethereumjs/util'
import {keccak_256} from '@noble/hashes/sha3.js'

import {type Chain, decodeTransaction} from '../chain/chain.js'
import type {Mempool} from '../chain/mempool.js'
import {MessageError, type Evidence, decodeEvidenceList, encodeEvidenceList} from './messages.js'
import type {ValidatorSet} from './validator-set.js'
import type {ValueId} from './types.js'

type Bytes = Uint8Array

/** A proposed block as it travels: the Ethereum block and the evidence its extraData commits to. */
export interface BlockBundle {
  header: BlockHeader
  hash: ValueId
  transactions: TypedTransaction[]
  evidence: Evidence[]
}

/** rlp([serialized block, evidence list]): what a proposal and a sync response carry. */
export function encodeBundle(serializedBlock: Bytes, evidence: Evidence[]): Bytes {
  return RLP.encode([serializedBlock, encodeEvidenceList(evidence)])
}

/**
 * Decodes a bundle without executing anything. Transactions the mempool already holds are taken
 * from it (their senders are recovered already); the others are decoded here and get their sender
 * recovered when they are executed. Throws MessageError on malformed input.
 */
export function decodeBundle(chain: Chain, bytes: Bytes, validators: ValidatorSet, mempool?: Mempool): BlockBundle {
  let decoded: unknown
  try {
    decoded = RLP.decode(bytes)
  } catch (err) {
    throw new MessageError(`block bundle is not RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !(decoded[0] instanceof Uint8Array) || !(decoded[1] instanceof Uint8Array)) {
    throw new MessageError('a block bundle is [block, evidence]')
  }
  const evidence = decodeEvidenceList(Number(chain.chainId), decoded[1], validators)
  let block: unknown
  try {
    block = RLP.decode(decoded[0])
  } catch (err) {
    throw new MessageError(`block is not RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(block) || block.length < 2 || !Array.isArray(block[0]) || !Array.isArray(block[1])) {
    throw new MessageError('a block is [header, transactions, …]')
  }
  if ((block[2] !== undefined && (!Array.isArray(block[2]) || block[2].length > 0)) || (block[3] !== undefined && (!Array.isArray(block[3]) || block[3].length > 0))) {
    throw new MessageError('blocks carry no uncles and no withdrawals')
  }
  let header: BlockHeader
  try {
    header = createBlockHeaderFromBytesArray(block[0] as Bytes[], {common: chain.common, skipConsensusFormatValidation: true})
  } catch (err) {
    throw new MessageError(`bad block header: ${(err as Error).message}`)
  }
  const keccak = chain.common.customCrypto.keccak256 ?? keccak_256
  const transactions = (block[1] as unknown[]).map((item) => {
    const raw = item instanceof Uint8Array ? item : RLP.encode(item as Bytes[])
    // A transaction's hash is keccak256 of its encoding: one the mempool holds (decoded, sender
    // recovered) is taken from there without decoding it again.
    const pooled = mempool?.get(keccak(raw))
    if (pooled) return pooled.tx
    try {
      return decodeTransaction(chain, raw)
    } catch (err) {
      throw new MessageError(`bad transaction in block: ${(err as Error).message}`)
    }
  })
  return {header, hash: hashId(header.hash()), transactions, evidence}
}

export function hashId(hash: Bytes): ValueId {
  return bytesToHex(hash).toLowerCase() as ValueId
}
