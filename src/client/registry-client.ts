import {type Address, type Hex, type PublicClient, bytesToHex, getAddress, stringToBytes} from 'viem'

import {toJsonSafe} from '../contracts/abi-args.js'
import {decodeRevert, isRevert} from '../contracts/decode-revert.js'
import {rpcFailed} from '../contracts/deploy-contract.js'
import {ExitCode, XaiError} from '../util/errors.js'
import {BUILTIN_MODULES} from '../modules/builtin/index.js'
import {ModulesErrorCode} from '../modules/errors.js'
import {builtinCodeHash, registryModule, versionAt} from '../modules/host/registry.js'
import {MODULE_REGISTRY_ADDRESS, type NativeModule, isModuleId, moduleCodeHash} from '../modules/module.js'
import {type ModuleTxSender, endpointOf, revertReason, sendModuleCall} from './module-tx.js'

/**
 * Reading the module registry over JSON-RPC (its views through eth_call, as any client would)
 * and uploading a user module's source for governance to activate.
 */

const ZERO_HASH: Hex = `0x${'0'.repeat(64)}`

/** A module as the registry records it, in JSON-safe form. */
export interface ModuleInfo {
  id: string
  address: Address
  /** The current version (the one running, or the one scheduled before it runs). */
  version: string
  codeHash: Hex
  /** First block the current version runs in. */
  activeFrom: number
  /** Compiled into the node rather than activated from uploaded source. */
  builtin: boolean
  /** A version scheduled by an upgrade, and from which block it runs; null when none. */
  next: {version: string; codeHash: Hex; from: number} | null
  /** The block from which the module no longer runs; null when it is not scheduled to stop. */
  deactivateAt: number | null
  /** The version that runs in the next block, or null when none does (not yet active, or deactivated). */
  runningVersion: string | null
  /** Parameters as governance set them (the registry's JSON). */
  params: Record<string, unknown>
  /** The parameters the module runs with, defaults filled in (built-in modules); null when unknown. */
  effectiveParams: Record<string, unknown> | null
}

export interface RegistryReadOptions {
  /** Read at this block (default: the latest). */
  blockNumber?: bigint
}

/** The ids the registry lists, in the order they were added (the registry itself first). */
export async function readModuleIds(client: PublicClient, options: RegistryReadOptions = {}): Promise<string[]> {
  const ids = await readRegistry<readonly string[]>(client, 'modules', [], options)
  return [...ids]
}

/**
 * Every module the registry knows, with its versions and parameters.
 *
 * @example
 * const modules = await listModules(client)
 * modules.map((m) => m.id) // ['registry', 'governance', 'treasury', 'faucet', …]
 */
export async function listModules(client: PublicClient, options: RegistryReadOptions = {}): Promise<ModuleInfo[]> {
  const blockNumber = options.blockNumber ?? (await client.getBlockNumber())
  const ids = await readModuleIds(client, {blockNumber})
  return Promise.all(ids.map((id) => readModule(client, id, {blockNumber})))
}

/** One module's registry entry; MODULE_NOT_FOUND (exit 2) when there is none. */
export async function readModule(client: PublicClient, id: string, options: RegistryReadOptions = {}): Promise<ModuleInfo> {
  if (!isModuleId(id)) {
    throw new XaiError(ModulesErrorCode.invalidName, `"${id}" is not a module id`, {
      hint: 'A module id is lowercase letters, digits and dashes, starting with a letter (e.g. faucet); `xai module list` lists them.',
      details: {id},
    })
  }
  const blockNumber = options.blockNumber ?? (await client.getBlockNumber())
  const info = await readRegistry<readonly [Address, string, Hex, bigint, string, Hex, bigint, bigint, string]>(client, 'moduleInfo', [id], {blockNumber}, () => {
    throw moduleNotFound(id)
  })
  const [address, version, codeHash, activeFrom, nextVersion, nextCodeHash, nextFrom, deactivateAt, paramsJson] = info
  const params = JSON.parse(paramsJson === '' ? '{}' : paramsJson) as Record<string, unknown>
  const next = nextCodeHash === ZERO_HASH ? null : {version: nextVersion, codeHash: nextCodeHash, from: Number(nextFrom)}
  const builtin = codeHash === builtinCodeHash(id, version)
  const running = versionAt(
    {
      id,
      address,
      builtin,
      current: {codeHash, version, from: activeFrom},
      ...(next ? {next: {codeHash: next.codeHash, version: next.version, from: nextFrom}} : {}),
      ...(deactivateAt !== 0n ? {deactivateAt} : {}),
      params,
    },
    blockNumber + 1n,
  )
  return {
    id,
    address: getAddress(address),
    version,
    codeHash,
    activeFrom: Number(activeFrom),
    builtin,
    next,
    deactivateAt: deactivateAt === 0n ? null : Number(deactivateAt),
    runningVersion: running?.version ?? null,
    params,
    effectiveParams: effectiveParams(id, running?.version ?? version, params),
  }
}

