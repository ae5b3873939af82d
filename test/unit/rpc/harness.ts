/**
 * A real chain, mempool and RPC API in memory for the RPC unit tests: requests go through the
 * dispatcher exactly as they arrive over HTTP or WebSocket; blocks are built from the mempool.
 */
import {type Hex, encodeFunctionData, hexToBytes, type Abi} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'

import type {Chain} from '../../../src/chain/chain.js'
import type {Mempool} from '../../../src/chain/mempool.js'
import {type RpcApi, createRpcApi} from '../../../src/rpc/api.js'
import type {RpcConnection} from '../../../src/rpc/filters.js'
import type {RpcLimits} from '../../../src/rpc/limits.js'
import type {UnlockedAccount} from '../../../src/rpc/methods/accounts.js'
import {DEV_ACCOUNTS, DEV_KEYS, createTestChain, mineBlock} from '../../helpers/chain.js'
import {compileSolidity, type CompiledContract} from '../../helpers/solidity.js'
import {PROBE_SOURCE} from './contracts.js'

export {DEV_ACCOUNTS, DEV_KEYS}
export const ALICE = DEV_ACCOUNTS[0]!.address.toLowerCase() as Hex
export const BOB = DEV_ACCOUNTS[1]!.address.toLowerCase() as Hex

export interface JsonRpcError {
  code: number
  message: string
  data?: unknown
}

/** Thrown by `rpc()` when the response is an error. */
export class RpcCallError extends Error {
  constructor(readonly error: JsonRpcError) {
    super(`${error.code}: ${error.message}`)
  }
}

export interface Harness {
  chain: Chain
  mempool: Mempool
  api: RpcApi
  /** Calls a method; resolves the result, rejects with RpcCallError. */
  rpc<T = unknown>(method: string, params?: unknown[], connection?: RpcConnection): Promise<T>
  /** The error a call answers with (fails if it succeeds). */
  rpcError(method: string, params?: unknown[]): Promise<JsonRpcError>
  /** Sends a raw body through the dispatcher and parses the answer. */
  raw(body: string, connection?: RpcConnection): Promise<unknown>
  /** Builds and commits a block from the mempool. */
  mine(): Promise<void>
  /** Signs a transaction from dev account `from` (default 0), at its pending nonce. */
  sign(tx: {from?: number; to?: Hex; data?: Hex; value?: bigint; gas?: bigint; nonce?: number; type?: 'legacy' | 'eip2930' | 'eip1559'}): Promise<Hex>
  /** Signs, sends and mines; returns the transaction hash. */
  send(tx: Parameters<Harness['sign']>[0]): Promise<Hex>
  /** Deploys the Probe contract; returns its address. */
  deployProbe(): Promise<Hex>
  close(): void
}

let probe: CompiledContract | undefined
export function probeContract(): CompiledContract {
  probe ??= compileSolidity({'Probe.sol': PROBE_SOURCE})['Probe.sol']!.Probe!
  return probe
}

export function probeCall(functionName: string, args: unknown[] = []): Hex {
  return encodeFunctionData({abi: probeContract().abi as Abi, functionName, args})
}

export async function createHarness(options: {limits?: Partial<RpcLimits>; accounts?: UnlockedAccount[]} = {}): Promise<Harness> {
  const {chain, mempool} = await createTestChain()
  const api = await createRpcApi({chain, mempool, logger: silent, clientVersion: 'xai/test', limits: options.limits, accounts: options.accounts})
  let id = 1
  const raw = async (body: string, connection?: RpcConnection): Promise<unknown> => {
    const out = await api.dispatcher.handle(body, {connection})
    return out === undefined ? undefined : JSON.parse(out)
  }
  const rpc = async <T>(method: string, params: unknown[] = [], connection?: RpcConnection): Promise<T> => {
    const res = (await raw(JSON.stringify({jsonrpc: '2.0', id: id++, method, params}), connection)) as {result?: T; error?: JsonRpcError}
    if (res.error) throw new RpcCallError(res.error)
    return res.result as T
  }
  const h: Harness = {
    chain,
    mempool,
    api,
    rpc,
    raw,
    async rpcError(method, params = []) {
      try {
        await rpc(method, params)
      } catch (err) {
        if (err instanceof RpcCallError) return err.error
        throw err
      }
      throw new Error(`${method} succeeded; an error was expected`)
    },
    async mine() {
      await mineBlock(chain, mempool)
    },
    async sign(tx) {
      const account = privateKeyToAccount(DEV_KEYS[tx.from ?? 0]!)
      const nonce = tx.nonce ?? Number(BigInt(await rpc<Hex>('eth_getTransactionCount', [account.address, 'pending'])))
      const common = {chainId: 31337, nonce, to: tx.to, data: tx.data, value: tx.value ?? 0n, gas: tx.gas ?? 3_000_000n}
      if (tx.type === 'legacy') return account.signTransaction({...common, type: 'legacy', gasPrice: 10_000_000_000n})
      if (tx.type === 'eip2930') return account.signTransaction({...common, type: 'eip2930', gasPrice: 10_000_000_000n, accessList: []})
      return account.signTransaction({...common, type: 'eip1559', maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n})
    },
    async send(tx) {
      const hash = await rpc<Hex>('eth_sendRawTransaction', [await h.sign(tx)])
      await h.mine()
      return hash
    },
    async deployProbe() {
      const hash = await h.send({data: probeContract().bytecode})
      const receipt = await rpc<{contractAddress: Hex; status: Hex}>('eth_getTransactionReceipt', [hash])
      if (receipt.status !== '0x1') throw new Error('Probe deployment failed')
      return receipt.contractAddress
    },
    close() {
      api.close()
    },
  }
  return h
}

const silent = {debug() {}, info() {}, warn() {}, error() {}}

/** A fake WebSocket connection that records what it is sent. */
export function recordingConnection(id = 1): RpcConnection & {messages: unknown[]} {
  const messages: unknown[] = []
  return {id, subscriptions: new Set(), messages, send: (m: string) => void messages.push(JSON.parse(m))}
}

export {hexToBytes}
