import {verifyMerkleProof} from '@ethereumjs/mpt'
import {Ajv2020} from 'ajv/dist/2020.js'
import {type Address, type Hex, bytesToHex, decodeFunctionResult, encodeFunctionData, fromRlp, hexToBytes, keccak256, numberToHex, parseAbi, toRlp} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'

import {type Commit, MessageError, verifyCommit} from '../consensus/messages.js'
import type {ValidatorAddress, ValueId} from '../consensus/types.js'
import {ValidatorSet} from '../consensus/validator-set.js'
import {MODULE_REGISTRY_ADDRESS, moduleAddress} from '../modules/module.js'
import {mappingSlot, namespaceSlot, slotAdd, wordToHex} from '../modules/storage-codec.js'
import {type Checks, type ConformanceReport, type GroupResult, SkipGroup, expectThat, runGroup} from './report.js'

/**
 * `xai conformance`: checks a node, ours or another client, against what dApps, the REST
 * OpenAPI document and docs/spec require. Everything the node answers is untrusted input: a
 * malformed answer fails a check, it never crashes the run.
 */

export const CONFORMANCE_GROUPS = ['jsonrpc', 'rest', 'commits', 'registry'] as const
export type ConformanceGroup = (typeof CONFORMANCE_GROUPS)[number]

export interface ConformanceOptions {
  rpcUrl: string
  /** A funded key: adds the checks that send a transaction and follow it to its receipt. */
  privateKey?: Hex
  /** Verify the commits of the last `maxBlocks` blocks at most (default 1,000). */
  maxBlocks?: number
  groups?: readonly ConformanceGroup[]
  /** Per-request timeout, ms (default 30 s). */
  timeoutMs?: number
  /** How long the transaction checks wait for a receipt, ms (default 60 s). */
  receiptTimeoutMs?: number
}

interface RpcReply {
  id?: unknown
  result?: unknown
  error?: {code?: unknown; message?: unknown}
}

class RpcFailure extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message)
  }
}

/** A JSON-RPC client that reports what the node sent, however malformed. */
class Rpc {
  private id = 0
  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async raw(body: string): Promise<{status: number; json: unknown}> {
    const response = await fetch(this.url, {method: 'POST', headers: {'content-type': 'application/json'}, body, signal: AbortSignal.timeout(this.timeoutMs)})
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return {status: response.status, json}
  }

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const {json} = await this.raw(JSON.stringify({jsonrpc: '2.0', id: ++this.id, method, params}))
    const reply = json as RpcReply | undefined
    if (!reply || typeof reply !== 'object') throw new RpcFailure(`${method}: the reply is not a JSON-RPC object`)
    if (reply.error) throw new RpcFailure(`${method}: ${String(reply.error.message)} (${String(reply.error.code)})`, typeof reply.error.code === 'number' ? reply.error.code : undefined)
    if (!('result' in reply)) throw new RpcFailure(`${method}: the reply has neither result nor error`)
    return reply.result as T
  }

  /** The error code of a call expected to fail; throws when it succeeds. */
  async errorCode(method: string, params: unknown[]): Promise<number | undefined> {
    try {
      await this.call(method, params)
    } catch (err) {
      if (err instanceof RpcFailure) return err.code
      throw err
    }
    throw new Error(`${method}(${JSON.stringify(params).slice(0, 80)}) succeeded`)
  }
}

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/
const DATA = /^0x([0-9a-f]{2})*$/i
const HASH = /^0x[0-9a-f]{64}$/i

function quantity(value: unknown, what: string): bigint {
  expectThat(typeof value === 'string' && QUANTITY.test(value), `${what} is not a hex quantity: ${JSON.stringify(value)}`)
  return BigInt(value)
}

type RawBlock = Record<string, unknown>

