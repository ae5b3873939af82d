/**
 * Fault tests of a 4-validator devnet, as CometBFT's e2e runner applies them: real node
 * processes, real sockets, faults injected through `xai devnet fault`, a steady transaction load.
 * Each test checks safety (all nodes agree on every block; no confirmed transaction is lost) and
 * liveness (the chain commits again once the fault is healed).
 */
import {readFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import {keccak256} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {RpcRequestError} from '../../src/util/rpc-client.js'
import {type MultiNodeDevnet, blockHashes, height, rpc, startMultiNodeDevnet, until, upAgain} from '../helpers/multinode.js'

const SENDER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' as const
const SINK = '0x000000000000000000000000000000000000dEaD'

/**
 * Sends signed transfers one after another to the nodes not marked faulty, round robin. A
 * transaction counts as confirmed once some node returned its receipt; those must never be lost.
 */
class Load {
  readonly confirmed = new Map<string, string>() // tx hash → block hash
  private readonly sent: string[] = []
  private readonly avoid = new Set<number>()
  private running = false
  private loop?: Promise<void>
  private nonce = 0
  private turn = 0
  /**
   * Sends that failed: the node, whether it was marked faulty by the time the send failed, and
   * whether the node answered with a JSON-RPC error (refused) or did not answer in time. The loop
   * sends one transaction at a time and never picks a node marked faulty, so a failure at a faulty
   * node is the one send in flight when its fault began (at most one per setFaulty(…, true)).
   */
  readonly failures: {node: number; faulty: boolean; refused: boolean; message: string}[] = []
  /** Sends tried. */
  attempts = 0
  /** How many times a node was marked faulty: the bound on failures at faulty nodes. */
  faultsMarked = 0

  constructor(private readonly devnet: MultiNodeDevnet) {}

  async start(): Promise<void> {
    const account = privateKeyToAccount(SENDER_KEY)
    this.nonce = Number(BigInt(await rpc<string>(this.devnet.nodes[0]!.rpcUrl, 'eth_getTransactionCount', [account.address, 'pending'])))
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        const healthy = this.devnet.nodes.filter((n) => !this.avoid.has(n.index))
        const node = healthy[this.turn++ % healthy.length]!
        const raw = await account.signTransaction({
          chainId: this.devnet.chainId,
          type: 'eip1559',
          to: SINK,
          value: 1n,
          nonce: this.nonce,
          gas: 21_000n,
          maxFeePerGas: 10n ** 10n,
          maxPriorityFeePerGas: 1n,
        })
        this.attempts++
        try {
          this.sent.push(await rpc<string>(node.rpcUrl, 'eth_sendRawTransaction', [raw], 3_000))
          this.nonce++
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err)
          if (/already known|nonce too low|replacement transaction underpriced/.test(message)) {
            // The same signed transaction reached the chain through a send whose answer was lost
            // (a node killed, paused or too slow mid-request, which gossiped it first): it counts
            // as sent. This sender signs one transaction per nonce (signing is deterministic), so
            // a pool holding a transaction at this nonce holds this one; xai's mempool can then
            // answer "replacement transaction underpriced" where geth says "already known".
            this.sent.push(keccak256(raw))
            this.nonce++
          } else {
            this.failures.push({node: node.index, faulty: this.avoid.has(node.index), refused: err instanceof RpcRequestError && err.rpcCode !== undefined, message})
          }
        }
        await this.collect(node.rpcUrl)
        await sleep(40)
      }
    })()
  }

  /** Marks a node faulty (no more sends to it) or healthy again. */
  setFaulty(index: number, faulty: boolean): void {
    if (faulty && !this.avoid.has(index)) this.faultsMarked++
    if (faulty) this.avoid.add(index)
    else this.avoid.delete(index)
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }

  /** Asks `url` for receipts of transactions not yet confirmed. */
  private async collect(url: string): Promise<void> {
    const pending = this.sent.filter((h) => !this.confirmed.has(h)).slice(0, 20)
    for (const hash of pending) {
      const receipt = await rpc<{blockHash: string} | null>(url, 'eth_getTransactionReceipt', [hash], 3_000).catch(() => null)
      if (receipt) this.confirmed.set(hash, receipt.blockHash)
    }
  }
}

async function heights(devnet: MultiNodeDevnet, skip: number[] = []): Promise<number[]> {
  return Promise.all(devnet.nodes.filter((n) => !skip.includes(n.index)).map((n) => height(n.rpcUrl)))
}

/** Waits until every node is at or past `target`, then checks they agree on blocks 1..target. */
async function expectAgreement(devnet: MultiNodeDevnet, target: number): Promise<void> {
  await until(async () => (await heights(devnet)).every((h) => h >= target), `all nodes at height ${target}`, 90_000)
  const [first, ...rest] = await Promise.all(devnet.nodes.map((n) => blockHashes(n.rpcUrl, target)))
  for (const other of rest) expect(other).toEqual(first)
}

