import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'

/** A configured peer to keep a connection to. */
export interface RedialTarget {
  peerId: string
  /** The multiaddr to dial, with /p2p/<peerId>. */
  addr: string
}

export interface RedialerOptions {
  targets: RedialTarget[]
  /** Opens a connection to the target; rejects when it cannot. */
  dial(target: RedialTarget, signal: AbortSignal): Promise<void>
  isConnected(peerId: string): boolean
  logger: Logger
  /** First retry delay after a failed dial (default 100 ms); doubles per failure. */
  minBackoffMs?: number
  /** Retry delay cap (default 2 s): a peer that comes back is reached within about this long. */
  maxBackoffMs?: number
  /** How often a connected target is checked, in case a drop went unnoticed (default 2 s). */
  checkIntervalMs?: number
  /** Bound on one dial attempt (default 5 s). */
  dialTimeoutMs?: number
}

interface TargetState {
  target: RedialTarget
  backoffMs: number
  failures: number
  timer?: NodeJS.Timeout
  inFlight?: Promise<void>
  abort?: AbortController
}

/** After this many failures in a row, an unreachable peer is logged at warn level (once). */
const WARN_AFTER_FAILURES = 10

/**
 * Keeps dialing the configured peers: at once on start, again shortly after one drops, and with
 * exponential backoff (capped at ~2 s) while one is unreachable, forever, so nodes can start in
 * any order and a restarted node is found again on its old address. Paused, it dials nothing.
 */
export class Redialer {
  private readonly states: TargetState[]
  private readonly minBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly checkIntervalMs: number
  private readonly dialTimeoutMs: number
  private mode: 'idle' | 'running' | 'paused' | 'closed' = 'idle'

  constructor(private readonly options: RedialerOptions) {
    this.minBackoffMs = options.minBackoffMs ?? 100
    this.maxBackoffMs = options.maxBackoffMs ?? 2_000
    this.checkIntervalMs = options.checkIntervalMs ?? 2_000
    this.dialTimeoutMs = options.dialTimeoutMs ?? 5_000
    this.states = options.targets.map((target) => ({target, backoffMs: this.minBackoffMs, failures: 0}))
  }

  /** Starts (or, after pause(), resumes) dialing; resolves when every target had one attempt. */
  async start(): Promise<void> {
    if (this.mode === 'closed' || this.mode === 'running') return
    this.mode = 'running'
    await Promise.allSettled(
      this.states.map(async (state) => {
        state.backoffMs = this.minBackoffMs
        this.clearTimer(state)
        // A dial aborted by pause() may still be unwinding: let it finish, then dial afresh.
        await state.inFlight
        await this.attempt(state)
      }),
    )
  }

  /** Stops dialing and aborts dials in flight, until start() again. */
  pause(): void {
    if (this.mode !== 'running') return
    this.mode = 'paused'
    for (const state of this.states) this.stopTarget(state)
  }

  /** A peer dropped: redial it soon if it is one of ours. */
  onDisconnect(peerId: string): void {
    if (this.mode !== 'running') return
    const state = this.states.find((s) => s.target.peerId === peerId)
    if (state === undefined) return
    state.backoffMs = this.minBackoffMs
    this.schedule(state, this.jitter(this.minBackoffMs))
  }

  /** Stops for good; clears every timer. */
  close(): void {
    this.mode = 'closed'
    for (const state of this.states) this.stopTarget(state)
  }

  private stopTarget(state: TargetState): void {
    this.clearTimer(state)
    state.abort?.abort(new Error('redialer stopped'))
  }

  private clearTimer(state: TargetState): void {
    if (state.timer !== undefined) clearTimeout(state.timer)
    state.timer = undefined
  }

  private schedule(state: TargetState, delayMs: number): void {
    if (this.mode !== 'running') return
    this.clearTimer(state)
    state.timer = setTimeout(() => {
      state.timer = undefined
      void this.attempt(state)
    }, delayMs)
    state.timer.unref()
  }

  /** ±10 %, so that peers that dial each other do not stay in lockstep. */
  private jitter(ms: number): number {
    return Math.round(ms * (0.9 + Math.random() * 0.2))
  }

  private attempt(state: TargetState): Promise<void> {
    state.inFlight ??= this.dialOnce(state).finally(() => {
      state.inFlight = undefined
    })
    return state.inFlight
  }

  private async dialOnce(state: TargetState): Promise<void> {
    if (this.mode !== 'running') return
    const {target} = state
    const {logger} = this.options
    if (this.options.isConnected(target.peerId)) {
      state.backoffMs = this.minBackoffMs
      this.schedule(state, this.checkIntervalMs)
      return
    }
    const abort = new AbortController()
    state.abort = abort
    const timer = setTimeout(() => abort.abort(new Error(`dial timed out after ${this.dialTimeoutMs} ms`)), this.dialTimeoutMs)
    try {
      await this.options.dial(target, abort.signal)
      if (state.failures > 0) logger.info('p2p peer reachable again', {peer: target.peerId, failedDials: state.failures})
      state.failures = 0
      state.backoffMs = this.minBackoffMs
      this.schedule(state, this.checkIntervalMs)
    } catch (err) {
      if (this.mode !== 'running') return
      state.failures++
      const context = {peer: target.peerId, addr: target.addr, failures: state.failures, error: errorMessage(err)}
      if (state.failures === WARN_AFTER_FAILURES) logger.warn('p2p peer unreachable, still redialing', context)
      else logger.debug('p2p dial failed', context)
      this.schedule(state, this.jitter(state.backoffMs))
      state.backoffMs = Math.min(state.backoffMs * 2, this.maxBackoffMs)
    } finally {
      clearTimeout(timer)
      if (state.abort === abort) state.abort = undefined
    }
  }
}