/** Whether the registry holds source with this code hash. */
export async function hasModuleCode(client: PublicClient, codeHash: Hex): Promise<boolean> {
  return readRegistry<boolean>(client, 'hasCode', [codeHash], {})
}

export interface StoreModuleCodeResult {
  codeHash: Hex
  txHash: Hex
  blockNumber: number
  gasUsed: string
  /** Bytes stored. */
  size: number
}

/**
 * Uploads a module's source to the registry (storeCode: anyone may), where a module-activate or
 * module-upgrade proposal finds it by its code hash. Gas: about 21 000 + 5 000 per 32 bytes,
 * plus calldata.
 */
export async function storeModuleCode(
  client: PublicClient,
  sender: ModuleTxSender,
  source: string | Uint8Array,
  options: {onEvent?: (event: {type: 'simulated' | 'sent' | 'mined'; detail: string}) => void; receiptTimeoutMs?: number} = {},
): Promise<StoreModuleCodeResult> {
  const bytes = typeof source === 'string' ? stringToBytes(source) : source
  const result = await sendModuleCall({
    client,
    sender,
    to: MODULE_REGISTRY_ADDRESS,
    abi: registryModule.abi,
    functionName: 'storeCode',
    args: [bytesToHex(bytes)],
    what: 'registry.storeCode',
    rejectedCode: ModulesErrorCode.callRejected,
    rejectedHint: 'The registry refused the upload; check the sender has funds for its gas.',
    receiptTimeoutMs: options.receiptTimeoutMs,
    onEvent: options.onEvent,
  })
  return {codeHash: moduleCodeHash(bytes), txHash: result.txHash, blockNumber: Number(result.blockNumber), gasUsed: result.gasUsed.toString(), size: bytes.length}
}

/** What a built-in module runs with: its stored parameters through its schema (defaults filled). */
function effectiveParams(id: string, version: string, params: Record<string, unknown>): Record<string, unknown> | null {
  const module: NativeModule | undefined = id === registryModule.manifest.id ? registryModule : BUILTIN_MODULES.find((m) => m.manifest.id === id && m.manifest.version === version)
  if (!module) return null
  const parsed = module.params.safeParse(params)
  return parsed.success ? (toJsonSafe(parsed.data) as Record<string, unknown>) : null
}

function moduleNotFound(id: string): XaiError {
  return new XaiError(ModulesErrorCode.notFound, `The registry has no module "${id}"`, {
    exitCode: ExitCode.usage,
    hint: '`xai module list` lists the modules of the chain; a new one is activated by a module-activate proposal.',
    details: {id},
  })
}

/**
 * A registry view by eth_call. A revert goes to `onRevert` with the registry's reason when given;
 * otherwise it, like a chain without the registry (no answer at its address), is
 * MODULE_NOT_FOUND (exit 3).
 */
async function readRegistry<T>(client: PublicClient, functionName: string, args: readonly unknown[], options: RegistryReadOptions, onRevert?: (reason: string) => never): Promise<T> {
  try {
    return (await client.readContract({address: MODULE_REGISTRY_ADDRESS, abi: registryModule.abi, functionName, args, ...(options.blockNumber === undefined ? {} : {blockNumber: options.blockNumber})} as Parameters<PublicClient['readContract']>[0])) as T
  } catch (err) {
    const revert = isRevert(err) ? revertReason(decodeRevert(registryModule.abi, err)) : undefined
    if (revert !== undefined && onRevert) onRevert(revert)
    if (revert !== undefined || hasZeroData(err)) {
      throw new XaiError(ModulesErrorCode.notFound, `This chain has no module registry (registry.${functionName} ${revert === undefined ? 'returned nothing' : `reverted: ${revert}`})`, {
        hint: 'Native modules run on xai chains whose genesis activates them (a devnet made by `xai devnet up` does).',
        cause: err,
      })
    }
    throw rpcFailed(`Reading the module registry (${functionName})`, endpointOf(client), err)
  }
}

/** viem's "returned no data" (no code at the address), anywhere in the cause chain. */
export function hasZeroData(err: unknown): boolean {
  const seen = new Set<unknown>()
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e)
    if (/ZeroData/.test(String((e as {name?: unknown}).name))) return true
  }
  return false
}

