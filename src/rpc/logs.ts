import {bytesToHex} from '@ethereumjs/util'

import type {BlockRecord} from '../chain/block-store.js'
import {type Hex, type RpcLog, bloomBits, formatLog, hex, qty} from './format.js'

type Bytes = Uint8Array

/** Which logs a query wants: any of `addresses` (none = all), and per topic position any of a set. */
export interface LogMatcher {
  addresses: Bytes[]
  topics: (Bytes[] | null)[]
}

/**
 * A compiled log filter: address and topic sets as hex for matching, and their bloom positions so
 * blocks whose header bloom cannot contain a match are skipped without reading their receipts.
 */
export class CompiledFilter {
  private readonly addresses: Set<string> | undefined
  private readonly topics: (Set<string> | undefined)[]
  /** Per clause (address set, then each topic position): alternatives, each a list of bloom bits. */
  private readonly bloomClauses: [number, number][][][]

  constructor(matcher: LogMatcher) {
    this.addresses = matcher.addresses.length > 0 ? new Set(matcher.addresses.map((a) => bytesToHex(a))) : undefined
    this.topics = matcher.topics.map((t) => (t && t.length > 0 ? new Set(t.map((x) => bytesToHex(x))) : undefined))
    this.bloomClauses = []
    if (matcher.addresses.length > 0) this.bloomClauses.push(matcher.addresses.map(bloomBits))
    for (const t of matcher.topics) if (t && t.length > 0) this.bloomClauses.push(t.map(bloomBits))
  }

  /** False when the block's bloom rules out every match. */
  mayMatch(bloom: Bytes): boolean {
    for (const alternatives of this.bloomClauses) {
      let any = false
      for (const bits of alternatives) {
        if (bits.every(([byte, bit]) => (bloom[byte]! & bit) !== 0)) {
          any = true
          break
        }
      }
      if (!any) return false
    }
    return true
  }

  matches(address: Bytes, topics: Bytes[]): boolean {
    if (this.addresses && !this.addresses.has(bytesToHex(address))) return false
    if (this.topics.length > topics.length) {
      // A position constrained (or merely listed) beyond the log's topics cannot match.
      return false
    }
    for (let i = 0; i < this.topics.length; i++) {
      const wanted = this.topics[i]
      if (wanted && !wanted.has(bytesToHex(topics[i]!))) return false
    }
    return true
  }

  /** Appends the block's matching logs to `out`; returns false if `limit` would be exceeded. */
  collect(record: BlockRecord, out: RpcLog[], limit: number): boolean {
    const {block, receipts} = record
    if (!this.mayMatch(block.header.logsBloom)) return true
    let blockHash: Hex | undefined
    let logIndex = 0
    for (let t = 0; t < receipts.length; t++) {
      const logs = receipts[t]!.logs
      for (const log of logs) {
        if (this.matches(log[0], log[1])) {
          if (out.length >= limit) return false
          blockHash ??= hex(block.hash())
          out.push(
            formatLog(log, {
              blockHash,
              blockNumber: qty(block.header.number),
              blockTimestamp: qty(block.header.timestamp),
              transactionHash: hex(block.transactions[t]!.hash()),
              transactionIndex: qty(t),
              logIndex,
            }),
          )
        }
        logIndex++
      }
    }
    return true
  }
}