/** Header fields in RLP order; the ones after baseFeePerGas are present only from their fork on. */
const HEADER_FIELDS: [string, 'data' | 'quantity'][] = [
  ['parentHash', 'data'], ['sha3Uncles', 'data'], ['miner', 'data'], ['stateRoot', 'data'], ['transactionsRoot', 'data'], ['receiptsRoot', 'data'],
  ['logsBloom', 'data'], ['difficulty', 'quantity'], ['number', 'quantity'], ['gasLimit', 'quantity'], ['gasUsed', 'quantity'], ['timestamp', 'quantity'],
  ['extraData', 'data'], ['mixHash', 'data'], ['nonce', 'data'], ['baseFeePerGas', 'quantity'], ['withdrawalsRoot', 'data'], ['blobGasUsed', 'quantity'],
  ['excessBlobGas', 'quantity'], ['parentBeaconBlockRoot', 'data'], ['requestsHash', 'data'],
]
const REQUIRED_FIELDS = 15

/** keccak256(rlp(header)) of a block as JSON-RPC returns it, computed here. */
export function headerHash(block: RawBlock): Hex {
  const items: Hex[] = []
  for (const [i, [name, kind]] of HEADER_FIELDS.entries()) {
    const value = block[name]
    if (value === undefined || value === null) {
      expectThat(i >= REQUIRED_FIELDS, `the block has no ${name}`)
      break
    }
    expectThat(typeof value === 'string' && DATA.test(value.length % 2 ? `0x0${value.slice(2)}` : value), `${name} is not hex: ${JSON.stringify(value)}`)
    items.push(kind === 'quantity' ? minimal(value) : (value.toLowerCase() as Hex))
  }
  return keccak256(toRlp(items))
}

function minimal(value: string): Hex {
  const n = BigInt(value)
  if (n === 0n) return '0x'
  const hex = n.toString(16)
  return `0x${hex.length % 2 ? '0' : ''}${hex}`
}

function word(value: unknown): bigint {
  expectThat(typeof value === 'string' && /^0x[0-9a-fA-F]{0,64}$/.test(value), `not a storage word: ${JSON.stringify(value)}`)
  return value === '0x' ? 0n : BigInt(value)
}

/** Runs the groups and returns the report; never throws for what the node answers. */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const rpc = new Rpc(options.rpcUrl, options.timeoutMs ?? 30_000)
  const wanted = new Set(options.groups ?? CONFORMANCE_GROUPS)
  const chainId = await rpc.call<string>('eth_chainId').then((v) => Number(BigInt(v)), () => null)
  const clientVersion = await rpc.call<string>('web3_clientVersion').then((v) => (typeof v === 'string' ? v : null), () => null)
  const xai = await rpc.call('xai_nodeInfo').then(() => true, () => false)
  const groups: GroupResult[] = []
  if (wanted.has('jsonrpc')) groups.push(await runGroup('jsonrpc', 'Ethereum JSON-RPC behaviour dApps rely on', (c) => jsonRpcChecks(c, rpc, options)))
  if (wanted.has('rest')) groups.push(await runGroup('rest', "REST answers against the node's own /openapi.json", (c) => restChecks(c, options.rpcUrl, options.timeoutMs ?? 30_000)))
  if (wanted.has('commits')) groups.push(await runGroup('commits', 'every served block is decided by a valid commit of its height\'s validator set', (c) => commitChecks(c, rpc, xai, chainId, options.maxBlocks ?? 1_000)))
  if (wanted.has('registry')) groups.push(await runGroup('registry', 'module registry reads: calls, storage layout, proofs', (c) => registryChecks(c, rpc, xai)))
  return {rpcUrl: options.rpcUrl, chainId, clientVersion, xai, ok: groups.every((g) => g.status !== 'fail'), groups}
}

// ---- JSON-RPC ---------------------------------------------------------------------------------

