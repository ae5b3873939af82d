import type {BlockRecord} from '../../chain/block-store.js'
import {effectiveTip} from '../../chain/mempool.js'
import type {MethodTable} from '../dispatcher.js'
import {invalidParams, serverError} from '../errors.js'
import {type Hex, formatBlock, formatLog, formatReceipt, formatTransaction, hex, qty, word} from '../format.js'
import {simulateOptions} from '../simulate.js'
import {
  type BlockId,
  address,
  arity,
  blockId,
  blockNumberOrTag,
  blockOverrides,
  bool,
  callRequest,
  data,
  fail,
  hash,
  quantity,
  stateOverrides,
} from '../params.js'
import type {ResolvedBlock} from '../state.js'
import {type RpcDeps, SUGGESTED_PRIORITY_FEE} from './deps.js'

const MAX_PERCENTILES = 100

/** A block count for eth_feeHistory: hex, or a decimal number/string as geth also takes. */
function blockCount(value: unknown, index: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value)
  const n = quantity(value, index, 'blockCount')
  return n > 1_000_000n ? 1_000_000 : Number(n)
}

function percentiles(value: unknown, index: number): number[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) fail(index, 'expected an array of reward percentiles')
  if (value.length > MAX_PERCENTILES) fail(index, `too many reward percentiles (at most ${MAX_PERCENTILES})`)
  let previous = -1
  return value.map((p, i) => {
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) throw invalidParams(`invalid reward percentile: ${JSON.stringify(p)}`)
    if (p < previous) throw invalidParams(`invalid reward percentiles: #${i - 1}:${previous} > #${i}:${p}`)
    previous = p
    return p
  })
}

/** Tips paid in a block at the given gas-weighted percentiles (geth's feeHistory rewards). */
function rewards(record: BlockRecord, ps: number[]): Hex[] {
  const {block, receipts} = record
  const txs = block.transactions
  if (txs.length === 0) return ps.map(() => '0x0')
  const baseFee = block.header.baseFeePerGas ?? 0n
  const sorted = txs
    .map((tx, i) => ({reward: effectiveTip(tx, baseFee), gasUsed: receipts[i]?.gasUsed ?? 0n}))
    .sort((a, b) => (a.reward < b.reward ? -1 : a.reward > b.reward ? 1 : 0))
  const total = block.header.gasUsed
  let index = 0
  let sum = sorted[0]!.gasUsed
  return ps.map((p) => {
    const threshold = BigInt(Math.floor(Number(total) * (p / 100)))
    while (sum < threshold && index < sorted.length - 1) {
      index++
      sum += sorted[index]!.gasUsed
    }
    return qty(sorted[index]!.reward)
  })
}

/** The part of a call's params its outcome depends on (besides the block), as a cache key. */
function cacheKey(request: unknown, overrides: unknown): string {
  return overrides === undefined || overrides === null ? JSON.stringify(request) : `${JSON.stringify(request)}|${JSON.stringify(overrides)}`
}

