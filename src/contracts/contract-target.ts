import {type Abi, type Address, getAddress, isAddress} from 'viem'

import {XaiError} from '../util/errors.js'
import {readArtifact} from './artifacts.js'
import {journalPath, latestDeployed, readJournal} from './deployment-journal.js'
import {ContractsErrorCode} from './errors.js'
import type {Project} from './project.js'

/** The contract a `call`/`send` talks to: where it is and the ABI to speak to it with. */
export interface ContractTarget {
  address: Address
  abi: Abi
  /** The artifact's name, when the ABI comes from one. */
  contract: string | null
}

/**
 * `Token` → the newest deployment of Token on this chain (from the journal) with Token's ABI;
 * `0x…` → that address, with the ABI of the artifact `abiName` (required then).
 */
export async function resolveContractTarget(project: Project | undefined, target: string, options: {chainId: number; abiName?: string}): Promise<ContractTarget> {
  if (/^0x[0-9a-fA-F]{40}$/.test(target)) {
    if (!isAddress(target, {strict: true})) {
      throw new XaiError(ContractsErrorCode.invalidArgument, `${target} is not a correctly checksummed address`, {hint: 'Pass it checksummed or all lowercase.'})
    }
    if (!options.abiName) {
      throw new XaiError(ContractsErrorCode.invalidArgument, 'An address needs an ABI (and, for state, its storage layout)', {hint: 'Pass --abi <ContractName> (a compiled artifact of the project).'})
    }
    const artifact = await readArtifact(requireProject(project), options.abiName)
    return {address: getAddress(target), abi: artifact.abi, contract: artifact.contractName}
  }
  const proj = requireProject(project)
  const artifact = await readArtifact(proj, options.abiName ?? target)
  const path = journalPath(proj.root, options.chainId, readName(target))
  const entry = latestDeployed(await readJournal(path, artifact.contractName, options.chainId))
  if (!entry?.address) {
    throw new XaiError(ContractsErrorCode.notDeployed, `${target} is not deployed on chain ${options.chainId} (no deployment in ${path})`, {
      hint: `Deploy it first: xai contract deploy ${target} (same --network/--rpc-url), or pass its address and --abi ${artifact.contractName}.`,
      details: {contract: target, chainId: options.chainId},
    })
  }
  return {address: getAddress(entry.address), abi: artifact.abi, contract: artifact.contractName}
}

function readName(target: string): string {
  return target.includes(':') ? target.slice(target.lastIndexOf(':') + 1) : target
}

function requireProject(project: Project | undefined): Project {
  if (project) return project
  throw new XaiError(ContractsErrorCode.projectNotFound, 'Not in a contracts project: contracts and ABIs are looked up in one', {
    hint: 'Run inside a project made with `xai contract init` (or pass --project).',
  })
}
