// The benchmark scenarios. Everything here is target-agnostic: the same load generator, the same
// pre-signed transactions (modulo chain id / nonces / contract address read from the target) and
// the same inclusion-tracking method run against every target.
//
// Inclusion tracking (the latency/throughput method):
//   A dedicated watcher (own keep-alive connection) polls `eth_blockNumber` every `pollMs` (20 ms).
//   When the head advances it fetches every new block with `eth_getBlockByNumber(n, false)` and
//   stamps each of our tx hashes found in it with the wall-clock time at which the new head was
//   first seen. Latency of a tx = that stamp − the moment its `eth_sendRawTransaction` request was
//   issued. Throughput = N / (last inclusion stamp − first send). Resolution: poll interval + one
//   RPC round trip. Afterwards (untimed) all receipts are fetched to check `status == 0x1`.
import {pbkdf2Sync} from 'node:crypto'
import {encodeDeployData, encodeFunctionData, keccak256, toHex, type Hex, type PrivateKeyAccount} from 'viem'
import {HDKey, mnemonicToAccount, privateKeyToAccount} from 'viem/accounts'
import type {CompiledContract} from './contract.js'
import {sleep} from './proc.js'
import {body, pool, RpcClient, type Transport} from './rpc.js'
import {percentile, procCpuMs} from './stats.js'
import type {Target} from './targets.js'

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

/** The first 10 are funded at genesis on every target. */
export const FUNDED_DEV_ACCOUNTS = 10

