// Process helpers for the benchmark: free ports, spawning with an output tail, killing by PID,
// and reading memory figures from /proc. Every child we spawn is registered so that it is
// killed (by PID, SIGTERM then SIGKILL) on normal exit, on error and on Ctrl-C.
import {appendFileSync} from 'node:fs'
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {createServer} from 'node:net'

/** Ask the kernel for a free loopback TCP port by binding port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('could not obtain a free port'))
        return
      }
      const {port} = address
      server.close(() => resolve(port))
    })
  })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A spawned child with a bounded tail of its combined stdout/stderr, for error messages. */
export interface Spawned {
  child: ChildProcess
  pid: number
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  hasExited(): boolean
  tail(): string
}

const live = new Set<Spawned>()
const TAIL_BYTES = 8192

export function spawnTracked(command: string, args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Spawned {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tail = ''
  // XAI_BENCH_OUTPUT=FILE appends every spawned process's output there (GC traces, profiles).
  const outputFile = process.env.XAI_BENCH_OUTPUT
  const onData = (chunk: Buffer) => {
    if (outputFile) appendFileSync(outputFile, chunk)
    tail += chunk.toString('utf8')
    if (tail.length > TAIL_BYTES) tail = tail.slice(-TAIL_BYTES)
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  let done = false
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true
      resolve({code, signal})
    })
    child.once('error', (error) => {
      onData(Buffer.from(`spawn error: ${error.message}\n`))
      done = true
      resolve({code: null, signal: null})
    })
  })
  if (child.pid === undefined) {
    // spawn failed synchronously (e.g. ENOENT); 'error' fires on next tick.
    const failed: Spawned = {child, pid: -1, exited, hasExited: () => true, tail: () => tail}
    return failed
  }
  const spawned: Spawned = {child, pid: child.pid, exited, hasExited: () => done, tail: () => tail}
  live.add(spawned)
  void exited.then(() => live.delete(spawned))
  return spawned
}

/** SIGTERM the process by PID, wait up to `graceMs`, then SIGKILL it. */
export async function killTracked(spawned: Spawned, graceMs = 3000): Promise<void> {
  if (spawned.pid <= 0 || spawned.hasExited()) return
  try {
    process.kill(spawned.pid, 'SIGTERM')
  } catch {
    return
  }
  const timer = sleep(graceMs).then(() => 'timeout' as const)
  const result = await Promise.race([spawned.exited.then(() => 'exited' as const), timer])
  if (result === 'timeout' && !spawned.hasExited()) {
    try {
      process.kill(spawned.pid, 'SIGKILL')
    } catch {
      // already gone
    }
    await Promise.race([spawned.exited, sleep(2000)])
  }
  live.delete(spawned)
}

/** Synchronous last-resort cleanup (process 'exit' handler): SIGKILL every child still alive. */
export function killAllTrackedSync(): void {
  for (const spawned of live) {
    try {
      process.kill(spawned.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
}

export async function killAllTracked(): Promise<void> {
  await Promise.all([...live].map((s) => killTracked(s, 2000)))
}

/** Read a `kB` field (VmRSS, VmHWM, …) of /proc/<pid>/status, in bytes; undefined if unavailable. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** PIDs of `pid` and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number, limit = 256): number[] {
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0 && out.length < limit) {
    const current = queue.shift()!
    out.push(current)
    let tasks: string[] = []
    try {
      tasks = readdirSync(`/proc/${current}/task`)
    } catch {
      continue
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${tid}/children`, 'utf8').trim()
        if (children) for (const c of children.split(/\s+/)) queue.push(Number(c))
      } catch {
        // task went away
      }
    }
  }
  return out
}

/**
 * Samples the RSS of a process tree every `intervalMs` and keeps the peak of the sum, so that a
 * multi-process target (devnet) is measured as a whole. The kernel's VmHWM of the root PID is read
 * separately at the end (exact peak of the main process, no sampling gaps).
 */
export class RssSampler {
  peakTreeBytes = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly pids: () => number[],
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
  }

  sample(): void {
    let sum = 0
    for (const root of this.pids()) for (const pid of processTree(root)) sum += procStatusBytes(pid, 'VmRSS') ?? 0
    if (sum > this.peakTreeBytes) this.peakTreeBytes = sum
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