async function jsonRpcChecks(c: Checks, rpc: Rpc, options: ConformanceOptions): Promise<void> {
  let chainId = 0n
  await c.check('eth_chainId is a hex quantity and net_version its decimal', async () => {
    chainId = quantity(await rpc.call('eth_chainId'), 'eth_chainId')
    const version = await rpc.call('net_version')
    expectThat(version === chainId.toString(), `net_version is ${JSON.stringify(version)}, eth_chainId ${chainId}`)
    return `chain ${chainId}`
  })
  await c.check('web3_clientVersion is a string', async () => {
    const version = await rpc.call('web3_clientVersion')
    expectThat(typeof version === 'string' && version.length > 0, `got ${JSON.stringify(version)}`)
  })
  let latest: RawBlock | undefined
  await c.check('eth_blockNumber and the latest block agree; the block hashes to its header', async () => {
    const number = quantity(await rpc.call('eth_blockNumber'), 'eth_blockNumber')
    latest = await rpc.call<RawBlock>('eth_getBlockByNumber', ['latest', false])
    expectThat(latest && typeof latest === 'object', 'latest block is not an object')
    expectThat(quantity(latest.number, 'number') >= number, `latest block ${String(latest.number)} is below eth_blockNumber ${number}`)
    const hash = headerHash(latest)
    expectThat(hash === String(latest.hash).toLowerCase(), `the header hashes to ${hash}, the node says ${String(latest.hash)}`)
    expectThat(Array.isArray(latest.transactions) && latest.transactions.every((t) => typeof t === 'string' && HASH.test(t)), 'transactions are not hashes')
    return `block ${BigInt(String(latest.number))}`
  })
  await c.check('eth_getBlockByHash and eth_getBlockByNumber return the same block', async () => {
    expectThat(latest, 'no latest block')
    const byHash = await rpc.call<RawBlock>('eth_getBlockByHash', [latest.hash, false])
    const byNumber = await rpc.call<RawBlock>('eth_getBlockByNumber', [latest.number, true])
    expectThat(byHash?.hash === latest.hash && byNumber?.hash === latest.hash, 'the blocks differ')
    expectThat(Array.isArray(byNumber.transactions) && byNumber.transactions.every((t) => typeof t === 'object'), 'full transactions are not objects')
  })
  await c.check('unknown blocks, transactions and receipts are null', async () => {
    const far = numberToHex(quantity(await rpc.call('eth_blockNumber'), 'eth_blockNumber') + 100_000n)
    const missing = `0x${'ab'.repeat(32)}`
    for (const [method, params] of [['eth_getBlockByNumber', [far, false]], ['eth_getBlockByHash', [missing, false]], ['eth_getTransactionByHash', [missing]], ['eth_getTransactionReceipt', [missing]]] as const) {
      const result = await rpc.call(method, [...params])
      expectThat(result === null, `${method} gave ${JSON.stringify(result).slice(0, 80)}`)
    }
  })
  const fresh = '0x000000000000000000000000000000000000c0de' as Address
  await c.check('a fresh account has balance 0, nonce 0 and no code', async () => {
    expectThat(quantity(await rpc.call('eth_getBalance', [fresh, 'latest']), 'balance') === 0n, 'balance is not 0')
    expectThat(quantity(await rpc.call('eth_getTransactionCount', [fresh, 'latest']), 'nonce') === 0n, 'nonce is not 0')
    expectThat((await rpc.call('eth_getCode', [fresh, 'latest'])) === '0x', 'code is not 0x')
    expectThat(word(await rpc.call('eth_getStorageAt', [fresh, '0x0', 'latest'])) === 0n, 'storage is not 0')
  })
  await c.check('fees: eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory', async () => {
    quantity(await rpc.call('eth_gasPrice'), 'eth_gasPrice')
    quantity(await rpc.call('eth_maxPriorityFeePerGas'), 'eth_maxPriorityFeePerGas')
    const history = await rpc.call<{oldestBlock: unknown; baseFeePerGas: unknown[]; gasUsedRatio: unknown[]; reward?: unknown[]}>('eth_feeHistory', ['0x2', 'latest', [25, 75]])
    quantity(history.oldestBlock, 'oldestBlock')
    expectThat(Array.isArray(history.baseFeePerGas) && history.baseFeePerGas.length === history.gasUsedRatio.length + 1, 'baseFeePerGas has not blockCount + 1 entries')
    expectThat(Array.isArray(history.reward) && history.reward.every((r) => Array.isArray(r) && r.length === 2), 'reward has not one entry per percentile')
  })
  await c.check('eth_estimateGas of a plain transfer is 21000; eth_call to an account without code is 0x', async () => {
    const gas = quantity(await rpc.call('eth_estimateGas', [{from: fresh, to: '0x000000000000000000000000000000000000beef', value: '0x0'}]), 'gas')
    expectThat(gas === 21_000n, `estimated ${gas}`)
    expectThat((await rpc.call('eth_call', [{to: fresh, data: '0x12345678'}, 'latest'])) === '0x', 'eth_call did not return 0x')
  })
  if (options.privateKey) await c.check('a signed EIP-1559 transfer is mined with a receipt that matches it', async () => {
    const account = privateKeyToAccount(options.privateKey!)
    const nonce = Number(quantity(await rpc.call('eth_getTransactionCount', [account.address, 'pending']), 'nonce'))
    const base = quantity((await rpc.call<RawBlock>('eth_getBlockByNumber', ['latest', false])).baseFeePerGas, 'baseFeePerGas')
    const to = '0x000000000000000000000000000000000000dead' as Address
    const raw = await account.signTransaction({chainId: Number(chainId), type: 'eip1559', nonce, to, value: 1n, gas: 21_000n, maxFeePerGas: base * 2n + 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n})
    const hash = await rpc.call<Hex>('eth_sendRawTransaction', [raw])
    expectThat(hash === keccak256(raw), `the node returned ${hash}, the transaction hashes to ${keccak256(raw)}`)
    const deadline = Date.now() + (options.receiptTimeoutMs ?? 60_000)
    let receipt: Record<string, unknown> | null = null
    while (!receipt && Date.now() < deadline) {
      receipt = await rpc.call('eth_getTransactionReceipt', [hash])
      if (!receipt) await new Promise((r) => setTimeout(r, 250))
    }
    expectThat(receipt, 'no receipt in time')
    expectThat(receipt.status === '0x1' && receipt.transactionHash === hash && String(receipt.from).toLowerCase() === account.address.toLowerCase(), `receipt ${JSON.stringify(receipt).slice(0, 200)}`)
    expectThat(quantity(receipt.gasUsed, 'gasUsed') === 21_000n, 'gasUsed is not 21000')
    const tx = await rpc.call<Record<string, unknown>>('eth_getTransactionByHash', [hash])
    expectThat(tx?.blockHash === receipt.blockHash && tx?.blockNumber === receipt.blockNumber, 'the transaction and its receipt name different blocks')
    const block = await rpc.call<RawBlock>('eth_getBlockByHash', [receipt.blockHash, false])
    expectThat(Array.isArray(block?.transactions) && block.transactions.includes(hash), 'the block does not list the transaction')
    expectThat(quantity(await rpc.call('eth_getTransactionCount', [account.address, 'latest']), 'nonce') >= BigInt(nonce + 1), 'the nonce did not move')
    return `mined in block ${BigInt(String(receipt.blockNumber))}`
  })
  await c.check('eth_getLogs of the latest block is an array', async () => {
    expectThat(Array.isArray(await rpc.call('eth_getLogs', [{fromBlock: 'latest', toBlock: 'latest'}])), 'not an array')
  })
  await c.check('eth_getProof verifies against the latest state root (EIP-1186)', async () => {
    const block = await rpc.call<RawBlock>('eth_getBlockByNumber', ['latest', false])
    const proof = await rpc.call<{accountProof: Hex[]; balance: unknown}>('eth_getProof', [fresh, [], block.number])
    expectThat(Array.isArray(proof.accountProof) && proof.accountProof.length > 0, 'no account proof')
    const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'
    // anvil's genesis header carries the empty root over a funded state: nothing to verify against.
    if (BigInt(String(block.number)) === 0n && block.stateRoot === EMPTY_ROOT) return 'not verified: block 0 names the empty state root while its state is not empty'
    expectThat(keccak256(proof.accountProof[0]!) === String(block.stateRoot).toLowerCase(), 'the proof does not start at the state root')
    const account = await verifyMerkleProof(hexToBytes(keccak256(fresh)), proof.accountProof.map((n) => hexToBytes(n)), {useKeyHashing: false})
    expectThat(account === null, 'the proof shows an account where there is none')
  })
  await c.check('errors: unknown method -32601, bad params -32602, parse error -32700', async () => {
    expectThat((await rpc.errorCode('xai_noSuchMethodForConformance', [])) === -32601, 'unknown method is not -32601')
    const bad = await rpc.errorCode('eth_getBalance', ['not-an-address', 'latest'])
    expectThat(bad === -32602, `bad params gave ${bad}`)
    const parse = await rpc.raw('{"jsonrpc":"2.0","id":1,')
    const code = (parse.json as RpcReply | undefined)?.error?.code
    // JSON-RPC 2.0 says -32700; anvil answers -32600 (invalid request): both are errors a client handles.
    expectThat(code === -32700 || code === -32600, `a parse error gave ${JSON.stringify(parse.json)}`)
    if (code !== -32700) return `parse error answered ${String(code)}, not -32700`
  })
  await c.check('a batch gets one answer per request, by id', async () => {
    const {json} = await rpc.raw(JSON.stringify([{jsonrpc: '2.0', id: 7, method: 'eth_chainId', params: []}, {jsonrpc: '2.0', id: 'b', method: 'eth_blockNumber', params: []}]))
    expectThat(Array.isArray(json) && json.length === 2, 'not an array of 2')
    const ids = (json as RpcReply[]).map((r) => r.id).sort()
    expectThat(JSON.stringify(ids) === JSON.stringify([7, 'b']), `ids ${JSON.stringify(ids)}`)
  })
  await c.check('eth_sendRawTransaction refuses garbage with an error', async () => {
    await rpc.errorCode('eth_sendRawTransaction', ['0xdeadbeef'])
  })
}