/** Accounts m/44'/60'/0'/0/i of the dev mnemonic (BIP-39 seed computed once). */
export function devAccounts(count = FUNDED_DEV_ACCOUNTS): PrivateKeyAccount[] {
  const seed = pbkdf2Sync(DEV_MNEMONIC.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512')
  const master = HDKey.fromMasterSeed(seed)
  const accounts = Array.from({length: count}, (_, i) => {
    const privateKey = master.derive(`m/44'/60'/0'/0/${i}`).privateKey
    if (!privateKey) throw new Error('could not derive dev private key')
    return privateKeyToAccount(toHex(privateKey))
  })
  // Sanity check against viem's own mnemonic derivation.
  if (accounts[0]!.address !== mnemonicToAccount(DEV_MNEMONIC).address) throw new Error('dev account derivation mismatch')
  return accounts
}

/** Deterministic recipient addresses (fresh accounts, never senders). */
export function recipients(count: number): Hex[] {
  return Array.from({length: count}, (_, i) => `0x${keccak256(toHex(`xai-bench-recipient-${i}`)).slice(-40)}` as Hex)
}

export interface ScenarioOptions {
  txs: number
  calls: number
  /** Timed rounds of `calls` eth_calls; the median round is reported. */
  callRounds: number
  concurrency: number
  senders: number
  recipients: number
  pollMs: number
  scenarioTimeoutMs: number
  transport: Transport
}

export interface ScenarioContext {
  target: Target
  chainId: number
  accounts: PrivateKeyAccount[]
  token: CompiledContract
  options: ScenarioOptions
  /** performance.now() deadline for the whole scenario (setup + timed part). */
  deadline: number
  log: (message: string) => void
}

export interface BlockInfo {
  number: number
  txs: number
  ours: number
  gasUsed: number
  /** The block's coinbase (on a validator devnet: the proposer's validator address). */
  miner: string
  /** ms since the first send when the watcher first saw this block as head. */
  seenAtMs: number
}

/** One node's process CPU over the timed window (first send → last inclusion). */
export interface NodeCpu {
  pid: number
  /** The node's validator address (xai_nodeInfo), when it has one. */
  validator?: string
  cpuMs: number
  /** cpuMs / transactions of the scenario, µs: the CPU each node spends per transaction. */
  cpuUsPerTx: number
  /** Blocks carrying our transactions that this node proposed. */
  proposedBlocks: number
  /** Our transactions in the blocks this node proposed. */
  proposedTxs: number
}

export interface TxScenarioResult {
  kind: 'tx'
  count: number
  /** Mined tx/s, first send → last inclusion seen. */
  tps: number
  elapsedMs: number
  latencyP50Ms: number
  latencyP95Ms: number
  latencyMaxMs: number
  /** Submission phase: first send → last `eth_sendRawTransaction` answer. */
  submitMs: number
  submitRate: number
  sendRpcP50Ms: number
  sendRpcP95Ms: number
  blocks: BlockInfo[]
  gasLimitPerTx: number
  gasUsedMin: number
  gasUsedMax: number
  /** Load-generator (this process) CPU during the submission phase, % of one core. */
  loadgenCpuPct: number
  /** Load-generator CPU per submitted tx (incl. the inclusion watcher), µs. */
  loadgenCpuUsPerTx: number
  /** Node-under-test CPU from first send to last inclusion (main PID, from /proc), % of one core. */
  targetCpuPct?: number
  /** CPU per transaction of every node process of the target (from /proc), proposer and not. */
  nodeCpu?: NodeCpu[]
}

export interface CallRound {
  callsPerSec: number
  elapsedMs: number
  latencyP50Ms: number
  latencyP95Ms: number
  loadgenCpuPct: number
  /** Load-generator CPU per request, µs. */
  loadgenCpuUsPerCall: number
  targetCpuPct?: number
}

export interface CallScenarioResult extends CallRound {
  kind: 'call'
  /** Calls per round. */
  count: number
  /** Every request of the scenario distinct (`calls`), or 10 bodies repeated (`calls-cached`). */
  distinctRequests: boolean
  /** Figures above are those of the median round (by calls/s). */
  rounds: CallRound[]
}

export type ScenarioResult = TxScenarioResult | CallScenarioResult

export interface Scenario {
  name: string
  title: string
  run(ctx: ScenarioContext): Promise<ScenarioResult>
}

function checkDeadline(ctx: ScenarioContext, what: string): void {
  if (performance.now() > ctx.deadline) throw new Error(`${ctx.target.name}: scenario timed out (${ctx.options.scenarioTimeoutMs / 1000} s) during ${what}`)
}

function loadClient(ctx: ScenarioContext): RpcClient {
  return new RpcClient(ctx.target.rpcUrl, {transport: ctx.options.transport, maxSockets: ctx.options.concurrency + 4})
}

interface Fees {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

async function fees(rpc: RpcClient): Promise<Fees> {
  const block = await rpc.request<{baseFeePerGas?: Hex}>('eth_getBlockByNumber', ['latest', false])
  const baseFee = block.baseFeePerGas ? BigInt(block.baseFeePerGas) : 1_000_000_000n
  const floor = 100_000_000_000n // 100 gwei: stays above the base fee even after many full blocks
  return {maxFeePerGas: baseFee * 4n > floor ? baseFee * 4n : floor, maxPriorityFeePerGas: 1_000_000_000n}
}

async function pendingNonces(rpc: RpcClient, accounts: PrivateKeyAccount[]): Promise<number[]> {
  return Promise.all(accounts.map(async (a) => Number(await rpc.request<Hex>('eth_getTransactionCount', [a.address, 'pending']))))
}

interface SignedTx {
  raw: Hex
  hash: Hex
  payload: string
}

/**
 * Pre-sign `count` txs spread round-robin over `senders` (tx i is from sender i % S with that
 * sender's next nonce), so per-sender nonces are sent in increasing order.
 */
async function presign(
  ctx: ScenarioContext,
  rpc: RpcClient,
  count: number,
  build: (i: number) => {to: Hex; value?: bigint; data?: Hex; gas: bigint},
): Promise<SignedTx[]> {
  const senders = ctx.accounts.slice(0, ctx.options.senders)
  const nonces = await pendingNonces(rpc, senders)
  const fee = await fees(rpc)
  const out: SignedTx[] = []
  for (let i = 0; i < count; i++) {
    if (i % 200 === 0) checkDeadline(ctx, 'signing')
    const s = i % senders.length
    const {to, value, data, gas} = build(i)
    const raw = await senders[s]!.signTransaction({
      type: 'eip1559',
      chainId: ctx.chainId,
      nonce: nonces[s]!++,
      to,
      value: value ?? 0n,
      data,
      gas,
      ...fee,
    })
    out.push({raw, hash: keccak256(raw), payload: body('eth_sendRawTransaction', [raw])})
  }
  return out
}

/** Send a single tx and wait (bounded) for its receipt; used for setup only. */
async function sendAndWait(ctx: ScenarioContext, rpc: RpcClient, raw: Hex, what: string): Promise<{contractAddress?: Hex; status: Hex; gasUsed: Hex}> {
  const hash = await rpc.request<Hex>('eth_sendRawTransaction', [raw])
  for (let i = 0; i < 100_000; i++) {
    checkDeadline(ctx, what)
    const receipt = await rpc.request<{contractAddress?: Hex; status: Hex; gasUsed: Hex} | null>('eth_getTransactionReceipt', [hash])
    if (receipt) {
      if (receipt.status !== '0x1') throw new Error(`${ctx.target.name}: ${what} reverted (tx ${hash})`)
      return receipt
    }
    await sleep(50)
  }
  throw new Error(`${ctx.target.name}: ${what}: no receipt`)
}

const TOKEN_AMOUNT = 10n ** 24n

async function deployToken(ctx: ScenarioContext, rpc: RpcClient): Promise<Hex> {
  const deployer = ctx.accounts[0]!
  const [nonce] = await pendingNonces(rpc, [deployer])
  const fee = await fees(rpc)
  const data = encodeDeployData({
    abi: ctx.token.abi,
    bytecode: ctx.token.bytecode,
    args: [ctx.accounts.slice(0, ctx.options.senders).map((a) => a.address), TOKEN_AMOUNT],
  })
  const gas = 1_500_000n + 30_000n * BigInt(ctx.options.senders) // constructor writes one balance slot per holder
  const raw = await deployer.signTransaction({type: 'eip1559', chainId: ctx.chainId, nonce: nonce!, data, gas, value: 0n, ...fee})
  const receipt = await sendAndWait(ctx, rpc, raw, 'token deployment')
  if (!receipt.contractAddress) throw new Error(`${ctx.target.name}: deployment receipt has no contractAddress`)
  const code = await rpc.request<Hex>('eth_getCode', [receipt.contractAddress, 'latest'])
  if (!code || code === '0x') throw new Error(`${ctx.target.name}: no code at deployed token ${receipt.contractAddress}`)
  return receipt.contractAddress
}

/**
 * Untimed setup for --senders > 10: the funded dev accounts send 100 ETH to each extra sender
 * (derived from the same mnemonic), and we wait for every receipt.
 */
async function fundExtraSenders(ctx: ScenarioContext, rpc: RpcClient): Promise<void> {
  const extra = ctx.accounts.slice(FUNDED_DEV_ACCOUNTS, ctx.options.senders)
  if (extra.length === 0) return
  ctx.log(`funding ${extra.length} extra senders`)
  const funders = ctx.accounts.slice(0, FUNDED_DEV_ACCOUNTS)
  const nonces = await pendingNonces(rpc, funders)
  const fee = await fees(rpc)
  const hashes: Hex[] = []
  for (let i = 0; i < extra.length; i++) {
    const f = i % funders.length
    const raw = await funders[f]!.signTransaction({type: 'eip1559', chainId: ctx.chainId, nonce: nonces[f]!++, to: extra[i]!.address, value: 100n * 10n ** 18n, gas: 21_000n, ...fee})
    hashes.push(await rpc.request<Hex>('eth_sendRawTransaction', [raw]))
  }
  const pending = new Set(hashes)
  for (let i = 0; i < 100_000 && pending.size > 0; i++) {
    checkDeadline(ctx, 'funding extra senders')
    for (const hash of [...pending]) {
      const receipt = await rpc.request<{status: Hex} | null>('eth_getTransactionReceipt', [hash])
      if (!receipt) break // later hashes are not mined before earlier ones of the same funder; poll again
      if (receipt.status !== '0x1') throw new Error(`${ctx.target.name}: funding tx ${hash} failed`)
      pending.delete(hash)
    }
    if (pending.size > 0) await sleep(100)
  }
  if (pending.size > 0) throw new Error(`${ctx.target.name}: ${pending.size} funding txs not mined`)
}

/** Watches new blocks and stamps the inclusion time of the hashes we wait for. */
class InclusionWatcher {
  readonly included = new Map<string, number>()
  readonly blocks: BlockInfo[] = []
  private readonly rpc: RpcClient
  private last = 0
  private stopped = false
  private loop: Promise<void> | undefined
  private failure: unknown

  constructor(
    url: string,
    private readonly wanted: Set<string>,
    private readonly pollMs: number,
    private readonly t0: () => number,
  ) {
    this.rpc = new RpcClient(url, {maxSockets: 2})
  }

  /**
   * Read the head, then wait (polling every 5 ms) until the next block appears, so that sending
   * starts right after a block boundary: the same block phase for every target and every run.
   */
  async alignAndStart(deadline: number, name: string): Promise<void> {
    const initial = Number(await this.rpc.request<Hex>('eth_blockNumber'))
    for (let i = 0; ; i++) {
      const head = Number(await this.rpc.request<Hex>('eth_blockNumber'))
      if (head > initial) {
        this.last = head
        break
      }
      if (performance.now() > deadline || i > 100_000) throw new Error(`${name}: no new block while waiting for a block boundary (head ${initial})`)
      await sleep(5)
    }
    this.loop = this.run()
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        const head = Number(await this.rpc.request<Hex>('eth_blockNumber'))
        const seen = performance.now()
        for (let n = this.last + 1; n <= head && !this.stopped; n++) {
          const block = await this.rpc.request<{transactions: Hex[]; gasUsed: Hex; miner: Hex} | null>('eth_getBlockByNumber', [toHex(n), false])
          if (!block) break // not yet available; retry on next poll
          let ours = 0
          for (const hash of block.transactions) {
            const h = hash.toLowerCase()
            if (this.wanted.has(h) && !this.included.has(h)) {
              this.included.set(h, seen)
              ours++
            }
          }
          this.blocks.push({number: n, txs: block.transactions.length, ours, gasUsed: Number(block.gasUsed), miner: block.miner, seenAtMs: seen - this.t0()})
          this.last = n
        }
        if (this.included.size >= this.wanted.size) return
        await sleep(this.pollMs)
      }
    } catch (error) {
      this.failure = error
    }
  }

  /** Resolve once every wanted hash is included; reject on watcher error or deadline. */
  async waitAll(deadline: number, name: string): Promise<void> {
    for (let i = 0; i < 10_000_000; i++) {
      if (this.failure) throw this.failure
      if (this.included.size >= this.wanted.size) return
      if (performance.now() > deadline) {
        throw new Error(`${name}: timed out waiting for inclusion: ${this.included.size} of ${this.wanted.size} txs mined (last block seen ${this.last})`)
      }
      await sleep(10)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
    this.rpc.close()
  }
}

/** The timed part shared by the two transaction scenarios. */
async function runTxLoad(ctx: ScenarioContext, txs: SignedTx[], gasLimitPerTx: number, paceMs = 0): Promise<TxScenarioResult> {
  // A fresh client whose connections are opened right before timing: no keep-alive connection
  // that sat idle during signing (and might be closed by the server's idle timeout) is reused.
  const rpc = loadClient(ctx)
  try {
    await pool(ctx.options.concurrency, ctx.options.concurrency, async () => void (await rpc.request('eth_chainId')), ctx.deadline, 'opening connections')
    return await runTxLoadWith(ctx, rpc, txs, gasLimitPerTx, paceMs)
  } finally {
    rpc.close()
  }
}

/** With `paceMs`, transaction i is sent no earlier than i × paceMs after the start (a steady rate). */
async function runTxLoadWith(ctx: ScenarioContext, rpc: RpcClient, txs: SignedTx[], gasLimitPerTx: number, paceMs = 0): Promise<TxScenarioResult> {
  const name = ctx.target.name
  const wanted = new Set(txs.map((t) => t.hash.toLowerCase()))
  if (wanted.size !== txs.length) throw new Error('duplicate tx hashes in the pre-signed set')
  let t0 = 0
  const watcher = new InclusionWatcher(ctx.target.rpcUrl, wanted, ctx.options.pollMs, () => t0)
  await watcher.alignAndStart(ctx.deadline, name)
  const sendStart = new Float64Array(txs.length)
  const sendEnd = new Float64Array(txs.length)
  const pid = ctx.target.pid()
  const nodePids = ctx.target.pids()
  const validators = await nodeValidators(ctx)
  const targetCpu0 = pid === undefined ? undefined : procCpuMs(pid)
  const nodeCpu0 = nodePids.map((p) => procCpuMs(p))
  const cpu0 = process.cpuUsage()
  ctx.log(`sending ${txs.length} txs, ${ctx.options.concurrency} in flight`)
  t0 = performance.now()
  try {
    await pool(
      txs.length,
      ctx.options.concurrency,
      async (i) => {
        const tx = txs[i]!
        if (paceMs > 0) {
          const due = t0 + i * paceMs - performance.now()
          if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
        }
        sendStart[i] = performance.now()
        const hash = await rpc.send<Hex>(tx.payload, 'eth_sendRawTransaction')
        sendEnd[i] = performance.now()
        if (typeof hash !== 'string' || hash.toLowerCase() !== tx.hash.toLowerCase()) {
          throw new Error(`${name}: eth_sendRawTransaction returned ${String(hash)}, expected ${tx.hash}`)
        }
      },
      ctx.deadline,
      `${name}: sending`,
    )
    const submitted = performance.now()
    const cpu = process.cpuUsage(cpu0)
    await watcher.waitAll(ctx.deadline, name)
    const targetCpu1 = pid === undefined ? undefined : procCpuMs(pid)
    const nodeCpu1 = nodePids.map((p) => procCpuMs(p))
    let lastIncluded = 0
    const latencies: number[] = []
    for (let i = 0; i < txs.length; i++) {
      const at = watcher.included.get(txs[i]!.hash.toLowerCase())!
      if (at > lastIncluded) lastIncluded = at
      latencies.push(at - sendStart[i]!)
    }
    const elapsedMs = lastIncluded - t0
    const sendRpc = Array.from(sendEnd, (end, i) => end - sendStart[i]!)
    await watcher.stop()

    // Untimed verification: every receipt must exist and report success.
    ctx.log('verifying receipts')
    const gasUsed: number[] = []
    await pool(
      txs.length,
      ctx.options.concurrency,
      async (i) => {
        const receipt = await rpc.request<{status: Hex; gasUsed: Hex} | null>('eth_getTransactionReceipt', [txs[i]!.hash])
        if (!receipt) throw new Error(`${name}: no receipt for included tx ${txs[i]!.hash}`)
        if (receipt.status !== '0x1') throw new Error(`${name}: tx ${txs[i]!.hash} failed (status ${receipt.status})`)
        gasUsed.push(Number(receipt.gasUsed))
      },
      ctx.deadline,
      `${name}: verifying receipts`,
    )
    return {
      kind: 'tx',
      count: txs.length,
      tps: (txs.length * 1000) / elapsedMs,
      elapsedMs,
      latencyP50Ms: percentile(latencies, 50),
      latencyP95Ms: percentile(latencies, 95),
      latencyMaxMs: Math.max(...latencies),
      submitMs: submitted - t0,
      submitRate: (txs.length * 1000) / (submitted - t0),
      sendRpcP50Ms: percentile(sendRpc, 50),
      sendRpcP95Ms: percentile(sendRpc, 95),
      blocks: watcher.blocks.filter((b) => b.ours > 0),
      gasLimitPerTx,
      gasUsedMin: Math.min(...gasUsed),
      gasUsedMax: Math.max(...gasUsed),
      loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / (submitted - t0)) * 100,
      loadgenCpuUsPerTx: (cpu.user + cpu.system) / txs.length,
      targetCpuPct: targetCpu0 !== undefined && targetCpu1 !== undefined ? ((targetCpu1 - targetCpu0) / elapsedMs) * 100 : undefined,
      nodeCpu: nodeCpuFigures(nodePids, validators, nodeCpu0, nodeCpu1, watcher.blocks, txs.length),
    }
  } finally {
    await watcher.stop()
  }
}

