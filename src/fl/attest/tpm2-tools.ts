import {execa} from 'execa'

import {XaiError} from '../../util/errors.js'

export const TPM_PACKAGES_HINT = 'Install the software TPM and the tools: apt-get install -y swtpm swtpm-tools tpm2-tools'

/**
 * Runs tpm2-tools against one TPM (`TPM2TOOLS_TCTI`), one command at a time: a TPM is one device,
 * and without a resource manager (swtpm's socket) two clients would trample each other's loaded
 * objects. With `flush`, {@link flushTransients} empties the TPM's object and session slots,
 * which tpm2-tools leaves loaded after every call when no resource manager sits in between
 * (after a few calls the TPM answers `0x902 out of memory for object contexts`).
 */
export class Tpm2Tools {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    readonly tcti: string,
    private readonly options: {flush: boolean; cwd: string},
  ) {}

  /**
   * Runs `fn` with the TPM to itself, then (`flush`) flushes what it left loaded. Calls that only
   * use persistent handles with password authorization (quote, PCR read and extend) load nothing
   * that outlives them and skip the flush: it costs two more tool runs.
   */
  exclusive<T>(fn: () => Promise<T>, flush = true): Promise<T> {
    const run = this.queue.then(async () => {
      try {
        return await fn()
      } finally {
        if (flush) await this.flushTransients()
      }
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  /** One tool call; stdout, or FL_ATTEST_TPM_FAILED with the tool's own error text. */
  async run(tool: string, args: string[]): Promise<string> {
    return runTool(tool, args, {cwd: this.options.cwd, env: {TPM2TOOLS_TCTI: this.tcti}})
  }

  async flushTransients(): Promise<void> {
    if (!this.options.flush) return
    await this.run('tpm2_flushcontext', ['-t'])
    await this.run('tpm2_flushcontext', ['-s'])
  }
}

/** Runs one of the TPM programs (tpm2-tools, swtpm_setup); a missing binary says which packages to install. */
export async function runTool(tool: string, args: string[], options: {cwd?: string; env?: Record<string, string>} = {}): Promise<string> {
  const result = await execa(tool, args, {cwd: options.cwd, env: options.env, reject: false, stdin: 'ignore', timeout: 60_000})
  if (result.failed) {
    if ((result as {code?: string}).code === 'ENOENT') {
      throw new XaiError('FL_ATTEST_TOOLS_MISSING', `${tool} is not installed`, {hint: TPM_PACKAGES_HINT})
    }
    const detail = String(result.stderr || result.stdout || result.shortMessage).trim().split('\n').filter((line) => !line.startsWith('WARN')).slice(-3).join(' | ')
    throw new XaiError('FL_ATTEST_TPM_FAILED', `${tool} failed: ${detail}`, {
      hint: 'Is the TPM running and provisioned (xai fl attest provision)? Run the tool by hand with the same TPM2TOOLS_TCTI to see more.',
      details: {tool, args, exitCode: result.exitCode},
    })
  }
  return (result.stdout ?? '').toString()
}
