import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {type Abi, type Hex, decodeFunctionResult, encodeDeployData, encodeFunctionData, getAddress, keccak256} from 'viem'

import type {Chain} from '../chain/chain.js'
import {parseAbiArgs, toJsonSafe} from '../contracts/abi-args.js'
import {type Artifact, listArtifacts, readArtifact} from '../contracts/artifacts.js'
import {revertedError} from '../contracts/chain-clients.js'
import {decodeRevert, decodeRevertData} from '../contracts/decode-revert.js'
import {ContractsErrorCode} from '../contracts/errors.js'
import type {Project} from '../contracts/project.js'
import {functionSignature, selectFunction} from '../contracts/select-function.js'
import {parseSlotKeys} from '../contracts/contract-state.js'
import {decodeStorage} from '../contracts/storage-layout.js'
import {XaiError} from '../util/errors.js'
import {RpcError, RpcErrorCode} from '../rpc/errors.js'
import {RestErrorCode, restError} from './rest-errors.js'
import type {RestRoute} from './route.js'
import {
  type CallRequest,
  type CallResponse,
  type DeployRequest,
  type DeployResponse,
  type HealthResponse,
  type StateQuery,
  type StateResponse,
  callRequestSchema,
  callResponseSchema,
  deployRequestSchema,
  deployResponseSchema,
  healthResponseSchema,
  stateParamsSchema,
  stateQuerySchema,
  stateResponseSchema,
} from './schemas.js'

export interface ContractRoutesDeps {
  /** Runs a JSON-RPC method of this node in-process (the same validation and signing as a request). */
  invoke(method: string, params: unknown[]): Promise<unknown>
  chain: Chain
  /** The contracts project whose artifacts requests may name; undefined when the node has none. */
  project: (() => Promise<Project>) | undefined
  /** How long a deploy waits for its receipt (default 60 s). */
  receiptTimeoutMs?: number
}

interface RpcReceipt {
  status: Hex
  contractAddress: Hex | null
  blockNumber: Hex
  gasUsed: Hex
  from: Hex
}

const toHexQuantity = (value: bigint | number): Hex => `0x${value.toString(16)}`
const decimal = (hex: Hex | string): string => BigInt(hex).toString()

/**
 * GET /health and the contract operations: deploy (signed by one of the node's unlocked
 * accounts), call, and decoded state. They run through the node's own JSON-RPC methods, so a
 * REST request and the equivalent JSON-RPC requests behave alike.
 */