/** Each node's validator address, read from `xai_nodeInfo` on its RPC port (none for anvil or a single node). */
async function nodeValidators(ctx: ScenarioContext): Promise<(string | undefined)[]> {
  const urls = ctx.target.nodeRpcUrls?.() ?? []
  return Promise.all(
    urls.map(async (url) => {
      const rpc = new RpcClient(url, {maxSockets: 1, timeoutMs: 5000})
      try {
        const info = await rpc.request<{validator?: string | null}>('xai_nodeInfo')
        return info.validator?.toLowerCase() ?? undefined
      } catch {
        return undefined
      } finally {
        rpc.close()
      }
    }),
  )
}

function nodeCpuFigures(
  pids: number[],
  validators: (string | undefined)[],
  before: (number | undefined)[],
  after: (number | undefined)[],
  blocks: BlockInfo[],
  txCount: number,
): NodeCpu[] {
  const out: NodeCpu[] = []
  pids.forEach((pid, i) => {
    const b = before[i]
    const a = after[i]
    if (b === undefined || a === undefined) return
    const validator = validators[i]
    const proposed = validator === undefined ? [] : blocks.filter((block) => block.ours > 0 && block.miner.toLowerCase() === validator)
    out.push({
      pid,
      validator,
      cpuMs: a - b,
      cpuUsPerTx: ((a - b) * 1000) / txCount,
      proposedBlocks: proposed.length,
      proposedTxs: proposed.reduce((sum, block) => sum + block.ours, 0),
    })
  })
  return out
}

