import type {EVMResult, InterpreterStep, Log, Message} from '@ethereumjs/evm'
import {type Account, type Address, KECCAK256_NULL, bytesToHex, equalsBytes, setLengthLeft} from '@ethereumjs/util'
import type {RunTxResult, VM} from '@ethereumjs/vm'

import {invalidParams} from './errors.js'
import {gethErrorMessage} from './evm-errors.js'
import {type Hex, hex, qty} from './format.js'
import {fail} from './params.js'
import {decodeRevertReason} from './revert.js'
import {StructLogger, traceOptions} from './trace.js'

type Bytes = Uint8Array

/**
 * A tracer for one transaction or call: it listens to the VM between `start` and `stop`, and
 * `finish` gives the answer while the traced execution's state is still in place (the prestate
 * tracer reads the state after the transaction in diff mode).
 */
export interface Tracer {
  start(vm: VM): void
  stop(vm: VM): void
  /** `gasLimit` is the transaction's; `result` what runTx (or the call) returned. */
  finish(vm: VM, result: RunTxResult, gasLimit: bigint): Promise<unknown>
}

/** Runs `execute` with `tracer` attached and returns the tracer's answer. */
export async function runTraced(tracer: Tracer, vm: VM, gasLimit: bigint, execute: () => Promise<RunTxResult>): Promise<unknown> {
  tracer.start(vm)
  let result: RunTxResult
  try {
    result = await execute()
  } finally {
    tracer.stop(vm)
  }
  return tracer.finish(vm, result, gasLimit)
}

/**
 * The tracer a debug_trace* config object asks for (geth's): the struct logger by default,
 * `callTracer` ({onlyTopCall, withLog}) or `prestateTracer` ({diffMode}). Anything else is refused
 * by name; unknown tracerConfig fields are refused too, so a typo does not silently trace
 * something else.
 */
export function tracerFor(config: unknown, index: number, maxSteps: number): Tracer {
  const o = config === undefined || config === null ? {} : config
  if (typeof o !== 'object' || Array.isArray(o)) fail(index, 'expected a tracer config object')
  const c = o as Record<string, unknown>
  const name = c.tracer
  if (name === undefined || name === null || name === '' || name === 'structLogger') {
    return new StructLoggerTracer(new StructLogger(traceOptions(config, index), maxSteps))
  }
  const tc = tracerConfig(c.tracerConfig, index)
  if (name === 'callTracer') {
    return new CallTracer({onlyTopCall: flag(tc, 'onlyTopCall', index), withLog: flag(tc, 'withLog', index)})
  }
  if (name === 'prestateTracer') {
    const diffMode = flag(tc, 'diffMode', index)
    // geth's prestate options besides diffMode; accepted and applied.
    const disableCode = flag(tc, 'disableCode', index)
    const disableStorage = flag(tc, 'disableStorage', index)
    return new PrestateTracer({diffMode, disableCode, disableStorage})
  }
  throw invalidParams(`tracer ${JSON.stringify(name)} is not supported; use the default struct logger, "callTracer" or "prestateTracer"`)
}

const CONFIG_FIELDS = new Set(['onlyTopCall', 'withLog', 'diffMode', 'disableCode', 'disableStorage'])

function tracerConfig(value: unknown, index: number): Record<string, unknown> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) fail(index, 'tracerConfig: expected an object')
  for (const key of Object.keys(value)) {
    if (!CONFIG_FIELDS.has(key)) fail(index, `tracerConfig: unknown field ${JSON.stringify(key)}`)
  }
  return value as Record<string, unknown>
}

function flag(config: Record<string, unknown>, name: string, index: number): boolean {
  const v = config[name]
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') fail(index, `tracerConfig.${name}: expected true or false`)
  return v
}

class StructLoggerTracer implements Tracer {
  private detach?: () => void
  constructor(private readonly logger: StructLogger) {}

  start(vm: VM): void {
    this.detach = this.logger.listen(vm)
  }

  stop(): void {
    this.detach?.()
  }

  async finish(_vm: VM, result: RunTxResult): Promise<unknown> {
    return this.logger.result(result)
  }
}

// ----- callTracer ------------------------------------------------------------------------------

