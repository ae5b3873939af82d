/**
 * JSON-RPC over WebSocket on the same port as HTTP, with interval mining (1 s blocks): viem's
 * webSocket transport (newHeads, logs subscriptions) and raw eth_subscribe / eth_unsubscribe,
 * plus how the server treats malformed messages. Also the interval-mining behaviour of plain
 * HTTP clients (pending nonces, transactions waiting for the next block).
 */
import {type Address, type Block, type Chain, type Hash, type Hex, type PublicClient, type Transport, createPublicClient, parseEther, webSocket} from 'viem'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, beforeEach, describe, expect, test} from 'vitest'

import {e2eChain, publicClientFor, receiptWaiter, walletClientFor} from '../helpers/clients.js'
import {type E2eDevnet, startE2eDevnet, waitFor} from '../helpers/devnet.js'
import {type CompiledContract, e2eContract} from '../helpers/solidity.js'
import {WsRpc} from '../helpers/ws-rpc.js'

const TIMEOUT = 120_000
const BLOCK_TIME_MS = 1_000

const DEPLOYER = 0
const PENDING_SENDER = 1
const INTERVAL_SENDER = 2

let devnet: E2eDevnet
let http: ReturnType<typeof publicClientFor>
let ws: PublicClient<Transport, Chain>
let token: CompiledContract
let tokenAddress: Address
const sockets: WsRpc[] = []

const freshAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address
const waiter = receiptWaiter(() => http, () => devnet)
const receiptOf = waiter.receiptOf

beforeEach((context) => {
  if (waiter.stalled) context.skip(`the chain stopped mining (${waiter.stalled}); see the first failure`)
})

async function rawSocket(): Promise<WsRpc> {
  const socket = await WsRpc.connect(devnet.wsUrl)
  sockets.push(socket)
  return socket
}

beforeAll(async () => {
  token = e2eContract('TestToken')
  devnet = await startE2eDevnet({blockTime: BLOCK_TIME_MS})
  http = publicClientFor(devnet)
  ws = createPublicClient({chain: e2eChain(devnet), transport: webSocket(devnet.wsUrl, {timeout: 60_000})})
  const hash = await walletClientFor(devnet, DEPLOYER).deployContract({abi: token.abi, bytecode: token.bytecode, args: ['WS Token', 'WST', 10n ** 24n]})
  tokenAddress = (await receiptOf(hash)).contractAddress!
}, TIMEOUT)

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()))
  try {
    const rpcClient = await (ws?.transport as unknown as {getRpcClient?: () => Promise<{close(): void}>})?.getRpcClient?.()
    rpcClient?.close()
  } catch {
    // the socket may already be gone
  }
  await devnet?.stop()
}, TIMEOUT)