export function contractRoutes(deps: ContractRoutesDeps): RestRoute[] {
  const {invoke, chain} = deps

  const project = async (): Promise<Project> => {
    if (!deps.project) {
      throw restError(RestErrorCode.noProject, 'This node has no contracts project, so artifacts cannot be named', {
        hint: 'Send bytecode and abi instead, or start the devnet inside a contracts project (xai devnet up --project <dir>).',
      })
    }
    return deps.project()
  }

  /** A block number: the tag resolved now, so that every read of a request sees one block. */
  const blockNumberOf = async (tag: string | undefined): Promise<bigint> => {
    if (tag === 'earliest') return 0n
    if (tag !== undefined && /^(0x)?[0-9a-fA-F]+$/.test(tag)) return BigInt(tag)
    // latest, pending, safe and finalized are all the head on an instant-finality chain.
    return BigInt((await invoke('eth_blockNumber', [])) as Hex)
  }

  const health: RestRoute = {
    method: 'GET',
    path: '/health',
    operationId: 'health',
    summary: "The node's liveness, chain id and height",
    auth: false,
    responses: {200: {description: 'The node is up', schema: healthResponseSchema}},
    handle: async () => ({status: 200, body: {status: 'ok', chainId: Number(chain.chainId), blockNumber: Number(chain.head.header.number)} satisfies HealthResponse}),
  }

  const deploy: RestRoute = {
    method: 'POST',
    path: '/contracts/deploy',
    operationId: 'deployContract',
    summary: 'Deploy a contract (an artifact by name, or bytecode) and wait for its receipt',
    description: 'Simulated first (a revert is decoded and nothing is sent), then signed by one of the accounts the node signs for, sent, and answered once mined.',
    auth: true,
    body: deployRequestSchema,
    errors: [404, 422, 504],
    responses: {201: {description: 'Deployed', schema: deployResponseSchema}},
    handle: async ({body}: {body: DeployRequest}) => {
      const artifact = body.artifact === undefined ? undefined : await readArtifact(await project(), body.artifact)
      const abi = (artifact?.abi ?? body.abi ?? []) as Abi
      const bytecode = (artifact?.bytecode ?? body.bytecode) as Hex
      if (bytecode === '0x') throw notDeployable(artifact?.contractName ?? 'the bytecode', 'has no creation code (an interface or abstract contract)')
      if (artifact && Object.keys(artifact.linkReferences).length > 0) throw notDeployable(artifact.contractName, 'needs libraries linked first')
      const ctor = abi.find((item): item is Extract<Abi[number], {type: 'constructor'}> => item.type === 'constructor')
      const args = parseAbiArgs(ctor?.inputs ?? [], toArgStrings(body.args ?? []), 'the constructor')
      const data = ctor ? encodeDeployData({abi, bytecode, args}) : bytecode
      const from = body.from ?? (((await invoke('eth_accounts', [])) as string[])[0] ?? noAccount())
      const tx = {from, data, ...(body.value === undefined ? {} : {value: toHexQuantity(BigInt(body.value))})}
      let gas: Hex
      try {
        gas = body.gas === undefined ? ((await invoke('eth_estimateGas', [tx, 'pending'])) as Hex) : toHexQuantity(BigInt(body.gas))
      } catch (err) {
        throw asRevert(err, abi, `Deploying ${artifact?.contractName ?? 'the contract'}`)
      }
      const txHash = (await invoke('eth_sendTransaction', [{...tx, gas: toHexQuantity((BigInt(gas) * 12n) / 10n)}])) as Hex
      const receipt = await waitForReceipt(txHash)
      if (receipt.status !== '0x1' || !receipt.contractAddress) {
        throw new XaiError(ContractsErrorCode.reverted, `The deployment ${txHash} reverted in block ${decimal(receipt.blockNumber)}`, {
          hint: 'Replay it with eth_call to see why (the constructor reverted or ran out of gas).',
          details: {txHash, blockNumber: decimal(receipt.blockNumber), gasUsed: decimal(receipt.gasUsed)},
        })
      }
      return {
        status: 201,
        body: {
          address: getAddress(receipt.contractAddress),
          txHash,
          blockNumber: decimal(receipt.blockNumber),
          gasUsed: decimal(receipt.gasUsed),
          from: getAddress(receipt.from),
          contract: artifact?.contractName ?? null,
        } satisfies DeployResponse,
      }
    },
  }

  const call: RestRoute = {
    method: 'POST',
    path: '/contracts/call',
    operationId: 'callContract',
    summary: 'Call a contract function (eth_call) and decode what it returns',
    auth: false,
    body: callRequestSchema,
    errors: [404, 422],
    responses: {200: {description: 'The decoded return value', schema: callResponseSchema}},
    handle: async ({body}: {body: CallRequest}) => {
      const abi = (body.artifact === undefined ? body.abi : (await readArtifact(await project(), body.artifact)).abi) as Abi
      const rawArgs = toArgStrings(body.args ?? [])
      const fn = selectFunction(abi, body.function, rawArgs.length)
      const signature = functionSignature(fn)
      const args = parseAbiArgs(fn.inputs, rawArgs, signature)
      const blockNumber = await blockNumberOf(body.block)
      let data: Hex
      try {
        const request = {to: body.address, data: encodeFunctionData({abi: [fn], functionName: fn.name, args}), ...(body.from ? {from: body.from} : {})}
        data = (await invoke('eth_call', [request, toHexQuantity(blockNumber)])) as Hex
      } catch (err) {
        throw asRevert(err, abi, `${body.address}.${signature}`)
      }
      const result = toJsonSafe(decodeFunctionResult({abi: [fn], functionName: fn.name, data}))
      return {status: 200, body: {address: getAddress(body.address), function: signature, result, data, blockNumber: blockNumber.toString()} satisfies CallResponse}
    },
  }

  const state: RestRoute = {
    method: 'GET',
    path: '/contracts/{address}/state',
    operationId: 'contractState',
    summary: "An account's balance, nonce and code, and a contract's storage decoded through its artifact's layout",
    auth: false,
    params: stateParamsSchema,
    query: stateQuerySchema,
    errors: [404, 422],
    responses: {200: {description: 'The state at the block', schema: stateResponseSchema}},
    handle: async ({params, query}: {params: {address: Hex}; query: StateQuery}) => {
      const address = getAddress(params.address)
      const blockNumber = await blockNumberOf(query.block)
      const at = toHexQuantity(blockNumber)
      const [code, balance, nonce] = (await Promise.all([invoke('eth_getCode', [address, at]), invoke('eth_getBalance', [address, at]), invoke('eth_getTransactionCount', [address, at])])) as [Hex, Hex, Hex]
      let artifact: Artifact | undefined
      if (query.artifact !== undefined) {
        artifact = await readArtifact(await project(), query.artifact)
        if (!codeMatches(artifact.deployedBytecode, code)) {
          throw restError(RestErrorCode.artifactMismatch, `The code at ${address} is not ${artifact.contractName}'s runtime code`, {
            hint: 'Name the artifact that was deployed there, or leave artifact= out to match it by its code.',
            details: {address, artifact: artifact.contractName, codeSize: (code.length - 2) / 2},
          })
        }
      } else if (code !== '0x' && deps.project) artifact = await matchArtifact(await deps.project(), code)
      const keys = query.key === undefined ? [] : Array.isArray(query.key) ? query.key : [query.key]
      const variables = artifact?.storageLayout
        ? await decodeStorage(artifact.storageLayout, async (slot: bigint) => (await invoke('eth_getStorageAt', [address, toHexQuantity(slot), at])) as Hex, {keys: parseSlotKeys(keys)})
        : null
      return {
        status: 200,
        body: {
          address,
          blockNumber: blockNumber.toString(),
          balance: decimal(balance),
          nonce: Number(BigInt(nonce)),
          codeSize: (code.length - 2) / 2,
          codeHash: keccak256(code),
          contract: artifact && variables ? artifact.contractName : null,
          variables: toJsonSafe(variables) as StateResponse['variables'],
        } satisfies StateResponse,
      }
    },
  }

  async function waitForReceipt(txHash: Hex): Promise<RpcReceipt> {
    const deadline = Date.now() + (deps.receiptTimeoutMs ?? 60_000)
    for (;;) {
      const receipt = (await invoke('eth_getTransactionReceipt', [txHash])) as RpcReceipt | null
      if (receipt) return receipt
      const left = deadline - Date.now()
      if (left <= 0) {
        throw restError(RestErrorCode.notMined, `The deployment ${txHash} was sent but not mined within ${Math.round((deps.receiptTimeoutMs ?? 60_000) / 1000)} s`, {
          hint: 'It may still be mined: look it up with eth_getTransactionReceipt.',
          details: {txHash},
        })
      }
      await nextBlock(chain, Math.min(left, 500))
    }
  }

  return [health, deploy, call, state]
}

