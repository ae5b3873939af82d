import {type Common, type GethGenesis, Hardfork, createCommonFromGethGenesis} from '@ethereumjs/common'
import type {CustomCrypto} from '@ethereumjs/common'

import {XaiError} from '../util/errors.js'

export const DEFAULT_CHAIN_ID = 31337
export const DEFAULT_GAS_LIMIT = 30_000_000n
export const DEFAULT_BASE_FEE = 1_000_000_000n
export {DEV_MNEMONIC} from '../util/dev-accounts.js'
export const DEV_BALANCE = 10_000n * 10n ** 18n
export const HARDFORK = Hardfork.Prague

export interface GenesisAccount {
  balance: string
  code?: string
  nonce?: string
  storage?: Record<string, string>
}

/** A geth-style genesis document: what `genesis.json` holds. */
export interface Genesis extends GethGenesis {
  alloc: Record<string, GenesisAccount>
  /**
   * The validator set that decides blocks by Tendermint consensus (addresses of their secp256k1
   * keys, voting power). Absent or empty: a single-node chain whose node produces blocks alone.
   */
  validators?: GenesisValidator[]
}

export interface GenesisValidator {
  address: string
  power: number
}

export interface DevGenesisOptions {
  chainId?: number
  /** Addresses funded with `balance` each. */
  accounts: string[]
  balance?: bigint
  gasLimit?: bigint
  baseFeePerGas?: bigint
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number
  extraData?: string
  validators?: GenesisValidator[]
}

/** EIP-2935: recent block hashes served from state (Prague system contract). */
export const HISTORY_STORAGE_ADDRESS = '0x0000f90827f1c53a10cb7a02335b175320002935'
const HISTORY_STORAGE_CODE =
  '0x3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500'
/** EIP-4788: parent beacon block roots (Cancun system contract; XAI has no beacon chain, roots are zero). */
export const BEACON_ROOTS_ADDRESS = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
const BEACON_ROOTS_CODE =
  '0x3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500'

/**
 * A genesis with every fork up to Prague active from block 0, the given accounts funded, and the
 * system contracts mainnet has at those forks (EIP-2935 block hash history, EIP-4788 beacon roots),
 * as anvil and geth's dev mode have them.
 */
export function createDevGenesis(options: DevGenesisOptions): Genesis {
  const balance = options.balance ?? DEV_BALANCE
  const alloc: Record<string, GenesisAccount> = {
    [HISTORY_STORAGE_ADDRESS]: {balance: '0x0', nonce: '0x1', code: HISTORY_STORAGE_CODE},
    [BEACON_ROOTS_ADDRESS]: {balance: '0x0', nonce: '0x1', code: BEACON_ROOTS_CODE},
  }
  for (const address of options.accounts) alloc[address.toLowerCase()] = {balance: `0x${balance.toString(16)}`}
  return {
    config: {
      chainId: options.chainId ?? DEFAULT_CHAIN_ID,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      muirGlacierBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      arrowGlacierBlock: 0,
      grayGlacierBlock: 0,
      mergeNetsplitBlock: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      terminalTotalDifficulty: 0,
      terminalTotalDifficultyPassed: true,
    },
    nonce: '0x0',
    timestamp: `0x${(options.timestamp ?? Math.floor(Date.now() / 1000)).toString(16)}`,
    extraData: options.extraData ?? '0x',
    gasLimit: `0x${(options.gasLimit ?? DEFAULT_GAS_LIMIT).toString(16)}`,
    difficulty: '0x0',
    mixHash: `0x${'00'.repeat(32)}`,
    coinbase: `0x${'00'.repeat(20)}`,
    baseFeePerGas: `0x${(options.baseFeePerGas ?? DEFAULT_BASE_FEE).toString(16)}`,
    alloc,
    ...(options.validators && options.validators.length > 0 ? {validators: options.validators} : {}),
  } as Genesis
}

export function createChainCommon(genesis: Genesis, customCrypto: CustomCrypto = {}): Common {
  try {
    return withConstantEipLookup(createCommonFromGethGenesis(genesis, {chain: 'xai', hardfork: HARDFORK, customCrypto}))
  } catch (err) {
    throw new XaiError('GENESIS_INVALID', `The genesis document is not valid: ${(err as Error).message}`, {
      hint: 'Recreate the devnet (xai devnet reset) or fix genesis.json.',
      cause: err,
    })
  }
}

/**
 * The EVM asks `isActivatedEIP` several times per opcode; Common answers with a linear search of
 * an array. The chain's hardfork never changes after genesis (every fork is active at block 0), so
 * the answer is fixed: look it up in a Set. Copies of this Common share the lookup.
 */
function withConstantEipLookup(common: Common): Common {
  const active = (common as unknown as {_activatedEIPsCache?: unknown})._activatedEIPsCache
  if (!Array.isArray(active)) return common
  const set = new Set<number>(active as number[])
  common.isActivatedEIP = (eip: number) => set.has(eip)
  return common
}

/** Throws a clear error when a parsed JSON value does not look like a genesis document. */
export function assertGenesis(value: unknown): asserts value is Genesis {
  const g = value as Partial<Genesis> | null
  if (!g || typeof g !== 'object' || !g.config || typeof g.config.chainId !== 'number' || !g.alloc || typeof g.gasLimit !== 'string') {
    throw new XaiError('GENESIS_INVALID', 'The genesis document lacks config.chainId, gasLimit or alloc.', {
      hint: 'Recreate the devnet (xai devnet reset) or fix genesis.json.',
    })
  }
}
