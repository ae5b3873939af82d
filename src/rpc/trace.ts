import type {InterpreterStep} from '@ethereumjs/evm'
import {bytesToHex, setLengthLeft} from '@ethereumjs/util'
import type {RunTxResult, VM} from '@ethereumjs/vm'

import {invalidParams, limitExceeded} from './errors.js'
import {word} from './format.js'
import {fail} from './params.js'

/** The struct logger's options, as geth takes them in debug_trace*'s config object. */
export interface TraceOptions {
  stack: boolean
  memory: boolean
  storage: boolean
  /** Most struct logs to record (0 = no limit of the caller's). */
  limit: number
}

export function traceOptions(value: unknown, index: number): TraceOptions {
  const o = value === undefined || value === null ? {} : value
  if (typeof o !== 'object' || Array.isArray(o)) fail(index, 'expected a tracer config object')
  const c = o as Record<string, unknown>
  if (c.tracer !== undefined && c.tracer !== null && c.tracer !== '' && c.tracer !== 'structLogger') {
    throw invalidParams(`tracer ${JSON.stringify(c.tracer)} is not supported; only the default struct logger is`)
  }
  const flag = (name: string): boolean | undefined => {
    const v = c[name]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'boolean') fail(index, `${name}: expected true or false`)
    return v
  }
  const limit = c.limit
  if (limit !== undefined && limit !== null && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0)) fail(index, 'limit: expected a non-negative integer')
  return {
    stack: flag('disableStack') !== true,
    memory: flag('enableMemory') === true && flag('disableMemory') !== true,
    storage: flag('disableStorage') !== true,
    // enableReturnData is accepted and ignored: the EVM does not expose return data per step.
    limit: typeof limit === 'number' ? limit : 0,
  }
}

export interface StructLog {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  stack?: string[]
  memory?: string[]
  storage?: Record<string, string>
  refund?: number
}

const SLOAD = 0x54
const SSTORE = 0x55

const hex64 = (n: bigint): string => n.toString(16).padStart(64, '0')

/**
 * geth's default tracer (the struct logger): one entry per executed opcode with pc, op, gas left,
 * its cost, the call depth (1 at the top), the stack, memory as 32-byte words (if enabled) and,
 * at SLOAD/SSTORE, the storage slots of the executing contract seen so far.
 */
export class StructLogger {
  private readonly logs: StructLog[] = []
  private readonly storage = new Map<string, Record<string, string>>()
  private truncated = false
  private readonly cap: number

  constructor(
    private readonly options: TraceOptions,
    maxSteps: number,
  ) {
    this.cap = options.limit > 0 ? Math.min(options.limit, maxSteps) : maxSteps
  }

  /** Listens to the VM's EVM until the returned function is called. */
  listen(vm: VM): () => void {
    const listener = (step: InterpreterStep, resolve?: (result?: unknown) => void): void => {
      this.onStep(step).then(
        () => resolve?.(),
        () => resolve?.(),
      )
    }
    vm.evm.events!.on('step', listener)
    return () => vm.evm.events!.off('step', listener)
  }

  private async onStep(step: InterpreterStep): Promise<void> {
    if (this.logs.length >= this.cap) {
      this.truncated = true
      return
    }
    const {options} = this
    const op = step.opcode
    const log: StructLog = {
      pc: step.pc,
      op: op.name,
      gas: Number(step.gasLeft),
      gasCost: Number(op.dynamicFee ?? BigInt(op.fee)),
      depth: step.depth + 1,
    }
    if (options.stack) log.stack = step.stack.map((v) => `0x${v.toString(16)}`)
    if (options.memory) {
      const words: string[] = []
      const mem = step.memory
      for (let i = 0; i < mem.length; i += 32) words.push(bytesToHex(mem.subarray(i, i + 32)).slice(2).padEnd(64, '0'))
      log.memory = words
    }
    if (options.storage && (op.code === SLOAD || op.code === SSTORE)) {
      const address = step.address.toString()
      let slots = this.storage.get(address)
      if (!slots) {
        slots = {}
        this.storage.set(address, slots)
      }
      const stack = step.stack
      if (op.code === SLOAD && stack.length >= 1) {
        const key = stack[stack.length - 1]!
        const value = await step.stateManager.getStorage(step.address, word(key))
        slots[hex64(key)] = bytesToHex(setLengthLeft(value, 32)).slice(2)
        log.storage = {...slots}
      } else if (op.code === SSTORE && stack.length >= 2) {
        slots[hex64(stack[stack.length - 1]!)] = hex64(stack[stack.length - 2]!)
        log.storage = {...slots}
      }
    }
    if (step.gasRefund > 0n) log.refund = Number(step.gasRefund)
    this.logs.push(log)
  }

  /** The debug_trace* answer for the traced execution. */
  result(tx: RunTxResult): {gas: number; failed: boolean; returnValue: string; structLogs: StructLog[]} {
    if (this.truncated && this.options.limit === 0) {
      throw limitExceeded(`trace exceeds ${this.cap} steps; pass a "limit" in the tracer config, or trace with disableStack/disableStorage`)
    }
    const error = tx.execResult.exceptionError
    const failed = error !== undefined
    const returnValue = failed && error.error !== 'revert' ? '' : bytesToHex(tx.execResult.returnValue).slice(2)
    return {gas: Number(tx.totalGasSpent), failed, returnValue, structLogs: this.logs}
  }
}