/** Resolves on the chain's next block, or after `ms`. */
function nextBlock(chain: Chain, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      chain.off('block', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    chain.on('block', done)
  })
}

/** JSON arguments as the command-line parser takes them: strings as they are, the rest as JSON. */
function toArgStrings(args: readonly unknown[]): string[] {
  return args.map((value, i) => {
    if (typeof value === 'string') return value
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new XaiError(ContractsErrorCode.invalidArgument, `Argument ${i + 1} (${value}) is not an exact integer`, {
        hint: 'Send large or fractional numbers as decimal strings ("1000000000000000000").',
      })
    }
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value)
  })
}

function asRevert(err: unknown, abi: Abi, what: string): unknown {
  if (err instanceof RpcError && err.rpcCode === RpcErrorCode.executionReverted) {
    const data = typeof err.data === 'string' ? (err.data as Hex) : undefined
    return revertedError(what, data && data.length >= 10 ? decodeRevertData(abi, data) : decodeRevert(abi, err))
  }
  return err
}

function notDeployable(name: string, why: string): XaiError {
  return new XaiError(ContractsErrorCode.notDeployable, `${name} ${why}`, {hint: 'Deploy a concrete contract.'})
}

function noAccount(): never {
  throw restError(RestErrorCode.noAccount, 'This node signs for no accounts', {hint: 'Start it with --unlock-dev-accounts (a devnet does), or deploy through JSON-RPC with a signed transaction.'})
}

/** The project artifact whose runtime code is this code (see codeMatches). */
async function matchArtifact(project: Project, code: Hex): Promise<Artifact | undefined> {
  for (const ref of await listArtifacts(project)) {
    let artifact: Artifact
    try {
      artifact = JSON.parse(await readFile(join(project.root, ref.path), 'utf8')) as Artifact
    } catch {
      continue // An unreadable artifact matches nothing (naming it with ?artifact= reports why).
    }
    if (codeMatches(artifact.deployedBytecode, code)) return artifact
  }
  return undefined
}

/** Runtime code is an artifact's: equal length, equal bytes except where the artifact has zeros (immutables). */
function codeMatches(expected: unknown, code: Hex): boolean {
  if (typeof expected !== 'string' || expected === '0x' || expected.length !== code.length) return false
  for (let i = 2; i < code.length; i += 2) {
    const byte = expected.slice(i, i + 2).toLowerCase()
    if (byte !== code.slice(i, i + 2).toLowerCase() && byte !== '00') return false
  }
  return true
}
