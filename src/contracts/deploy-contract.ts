import {relative} from 'node:path'

import {type Hex, type PrivateKeyAccount, type PublicClient, type TransactionReceipt, encodeDeployData, getAddress, keccak256} from 'viem'

import {ExitCode, XaiError, errorMessage, type ErrorCode} from '../util/errors.js'
import {parseAbiArgs} from './abi-args.js'
import {type Artifact, readArtifact} from './artifacts.js'
import {createChainClient, explainMinedRevert, revertedError, signWithEstimate} from './chain-clients.js'
import {compileProject} from './compile-project.js'
import {decodeRevert, isRevert} from './decode-revert.js'
import {type DeploymentEntry, decideDeploy, journalPath, readJournal, withEntry, writeJournal} from './deployment-journal.js'
import {ContractsErrorCode} from './errors.js'
import type {ResolvedNetwork} from './network.js'
import type {Project} from './project.js'

export type DeployStep = 'compile' | 'simulate' | 'send' | 'receipt' | 'record'
export const DEPLOY_STEPS: readonly DeployStep[] = ['compile', 'simulate', 'send', 'receipt', 'record']

export type DeployEvent =
  | {type: 'start'; step: DeployStep; title: string}
  | {type: 'done'; step: DeployStep; title: string}
  | {type: 'skip'; step: DeployStep; title: string}

export interface DeployContractOptions {
  contract: string
  /** Constructor arguments as typed on the command line. */
  args: string[]
  network: ResolvedNetwork
  signer: PrivateKeyAccount
  /** Deploy a new instance even if the journal has this bytecode and args deployed. */
  force?: boolean
  /** Compile first (incremental); default true. */
  compile?: boolean
  /** Milliseconds to wait for the receipt (default 120 s). */
  receiptTimeoutMs?: number
  onEvent?: (event: DeployEvent) => void
  now?: () => Date
}

export interface DeployContractResult {
  contract: string
  /** deployed: a new instance; existing: the journal's (no transaction); resumed: an interrupted deploy finished. */
  status: 'deployed' | 'existing' | 'resumed'
  address: Hex
  txHash: Hex
  blockNumber: string
  gasUsed: string
  from: Hex
  nonce: number
  chainId: number
  network: string | null
  rpcUrl: string
  /** The journal file, relative to the project root. */
  journal: string
}

/**
 * Deploys a compiled contract with a write-ahead journal (`.xai/deployments/<chainId>/<Name>.json`):
 * compile → simulate (eth_estimateGas; a revert is decoded) → sign and record 'sent' (raw tx
 * included) → broadcast → wait for the receipt → record 'deployed'. Re-running is safe: the same
 * bytecode and args already deployed is a no-op; a 'sent' entry is resumed by re-broadcasting the
 * recorded transaction, never by signing a new one; `force` deploys anew.
 *
 * @example
 * const result = await deployContract(project, {contract: 'Token', args: ['Token', 'TOK', '1000'], network, signer})
 */
