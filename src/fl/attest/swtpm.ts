import {spawn} from 'node:child_process'
import {accessSync, constants, existsSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'

import {XaiError} from '../../util/errors.js'
import {findFreePortRange} from '../../util/ports.js'
import {TPM_PACKAGES_HINT} from './tpm2-tools.js'

/** The state file swtpm_setup writes for a TPM 2.0. */
export const SWTPM_STATE_FILE = 'tpm2-00.permall'

export interface SwtpmProcess {
  /** The TPM command port (the control channel is port + 1). */
  readonly port: number
  /** `TPM2TOOLS_TCTI` for this TPM. */
  readonly tcti: string
  /** PID of swtpm itself. */
  readonly pid: number
  /** Stops swtpm (by its PID) and waits for it; idempotent. */
  close(): Promise<void>
}

/**
 * A guard around swtpm, in POSIX sh: it starts swtpm, and stops it (by PID) when told to (TERM,
 * INT, HUP) or when the process that started it is gone — so a command killed with SIGKILL or
 * crashing past its exit handlers does not leave a TPM running. `$1` is the owner's PID, the rest
 * swtpm's arguments.
 */
const GUARD = 'owner=$1; shift; swtpm "$@" & tpm=$!; echo $tpm; stop() { kill $tpm 2>/dev/null; wait $tpm; exit 0; }; trap stop TERM INT HUP; ' +
  'while kill -0 $owner 2>/dev/null && kill -0 $tpm 2>/dev/null; do sleep 0.5 & wait $!; done; stop'

/**
 * Starts `swtpm socket` on the provisioned state in `stateDir`, on two free loopback ports, for the
 * life of this process: stopped by {@link SwtpmProcess.close}, on this process's exit, or by its
 * guard once this process is gone. Waits until it accepts connections.
 */
export async function startSwtpm(stateDir: string, options: {host?: string; ownerPid?: number} = {}): Promise<SwtpmProcess> {
  if (!existsSync(join(stateDir, SWTPM_STATE_FILE))) {
    throw new XaiError('FL_ATTEST_NOT_PROVISIONED', `${stateDir} holds no software TPM state`, {hint: `Provision it first: xai fl attest provision --tpm swtpm:${stateDir} --ca <ca dir>`})
  }
  const host = options.host ?? '127.0.0.1'
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await findFreePortRange(2, host)
    try {
      return await launch(stateDir, host, port, options.ownerPid ?? process.pid)
    } catch (err) {
      // Another process may have taken the ports between the check and swtpm's listen: try others.
      lastError = err
      if (!(err instanceof XaiError) || err.details?.retry !== true) throw err
    }
  }
  throw lastError
}

async function launch(stateDir: string, host: string, port: number, ownerPid: number): Promise<SwtpmProcess> {
  const args = [
    'socket', '--tpm2', '--tpmstate', `dir=${stateDir}`,
    '--server', `type=tcp,port=${port},bindaddr=${host}`,
    '--ctrl', `type=tcp,port=${port + 1},bindaddr=${host}`,
    '--flags', 'not-need-init,startup-clear',
  ]
  const guard = spawn('sh', ['-c', GUARD, 'xai-swtpm-guard', String(ownerPid), ...args], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  guard.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()))
  let guardDone = false
  void exited.then(() => {
    guardDone = true
  })
  const tpmPid = await new Promise<number>((resolve, reject) => {
    let out = ''
    guard.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = out.split('\n')
      if (line.length > 1) resolve(Number(line[0]))
    })
    guard.once('error', (err: NodeJS.ErrnoException) => reject(err))
    void exited.then(() => reject(new Error('guard ended')))
  }).catch((err: unknown) => {
    throw new XaiError('FL_ATTEST_NO_TPM', `Could not start swtpm: ${err instanceof Error ? err.message : String(err)}`, {hint: TPM_PACKAGES_HINT})
  })

  // A caller that never closes must not keep this process alive: the exit hook below stops swtpm.
  guard.unref()
  for (const stream of [guard.stdout, guard.stderr]) (stream as unknown as {unref?: () => void}).unref?.()

  const stop = (): void => {
    for (const pid of [tpmPid, guard.pid]) {
      try {
        if (pid) process.kill(pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
  }
  process.once('exit', stop)

  let closed: Promise<void> | undefined
  const handle: SwtpmProcess = {
    port,
    pid: tpmPid,
    tcti: `swtpm:host=${host},port=${port}`,
    close() {
      closed ??= (async () => {
        process.off('exit', stop)
        guard.ref()
        if (!guardDone && guard.pid) {
          try {
            process.kill(guard.pid, 'SIGTERM')
          } catch {
            // already gone
          }
        }
        await exited
        try {
          process.kill(tpmPid, 0)
          process.kill(tpmPid, 'SIGKILL')
        } catch {
          // gone, as it should be
        }
      })()
      return closed
    },
  }

  const deadline = Date.now() + 10_000
  for (;;) {
    if (guardDone) {
      await handle.close()
      const text = stderr.trim()
      if (/ENOENT|not found/i.test(text)) throw new XaiError('FL_ATTEST_TOOLS_MISSING', 'swtpm is not installed', {hint: TPM_PACKAGES_HINT})
      const busy = /in use|Address already/i.test(text)
      if (/lock/i.test(text)) {
        throw new XaiError('FL_ATTEST_NO_TPM', `The software TPM in ${stateDir} is in use by another process`, {hint: 'Stop the other command that uses it, or provision another TPM for this one.'})
      }
      throw new XaiError('FL_ATTEST_NO_TPM', `swtpm stopped at start: ${text || 'no message'}`, {hint: 'Check the state folder (xai fl attest provision) and that swtpm runs: swtpm --version', details: {retry: busy}})
    }
    if (await canConnect(host, port)) return handle
    if (Date.now() > deadline) {
      await handle.close()
      throw new XaiError('FL_ATTEST_NO_TPM', `swtpm did not accept connections on ${host}:${port} within 10 s`, {hint: 'The machine may be overloaded; try again.'})
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** True while a process with this PID exists. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** `/dev/tpmrm0`, the kernel's resource-managed TPM device, or a clear refusal. */
export function deviceTcti(path = '/dev/tpmrm0'): string {
  if (!existsSync(path)) {
    throw new XaiError('FL_ATTEST_NO_TPM', `This machine has no TPM device (${path} does not exist)`, {
      hint: 'Use a software TPM instead: xai fl attest provision --tpm swtpm:DIR --ca CA, then --tpm swtpm:DIR',
    })
  }
  try {
    accessSync(path, constants.R_OK | constants.W_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') {
      throw new XaiError('FL_ATTEST_NO_TPM', `No permission to use ${path}`, {hint: 'Add your user to the tss group (sudo usermod -aG tss $USER) and log in again.'})
    }
  }
  return `device:${path}`
}