const TRANSFER_GAS = 21_000n

/** `count` pre-signed 1-wei transfers to the fixed recipients, senders round robin. */
function presignTransfers(ctx: ScenarioContext, rpc: RpcClient, count: number): Promise<SignedTx[]> {
  const to = recipients(ctx.options.recipients)
  return presign(ctx, rpc, count, (i) => ({to: to[i % to.length]!, value: 1n, gas: TRANSFER_GAS}))
}

export const transfersScenario: Scenario = {
  name: 'transfers',
  title: 'ETH transfers',
  async run(ctx) {
    const rpc = loadClient(ctx)
    try {
      await fundExtraSenders(ctx, rpc)
      ctx.log(`pre-signing ${ctx.options.txs} EIP-1559 transfers from ${ctx.options.senders} senders`)
      const txs = await presignTransfers(ctx, rpc, ctx.options.txs)
      return await runTxLoad(ctx, txs, Number(TRANSFER_GAS))
    } finally {
      rpc.close()
    }
  },
}

export const erc20Scenario: Scenario = {
  name: 'erc20',
  title: 'ERC-20 transfers',
  async run(ctx) {
    const rpc = loadClient(ctx)
    try {
      await fundExtraSenders(ctx, rpc)
      ctx.log('deploying BenchToken')
      const token = await deployToken(ctx, rpc)
      const to = recipients(ctx.options.recipients)
      ctx.log(`pre-signing ${ctx.options.txs} ERC-20 transfer() txs from ${ctx.options.senders} senders`)
      // Worst case (fresh recipient slot, cold sender slot) is ~52k gas; 100k leaves headroom and is
      // the same for every target.
      const gas = 100_000n
      const txs = await presign(ctx, rpc, ctx.options.txs, (i) => ({
        to: token,
        gas,
        data: encodeFunctionData({abi: ctx.token.abi, functionName: 'transfer', args: [to[i % to.length]!, 1n]}),
      }))
      return await runTxLoad(ctx, txs, Number(gas))
    } finally {
      rpc.close()
    }
  },
}