interface CallLogOut {
  address: Hex
  topics: Hex[]
  data: Hex
  position: Hex
  index?: Hex
}

export interface CallFrameOut {
  type: string
  from: Hex
  to?: Hex
  value?: Hex
  gas: Hex
  gasUsed: Hex
  input: Hex
  output?: Hex
  error?: string
  revertReason?: string
  calls?: CallFrameOut[]
  logs?: CallLogOut[]
}

interface Frame {
  message: Message
  type: string
  from: Bytes
  to?: Bytes
  value?: bigint
  gas: bigint
  gasUsed: bigint
  input: Bytes
  output?: Bytes
  error?: string
  revertReason?: string
  calls: Frame[]
  /** This frame's own logs (not its children's), each with the number of calls made before it. */
  logs: {log: Log; position: number}[]
  /** Positions of LOG opcodes this frame executed, in order (matched to its logs at the end). */
  logSteps: number[]
  /** Every log the frame's result carried (its own and its successful children's). */
  allLogs: Set<Log>
}

const LOG_OPS = new Set(['LOG0', 'LOG1', 'LOG2', 'LOG3', 'LOG4'])

/**
 * geth's callTracer: the tree of calls and creates the transaction made, each with type, from, to,
 * value, gas given and used, input, output, error and decoded revert reason; `withLog` adds the
 * logs each frame emitted that survived (with `position`, the number of calls made before it in
 * the frame, and `index`, its place in the receipt), `onlyTopCall` leaves out the inner calls.
 */
export class CallTracer implements Tracer {
  private readonly stack: Frame[] = []
  private root?: Frame
  private readonly listeners: {event: string; fn: (arg: never) => void}[] = []

  constructor(private readonly options: {onlyTopCall: boolean; withLog: boolean}) {}

  start(vm: VM): void {
    const events = vm.evm.events!
    const on = <T>(event: string, fn: (arg: T) => void): void => {
      events.on(event as never, fn as never)
      this.listeners.push({event, fn: fn as never})
    }
    on<Message>('beforeMessage', (m) => this.enter(m))
    on<EVMResult>('afterMessage', (r) => this.exit(r))
    // Only LOG positions need the per-opcode event, which is costly: listen only for withLog.
    if (this.options.withLog) {
      on<InterpreterStep>('step', (step) => {
        if (LOG_OPS.has(step.opcode.name)) {
          const frame = this.stack.at(-1)
          if (frame) frame.logSteps.push(frame.calls.length)
        }
      })
    }
  }

  stop(vm: VM): void {
    const events = vm.evm.events!
    for (const {event, fn} of this.listeners) events.off(event as never, fn as never)
    this.listeners.length = 0
  }

  private enter(m: Message): void {
    const parent = this.stack.at(-1)
    let type: string
    if (!m.to) type = m.salt !== undefined ? 'CREATE2' : 'CREATE'
    else if (m.depth === 0) type = 'CALL'
    else if (m.delegatecall) type = 'DELEGATECALL'
    else if (!equalsBytes(m.codeAddress.bytes, m.to.bytes)) type = 'CALLCODE'
    else if (m.isStatic && !(parent?.message.isStatic ?? false)) type = 'STATICCALL'
    else type = 'CALL'
    const frame: Frame = {
      message: m,
      type,
      // DELEGATECALL and CALLCODE run the target's code in the caller's account: geth's frame is
      // from that account to the code's address.
      from: type === 'DELEGATECALL' || type === 'CALLCODE' ? m.to!.bytes : m.caller.bytes,
      to: type === 'DELEGATECALL' || type === 'CALLCODE' ? m.codeAddress.bytes : m.to?.bytes,
      value: type === 'STATICCALL' ? undefined : m.value,
      gas: m.gasLimit,
      gasUsed: 0n,
      // Copied: a call's data is a view of the caller's memory, which later steps overwrite.
      input: m.data.slice(),
      calls: [],
      logs: [],
      logSteps: [],
      allLogs: new Set(),
    }
    this.stack.push(frame)
  }