async function expectNoLoss(devnet: MultiNodeDevnet, load: Load): Promise<void> {
  expect(load.confirmed.size).toBeGreaterThan(0)
  const healthy = load.failures.filter((f) => !f.faulty)
  const all = JSON.stringify(load.failures)
  // Each transaction is valid (the sender's next nonce, fees far above the base fee): a healthy
  // node refuses none.
  expect(healthy.filter((f) => f.refused), `refused by a healthy node; every failed send: ${all}`).toEqual([])
  // A send waits 3 s for its answer. On 2 cores shared by four validators (and the test) a healthy
  // node can stall longer; the loop then retries the same transaction elsewhere. At most one send
  // in ten, or the load has stopped flowing.
  expect(healthy.length, `unanswered by a healthy node (${load.attempts} sends): ${all}`).toBeLessThanOrEqual(Math.ceil(load.attempts / 10))
  // At a faulty node, only the send in flight when its fault began.
  expect(load.failures.length - healthy.length, `failed at a faulty node: ${all}`).toBeLessThanOrEqual(load.faultsMarked)
  // The load goes on: a transaction confirmed a moment ago may be in a block a node is still catching up to.
  for (const node of devnet.nodes) {
    for (const [hash, blockHash] of [...load.confirmed]) {
      const receipt = await until(
        () => rpc<{blockHash: string} | null>(node.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined),
        `receipt of ${hash} on node ${node.index}`,
        30_000,
      )
      expect(receipt.blockHash, `receipt of ${hash} on node ${node.index}`).toBe(blockHash)
    }
  }
}

async function logsOf(devnet: MultiNodeDevnet): Promise<string> {
  const tails = await Promise.all(devnet.nodes.map(async (n) => `--- node ${n.index}\n${(await readFile(n.logPath, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')}`))
  return tails.join('\n')
}