/** Deterministic addresses that hold no token: `balanceOf` of each is a distinct request (answer 0). */
export function holders(count: number, offset = 0): Hex[] {
  return Array.from({length: count}, (_, i) => `0x${keccak256(toHex(`xai-bench-holder-${offset + i}`)).slice(-40)}` as Hex)
}

/**
 * `eth_call balanceOf(holder)`: a 500-call warm-up, then `callRounds` timed rounds of `calls`.
 * `distinct`: every request of the scenario (warm-up and all rounds) asks about another address,
 * as a wallet or indexer reading many balances does, so no per-block result cache can answer it;
 * the senders' balances are checked once, untimed, so a node answering 0 for everything fails.
 * Otherwise (the `calls-cached` scenario) the requests cycle over the 10 senders: after the first
 * call of each, a node that caches results per block answers from its cache.
 */
function callScenario(name: string, title: string, distinct: boolean): Scenario {
  return {
    name,
    title,
    async run(ctx) {
      const rpc = loadClient(ctx)
      try {
        ctx.log('deploying BenchToken')
        const token = await deployToken(ctx, rpc)
        const senders = ctx.accounts.slice(0, ctx.options.senders)
        const funded = toHex(TOKEN_AMOUNT, {size: 32})
        const zero = toHex(0n, {size: 32})
        const balanceOf = (holder: Hex) => body('eth_call', [{to: token, data: encodeFunctionData({abi: ctx.token.abi, functionName: 'balanceOf', args: [holder]})}, 'latest'])
        const checker = (expected: Hex) => (result: unknown) => {
          if (typeof result !== 'string' || result.toLowerCase() !== expected) throw new Error(`${ctx.target.name}: balanceOf returned ${String(result)}, expected ${expected}`)
        }
        const warm = Math.min(ctx.options.calls, 500)
        // One list of request bodies per pass (the warm-up, then each round), built before timing.
        let passes: string[][]
        let check: (result: unknown) => void
        if (distinct) {
          for (const sender of senders) checker(funded)(await rpc.request('eth_call', [{to: token, data: encodeFunctionData({abi: ctx.token.abi, functionName: 'balanceOf', args: [sender.address]})}, 'latest']))
          const all = holders(warm + ctx.options.callRounds * ctx.options.calls).map(balanceOf)
          passes = [all.slice(0, warm), ...Array.from({length: ctx.options.callRounds}, (_, r) => all.slice(warm + r * ctx.options.calls, warm + (r + 1) * ctx.options.calls))]
          if (new Set(all).size !== all.length) throw new Error('duplicate eth_call request bodies in the distinct scenario')
          check = checker(zero)
        } else {
          const repeated = Array.from({length: ctx.options.calls}, (_, i) => balanceOf(senders[i % senders.length]!.address))
          passes = [repeated.slice(0, warm), ...Array.from({length: ctx.options.callRounds}, () => repeated)]
          check = checker(funded)
        }
        // Warm-up, untimed (same for every target).
        const warmUp = passes[0]!
        await pool(warmUp.length, ctx.options.concurrency, async (i) => check(await rpc.send(warmUp[i]!, 'eth_call')), ctx.deadline, 'eth_call warm-up')
        ctx.log(`${ctx.options.callRounds} rounds of ${ctx.options.calls} eth_call balanceOf (${distinct ? 'every request distinct' : `${senders.length} distinct requests, repeated`}), ${ctx.options.concurrency} in flight`)
        const rounds: CallRound[] = []
        for (let round = 0; round < ctx.options.callRounds; round++) {
          const payloads = passes[round + 1]!
          const latencies = new Float64Array(payloads.length)
          const pid = ctx.target.pid()
          const targetCpu0 = pid === undefined ? undefined : procCpuMs(pid)
          const cpu0 = process.cpuUsage()
          const t0 = performance.now()
          await pool(
            payloads.length,
            ctx.options.concurrency,
            async (i) => {
              const start = performance.now()
              const result = await rpc.send(payloads[i]!, 'eth_call')
              latencies[i] = performance.now() - start
              check(result)
            },
            ctx.deadline,
            `${ctx.target.name}: eth_call`,
          )
          const elapsedMs = performance.now() - t0
          const cpu = process.cpuUsage(cpu0)
          const targetCpu1 = pid === undefined ? undefined : procCpuMs(pid)
          const lat = Array.from(latencies)
          const cpuMs = (cpu.user + cpu.system) / 1000
          rounds.push({
            callsPerSec: (payloads.length * 1000) / elapsedMs,
            elapsedMs,
            latencyP50Ms: percentile(lat, 50),
            latencyP95Ms: percentile(lat, 95),
            loadgenCpuPct: (cpuMs / elapsedMs) * 100,
            loadgenCpuUsPerCall: (cpuMs * 1000) / payloads.length,
            targetCpuPct: targetCpu0 !== undefined && targetCpu1 !== undefined ? ((targetCpu1 - targetCpu0) / elapsedMs) * 100 : undefined,
          })
        }
        const sorted = [...rounds].sort((a, b) => a.callsPerSec - b.callsPerSec)
        const mid = sorted[Math.floor((sorted.length - 1) / 2)]!
        return {kind: 'call', count: ctx.options.calls, distinctRequests: distinct, ...mid, rounds}
      } finally {
        rpc.close()
      }
    },
  }
}

