import {RLP} from '@ethereumjs/rlp'

import {type Commit, type Evidence, checkEvidence, decodeCommit, decodeEvidenceList, encodeCommit, encodeEvidenceList} from './messages.js'

type Bytes = Uint8Array

/**
 * What a node stores beside each block (`'c' + height`, in the block's own atomic batch): the
 * commit that decided it and the evidence it holds.
 */
export function encodeConsensusRecord(commit: Commit, evidence: Evidence[]): Bytes {
  return RLP.encode([encodeCommit(commit), encodeEvidenceList(evidence)])
}

export function decodeConsensusRecord(chainId: number, raw: Bytes): {commit: Commit; evidence: Evidence[]} {
  const [commit, evidence] = RLP.decode(raw) as Bytes[]
  const list = decodeEvidenceList(chainId, evidence!)
  for (const e of list) checkEvidence(e)
  return {commit: decodeCommit(commit!), evidence: list}
}