// ---- REST against /openapi.json ---------------------------------------------------------------

interface OpenApiDocument {
  openapi?: unknown
  paths?: Record<string, Record<string, {responses?: Record<string, unknown>; parameters?: {name: string; in: string; required?: boolean}[]}>>
}

async function restChecks(c: Checks, rpcUrl: string, timeoutMs: number): Promise<void> {
  const base = rpcUrl.replace(/\/+$/, '')
  const get = async (path: string, init: RequestInit = {}): Promise<{status: number; body: unknown}> => {
    const response = await fetch(`${base}${path}`, {...init, signal: AbortSignal.timeout(timeoutMs)})
    const text = await response.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    return {status: response.status, body}
  }
  let document: OpenApiDocument | undefined
  try {
    const reply = await get('/openapi.json')
    if (reply.status === 200 && reply.body && typeof reply.body === 'object') document = reply.body as OpenApiDocument
  } catch {
    document = undefined
  }
  if (!document || typeof document.openapi !== 'string' || !document.openapi.startsWith('3.') || !document.paths) throw new SkipGroup('the node serves no OpenAPI 3 document at /openapi.json (not an XAI node)')
  const doc = document
  const ajv = new Ajv2020({strict: false, allErrors: true})
  await c.check('/openapi.json is a valid OpenAPI 3.1 document for a JSON Schema validator', () => {
    ajv.addSchema(doc as object, 'openapi')
    return `${Object.keys(doc.paths!).length} paths`
  })
  const conforms = (method: string, template: string, reply: {status: number; body: unknown}): void => {
    const operation = doc.paths![template]?.[method]
    expectThat(operation?.responses, `${method.toUpperCase()} ${template} is not in the document`)
    expectThat(String(reply.status) in operation.responses, `status ${reply.status} is not documented for ${method.toUpperCase()} ${template}: ${JSON.stringify(reply.body)?.slice(0, 160)}`)
    const pointer = ['paths', template, method, 'responses', String(reply.status), 'content', 'application/json', 'schema'].map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')
    const validate = ajv.getSchema(`openapi#/${pointer}`)
    expectThat(validate, `no schema for ${method.toUpperCase()} ${template} ${reply.status}`)
    expectThat(validate(reply.body), `${method.toUpperCase()} ${template} ${reply.status} does not match its schema: ${ajv.errorsText(validate.errors)}`)
  }
  const ids: Record<string, string[]> = {}
  for (const [template, operations] of Object.entries(doc.paths!)) {
    const operation = operations.get
    if (!operation) continue
    if ((operation.parameters ?? []).some((p) => p.in === 'query' && p.required)) continue
    const params = (operation.parameters ?? []).filter((p) => p.in === 'path')
    let path = template
    if (params.length > 0) {
      // A path parameter is filled from a list this run read: /modules/{id} from GET /modules.
      const list = ids[template.split('/{')[0]!]
      if (params.length !== 1 || !list || list.length === 0) continue
      path = template.replace(`{${params[0]!.name}}`, encodeURIComponent(list[0]!))
    }
    await c.check(`GET ${path} answers as documented`, async () => {
      const reply = await get(path)
      conforms('get', template, reply)
      expectThat(reply.status < 500, `status ${reply.status}`)
      const body = reply.body as Record<string, unknown> | undefined
      const items = body && Object.values(body).find((v) => Array.isArray(v))
      if (Array.isArray(items)) ids[template] = items.flatMap((item) => (item && typeof item === 'object' && 'id' in item ? [String((item as {id: unknown}).id)] : []))
      return `${reply.status}`
    })
  }
  for (const [template, operations] of Object.entries(doc.paths!)) {
    if (!operations.post || template.includes('{')) continue
    await c.check(`POST ${template} refuses a malformed body as documented`, async () => {
      const reply = await get(template, {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"malformed": '})
      expectThat(reply.status >= 400 && reply.status < 500, `status ${reply.status}`)
      conforms('post', template, reply)
      return `${reply.status}`
    })
  }
}

// ---- commits and the validator set ------------------------------------------------------------

const VALIDATORS_SLOT = namespaceSlot('xai.registry.validators')

/** The validator set in the registry's storage at block `height` (it decides height + 1). */
async function registrySetAt(rpc: Rpc, height: bigint): Promise<ValidatorSet> {
  const at = numberToHex(height)
  const count = word(await rpc.call('eth_getStorageAt', [MODULE_REGISTRY_ADDRESS, wordToHex(VALIDATORS_SLOT), at]))
  expectThat(count > 0n && count <= 1_000n, `the registry holds ${count} validators at block ${height}`)
  const slots = Array.from({length: Number(count) * 2}, (_, i) => wordToHex(slotAdd(VALIDATORS_SLOT, BigInt(i + 1))))
  // At most 16 requests in flight: the node is not ours to flood.
  const words: bigint[] = []
  for (let i = 0; i < slots.length; i += 16) {
    words.push(...(await Promise.all(slots.slice(i, i + 16).map(async (slot) => word(await rpc.call('eth_getStorageAt', [MODULE_REGISTRY_ADDRESS, slot, at]))))))
  }
  const list = []
  for (let i = 0; i < Number(count); i++) {
    list.push({address: `0x${(words[2 * i]! & ((1n << 160n) - 1n)).toString(16).padStart(40, '0')}` as ValidatorAddress, power: Number(words[2 * i + 1]!)})
  }
  return new ValidatorSet(list)
}

interface CommitJson {
  height: unknown
  round: unknown
  blockHash: unknown
  signatures: unknown
}

function commitFromJson(json: CommitJson | null, height: number): Commit {
  expectThat(json && typeof json === 'object', `no commit for block ${height}`)
  const {round, blockHash, signatures} = json
  expectThat(Number.isSafeInteger(json.height) && Number.isSafeInteger(round), `block ${height}: height and round are not integers`)
  expectThat(typeof blockHash === 'string' && HASH.test(blockHash), `block ${height}: blockHash is not a hash`)
  expectThat(Array.isArray(signatures) && signatures.every((s) => typeof s === 'string' && /^0x[0-9a-fA-F]{130}$/.test(s)), `block ${height}: signatures are not 65-byte hex strings`)
  return {height: json.height as number, round: round as number, value: blockHash.toLowerCase() as ValueId, signatures: (signatures as Hex[]).map((s) => hexToBytes(s))}
}

async function commitChecks(c: Checks, rpc: Rpc, xai: boolean, chainId: number | null, maxBlocks: number): Promise<void> {
  if (!xai) throw new SkipGroup('the node answers no xai_* methods (not an XAI node)')
  expectThat(chainId !== null, 'no chain id')
  const head = quantity(await rpc.call('eth_blockNumber'), 'eth_blockNumber')
  if (head === 0n) throw new SkipGroup('the chain has no block beyond genesis yet')
  const first = await rpc.call<CommitJson | null>('xai_getBlockCommit', ['0x1']).catch((err: unknown) => {
    throw new SkipGroup(`xai_getBlockCommit is not served: ${(err as Error).message}`)
  })
  if (first === null) throw new SkipGroup('block 1 has no commit: a single-node chain without consensus')
  const registry = (await rpc.call<string>('eth_getCode', [MODULE_REGISTRY_ADDRESS, '0x0'])) !== '0x'
  const fixed = registry ? undefined : new ValidatorSet(await rpc.call<{address: ValidatorAddress; power: number}[]>('xai_validators'))
  const from = head > BigInt(maxBlocks) ? head - BigInt(maxBlocks) + 1n : 1n
  let set = fixed ?? (await registrySetAt(rpc, from - 1n))
  let parent = String((await rpc.call<RawBlock>('eth_getBlockByNumber', [numberToHex(from - 1n), false])).hash).toLowerCase()
  const problems = {hash: [] as string[], parent: [] as string[], commit: [] as string[]}
  let changes = 0
  for (let h = from; h <= head; h++) {
    const block = await rpc.call<RawBlock | null>('eth_getBlockByNumber', [numberToHex(h), false])
    if (!block) {
      problems.hash.push(`block ${h} is missing`)
      break
    }
    const hash = String(block.hash).toLowerCase()
    try {
      const computed = headerHash(block)
      if (computed !== hash) problems.hash.push(`block ${h} hashes to ${computed}, served as ${hash}`)
    } catch (err) {
      problems.hash.push(`block ${h}: ${(err as Error).message}`)
    }
    if (String(block.parentHash).toLowerCase() !== parent) problems.parent.push(`block ${h} does not extend block ${h - 1n}`)
    parent = hash
    try {
      const commit = commitFromJson(await rpc.call<CommitJson | null>('xai_getBlockCommit', [numberToHex(h)]), Number(h))
      verifyCommit(chainId, set, commit, Number(h), hash as ValueId)
    } catch (err) {
      problems.commit.push(`block ${h}: ${err instanceof MessageError ? err.message : (err as Error).message}`)
    }
    if (!fixed) {
      const next = await registrySetAt(rpc, h)
      if (next.validators.map((v) => `${v.address}:${v.power}`).join() !== set.validators.map((v) => `${v.address}:${v.power}`).join()) changes++
      set = next
    }
  }
  const blocks = `${head - from + 1n} blocks (${from}..${head})`
  const report = (list: string[]): string | void => {
    if (list.length > 0) throw new Error(`${list.length} of ${blocks}: ${list.slice(0, 3).join('; ')}`)
  }
  await c.check('every block hashes to its header', () => report(problems.hash) ?? blocks)
  await c.check('every block extends the one before it', () => report(problems.parent) ?? blocks)
  await c.check(`every commit decides its block under the validator set of its height (${registry ? 'from the registry' : 'fixed: no registry'})`, () => report(problems.commit) ?? `${blocks}, ${changes} validator-set change(s)`)
  await c.check('xai_validators is the set deciding the next height', async () => {
    const served = new ValidatorSet(await rpc.call<{address: ValidatorAddress; power: number}[]>('xai_validators'))
    const latest = quantity(await rpc.call('eth_blockNumber'), 'eth_blockNumber')
    const stored = fixed ?? (await registrySetAt(rpc, latest))
    const text = (s: ValidatorSet): string => s.validators.map((v) => `${v.address}:${v.power}`).join(', ')
    expectThat(text(served) === text(stored), `xai_validators ${text(served)}; the registry at ${latest}: ${text(stored)}`)
    return `${served.size} validators`
  })
}

// ---- the module registry ----------------------------------------------------------------------

const registryAbi = parseAbi([
  'function modules() view returns (string[])',
  'function moduleInfo(string id) view returns (address addr, string version, bytes32 codeHash, uint256 activeFrom, string nextVersion, bytes32 nextCodeHash, uint256 nextFrom, uint256 deactivateAt, string params)',
])

async function registryChecks(c: Checks, rpc: Rpc, xai: boolean): Promise<void> {
  if (!xai) throw new SkipGroup('the node answers no xai_* methods (not an XAI node)')
  const code = await rpc.call<string>('eth_getCode', [MODULE_REGISTRY_ADDRESS, 'latest'])
  if (code === '0x') throw new SkipGroup('the chain has no module registry (no native modules)')
  await c.check('the registry account holds the marker code 0xfe', () => expectThat(code === '0xfe', `code ${code.slice(0, 20)}`))
  const block = await rpc.call<RawBlock>('eth_getBlockByNumber', ['latest', false])
  const at = String(block.number)
  let ids: readonly string[] = []
  await c.check('modules() lists valid, distinct ids, the registry among them', async () => {
    const data = await rpc.call<Hex>('eth_call', [{to: MODULE_REGISTRY_ADDRESS, data: encodeFunctionData({abi: registryAbi, functionName: 'modules'})}, at])
    ids = decodeFunctionResult({abi: registryAbi, functionName: 'modules', data})
    expectThat(new Set(ids).size === ids.length, 'an id is listed twice')
    expectThat(ids.includes('registry'), 'the registry is not listed')
    return ids.join(', ')
  })
  const entry = namespaceSlot('xai.registry.entry')
  for (const id of ids) {
    await c.check(`moduleInfo("${id}") matches its address, account code and entry storage`, async () => {
      const data = await rpc.call<Hex>('eth_call', [{to: MODULE_REGISTRY_ADDRESS, data: encodeFunctionData({abi: registryAbi, functionName: 'moduleInfo', args: [id]})}, at])
      const [address, version, codeHash] = decodeFunctionResult({abi: registryAbi, functionName: 'moduleInfo', data})
      expectThat(address.toLowerCase() === moduleAddress(id).toLowerCase(), `address ${address}, expected ${moduleAddress(id)}`)
      expectThat((await rpc.call('eth_getCode', [address, at])) === '0xfe', 'the module account does not hold 0xfe')
      const stored = word(await rpc.call('eth_getStorageAt', [MODULE_REGISTRY_ADDRESS, wordToHex(mappingSlot(entry, address)), at]))
      expectThat(wordToHex(stored) === codeHash.toLowerCase(), `storage holds code hash ${wordToHex(stored)}, moduleInfo says ${codeHash}`)
      return `${version} ${codeHash.slice(0, 10)}…`
    })
  }
  await c.check('eth_getProof of the validator slots verifies against the state root', async () => {
    const count = word(await rpc.call('eth_getStorageAt', [MODULE_REGISTRY_ADDRESS, wordToHex(VALIDATORS_SLOT), at]))
    expectThat(count <= 1_000n, `${count} validators`)
    const slots = Array.from({length: 1 + 2 * Number(count)}, (_, i) => wordToHex(slotAdd(VALIDATORS_SLOT, BigInt(i))))
    const proof = await rpc.call<{accountProof: Hex[]; storageHash: Hex; storageProof: {key: Hex; value: Hex; proof: Hex[]}[]}>('eth_getProof', [MODULE_REGISTRY_ADDRESS, slots, at])
    expectThat(keccak256(proof.accountProof[0]!) === String(block.stateRoot).toLowerCase(), 'the account proof does not start at the state root')
    const account = await verifyMerkleProof(hexToBytes(keccak256(MODULE_REGISTRY_ADDRESS)), proof.accountProof.map((n) => hexToBytes(n)), {useKeyHashing: false})
    expectThat(account, 'the proof shows no registry account')
    const [, , storageRoot] = fromRlp(bytesToHex(account)) as Hex[]
    expectThat(storageRoot === proof.storageHash.toLowerCase(), 'storageHash differs from the proven account')
    expectThat(proof.storageProof.length === slots.length, 'a slot has no proof')
    for (const [i, item] of proof.storageProof.entries()) {
      const key = hexToBytes(wordToHex(BigInt(item.key)))
      expectThat(BigInt(item.key) === BigInt(slots[i]!), `proof ${i} is for another slot`)
      const value = item.proof.length === 0 ? null : await verifyMerkleProof(hexToBytes(keccak256(key)), item.proof.map((n) => hexToBytes(n)), {useKeyHashing: false})
      if (item.proof.length > 0) expectThat(keccak256(item.proof[0]!) === storageRoot, `proof ${i} does not start at the storage root`)
      const proven = value === null ? 0n : BigInt((fromRlp(bytesToHex(value), 'hex') as Hex) === '0x' ? 0 : (fromRlp(bytesToHex(value), 'hex') as Hex))
      expectThat(proven === BigInt(item.value), `slot ${item.key}: the trie holds ${proven}, the node says ${item.value}`)
    }
    return `${count} validators proven`
  })
}