export async function deployContract(project: Project, options: DeployContractOptions): Promise<DeployContractResult> {
  const emit = options.onEvent ?? (() => {})
  const now = options.now ?? (() => new Date())
  const {network, signer} = options

  emit({type: 'start', step: 'compile', title: 'Compile'})
  if (options.compile !== false && project.external === undefined) await compileProject(project)
  const artifact = await readArtifact(project, options.contract)
  const name = artifact.contractName
  assertDeployable(artifact)
  const ctor = artifact.abi.find((item) => item.type === 'constructor')
  const args = parseAbiArgs(ctor && 'inputs' in ctor ? ctor.inputs : [], options.args, `The constructor of ${name}`)
  const data = encodeDeployData({abi: artifact.abi, bytecode: artifact.bytecode, args})
  const argsEncoded = `0x${data.slice(artifact.bytecode.length)}` as Hex
  const bytecodeHash = keccak256(artifact.bytecode)
  emit({type: 'done', step: 'compile', title: `Compiled ${name}`})

  const client = createChainClient(network)
  const path = journalPath(project.root, network.chainId, name)
  let journal = await readJournal(path, name, network.chainId)
  const decision = await decideDeploy(journal, {bytecodeHash, argsEncoded, force: options.force}, async (address) => {
    const code = await client.getCode({address})
    return code !== undefined && code !== '0x'
  })
  const base = {contract: name, chainId: network.chainId, network: network.name, rpcUrl: network.rpcUrl, journal: relative(project.root, path)}

  if (decision.action === 'existing') {
    const {entry} = decision
    for (const step of ['simulate', 'send', 'receipt', 'record'] as const) emit({type: 'skip', step, title: `Already deployed at ${entry.address}`})
    return {...base, status: 'existing', address: entry.address!, txHash: entry.txHash, blockNumber: entry.blockNumber ?? '', gasUsed: entry.gasUsed ?? '', from: entry.from, nonce: entry.nonce}
  }

  let entry: DeploymentEntry
  if (decision.action === 'resume') {
    entry = decision.entry
    emit({type: 'skip', step: 'simulate', title: `Resume the deployment recorded in ${base.journal}`})
    emit({type: 'start', step: 'send', title: `Re-broadcast ${entry.txHash}`})
    await rebroadcast(client, entry)
    emit({type: 'done', step: 'send', title: `Sent ${entry.txHash} (recorded, nonce ${entry.nonce})`})
  } else {
    emit({type: 'start', step: 'simulate', title: 'Simulate'})
    let gas: bigint
    try {
      gas = await client.estimateGas({account: signer, data})
    } catch (err) {
      if (isRevert(err)) throw revertedError(`Deploying ${name}`, decodeRevert(artifact.abi, err))
      throw rpcFailed('eth_estimateGas', network.rpcUrl, err)
    }
    emit({type: 'done', step: 'simulate', title: `Simulated (gas ${gas})`})

    emit({type: 'start', step: 'send', title: 'Sign and send'})
    let signed: {nonce: number; raw: Hex}
    try {
      signed = await signWithEstimate(client, signer, network.chainId, {gas, data})
    } catch (err) {
      throw rpcFailed('preparing the transaction', network.rpcUrl, err)
    }
    const {nonce, raw} = signed
    entry = {name, bytecodeHash, argsEncoded, from: signer.address, nonce, rawTx: raw, txHash: keccak256(raw), status: 'sent', sentAt: now().toISOString()}
    // Write-ahead: the signed transaction is on disk before the node sees it.
    journal = withEntry(journal, entry)
    await writeJournal(path, journal)
    try {
      await client.sendRawTransaction({serializedTransaction: raw})
    } catch (err) {
      const known = await client.getTransaction({hash: entry.txHash}).then(
        () => true,
        () => false,
      )
      if (!known && !isTransportError(err)) {
        // The node refused it: nothing is pending, so the entry must not be resumed.
        journal = {...journal, deployments: journal.deployments.filter((e) => e.txHash !== entry.txHash)}
        await writeJournal(path, journal)
        throw new XaiError(ContractsErrorCode.txRejected, `The node rejected the deployment of ${name}: ${shortMessage(err)}`, {
          hint: 'Check the sender has funds (--account/--private-key) and the chain accepts the transaction.',
          cause: err,
        })
      }
      if (!known) throw rpcFailed('eth_sendRawTransaction', network.rpcUrl, err)
    }
    emit({type: 'done', step: 'send', title: `Sent ${entry.txHash} (nonce ${nonce})`})
  }

  emit({type: 'start', step: 'receipt', title: 'Wait for the receipt'})
  const receipt = await waitForReceipt(client, entry.txHash, {
    timeoutMs: options.receiptTimeoutMs,
    code: ContractsErrorCode.rpcUnreachable,
    hint: 'The deployment is recorded as sent; run the same deploy again to wait for it (it will not be signed twice).',
  })
  emit({type: 'done', step: 'receipt', title: `Mined in block ${receipt.blockNumber}`})

  emit({type: 'start', step: 'record', title: 'Record'})
  const mined = {blockNumber: receipt.blockNumber.toString(), gasUsed: receipt.gasUsed.toString(), minedAt: now().toISOString()}
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    journal = withEntry(journal, {...entry, ...mined, status: 'failed'})
    await writeJournal(path, journal)
    const revert = await explainMinedRevert(client, artifact.abi, {from: entry.from, data, blockNumber: receipt.blockNumber})
    throw revertedError(`Deploying ${name} (tx ${entry.txHash})`, revert, {txHash: entry.txHash})
  }
  const address = getAddress(receipt.contractAddress)
  journal = withEntry(journal, {...entry, ...mined, status: 'deployed', address})
  await writeJournal(path, journal)
  emit({type: 'done', step: 'record', title: `Recorded in ${base.journal}`})
  return {
    ...base,
    status: decision.action === 'resume' ? 'resumed' : 'deployed',
    address,
    txHash: entry.txHash,
    blockNumber: mined.blockNumber,
    gasUsed: mined.gasUsed,
    from: entry.from,
    nonce: entry.nonce,
  }
}

