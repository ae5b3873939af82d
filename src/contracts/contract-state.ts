import {type Address, BlockNotFoundError, type Hex, type PublicClient, getAddress, numberToHex} from 'viem'

import {XaiError} from '../util/errors.js'
import {readArtifact} from './artifacts.js'
import {createChainClient} from './chain-clients.js'
import {resolveContractTarget} from './contract-target.js'
import {rpcFailed} from './deploy-contract.js'
import {ContractsErrorCode} from './errors.js'
import type {ResolvedNetwork} from './network.js'
import type {Project} from './project.js'
import {type DecodeStorageOptions, type StorageVariable, decodeStorage, parseStorageLayout} from './storage-layout.js'

export interface ContractStateOptions {
  /** A contract name (its newest deployment on this chain) or an address (then `abi` is needed). */
  target: string
  /** The artifact whose storage layout to read with (required with an address). */
  abi?: string
  network: ResolvedNetwork
  /** Mapping keys, see {@link DecodeStorageOptions.keys}; {@link parseSlotKeys} builds them from `--slot-key` values. */
  keys?: DecodeStorageOptions['keys']
  /** A block number (decimal or 0x-hex) or tag (latest, earliest, safe, finalized); default latest. */
  block?: string
  maxArrayItems?: number
  client?: PublicClient
}

export interface ContractStateResult {
  address: Address
  contract: string
  chainId: number
  /** The block every slot was read at. */
  blockNumber: string
  variables: StorageVariable[]
}

const BLOCK_TAGS = ['latest', 'earliest', 'safe', 'finalized'] as const
type BlockTag = (typeof BLOCK_TAGS)[number]

/**
 * A deployed contract's state variables, read slot by slot (eth_getStorageAt, all at one block)
 * and decoded through the storage layout solc put in its artifact. Mappings are read at the keys
 * given. No code at the address is CONTRACT_NOT_DEPLOYED (exit 3); an artifact without a layout is
 * CONTRACT_STORAGE_LAYOUT_MISSING (exit 3).
 *
 * @example
 * const {variables} = await contractState(project, {target: 'Token', network, keys: parseSlotKeys(['balanceOf=0xf39F…'])})
 */
export async function contractState(project: Project, options: ContractStateOptions): Promise<ContractStateResult> {
  const {network} = options
  const block = parseBlockSelector(options.block)
  const target = await resolveContractTarget(project, options.target, {chainId: network.chainId, abiName: options.abi})
  const address = getAddress(target.address)
  const artifact = await readArtifact(project, options.abi ?? options.target)
  if (artifact.storageLayout === null || artifact.storageLayout === undefined) {
    throw new XaiError(ContractsErrorCode.storageLayoutMissing, `The artifact of ${artifact.contractName} has no storage layout`, {
      hint: 'Recompile to write it: xai contract compile --force',
      details: {contract: artifact.contractName, sourceName: artifact.sourceName},
    })
  }
  const layout = parseStorageLayout(artifact.storageLayout)
  const client = options.client ?? createChainClient(network)
  const blockNumber = await resolveBlock(client, network, block)

  let code: Hex | undefined
  try {
    code = await client.getCode({address, blockNumber})
  } catch (err) {
    throw rpcFailed('eth_getCode', network.rpcUrl, err)
  }
  if (code === undefined || code === '0x') {
    throw new XaiError(ContractsErrorCode.notDeployed, `No contract code at ${address} on chain ${network.chainId} at block ${blockNumber}`, {
      hint:
        address.toLowerCase() === options.target.toLowerCase()
          ? 'Check the address, the network (--network/--rpc-url) and --block.'
          : `The deploy journal points to an address without code (was the chain reset?). Deploy again: xai contract deploy ${options.target}`,
      details: {address, chainId: network.chainId, blockNumber: blockNumber.toString()},
    })
  }

  const readSlot = async (slot: bigint): Promise<Hex> => {
    try {
      return (await client.getStorageAt({address, slot: numberToHex(slot, {size: 32}), blockNumber})) ?? '0x'
    } catch (err) {
      throw rpcFailed('eth_getStorageAt', network.rpcUrl, err)
    }
  }
  const variables = await decodeStorage(layout, readSlot, {keys: options.keys, maxArrayItems: options.maxArrayItems})
  return {address, contract: artifact.contractName, chainId: network.chainId, blockNumber: blockNumber.toString(), variables}
}

/**
 * `--slot-key` values as decodeStorage keys: `balanceOf=0xA` (repeatable) reads balanceOf[0xA],
 * `allowance=0xA,0xB` reads allowance[0xA][0xB], a bare `0xA` goes to every mapping that takes it.
 *
 * @example
 * parseSlotKeys(['balanceOf=0xA', 'balanceOf=0xB', '0xC']) // {balanceOf: ['0xA', '0xB'], '*': ['0xC']}
 */
export function parseSlotKeys(values: readonly string[]): Record<string, string[]> {
  const keys: Record<string, string[]> = {}
  for (const value of values) {
    // `label=keys` when what precedes the first = is a variable or member path; anything else is a key.
    const match = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)=(.*)$/s.exec(value)
    const [label, spec] = match ? [match[1]!, match[2]!] : ['*', value]
    keys[label] = [...(keys[label] ?? []), spec]
  }
  return keys
}

/** `--block` as a number or a tag; anything else is CONTRACT_INVALID_ARGUMENT (exit 2). */
export function parseBlockSelector(raw: string | undefined): bigint | BlockTag {
  if (raw === undefined) return 'latest'
  const text = raw.trim()
  if ((BLOCK_TAGS as readonly string[]).includes(text)) return text as BlockTag
  if (/^(\d+|0x[0-9a-fA-F]+)$/.test(text)) return BigInt(text)
  throw new XaiError(ContractsErrorCode.invalidArgument, `Invalid block ${JSON.stringify(raw)}`, {
    hint: `Pass a block number (decimal or 0x-hex) or one of ${BLOCK_TAGS.join(', ')}.`,
    details: {block: raw},
  })
}

/** The number of the block a selector names, so that every slot is read at the same block. */
async function resolveBlock(client: PublicClient, network: ResolvedNetwork, block: bigint | BlockTag): Promise<bigint> {
  try {
    const found = typeof block === 'bigint' ? await client.getBlock({blockNumber: block}) : await client.getBlock({blockTag: block})
    return found.number
  } catch (err) {
    if (!(err instanceof BlockNotFoundError)) throw rpcFailed('eth_getBlockByNumber', network.rpcUrl, err)
    const head = await client.getBlockNumber().catch(() => undefined)
    throw new XaiError(ContractsErrorCode.invalidArgument, `Block ${block} is not on chain ${network.chainId}${head === undefined ? '' : ` (its head is block ${head})`}`, {
      hint: `Pass a block number up to the head, or one of ${BLOCK_TAGS.join(', ')}.`,
      details: {block: block.toString(), chainId: network.chainId, ...(head === undefined ? {} : {head: head.toString()})},
    })
  }
}