  private exit(r: EVMResult): void {
    const frame = this.stack.pop()
    if (!frame) return
    const exec = r.execResult
    frame.gasUsed = exec.executionGasUsed
    if (!frame.to) frame.to = frame.message.to?.bytes ?? r.createdAddress?.bytes
    const error = exec.exceptionError?.error
    if (error === undefined) {
      frame.output = exec.returnValue.slice()
      const logs = exec.logs ?? []
      for (const log of logs) frame.allLogs.add(log)
      if (this.options.withLog) {
        const fromChildren = new Set<Log>()
        for (const child of frame.calls) for (const log of child.allLogs) fromChildren.add(log)
        let own = 0
        for (const log of logs) {
          if (fromChildren.has(log)) continue
          frame.logs.push({log, position: frame.logSteps[own] ?? frame.calls.length})
          own++
        }
      }
    } else {
      frame.error = gethErrorMessage(error)
      if (frame.type === 'CREATE' || frame.type === 'CREATE2') frame.to = undefined
      if (error === 'revert' && exec.returnValue.length > 0) {
        frame.output = exec.returnValue.slice()
        frame.revertReason = decodeRevertReason(exec.returnValue)
      }
    }
    const parent = this.stack.at(-1)
    if (parent) parent.calls.push(frame)
    else this.root = frame
  }

  async finish(_vm: VM, result: RunTxResult, gasLimit: bigint): Promise<CallFrameOut | null> {
    const root = this.root
    if (!root) return null
    root.gas = gasLimit
    root.gasUsed = result.totalGasSpent
    // Only logs that reached the receipt count, numbered as the receipt numbers them.
    const receiptIndex = new Map<Log, number>()
    if (!root.error) (result.execResult.logs ?? []).forEach((log, i) => receiptIndex.set(log, i))
    return this.format(root, true, receiptIndex)
  }

  private format(frame: Frame, top: boolean, receiptIndex: Map<Log, number>): CallFrameOut {
    const out: CallFrameOut = {type: frame.type, from: hex(frame.from), gas: qty(frame.gas), gasUsed: qty(frame.gasUsed), input: hex(frame.input)}
    if (frame.to) out.to = hex(frame.to)
    if (frame.value !== undefined) out.value = qty(frame.value)
    if (frame.output && frame.output.length > 0) out.output = hex(frame.output)
    if (frame.error) out.error = frame.error
    if (frame.revertReason !== undefined) out.revertReason = frame.revertReason
    if (this.options.withLog) {
      const logs = frame.logs.filter((l) => receiptIndex.has(l.log))
      if (logs.length > 0) {
        out.logs = logs.map(({log, position}) => ({
          address: hex(log[0]),
          topics: log[1].map((t) => hex(t)),
          data: hex(log[2]),
          position: qty(position),
          index: qty(receiptIndex.get(log)!),
        }))
      }
    }
    if (!(top && this.options.onlyTopCall) && frame.calls.length > 0) out.calls = frame.calls.map((c) => this.format(c, false, receiptIndex))
    return out
  }
}

// ----- prestateTracer --------------------------------------------------------------------------

interface AccountSnapshot {
  exists: boolean
  balance: bigint
  nonce: bigint
  code: Bytes
}

export interface PrestateAccountOut {
  balance?: Hex
  nonce?: number
  code?: Hex
  storage?: Record<string, Hex>
}

type StateReader = {
  getAccount(address: Address): Promise<Account | undefined>
  getStorage(address: Address, key: Bytes): Promise<Bytes>
  getCode(address: Address): Promise<Bytes>
}

/**
 * geth's prestateTracer: every account the execution touched as it was before (balance, nonce,
 * code, and the storage slots it read or wrote); with `diffMode`, `{pre, post}` holding only what
 * changed (pre: the changed accounts as they were, storage limited to changed slots that held a
 * value; post: only the changed fields, storage only slots left non-zero). Touched means read by
 * the EVM: the state manager's reads are recorded while the transaction runs, and the first read of
 * an account or slot is its value before the transaction (the EVM always reads before it writes).
 */
export class PrestateTracer implements Tracer {
  private readonly accounts = new Map<string, {address: Address; pre: AccountSnapshot}>()
  private readonly slots = new Map<string, Map<string, Bytes>>()
  private pending: Promise<unknown>[] = []

  constructor(private readonly options: {diffMode: boolean; disableCode: boolean; disableStorage: boolean}) {}

