import type {Log} from '@ethereumjs/evm'
import type {Address, Hex} from 'viem'

/**
 * What the chain asks of native modules while it builds and checks blocks. The chain owns this
 * port; the module host (src/modules/host) implements it, so execution does not depend on the
 * modules layer above it. Without a host the chain is a plain EVM.
 */

/**
 * Any transaction of a block, as `checkTx` and `afterTx` see it before and after it runs.
 * `to` is null for a contract creation.
 */
export interface ChainTx {
  hash: Hex
  from: Address
  to: Address | null
  value: bigint
  gasLimit: bigint
  /** maxFeePerGas of an EIP-1559 transaction; gasPrice of a legacy one. */
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
  data: Hex
  nonce: bigint
}

/** What a transaction did, for `afterTx`: its status and fees (wei). */
export interface TxOutcome {
  success: boolean
  gasUsed: bigint
  /** baseFeePerGas × gasUsed: burnt. */
  baseFee: bigint
  /** The effective tip × gasUsed: paid to the coinbase. */
  priorityFee: bigint
}

/** A verdict; an allowed transaction may carry flags (reasons to raise a security event for). */
export type ModuleValidation = {ok: true; flags?: readonly string[]} | {ok: false; reason: string}

/** The block a hook or call runs in. */
export interface HostBlockEnv {
  height: bigint
  timestamp: bigint
  coinbase: Address
  baseFeePerGas: bigint
}

/** What the modules said of a transaction before it ran (each one's checkTx verdict). */
export type TxVerdicts = Map<string, ModuleValidation>

export type CheckResult = {ok: true; verdicts: TxVerdicts} | {ok: false; module: string; reason: string}

/** Chain parameters governance may set (the block gas limit, the EIP-1559 fee parameters). */
export type ChainParams = Partial<Record<'blockGasLimit' | 'baseFeeMaxChangeDenominator' | 'elasticityMultiplier', bigint>>

/** The modules' side of block execution. `evm` is ethereumjs' EVM; `sm` a state manager. */
export interface ChainModules {
  /** Hooks the EVM so messages to module addresses run the modules. */
  attach(evm: object): void
  /**
   * `stateRoot`: the state the block starts from, when the caller knows it (the host then reuses
   * what it read of the registry for another block on the same state at the same height).
   */
  beginBlock(evm: object, env: HostBlockEnv, stateRoot?: Uint8Array): Promise<Log[]>
  endBlock(evm: object, env: HostBlockEnv, burnt?: bigint): Promise<Log[]>
  dropBlock(evm: object): void
  /** The modules running at `height`, to check several transactions against one set. */
  runningModules(sm: never, height: bigint): Promise<unknown[]>
  checkTx(sm: never, env: HostBlockEnv, tx: ChainTx, where?: {evm?: object; modules?: unknown[]}): Promise<CheckResult>
  afterTx(evm: object, env: HostBlockEnv, tx: ChainTx, outcome: TxOutcome, verdicts: TxVerdicts): Promise<Log[]>
  chainParams(sm: never): Promise<ChainParams>
}