describe('viem webSocket transport', {timeout: TIMEOUT}, () => {
  test('basic requests work over WebSocket', async () => {
    expect(await ws.getChainId()).toBe(31337)
    const viaWs = await ws.getBlock({blockNumber: 0n})
    const viaHttp = await http.getBlock({blockNumber: 0n})
    expect(viaWs.hash).toBe(viaHttp.hash)
  })

  test('watchBlocks (newHeads) receives consecutive blocks whose parentHash chains', async () => {
    const blocks: Block[] = []
    const errors: Error[] = []
    const unwatch = ws.watchBlocks({onBlock: (block) => void blocks.push(block), onError: (err) => void errors.push(err)})
    try {
      await waitFor(async () => blocks.length >= 4 || errors.length > 0, {timeoutMs: 30_000, what: '4 blocks from watchBlocks'})
    } finally {
      unwatch()
    }
    expect(errors).toEqual([])
    for (let i = 1; i < blocks.length; i++) {
      expect(blocks[i]!.number).toBe(blocks[i - 1]!.number! + 1n)
      expect(blocks[i]!.parentHash).toBe(blocks[i - 1]!.hash)
    }
    // The heads are the blocks HTTP serves.
    const last = blocks.at(-1)!
    const same = await http.getBlock({blockNumber: last.number!})
    expect(same.hash).toBe(last.hash)
    expect(same.stateRoot).toBe(last.stateRoot)
    // Interval mining: timestamps advance.
    expect(last.timestamp).toBeGreaterThan(blocks[0]!.timestamp)
  })

  test('watchContractEvent receives live Transfer logs, filtered by an indexed arg', async () => {
    const recipient = freshAddress()
    const received: {transactionHash: Hash; blockHash: Hash; args: unknown}[] = []
    const errors: Error[] = []
    const unwatch = ws.watchContractEvent({
      address: tokenAddress,
      abi: token.abi,
      eventName: 'Transfer',
      args: {to: recipient},
      onLogs: (logs) => void received.push(...(logs as unknown as typeof received)),
      onError: (err) => void errors.push(err),
    })
    const wallet = walletClientFor(devnet, DEPLOYER)
    const transfer = async (to: Address, amount: bigint) => {
      const hash = await wallet.writeContract({address: tokenAddress, abi: token.abi, functionName: 'transfer', args: [to, amount]})
      return receiptOf(hash)
    }
    try {
      // The subscription is set up asynchronously: send until the first transfer is seen
      // (bounded), then every later one must be delivered.
      let firstSeen: Hash | undefined
      for (let attempt = 0; attempt < 5 && !firstSeen; attempt++) {
        const receipt = await transfer(recipient, 1n)
        const seen = await waitFor(async () => received.some((l) => l.transactionHash === receipt.transactionHash) || undefined, {
          timeoutMs: 3 * BLOCK_TIME_MS,
          what: 'the Transfer log',
        }).catch(() => undefined)
        if (seen) firstSeen = receipt.transactionHash
      }
      expect(firstSeen, 'no Transfer log arrived over the logs subscription after 5 transfers').toBeDefined()

      const other = await transfer(freshAddress(), 2n) // filtered out by `to`
      const second = await transfer(recipient, 3n)
      await waitFor(async () => received.some((l) => l.transactionHash === second.transactionHash), {timeoutMs: 10_000, what: 'the second Transfer log'})
      const log = received.find((l) => l.transactionHash === second.transactionHash)!
      expect(log.args).toEqual({from: devnet.accounts[DEPLOYER]!.address, to: recipient, value: 3n})
      expect(log.blockHash).toBe(second.blockHash)
      expect(received.some((l) => l.transactionHash === other.transactionHash)).toBe(false)
      expect(errors).toEqual([])
    } finally {
      unwatch()
    }
  })
})

describe('raw eth_subscribe over WebSocket', {timeout: TIMEOUT}, () => {
  test('newPendingTransactions delivers the hash of a sent transaction', async () => {
    const socket = await rawSocket()
    const subscription = await socket.subscribe('newPendingTransactions')
    expect(subscription).toMatch(/^0x[0-9a-fA-F]+$/)
    const hash = await walletClientFor(devnet, PENDING_SENDER).sendTransaction({to: freshAddress(), value: 1n})
    const result = await socket.nextNotification(subscription, (r) => r === hash, 15_000, `newPendingTransactions to announce ${hash}`)
    expect(result).toBe(hash)
    await receiptOf(hash)
  })

  test('newHeads notifications are full headers with hash and number', async () => {
    const socket = await rawSocket()
    const subscription = await socket.subscribe('newHeads')
    const head = (await socket.nextNotification(subscription, () => true, 15_000, 'a newHeads notification')) as Record<string, Hex>
    for (const field of ['hash', 'parentHash', 'number', 'timestamp', 'stateRoot', 'miner', 'gasLimit', 'baseFeePerGas', 'logsBloom']) {
      expect(head, `newHeads field ${field}`).toHaveProperty(field)
    }
    const block = await http.getBlock({blockHash: head.hash as Hash})
    expect(block.number).toBe(BigInt(head.number!))
  })

  test('eth_subscribe logs delivers a matching log with its position fields', async () => {
    const socket = await rawSocket()
    const recipient = freshAddress()
    const topicTo = `0x${recipient.slice(2).toLowerCase().padStart(64, '0')}`
    const subscription = await socket.subscribe('logs', {address: tokenAddress, topics: [null, null, topicTo]})
    const hash = await walletClientFor(devnet, DEPLOYER).writeContract({address: tokenAddress, abi: token.abi, functionName: 'transfer', args: [recipient, 5n]})
    const receipt = await receiptOf(hash)
    const log = (await socket.nextNotification(subscription, (r) => (r as {transactionHash?: string}).transactionHash === hash, 15_000, 'the log')) as Record<string, unknown>
    expect(log).toMatchObject({
      address: tokenAddress.toLowerCase(),
      blockHash: receipt.blockHash,
      blockNumber: `0x${receipt.blockNumber.toString(16)}`,
      transactionHash: hash,
      removed: false,
    })
    expect((log.topics as string[])[2]).toBe(topicTo)
  })

  test('eth_unsubscribe stops a subscription and leaves the others running', async () => {
    const socket = await rawSocket()
    const stopped = await socket.subscribe('newHeads')
    const kept = await socket.subscribe('newHeads')
    expect(stopped).not.toBe(kept)
    await socket.nextNotification(stopped, () => true, 15_000, 'a head on the first subscription')
    const unsubscribe = await socket.request('eth_unsubscribe', [stopped])
    expect(unsubscribe.result).toBe(true)
    const countAtUnsubscribe = socket.notifications(stopped).length
    const keptAtUnsubscribe = socket.notifications(kept).length
    // Two more heads on the kept subscription: the stopped one must have had none since.
    await waitFor(async () => socket.notifications(kept).length >= keptAtUnsubscribe + 2, {timeoutMs: 15_000, what: 'two more heads'})
    expect(socket.notifications(stopped).length).toBe(countAtUnsubscribe)
    // Unsubscribing again: false (or an error), never true.
    const again = await socket.request('eth_unsubscribe', [stopped])
    expect(again.result === true).toBe(false)
  })

  test('a malformed message gets an error response and the connection stays usable', async () => {
    const socket = await rawSocket()
    const parseError = socket.next((m) => m.error !== undefined && (m.id === null || m.id === undefined), 10_000, 'the parse error response')
    socket.sendRaw('{"jsonrpc":"2.0","id":1,"method":')
    const response = await parseError
    expect(response.jsonrpc).toBe('2.0')
    expect([-32700, -32600]).toContain(response.error!.code)
    expect(socket.isOpen).toBe(true)

    // Still usable: a normal request, an unknown method, and a batch.
    expect(await socket.call('eth_chainId')).toBe('0x7a69')
    const unknown = await socket.request('eth_noSuchMethod')
    // JSON-RPC 2.0 says -32601 (as over HTTP); anvil's WebSocket answers -32602. Either way an error.
    expect([-32601, -32602]).toContain(unknown.error?.code)
    const batch = socket.next((m) => Array.isArray(m.batch), 10_000, 'the batch response')
    socket.sendRaw(JSON.stringify([
      {jsonrpc: '2.0', id: 101, method: 'eth_chainId', params: []},
      {jsonrpc: '2.0', id: 102, method: 'net_version', params: []},
    ]))
    const results = new Map((await batch).batch!.map((m) => [m.id, m.result]))
    expect(results.get(101)).toBe('0x7a69')
    expect(results.get(102)).toBe('31337')
    expect(socket.isOpen).toBe(true)
  })
})

