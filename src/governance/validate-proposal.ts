import {readFile} from 'node:fs/promises'
import {resolve} from 'node:path'

import {type Hex} from 'viem'

import {XaiError} from '../util/errors.js'
import {GovernanceErrorCode} from './errors.js'
import {type Proposal, type ProposalKind, describeProposal, parseProposalFile, proposalHash} from './proposal.js'

export interface ValidateProposalResult {
  /** Absolute path of the file. */
  file: string
  kind: ProposalKind
  title: string
  /** keccak256 of the canonical proposal: what `propose` submits and votes refer to. */
  hash: Hex
  /** What it would do, one line per action. */
  actions: string[]
  /** The proposal, normalised. */
  proposal: Proposal
}

/**
 * Reads and validates a proposal file, the check `propose` makes before submitting. A missing
 * file: GOV_FILE_NOT_FOUND (exit 2); an invalid one: GOV_INVALID_PROPOSAL (exit 2) with every
 * problem and its line.
 */
export async function validateProposalFile(file: string, cwd: string): Promise<ValidateProposalResult> {
  const path = resolve(cwd, file)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new XaiError(GovernanceErrorCode.fileNotFound, `Cannot read proposal file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
      hint: 'Write one with `xai governance draft <kind>`.',
      details: {path},
    })
  }
  const proposal = parseProposalFile(text, file)
  return {file: path, kind: proposal.kind, title: proposal.title, hash: proposalHash(proposal), actions: describeProposal(proposal), proposal}
}