  start(vm: VM): void {
    const sm = vm.stateManager as unknown as StateReader
    const proto = Object.getPrototypeOf(sm) as StateReader
    const self = this
    const patched: Omit<StateReader, 'getCode'> = {
      async getAccount(address: Address) {
        const account = await proto.getAccount.call(sm, address)
        const key = address.toString()
        if (!self.accounts.has(key)) {
          const snapshot: AccountSnapshot = {exists: account !== undefined, balance: account?.balance ?? 0n, nonce: account?.nonce ?? 0n, code: new Uint8Array(0)}
          self.accounts.set(key, {address, pre: snapshot})
          if (account && !equalsBytes(account.codeHash, KECCAK256_NULL)) {
            const read = proto.getCode.call(sm, address).then((code) => {
              snapshot.code = code
            })
            self.pending.push(read)
            await read
          }
        }
        return account
      },
      async getStorage(address: Address, slot: Bytes) {
        const value = await proto.getStorage.call(sm, address, slot)
        const key = address.toString()
        let slots = self.slots.get(key)
        if (!slots) {
          slots = new Map()
          self.slots.set(key, slots)
        }
        const s = bytesToHex(setLengthLeft(slot, 32))
        if (!slots.has(s)) slots.set(s, setLengthLeft(value, 32))
        return value
      },
    }
    Object.assign(sm, patched)
  }

  stop(vm: VM): void {
    const sm = vm.stateManager as unknown as Record<string, unknown>
    delete sm.getAccount
    delete sm.getStorage
  }

  async finish(vm: VM): Promise<unknown> {
    await Promise.all(this.pending)
    const sm = vm.stateManager as unknown as StateReader
    const pre: Record<string, PrestateAccountOut> = {}
    if (!this.options.diffMode) {
      for (const [key, {pre: snapshot}] of this.accounts) pre[key] = this.formatAccount(snapshot, this.slots.get(key))
      return pre
    }
    const post: Record<string, PrestateAccountOut> = {}
    for (const [key, {address, pre: before}] of this.accounts) {
      const account = await sm.getAccount(address)
      const slots = this.slots.get(key)
      if (!account) {
        // Deleted (selfdestructed in its creating transaction, or emptied): kept in pre only.
        if (before.exists) pre[key] = this.formatAccount(before, slots)
        continue
      }
      const after: PrestateAccountOut = {}
      let modified = false
      if (account.balance !== before.balance) {
        after.balance = qty(account.balance)
        modified = true
      }
      if (account.nonce !== before.nonce) {
        after.nonce = Number(account.nonce)
        modified = true
      }
      const code = equalsBytes(account.codeHash, KECCAK256_NULL) ? new Uint8Array(0) : await sm.getCode(address)
      if (!equalsBytes(code, before.code)) {
        if (!this.options.disableCode) after.code = hex(code)
        modified = true
      }
      const preSlots = new Map<string, Bytes>()
      const postSlots: Record<string, Hex> = {}
      for (const [slot, value] of slots ?? []) {
        const now = setLengthLeft(await sm.getStorage(address, setLengthLeft(hexBytes(slot), 32)), 32)
        if (equalsBytes(now, value)) continue
        modified = true
        if (value.some((b) => b !== 0)) preSlots.set(slot, value)
        if (now.some((b) => b !== 0)) postSlots[slot] = hex(now)
      }
      if (!this.options.disableStorage && Object.keys(postSlots).length > 0) after.storage = postSlots
      if (!modified) continue
      post[key] = after
      if (before.exists) pre[key] = this.formatAccount(before, preSlots)
    }
    return {pre, post}
  }

  private formatAccount(a: AccountSnapshot, slots: Map<string, Bytes> | undefined): PrestateAccountOut {
    const out: PrestateAccountOut = {balance: qty(a.balance)}
    if (a.nonce > 0n) out.nonce = Number(a.nonce)
    if (a.code.length > 0 && !this.options.disableCode) out.code = hex(a.code)
    if (slots && slots.size > 0 && !this.options.disableStorage) {
      out.storage = {}
      for (const [slot, value] of slots) out.storage[slot] = hex(value)
    }
    return out
  }
}

function hexBytes(h: string): Bytes {
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex'))
}