describe('HTTP clients with interval mining', {timeout: TIMEOUT}, () => {
  test("a sent transaction counts in 'pending' at once and is mined in a later block", async () => {
    const sender = devnet.accounts[INTERVAL_SENDER]!.address
    const nonce = await http.getTransactionCount({address: sender, blockTag: 'latest'})
    const hash = await walletClientFor(devnet, INTERVAL_SENDER).sendTransaction({to: freshAddress(), value: 1n})
    // Whether or not the block has come yet, the pending nonce includes the transaction.
    expect(await http.getTransactionCount({address: sender, blockTag: 'pending'})).toBe(nonce + 1)
    // Read latest, then look for a receipt: no receipt yet means it was pending when latest was read.
    const latestCount = await http.getTransactionCount({address: sender, blockTag: 'latest'})
    const early = await http.getTransactionReceipt({hash}).catch(() => null)
    if (early === null) expect(latestCount).toBe(nonce)
    // A known pending transaction is returned by hash (blockHash null until mined).
    const tx = await http.getTransaction({hash})
    expect(tx.hash).toBe(hash)
    const receipt = await receiptOf(hash)
    expect(receipt.status).toBe('success')
    expect(await http.getTransactionCount({address: sender, blockTag: 'latest'})).toBe(nonce + 1)
  })

  test('three back-to-back sends get consecutive nonces and all mine', async () => {
    const wallet = walletClientFor(devnet, INTERVAL_SENDER)
    const start = await http.getTransactionCount({address: devnet.accounts[INTERVAL_SENDER]!.address, blockTag: 'pending'})
    const hashes: Hash[] = []
    for (let i = 0; i < 3; i++) hashes.push(await wallet.sendTransaction({to: freshAddress(), value: parseEther('0.001')}))
    const receipts = await Promise.all(hashes.map((hash) => receiptOf(hash)))
    expect(receipts.map((r) => r.status)).toEqual(['success', 'success', 'success'])
    const nonces = await Promise.all(hashes.map(async (hash) => (await http.getTransaction({hash})).nonce))
    expect(nonces).toEqual([start, start + 1, start + 2])
  })
})
