import type {DevControls} from '../../chain/dev-controls.js'
import type {MethodTable} from '../dispatcher.js'
import {RpcError, RpcErrorCode, invalidParams} from '../errors.js'
import {qty, word} from '../format.js'
import {address, arity, bool, data, fail, hash, quantity} from '../params.js'

/**
 * A non-negative integer given as a JSON number or a hex quantity (anvil accepts both for
 * timestamps, seconds and counts).
 */
function numeric(value: unknown, index: number, field?: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) fail(index, `${field ? `${field}: ` : ''}expected a non-negative integer, got ${value}`)
    return BigInt(value)
  }
  return quantity(value, index, field)
}

function optionalNumeric(value: unknown, index: number, field?: string): bigint | undefined {
  return value === undefined || value === null ? undefined : numeric(value, index, field)
}

/** Most blocks one anvil_mine / evm_mine may make (each is a committed block). */
const MAX_MINE = 100_000n

function blockCount(value: bigint, index: number): number {
  if (value > MAX_MINE) fail(index, `at most ${MAX_MINE} blocks at once`)
  return Number(value)
}

/**
 * The cheat methods of a single-node development chain, under anvil's names and Hardhat's
 * (`anvil_*` / `hardhat_*`) and the shared `evm_*` ones. Behaviour and results follow anvil; see
 * docs/cheat-methods.md for where Hardhat differs.
 */