/** Makes sure the node has the recorded transaction: mined, pending, or broadcast again now. */
async function rebroadcast(client: PublicClient, entry: DeploymentEntry): Promise<void> {
  const receipt = await client.getTransactionReceipt({hash: entry.txHash}).catch(() => undefined)
  if (receipt) return
  const pending = await client.getTransaction({hash: entry.txHash}).catch(() => undefined)
  if (pending) return
  try {
    await client.sendRawTransaction({serializedTransaction: entry.rawTx})
  } catch (err) {
    if (/already known|known transaction|already imported/i.test(shortMessage(err))) return
    throw new XaiError(ContractsErrorCode.journalStale, `The interrupted deployment ${entry.txHash} can no longer be sent: ${shortMessage(err)}`, {
      hint: 'Its nonce was probably used by another transaction (or the chain was reset); deploy a new instance with --force.',
      cause: err,
      details: {txHash: entry.txHash, nonce: entry.nonce},
    })
  }
}

function assertDeployable(artifact: Artifact): void {
  if (artifact.bytecode === '0x' || artifact.bytecode.length <= 2) {
    throw new XaiError(ContractsErrorCode.notDeployable, `${artifact.contractName} has no bytecode (an interface or abstract contract)`, {
      hint: 'Deploy a concrete contract.',
    })
  }
  if (Object.keys(artifact.linkReferences ?? {}).length > 0) {
    throw new XaiError(ContractsErrorCode.notDeployable, `${artifact.contractName} needs linked libraries, which deploy does not support yet`, {
      hint: 'Make the library functions internal, or deploy with a script.',
    })
  }
}

export function shortMessage(err: unknown): string {
  const short = (err as {shortMessage?: unknown}).shortMessage
  const details = (err as {details?: unknown}).details
  if (typeof short === 'string') return typeof details === 'string' && details && !short.includes(details) ? `${short} (${details})` : short
  return errorMessage(err)
}

/**
 * The receipt of a sent transaction (polled every 200 ms, 120 s by default); no receipt in time
 * is an environment error with `code` that names the hash (the transaction was sent).
 */
export async function waitForReceipt(
  client: PublicClient,
  hash: Hex,
  options: {timeoutMs?: number; code: ErrorCode; what?: string; hint?: string},
): Promise<TransactionReceipt> {
  try {
    return await client.waitForTransactionReceipt({hash, timeout: options.timeoutMs ?? 120_000, pollingInterval: 200})
  } catch (err) {
    throw new XaiError(options.code, `No receipt for ${options.what ? `${options.what} (${hash})` : hash}: ${shortMessage(err)}`, {
      exitCode: ExitCode.environment,
      hint: options.hint ?? `The transaction was sent; look it up later (eth_getTransactionReceipt ${hash}).`,
      cause: err,
      details: {txHash: hash},
    })
  }
}

/** The HTTP transport failed (no answer), rather than the node answering with an error. */
export function isTransportError(err: unknown): boolean {
  const seen = new Set<unknown>()
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e)
    const name = (e as {name?: unknown}).name
    if (name === 'HttpRequestError' || name === 'TimeoutError' || name === 'AbortError') return true
  }
  return false
}

export function rpcFailed(what: string, rpcUrl: string, err: unknown): XaiError {
  return new XaiError(ContractsErrorCode.rpcUnreachable, `${what} failed at ${rpcUrl}: ${shortMessage(err)}`, {
    hint: 'Check that the node is running and reachable.',
    cause: err,
  })
}