describe('a 4-validator devnet under faults', () => {
  let devnet: MultiNodeDevnet
  let load: Load

  beforeAll(async () => {
    devnet = await startMultiNodeDevnet({nodes: 4, blockTime: 500})
    load = new Load(devnet)
    await load.start()
  }, 180_000)

  afterAll(async () => {
    await load?.stop()
    await devnet?.stop()
  }, 120_000)

  it('starts four validators that commit the same blocks, and a transaction sent to any node is mined', async () => {
    expect(devnet.nodes).toHaveLength(4)
    expect(new Set(devnet.nodes.map((n) => n.validator)).size).toBe(4)
    const validators = await rpc<{address: string; power: number}[]>(devnet.nodes[0]!.rpcUrl, 'xai_validators')
    expect(validators.map((v) => v.address).sort()).toEqual(devnet.nodes.map((n) => n.validator).sort())
    await until(async () => load.confirmed.size >= 8, 'transactions confirmed through all four nodes', 60_000)
    const peers = await rpc<unknown[]>(devnet.nodes[0]!.rpcUrl, 'xai_peers')
    expect(peers).toHaveLength(3)
    const target = Math.min(...(await heights(devnet)))
    await expectAgreement(devnet, target)
    const commit = await rpc<{signatures: string[]; blockHash: string}>(devnet.nodes[1]!.rpcUrl, 'xai_getBlockCommit', [target])
    expect(commit.signatures.length).toBeGreaterThanOrEqual(3)
  }, 120_000)

  it('keeps committing with one validator killed (-9); restarted, it catches up and agrees on every block', async () => {
    load.setFaulty(1, true)
    await devnet.fault('kill', 1)
    const atKill = Math.max(...(await heights(devnet, [1])))
    await until(async () => Math.min(...(await heights(devnet, [1]))) >= atKill + 4, 'commits without node 1', 60_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await logsOf(devnet)}`)
    })
    await devnet.fault('restart', 1)
    load.setFaulty(1, false)
    const target = Math.max(...(await heights(devnet, [1]))) + 2
    await expectAgreement(devnet, target)
    await expectNoLoss(devnet, load)
  }, 180_000)

  it('keeps committing with one validator paused; resumed, it catches up', async () => {
    load.setFaulty(2, true)
    await devnet.fault('pause', 2)
    const atPause = Math.max(...(await heights(devnet, [2])))
    await until(async () => Math.min(...(await heights(devnet, [2]))) >= atPause + 4, 'commits with node 2 paused', 60_000)
    await devnet.fault('resume', 2)
    load.setFaulty(2, false)
    const target = Math.max(...(await heights(devnet))) + 2
    await expectAgreement(devnet, target)
    await expectNoLoss(devnet, load)
  }, 180_000)

  it('stops committing while two of four are cut off, and resumes within 20 s of reconnecting', async () => {
    load.setFaulty(2, true)
    load.setFaulty(3, true)
    await devnet.fault('disconnect', 2)
    await devnet.fault('disconnect', 3)
    await sleep(2_000) // a height already decided when the split happened may still land
    const split = await heights(devnet)
    await sleep(5_000)
    expect(await heights(devnet), 'no commits while no side has 2/3 of the power').toEqual(split)
    const peers = await rpc<unknown[]>(devnet.nodes[2]!.rpcUrl, 'xai_peers')
    expect(peers).toHaveLength(0)
    await devnet.fault('reconnect', 2)
    await devnet.fault('reconnect', 3)
    load.setFaulty(2, false)
    load.setFaulty(3, false)
    const top = Math.max(...split)
    await until(async () => Math.max(...(await heights(devnet))) > top, 'a commit after reconnecting', 20_000)
    await expectAgreement(devnet, top + 2)
    await expectNoLoss(devnet, load)
  }, 180_000)

  it('stopped and started again, all four resume at the same head and state root, then progress', async () => {
    await load.stop()
    const before = Math.min(...(await heights(devnet)))
    const block = await rpc<{hash: string; stateRoot: string}>(devnet.nodes[0]!.rpcUrl, 'eth_getBlockByNumber', [`0x${before.toString(16)}`, false])
    await devnet.cli(['down', '--grace-period', '5000'])
    for (const n of devnet.nodes) expect(await height(n.rpcUrl).catch(() => 'down')).toBe('down')
    await upAgain(devnet)
    for (const n of devnet.nodes) {
      const again = await rpc<{hash: string; stateRoot: string}>(n.rpcUrl, 'eth_getBlockByNumber', [`0x${before.toString(16)}`, false])
      expect(again).toMatchObject({hash: block.hash, stateRoot: block.stateRoot})
    }
    const resumedAt = Math.max(...(await heights(devnet)))
    await expectAgreement(devnet, resumedAt + 3)
    await expectNoLoss(devnet, load)
    // Through kills, pauses, a split and restarts from the WAL, no honest validator signed two
    // different votes for one slot: nobody has evidence against anyone.
    for (const n of devnet.nodes) {
      const evidence = await rpc<{committed: unknown[]; pending: unknown[]}>(n.rpcUrl, 'xai_evidence')
      expect(evidence).toEqual({committed: [], pending: []})
    }
  }, 180_000)
})

describe('a validator that double-signs, and one whose clock is a minute ahead', () => {
  let devnet: MultiNodeDevnet

  beforeAll(async () => {
    // One-second blocks: faster ones would push the chain's time ahead by themselves (each block adds at least a second).
    devnet = await startMultiNodeDevnet({nodes: 4, blockTime: 1000, extraArgs: ['--test-double-sign', '3', '--test-clock-ahead', '2']})
  }, 180_000)

  afterAll(async () => {
    await devnet?.stop()
  }, 120_000)

  it('is caught: the evidence is committed in a block, readable over RPC, logged and counted', async () => {
    type EvidenceList = {committed: {blockNumber: number; validator: string; first: {value: string | null}; second: {value: string | null}}[]}
    const evidence = await until(async () => {
      const list = await rpc<EvidenceList>(devnet.nodes[0]!.rpcUrl, 'xai_evidence')
      return list.committed.length > 0 ? list : undefined
    }, 'committed evidence', 90_000)
    const [first] = evidence.committed
    expect(first!.validator).toBe(devnet.nodes[3]!.validator)
    expect(first!.first.value).not.toBe(first!.second.value)
    // The block holds it: its extraData commits to the evidence, and every node has the same record.
    const block = await rpc<{extraData: string}>(devnet.nodes[1]!.rpcUrl, 'eth_getBlockByNumber', [`0x${first!.blockNumber.toString(16)}`, false])
    expect(block.extraData).toMatch(/^0x[0-9a-f]{64}$/)
    await until(async () => (await rpc<EvidenceList>(devnet.nodes[2]!.rpcUrl, 'xai_evidence')).committed.length > 0, 'evidence on node 2', 30_000)
    const metrics = await (await fetch(`${devnet.nodes[0]!.rpcUrl}/metrics`)).text()
    expect(Number(/^xai_consensus_evidence_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1)
    const log = await readFile(devnet.nodes[0]!.logPath, 'utf8')
    expect(log).toMatch(/"event":"security".*"kind":"duplicate-vote"/)
    // The chain goes on: one faulty validator of four does not stop it.
    const h = await height(devnet.nodes[0]!.rpcUrl)
    await until(async () => (await height(devnet.nodes[0]!.rpcUrl)) > h + 2, 'progress', 30_000)
  }, 180_000)

  it("refuses the fast clock's timestamps: the chain's time stays within 15 s of the others' clocks, and it goes on", async () => {
    const url = devnet.nodes[0]!.rpcUrl
    const start = await height(url)
    // Node 2 proposes (a minute ahead) in every fourth round 0; the others prevote nil for those.
    await until(async () => (await height(url)) >= start + 8, 'eight more blocks', 90_000)
    const log = await readFile(devnet.nodes[0]!.logPath, 'utf8')
    expect(log).toMatch(/"invalid proposal".*s ahead of this node's clock/)
    const end = await height(url)
    let parent: number | undefined
    for (let n = 1; n <= end; n++) {
      const block = await rpc<{timestamp: string}>(url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
      const time = Number(BigInt(block.timestamp))
      expect(time, `block ${n}`).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 15)
      if (parent !== undefined) expect(time - parent, `block ${n} after its parent`).toBeLessThanOrEqual(15)
      parent = time
    }
  }, 180_000)
})