/** eth_*: chain, state, execution and transaction methods. */
export function ethMethods(deps: RpcDeps): MethodTable {
  const {chain, mempool, state, limits} = deps
  const chainIdHex = qty(chain.chainId)

  const blockBy = async (id: BlockId): Promise<BlockRecord | undefined> => state.findBlock(id)
  /** Most pool transactions a `pending` execution runs before the call. */
  const PENDING_MAX_TXS = 1_000
  /** A block for execution; `pending` carries the pool's transactions the next block would hold. */
  const resolveForCall = async (id: BlockId): Promise<ResolvedBlock> => {
    const at = await state.resolve(id)
    if (!at.pending) return at
    const pendingTxs = mempool.selectForBlock(chain.nextBaseFee(), PENDING_MAX_TXS)
    return pendingTxs.length > 0 ? {...at, pendingTxs} : at
  }
  const blockArg = (params: unknown[], index: number): BlockId => blockId(params[index], index)

  const txAt = (record: BlockRecord | undefined, indexValue: unknown, argIndex: number): Record<string, unknown> | null => {
    const i = quantity(indexValue, argIndex, 'index')
    if (!record || i >= BigInt(record.block.transactions.length)) return null
    return formatIncluded(record, Number(i))
  }

  return {
    eth_chainId: (params) => {
      arity(params, 0, 0)
      return chainIdHex
    },
    eth_blockNumber: (params) => {
      arity(params, 0, 0)
      return qty(chain.head.header.number)
    },
    eth_syncing: (params) => {
      arity(params, 0, 0)
      return false
    },
    eth_mining: () => false,
    eth_hashrate: () => '0x0',
    // ----- fees --------------------------------------------------------------------------------
    eth_gasPrice: (params) => {
      arity(params, 0, 0)
      return qty(chain.nextBaseFee() + SUGGESTED_PRIORITY_FEE)
    },
    eth_maxPriorityFeePerGas: (params) => {
      arity(params, 0, 0)
      return qty(SUGGESTED_PRIORITY_FEE)
    },
    eth_blobBaseFee: (params) => {
      arity(params, 0, 0)
      return qty(chain.head.header.getBlobGasPrice())
    },
    eth_feeHistory: async (params) => {
      arity(params, 2, 3)
      let count = blockCount(params[0], 0)
      const newestId = blockNumberOrTag(params[1], 1)
      const ps = percentiles(params[2], 2)
      if (count === 0) return {oldestBlock: '0x0', baseFeePerGas: [], gasUsedRatio: [], baseFeePerBlobGas: [], blobGasUsedRatio: []}
      if (count > limits.maxFeeHistoryBlocks) count = limits.maxFeeHistoryBlocks
      const head = chain.head.header.number
      const newest = 'number' in newestId ? newestId.number : 'tag' in newestId && newestId.tag === 'earliest' ? 0n : head
      if (newest > head) throw serverError(`request beyond head block: requested ${newest}, head ${head}`)
      const oldest = newest - BigInt(count) + 1n > 0n ? newest - BigInt(count) + 1n : 0n
      const baseFeePerGas: Hex[] = []
      const gasUsedRatio: number[] = []
      const reward: Hex[][] = []
      let last: BlockRecord | undefined
      for (let n = oldest; n <= newest; n++) {
        const record = await chain.getBlock(n)
        if (!record) break
        const header = record.block.header
        baseFeePerGas.push(qty(header.baseFeePerGas ?? 0n))
        gasUsedRatio.push(header.gasLimit === 0n ? 0 : Number(header.gasUsed) / Number(header.gasLimit))
        if (ps) reward.push(rewards(record, ps))
        last = record
      }
      if (last) baseFeePerGas.push(qty(chain.baseFeeAfter(last.block.header)))
      const result: Record<string, unknown> = {
        oldestBlock: qty(oldest),
        baseFeePerGas,
        gasUsedRatio,
        baseFeePerBlobGas: baseFeePerGas.map(() => '0x0'),
        blobGasUsedRatio: gasUsedRatio.map(() => 0),
      }
      if (ps) result.reward = reward
      return result
    },

    // ----- state -------------------------------------------------------------------------------
    eth_getBalance: async (params) => {
      arity(params, 1, 2)
      const who = address(params[0], 0)
      const at = await state.resolve(blockArg(params, 1))
      return qty((await state.getAccount(who, at))?.balance ?? 0n)
    },
    eth_getTransactionCount: async (params) => {
      arity(params, 1, 2)
      const who = address(params[0], 0)
      const id = blockArg(params, 1)
      if ('tag' in id && id.tag === 'pending') return qty(await mempool.pendingNonce(who))
      const at = await state.resolve(id)
      return qty((await state.getAccount(who, at))?.nonce ?? 0n)
    },
    eth_getCode: async (params) => {
      arity(params, 1, 2)
      const who = address(params[0], 0)
      const at = await state.resolve(blockArg(params, 1))
      return hex(await state.getCode(who, at))
    },
    eth_getStorageAt: async (params) => {
      arity(params, 2, 3)
      const who = address(params[0], 0)
      const slot = quantity(params[1], 1, 'storage slot')
      const at = await state.resolve(blockArg(params, 2))
      return hex(await state.getStorage(who, word(slot), at))
    },
    eth_getProof: async (params) => {
      arity(params, 2, 3)
      const who = address(params[0], 0)
      if (!Array.isArray(params[1])) fail(1, 'expected an array of storage keys')
      const slots = params[1].map((k) => word(quantity(k, 1, 'storage key')))
      const at = await state.resolve(blockArg(params, 2))
      const proof = await state.getProof(who, slots, at)
      return {
        ...proof,
        balance: qty(BigInt(proof.balance)),
        nonce: qty(BigInt(proof.nonce)),
        storageProof: proof.storageProof.map((p) => ({...p, key: qty(BigInt(p.key)), value: qty(BigInt(p.value))})),
      }
    },

    // ----- execution ---------------------------------------------------------------------------
    eth_call: async (params) => {
      arity(params, 1, 4)
      const req = callRequest(params[0], 0)
      const at = {...(await resolveForCall(blockArg(params, 1))), overrides: blockOverrides(params[3], 3)}
      const overrides = stateOverrides(params[2], 2)
      return hex(await state.call(req, at, overrides, cacheKey(params[0], params[2])))
    },
    eth_estimateGas: async (params) => {
      arity(params, 1, 4)
      const req = callRequest(params[0], 0)
      // Without a block, estimate for the block the transaction will land in (as anvil does): code
      // that reads block.number or block.timestamp sees the next block's, not the head's.
      const id = params[1] === undefined || params[1] === null ? ({tag: 'pending'} as const) : blockId(params[1], 1)
      const at = {...(await resolveForCall(id)), overrides: blockOverrides(params[3], 3)}
      const overrides = stateOverrides(params[2], 2)
      return qty(await state.estimateGas(req, at, overrides, cacheKey(params[0], params[2])))
    },
    eth_createAccessList: async (params) => {
      arity(params, 1, 3)
      const req = callRequest(params[0], 0)
      // Like eth_estimateGas: without a block, for the block the transaction would land in.
      const id = params[1] === undefined || params[1] === null ? ({tag: 'pending'} as const) : blockId(params[1], 1)
      const at = await resolveForCall(id)
      const result = await state.createAccessList(req, at, stateOverrides(params[2], 2))
      const answer: Record<string, unknown> = {
        accessList: result.accessList.map(([a, keys]) => ({address: hex(a), storageKeys: keys.map((k) => hex(k))})),
        gasUsed: qty(result.gasUsed),
      }
      if (result.error !== undefined) answer.error = result.error
      return answer
    },
    eth_simulateV1: async (params) => {
      arity(params, 1, 2)
      const options = simulateOptions(params[0], 0)
      const at = await state.resolve(blockArg(params, 1))
      const blocks = await state.simulate(options, at)
      return blocks.map(({record, calls}) => {
        const out = formatBlock(record, options.returnFullTransactions)
        const blockHash = out.hash as Hex
        const blockNumber = out.number as Hex
        const blockTimestamp = out.timestamp as Hex
        let logIndex = 0
        out.calls = calls.map((call, i) => {
          const transactionHash = hex(record.block.transactions[i]!.hash())
          const formatted: Record<string, unknown> = {
            returnData: hex(call.returnData),
            logs: call.logs.map((log) => formatLog(log, {blockHash, blockNumber, blockTimestamp, transactionHash, transactionIndex: qty(i), logIndex: logIndex++})),
            gasUsed: qty(call.gasUsed),
            status: qty(call.status),
          }
          if (call.error) formatted.error = {code: call.error.code, message: call.error.message, ...(call.error.data ? {data: hex(call.error.data)} : {})}
          return formatted
        })
        return out
      })
    },
    eth_sendRawTransaction: async (params) => {
      arity(params, 1, 1)
      const raw = data(params[0], 0)
      if (raw.length === 0) throw invalidParams('invalid argument 0: empty transaction')
      return hex(await mempool.addRaw(raw))
    },

    // ----- transactions and receipts -----------------------------------------------------------
    eth_getTransactionByHash: async (params) => {
      arity(params, 1, 1)
      const txHash = hash(params[0], 0)
      const found = await chain.getTransaction(txHash)
      if (found) {
        return formatIncluded(found.record, found.index)
      }
      const pooled = mempool.get(txHash)
      return pooled ? formatTransaction(pooled.tx, pooled.sender) : null
    },
    eth_getTransactionReceipt: async (params) => {
      arity(params, 1, 1)
      const found = await chain.getTransaction(hash(params[0], 0))
      return found ? formatReceipt(found.record, found.index) : null
    },
    eth_getBlockReceipts: async (params) => {
      arity(params, 1, 1)
      const record = await blockBy(blockId(params[0], 0))
      return record ? record.block.transactions.map((_, i) => formatReceipt(record, i)) : null
    },

    // ----- blocks ------------------------------------------------------------------------------
    eth_getBlockByNumber: async (params) => {
      arity(params, 1, 2)
      const id = blockNumberOrTag(params[0], 0)
      const full = params[1] === undefined ? false : bool(params[1], 1)
      // The block the node would build next from its pool, as anvil answers it (state root zero).
      if ('tag' in id && id.tag === 'pending') return formatBlock(await state.pendingBlock(mempool.selectForBlock(chain.nextBaseFee(), PENDING_MAX_TXS)), full)
      const record = await blockBy(id)
      return record ? formatBlock(record, full) : null
    },
    eth_getBlockByHash: async (params) => {
      arity(params, 1, 2)
      const record = await chain.getBlock(hash(params[0], 0))
      const full = params[1] === undefined ? false : bool(params[1], 1)
      return record ? formatBlock(record, full) : null
    },
    eth_getBlockTransactionCountByNumber: async (params) => {
      arity(params, 1, 1)
      const record = await blockBy(blockNumberOrTag(params[0], 0))
      return record ? qty(record.block.transactions.length) : null
    },
    eth_getBlockTransactionCountByHash: async (params) => {
      arity(params, 1, 1)
      const record = await chain.getBlock(hash(params[0], 0))
      return record ? qty(record.block.transactions.length) : null
    },
    eth_getTransactionByBlockNumberAndIndex: async (params) => {
      arity(params, 2, 2)
      return txAt(await blockBy(blockNumberOrTag(params[0], 0)), params[1], 1)
    },
    eth_getTransactionByBlockHashAndIndex: async (params) => {
      arity(params, 2, 2)
      return txAt(await chain.getBlock(hash(params[0], 0)), params[1], 1)
    },
    eth_getUncleCountByBlockNumber: async (params) => {
      arity(params, 1, 1)
      return (await blockBy(blockNumberOrTag(params[0], 0))) ? '0x0' : null
    },
    eth_getUncleCountByBlockHash: async (params) => {
      arity(params, 1, 1)
      return (await chain.getBlock(hash(params[0], 0))) ? '0x0' : null
    },
    eth_getUncleByBlockNumberAndIndex: (params) => {
      arity(params, 2, 2)
      blockNumberOrTag(params[0], 0)
      quantity(params[1], 1, 'index')
      return null
    },
    eth_getUncleByBlockHashAndIndex: (params) => {
      arity(params, 2, 2)
      hash(params[0], 0)
      quantity(params[1], 1, 'index')
      return null
    },
  }
}

/** A transaction of a committed block, as eth_getTransactionBy* return it. */
function formatIncluded(record: BlockRecord, index: number): Record<string, unknown> {
  const {block} = record
  return formatTransaction(block.transactions[index]!, record.senders[index]!, {
    blockHash: hex(block.hash()),
    blockNumber: qty(block.header.number),
    index,
    baseFee: block.header.baseFeePerGas ?? 0n,
  })
}