/** The default eth_call scenario: every request distinct, so each one is executed. */
export const callsScenario = callScenario('calls', 'eth_call balanceOf, every request distinct', true)

/** The same calls over 10 request bodies: mostly answered by a per-block result cache. */
export const cachedCallsScenario = callScenario('calls-cached', 'eth_call balanceOf, 10 distinct requests repeated', false)

/**
 * Send → inclusion latency at a steady, moderate rate (20 transfers/s, 200 of them): what a dApp
 * waits for a receipt when the chain is not saturated. The issue's bar: p50 within one block time.
 */
export const latencyScenario: Scenario = {
  name: 'latency',
  title: 'transfer latency at 20 tx/s',
  async run(ctx) {
    const rpc = loadClient(ctx)
    try {
      const count = Math.min(200, ctx.options.txs)
      ctx.log(`pre-signing ${count} transfers, sent one every 50 ms`)
      const txs = await presignTransfers(ctx, rpc, count)
      return await runTxLoad(ctx, txs, Number(TRANSFER_GAS), 50)
    } finally {
      rpc.close()
    }
  },
}

export const SCENARIOS: Record<string, Scenario> = {
  transfers: transfersScenario,
  erc20: erc20Scenario,
  calls: callsScenario,
  latency: latencyScenario,
  'calls-cached': cachedCallsScenario,
}

/** Scenarios run when --scenario is not given (calls-cached only on request). */
export const DEFAULT_SCENARIOS = ['transfers', 'erc20', 'calls', 'latency']
