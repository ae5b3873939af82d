// Processes by PID: liveness, identity, stopping. No heavy imports: the node process uses this
// on its start-up path.
import {readFileSync} from 'node:fs'
import {open, readFile, readlink} from 'node:fs/promises'
import {basename, isAbsolute, resolve} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {ExitCode, XaiError} from './errors.js'

/**
 * True while a process with this PID exists and is not a zombie. (A zombie's PID still answers
 * `kill(pid, 0)`; where nobody reaps orphans, a stopped node would otherwise look alive.)
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  return processState(pid) !== 'Z'
}

/** The one-letter state from /proc/<pid>/stat (Linux), or undefined where there is no /proc. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) S ..." — comm may contain spaces and parentheses, so read after the last ')'.
    return stat.charAt(stat.lastIndexOf(')') + 2)
  } catch {
    return undefined
  }
}

/** The command line of a process (Linux /proc), or undefined when it cannot be read. */
export async function readProcessCommandLine(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    return raw.split('\0').filter((part) => part.length > 0)
  } catch {
    return undefined
  }
}

/**
 * True when `pid` is alive and is the xai node of `home`: its command line is `xai node start` or
 * bin/xai-node.js (what a devnet spawns) and names that home.
 * Where command lines cannot be read (no /proc), a live PID is taken at its word. This guards
 * against a recorded PID that the OS has since given to an unrelated process.
 */
export async function isNodeProcess(pid: number | null | undefined, home: string): Promise<boolean> {
  if (pid === null || pid === undefined || !isProcessAlive(pid)) return false
  const cmdline = await readProcessCommandLine(pid)
  if (cmdline === undefined) return true
  const at = cmdline.findIndex((arg) => arg === '--home' || arg.startsWith('--home='))
  if (at < 0 || !(cmdline.includes('start') || cmdline.some((arg) => basename(arg) === 'xai-node.js'))) return false
  const value = cmdline[at] === '--home' ? cmdline[at + 1] : cmdline[at]!.slice('--home='.length)
  if (value === undefined) return false
  if (isAbsolute(value)) return resolve(value) === resolve(home)
  // A relative --home is relative to that process's working directory.
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined)
  return cwd !== undefined && resolve(cwd, value) === resolve(home)
}

export type StopOutcome = 'not-running' | 'SIGTERM' | 'SIGKILL'

export interface StopProcessOptions {
  /** How long to wait after SIGTERM before SIGKILL (default 10 s). */
  graceMs?: number
  pollMs?: number
}

/** Stops a process by PID: SIGTERM, then SIGKILL once the grace period is over. */
export async function stopProcess(pid: number, options: StopProcessOptions = {}): Promise<StopOutcome> {
  const graceMs = options.graceMs ?? 10_000
  const pollMs = options.pollMs ?? 50
  if (!isProcessAlive(pid)) return 'not-running'
  if (!sendSignal(pid, 'SIGTERM')) return 'not-running'
  // A paused process (SIGSTOP) acts on SIGTERM only once it runs again.
  sendSignal(pid, 'SIGCONT')
  if (await waitForExit(pid, graceMs, pollMs)) return 'SIGTERM'
  sendSignal(pid, 'SIGKILL')
  if (await waitForExit(pid, 5_000, pollMs)) return 'SIGKILL'
  throw new XaiError('DEVNET_STOP_FAILED', `Process ${pid} did not stop, even after SIGKILL`, {
    hint: `Check it with \`ps -p ${pid}\`; it may be stuck in the kernel (disk or NFS).`,
    details: {pid},
  })
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw new XaiError('DEVNET_STOP_FAILED', `Cannot send ${signal} to process ${pid}: ${(err as Error).message}`, {
      hint: 'The process belongs to another user; stop it as that user.',
      cause: err,
      details: {pid},
    })
  }
}

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false
    await sleep(pollMs)
  }
  return true
}

/**
 * The last `lines` lines of a text file, reading at most its last 16 KiB and nothing before
 * byte `fromOffset` (so a failed start shows only what this run wrote); [] when missing.
 */
export async function readLogTail(path: string, lines = 15, fromOffset = 0): Promise<string[]> {
  let handle
  try {
    handle = await open(path, 'r')
    const {size} = await handle.stat()
    const length = Math.max(0, Math.min(size - fromOffset, 16 * 1024))
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .slice(-lines)
      .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
  } catch {
    return []
  } finally {
    await handle?.close()
  }
}
