import {setTimeout as sleep} from 'node:timers/promises'

import {render} from 'ink'
import type {JSX} from 'react'

import {Dashboard} from './dashboard.js'
import {type DashboardModel, createDashboardModel} from './model.js'

export interface RunDashboardOptions {
  /** The folder holding devnets/ (resolved by the command). */
  dir: string
  name: string
  /** Stops the dashboard; the caller aborts it on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal
  /** Milliseconds between polls (default 500). */
  intervalMs?: number
  /** The last line, saying what Ctrl-C does (default "Ctrl-C to stop"). */
  footer?: string
  /** Where frames go (default stderr: stdout is for data). */
  stdout?: NodeJS.WriteStream
  /** A prepared model (tests); by default one polling the devnet with 400 ms RPC timeouts. */
  model?: DashboardModel
}

/**
 * Renders the live dashboard of a running devnet with Ink until `signal` aborts: node table,
 * committed blocks and tx/s, refreshed every `intervalMs`. The status is drawn as soon as it
 * arrives, before the new blocks are fetched, so a stalled node never holds a frame back for
 * longer than one short RPC timeout. Leaves the last frame on screen.
 *
 * @example
 * const abort = new AbortController()
 * process.once('SIGINT', () => abort.abort())
 * await runDashboard({dir, name: 'default', signal: abort.signal, footer: 'Ctrl-C leaves the view; the devnet keeps running.'})
 */
export async function runDashboard(options: RunDashboardOptions): Promise<void> {
  const {signal} = options
  const intervalMs = options.intervalMs ?? 500
  const footer = options.footer ?? 'Ctrl-C to stop'
  const model = options.model ?? createDashboardModel({dir: options.dir, name: options.name})
  const stdout = options.stdout ?? process.stderr
  const frame = (): JSX.Element => <Dashboard snapshot={model.snapshot()} footer={footer} columns={stdout.columns || 80} />
  const ink = render(frame(), {stdout, exitOnCtrlC: false, patchConsole: false})
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), {once: true})
  })
  try {
    while (!signal.aborted) {
      const started = Date.now()
      await Promise.race([model.refreshStatus(), aborted])
      if (signal.aborted) break
      ink.rerender(frame())
      await Promise.race([model.refreshBlocks(), aborted])
      if (signal.aborted) break
      ink.rerender(frame())
      await sleep(Math.max(0, intervalMs - (Date.now() - started)), undefined, {signal}).catch(() => undefined)
    }
  } finally {
    ink.rerender(frame())
    ink.unmount()
    await ink.waitUntilExit().catch(() => undefined)
  }
}
