import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'

import type {Hex, PublicClient} from 'viem'

import {XaiError} from '../util/errors.js'
import {ModulesErrorCode} from '../modules/errors.js'
import {builtinCodeHash} from '../modules/host/registry.js'
import {moduleCodeHash} from '../modules/module.js'
import type {ModuleTxSender} from './module-tx.js'
import {hasModuleCode, storeModuleCode} from './registry-client.js'
import {type SubmitProposalResult, submitProposal} from './governance-client.js'
import {GovernanceErrorCode} from '../governance/errors.js'
import type {Proposal, ProposalKind} from '../governance/proposal.js'
import {validateProposalFile} from '../governance/validate-proposal.js'

/** The source of the module a module-activate or module-upgrade proposal names. */
export interface ModuleSource {
  /** Absolute path of src/<id>.ts. */
  path: string
  bytes: Uint8Array
  codeHash: Hex
}

/** A proposal file checked and ready to submit. */
export interface PreparedProposal {
  file: string
  proposal: Proposal
  hash: Hex
  actions: string[]
  /** For module-activate/upgrade of a user module: its source, when found (its hash checked). */
  source?: ModuleSource
  /** True when the proposal names code that must be in the registry (a user module's). */
  needsCode: boolean
}

/**
 * Reads and validates a proposal file (exit 2 with every problem), and for a module-activate or
 * module-upgrade of a user module finds its source — `moduleDir`/src/<id>.ts, else the folder
 * above the proposal file when it holds src/<id>.ts (the layout of `xai module create`) — and
 * checks that its code hash is the proposal's (GOV_CODE_HASH_MISMATCH, exit 2, naming both).
 */
export async function prepareProposal(options: {file: string; cwd: string; moduleDir?: string}): Promise<PreparedProposal> {
  const validated = await validateProposalFile(options.file, options.cwd)
  const {proposal} = validated
  const prepared: PreparedProposal = {file: validated.file, proposal, hash: validated.hash, actions: validated.actions, needsCode: false}
  if (!isModuleCodeKind(proposal.kind)) return prepared
  const named = proposal as Extract<Proposal, {kind: 'module-activate' | 'module-upgrade'}>
  if (named.codeHash === builtinCodeHash(named.id, named.version)) return prepared
  prepared.needsCode = true

  const candidates = options.moduleDir !== undefined ? [join(resolve(options.cwd, options.moduleDir), 'src', `${named.id}.ts`)] : [join(dirname(dirname(validated.file)), 'src', `${named.id}.ts`)]
  const path = candidates.find((candidate) => existsSync(candidate))
  if (path === undefined) {
    if (options.moduleDir !== undefined) {
      throw new XaiError(ModulesErrorCode.sourceNotFound, `No module source at ${candidates[0]}`, {
        hint: `--module-dir names the module folder (the one \`xai module create ${named.id}\` made, holding src/${named.id}.ts).`,
        details: {path: candidates[0]},
      })
    }
    return prepared
  }
  const bytes = new Uint8Array(await readFile(path))
  const codeHash = moduleCodeHash(bytes)
  if (codeHash !== named.codeHash) {
    throw new XaiError(GovernanceErrorCode.codeHashMismatch, `The code hash of ${path} is ${codeHash}, but ${validated.file} names ${named.codeHash}`, {
      hint: `The source changed since the proposal was written: set codeHash: "${codeHash}" in the proposal file (or restore the source it was written for), then propose again.`,
      details: {source: path, sourceHash: codeHash, proposalHash: named.codeHash},
    })
  }
  prepared.source = {path, bytes, codeHash}
  return prepared
}

export function isModuleCodeKind(kind: ProposalKind): kind is 'module-activate' | 'module-upgrade' {
  return kind === 'module-activate' || kind === 'module-upgrade'
}

export interface ProposeResult extends SubmitProposalResult {
  file: string
  kind: ProposalKind
  title: string
  actions: string[]
  chainId: number
  /** Module proposals of user code: true when this run uploaded the source, false when the registry had it. */
  codeUploaded?: boolean
  /** The upload's transaction, when there was one. */
  codeTxHash?: Hex
}

export type ProposeProgress = {type: 'upload'; detail: string} | {type: 'uploaded'; detail: string} | {type: 'submit'; detail: string}

/**
 * Uploads the module source when the registry lacks it (MODULE_SOURCE_NOT_FOUND, exit 2, when it
 * does and no source was found), then submits the proposal and waits for it to be mined.
 */
export async function submitPreparedProposal(
  prepared: PreparedProposal,
  options: {client: PublicClient; sender: ModuleTxSender; chainId: number; deposit?: bigint; receiptTimeoutMs?: number; onProgress?: (event: ProposeProgress) => void},
): Promise<ProposeResult> {
  const {client, sender} = options
  const progress = options.onProgress ?? (() => {})
  let codeUploaded: boolean | undefined
  let codeTxHash: Hex | undefined
  if (prepared.needsCode) {
    const named = prepared.proposal as Extract<Proposal, {kind: 'module-activate' | 'module-upgrade'}>
    if (await hasModuleCode(client, named.codeHash)) {
      codeUploaded = false
    } else {
      if (!prepared.source) {
        throw new XaiError(ModulesErrorCode.sourceNotFound, `The registry has no code with hash ${named.codeHash}, and no source of module ${named.id} was found to upload`, {
          hint: `Pass --module-dir <the module folder holding src/${named.id}.ts>, or keep the proposal in that folder's proposals/.`,
          details: {codeHash: named.codeHash, file: prepared.file},
        })
      }
      progress({type: 'upload', detail: `Uploading ${prepared.source.path} (${prepared.source.bytes.length} bytes) to the module registry`})
      const stored = await storeModuleCode(client, sender, prepared.source.bytes, {receiptTimeoutMs: options.receiptTimeoutMs})
      progress({type: 'uploaded', detail: `Stored code ${stored.codeHash} in block ${stored.blockNumber} (tx ${stored.txHash})`})
      codeUploaded = true
      codeTxHash = stored.txHash
    }
  }
  progress({type: 'submit', detail: `Submitting "${prepared.proposal.title}" (${prepared.proposal.kind})`})
  const submitted = await submitProposal(client, sender, {proposal: prepared.proposal, deposit: options.deposit, receiptTimeoutMs: options.receiptTimeoutMs})
  return {
    ...submitted,
    file: prepared.file,
    kind: prepared.proposal.kind,
    title: prepared.proposal.title,
    actions: prepared.actions,
    chainId: options.chainId,
    ...(codeUploaded === undefined ? {} : {codeUploaded}),
    ...(codeTxHash === undefined ? {} : {codeTxHash}),
  }
}