export function anvilMethods(dev: DevControls): MethodTable {
  const {chain, producer, mempool} = dev
  const both = (name: string, method: MethodTable[string]): MethodTable => ({[`anvil_${name}`]: method, [`hardhat_${name}`]: method})

  const checkTimestamp = (t: bigint, index: number): void => {
    const last = chain.head.header.timestamp
    if (t < last) throw invalidParams(`Timestamp error: ${t} is lower than previous block's timestamp`)
    if (t >= 1n << 64n) fail(index, 'timestamp > 64 bits')
  }

  const mine = async (params: unknown[]): Promise<null> => {
    arity(params, 0, 2)
    const count = blockCount(optionalNumeric(params[0], 0) ?? 1n, 0)
    const interval = optionalNumeric(params[1], 1)
    await producer.mine(count, interval)
    return null
  }

  const setAutomine = async (params: unknown[]): Promise<null> => {
    arity(params, 1, 1)
    const on = bool(params[0], 0)
    if (on) await producer.setMode({kind: 'auto'})
    else if (producer.mode.kind === 'auto') await producer.setMode({kind: 'manual'})
    return null
  }

  /** Seconds, as anvil's (Hardhat's takes milliseconds); 0 stops interval mining. */
  const setIntervalMining = async (params: unknown[]): Promise<null> => {
    arity(params, 1, 1)
    const seconds = numeric(params[0], 0)
    if (seconds > 86_400n * 365n) fail(0, 'interval too large')
    await producer.setMode(seconds === 0n ? {kind: 'manual'} : {kind: 'interval', ms: Number(seconds) * 1000})
    return null
  }

  const methods: MethodTable = {
    evm_snapshot: async (params) => {
      arity(params, 0, 0)
      return qty(await dev.snapshot())
    },
    evm_revert: async (params) => {
      arity(params, 1, 1)
      return dev.revert(numeric(params[0], 0))
    },
    evm_mine: async (params) => {
      arity(params, 0, 1)
      const option = params[0]
      let timestamp: bigint | undefined
      let count = 1
      if (option !== null && typeof option === 'object' && !Array.isArray(option)) {
        const o = option as {timestamp?: unknown; blocks?: unknown}
        timestamp = optionalNumeric(o.timestamp, 0, 'timestamp')
        count = blockCount(optionalNumeric(o.blocks, 0, 'blocks') ?? 1n, 0)
      } else {
        timestamp = optionalNumeric(option, 0)
      }
      if (timestamp !== undefined) {
        checkTimestamp(timestamp, 0)
        await dev.setTime(() => producer.setNextBlockTimestamp(timestamp))
      }
      await producer.mine(count)
      return '0x0'
    },
    evm_increaseTime: async (params) => {
      arity(params, 1, 1)
      const seconds = numeric(params[0], 0)
      let total = 0n
      await dev.setTime(() => {
        total = producer.increaseTime(seconds)
      })
      return Number(total)
    },
    evm_setNextBlockTimestamp: async (params) => {
      arity(params, 1, 1)
      const t = numeric(params[0], 0)
      checkTimestamp(t, 0)
      await dev.setTime(() => producer.setNextBlockTimestamp(t))
      return null
    },
    evm_setAutomine: setAutomine,
    evm_setIntervalMining: setIntervalMining,
    ...both('mine', mine),
    ...both('setAutomine', setAutomine),
    ...both('setIntervalMining', setIntervalMining),
    ...both('getAutomine', (params) => {
      arity(params, 0, 0)
      return producer.automine
    }),
    anvil_getIntervalMining: (params) => {
      arity(params, 0, 0)
      const mode = producer.mode
      return mode.kind === 'interval' ? mode.ms / 1000 : null
    },
    anvil_setBlockTimestampInterval: async (params) => {
      arity(params, 1, 1)
      const seconds = numeric(params[0], 0)
      await dev.setTime(() => producer.setBlockTimestampInterval(seconds))
      return null
    },
    anvil_removeBlockTimestampInterval: async (params) => {
      arity(params, 0, 0)
      const had = producer.timeSettings.interval !== undefined
      await dev.setTime(() => producer.setBlockTimestampInterval(undefined))
      return had
    },
    ...both('setBalance', async (params) => {
      arity(params, 2, 2)
      await dev.setBalance(address(params[0], 0), quantity(params[1], 1))
      return null
    }),
    ...both('setNonce', async (params) => {
      arity(params, 2, 2)
      const nonce = quantity(params[1], 1)
      if (nonce >= 1n << 64n) fail(1, 'hex number > 64 bits')
      await dev.setNonce(address(params[0], 0), nonce)
      return null
    }),
    ...both('setCode', async (params) => {
      arity(params, 2, 2)
      await dev.setCode(address(params[0], 0), data(params[1], 1))
      return null
    }),
    ...both('setStorageAt', async (params) => {
      arity(params, 3, 3)
      const slot = quantity(params[1], 1)
      const value = data(params[2], 2)
      if (value.length !== 32) fail(2, 'expected a 32-byte storage value')
      await dev.setStorageAt(address(params[0], 0), word(slot), value)
      return true
    }),
    ...both('impersonateAccount', (params) => {
      arity(params, 1, 1)
      dev.impersonate(address(params[0], 0))
      return null
    }),
    ...both('stopImpersonatingAccount', (params) => {
      arity(params, 1, 1)
      dev.stopImpersonating(address(params[0], 0))
      return null
    }),
    anvil_autoImpersonateAccount: (params) => {
      arity(params, 1, 1)
      dev.autoImpersonate = bool(params[0], 0)
      return null
    },
    anvil_dropTransaction: (params) => {
      arity(params, 1, 1)
      const h = hash(params[0], 0)
      return mempool.dropByHash(h) ? params[0] : null
    },
    hardhat_dropTransaction: (params) => {
      arity(params, 1, 1)
      return mempool.dropByHash(hash(params[0], 0))
    },
    anvil_dropAllTransactions: (params) => {
      arity(params, 0, 0)
      mempool.clear()
      return null
    },
    ...both('setNextBlockBaseFeePerGas', async (params) => {
      arity(params, 1, 1)
      await dev.setNextBlockBaseFee(quantity(params[0], 0))
      return null
    }),
    ...both('setMinGasPrice', (params) => {
      arity(params, 1, 1)
      quantity(params[0], 0)
      // As anvil: a minimum gas price has no meaning once blocks have a base fee (every fork here does).
      throw invalidParams('anvil_setMinGasPrice is not supported when EIP-1559 is active')
    }),
    ...both('setCoinbase', async (params) => {
      arity(params, 1, 1)
      await dev.setCoinbase(address(params[0], 0))
      return null
    }),
    ...both('reset', async (params) => {
      arity(params, 0, 1)
      const options = params[0]
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object' || Array.isArray(options)) fail(0, 'expected reset options (an object)')
        const forking = (options as {forking?: unknown}).forking
        if (forking !== undefined && forking !== null) {
          // anvil's answer when it runs without a fork; xai devnets never fork another network.
          throw invalidParams('Forking not enabled and RPC URL not provided to start forking (xai devnets do not fork other networks)')
        }
      }
      await dev.reset()
      return null
    }),
  }
  return methods
}

/** The names of every cheat method, for a node that refuses them (a chain decided by consensus). */
export const CHEAT_METHOD_NAMES: readonly string[] = Object.keys(
  anvilMethods({chain: {}, producer: {}, mempool: {}} as unknown as DevControls),
)

/**
 * The cheat methods on a chain decided by consensus: each is refused with the reason. Blocks,
 * state and time there are what the validators agreed on; a change on one node would fork it
 * from the others (its next proposal or vote would not match theirs).
 */
export function refusedCheatMethods(): MethodTable {
  const table: MethodTable = {}
  for (const name of CHEAT_METHOD_NAMES) {
    table[name] = () => {
      throw new RpcError(
        RpcErrorCode.server,
        `${name} is not available on a chain decided by consensus: blocks, state and time are what the validators agree on, and changing them on one node would fork it from the others (use a single-node devnet for cheat methods)`,
      )
    }
  }
  return table
}
