/**
 * An in-memory node with the built-in modules for the governance, registry and RPC unit tests: a
 * real chain (genesis of the ten standard dev accounts plus the devnet's modules), its mempool and
 * JSON-RPC API, and a viem client whose requests go through the dispatcher as JSON text, exactly
 * as they would over HTTP. It automines: every accepted transaction is mined into its own block
 * before the send returns, as a devnet with block time 0 does.
 */
import {type PublicClient, createPublicClient, custom} from 'viem'

import {Chain} from '../../src/chain/chain.js'
import {createDevGenesis} from '../../src/chain/genesis.js'
import {Mempool} from '../../src/chain/mempool.js'
import {deriveDevAccounts} from '../../src/util/dev-accounts.js'
import {silentLogger} from '../../src/util/logger.js'
import {defaultGenesisModules} from '../../src/modules/builtin/index.js'
import {createModuleHost} from '../../src/modules/host/create-host.js'
import {addModulesToGenesis} from '../../src/modules/host/genesis-modules.js'
import {type RpcApi, createRpcApi} from '../../src/rpc/api.js'
import {openMemoryStore} from '../../src/storage/database.js'
import {mineBlock} from './chain.js'

export const MODULE_NODE_ACCOUNTS = deriveDevAccounts()

export interface ModuleNode {
  chain: Chain
  mempool: Mempool
  api: RpcApi
  /** A viem client of this node (automining). */
  client: PublicClient
  /** One JSON-RPC call through the dispatcher; rejects with `{code, message, data}`. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  /** Mines one block of what the mempool holds (an empty block when nothing). */
  mine(): Promise<void>
  close(): Promise<void>
}

export interface JsonRpcFailure extends Error {
  code: number
  data?: unknown
}

export async function createModuleNode(options: {governance?: Record<string, unknown>; unlocked?: boolean} = {}): Promise<ModuleNode> {
  const genesis = addModulesToGenesis(
    createDevGenesis({accounts: MODULE_NODE_ACCOUNTS.map((a) => a.address), timestamp: 1_700_000_000}),
    defaultGenesisModules({governance: options.governance ?? {votingPeriod: 4, timelock: 1}}),
  )
  const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
  const mempool = new Mempool(chain)
  const api = await createRpcApi({
    chain,
    mempool,
    logger: silentLogger,
    clientVersion: 'xai/test',
    accounts: options.unlocked === false ? [] : MODULE_NODE_ACCOUNTS.map((a) => ({address: a.address, privateKey: a.privateKey})),
  })
  let id = 1
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const text = await api.dispatcher.handle(JSON.stringify({jsonrpc: '2.0', id: id++, method, params}))
    const answer = JSON.parse(text!) as {result?: T; error?: {code: number; message: string; data?: unknown}}
    if (answer.error) throw Object.assign(new Error(answer.error.message), {code: answer.error.code, data: answer.error.data}) as JsonRpcFailure
    return answer.result as T
  }
  const mine = async (): Promise<void> => {
    await mineBlock(chain, mempool)
  }
  const client = createPublicClient({
    transport: custom(
      {
        request: async ({method, params}) => {
          const result = await rpc(method, (params ?? []) as unknown[])
          if (method === 'eth_sendRawTransaction' || method === 'eth_sendTransaction') await mine()
          return result
        },
      },
      {retryCount: 0},
    ),
    pollingInterval: 10,
  })
  return {
    chain,
    mempool,
    api,
    client,
    rpc,
    mine,
    async close() {
      api.close()
      await chain.close()
    },
  }
}
