import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'

import {ExitCode, XaiError} from '../util/errors.js'
import {isErrorCode} from '../util/error-codes.js'
import type {ClientResult, ClientSetup, ClientTask} from './client-task.js'

export interface ClientPool {
  /** Runs one client's task on the next free worker. */
  run(task: ClientTask): Promise<ClientResult>
  readonly size: number
  /** Terminates the workers. Idempotent. */
  close(): Promise<void>
}

interface Pending {
  task: ClientTask
  resolve(result: ClientResult): void
  reject(err: Error): void
}

/**
 * Clients run in worker threads (one per core by default, at most `size`): each worker gets the
 * setup once and then one task at a time, as serialized messages, the way a remote client would.
 */
export function createClientPool(setup: ClientSetup, options: {size?: number} = {}): ClientPool {
  const size = Math.max(1, Math.min(options.size ?? availableParallelism(), 16))
  const queue: Pending[] = []
  const idle: Worker[] = []
  const busy = new Map<Worker, Pending>()
  const dead = new Set<Worker>()
  let nextId = 1
  let closed = false

  /** A worker that crashed or exited is gone for good: its task fails, and with no workers left, every queued one. */
  const fail = (worker: Worker, err: Error): void => {
    if (dead.has(worker)) return
    dead.add(worker)
    const at = idle.indexOf(worker)
    if (at >= 0) idle.splice(at, 1)
    const pending = busy.get(worker)
    busy.delete(worker)
    pending?.reject(err)
    if (dead.size === workers.length) for (const queued of queue.splice(0)) queued.reject(err)
  }
  const workers: Worker[] = Array.from({length: size}, () => {
    const worker = spawnClientWorker(setup)
    worker.on('message', (message: {result?: ClientResult; error?: {message: string; code?: string; hint?: string}}) => {
      const pending = busy.get(worker)
      busy.delete(worker)
      if (pending) {
        if (message.result) pending.resolve(message.result)
        else pending.reject(new XaiError(isErrorCode(message.error?.code) ? message.error.code : 'FL_CLIENT_FAILED', `Client ${pending.task.clientId} failed: ${message.error?.message}`, {exitCode: ExitCode.bug, hint: message.error?.hint}))
      }
      idle.push(worker)
      pump()
    })
    worker.on('error', (err) => fail(worker, new XaiError('FL_CLIENT_FAILED', `A client worker crashed: ${err.message}`, {cause: err})))
    worker.on('exit', (code) => {
      if (!closed) fail(worker, new XaiError('FL_CLIENT_FAILED', `A client worker exited with code ${code}`))
    })
    idle.push(worker)
    return worker
  })

  function pump(): void {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!
      const pending = queue.shift()!
      busy.set(worker, pending)
      worker.postMessage({id: nextId++, task: pending.task})
    }
  }

  return {
    size,
    run(task) {
      if (dead.size === workers.length && workers.length > 0) return Promise.reject(new XaiError('FL_CLIENT_FAILED', 'Every client worker has stopped'))
      if (closed) return Promise.reject(new XaiError('FL_POOL_CLOSED', 'The client pool is closed'))
      return new Promise((resolve, reject) => {
        queue.push({task, resolve, reject})
        pump()
      })
    },
    async close() {
      if (closed) return
      closed = true
      for (const pending of queue.splice(0)) pending.reject(new XaiError('FL_INTERRUPTED', 'Stopped before this client ran'))
      await Promise.all(workers.map((w) => w.terminate()))
    },
  }
}

/**
 * A worker running client-worker: the compiled .js next to this module, or, under the TypeScript
 * sources (tests, benchmarks run with tsx), the .ts file through tsx's loader.
 */
function spawnClientWorker(setup: ClientSetup): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./client-worker.js', import.meta.url), {workerData: setup})
  const url = JSON.stringify(new URL('./client-worker.ts', import.meta.url).href)
  return new Worker(`import('tsx/esm/api').then(({register}) => { register(); return import(${url}) })`, {eval: true, workerData: setup})
}
