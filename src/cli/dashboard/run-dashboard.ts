import {type DevnetSnapshot, initialDevnetSnapshot} from '../../devnet/watch-devnet.js'
import {followLiveView} from '../live-view.js'
import {Dashboard} from './dashboard.js'

export interface RunDashboardOptions {
  /** What to draw: the command passes watchDevnet(location, {signal}). */
  snapshots: AsyncIterable<DevnetSnapshot>
  /** The devnet's name, for the frame drawn before the first snapshot. */
  name: string
  /** Stops the dashboard; the caller aborts it on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal
  /** The last line, saying what Ctrl-C does (default "Ctrl-C to stop"). */
  footer?: string
  /** Where frames go (default stderr: stdout is for data). */
  stdout?: NodeJS.WriteStream
}

/**
 * Renders the live dashboard of a running devnet with Ink until `signal` aborts (or the
 * snapshots end): node table, committed blocks and tx/s, redrawn for every snapshot. Leaves the
 * last frame on screen.
 *
 * @example
 * const abort = new AbortController()
 * process.once('SIGINT', () => abort.abort())
 * await runDashboard({snapshots: watchDevnet({dir, name: 'default'}, {signal: abort.signal}), name: 'default', signal: abort.signal})
 */
export async function runDashboard(options: RunDashboardOptions): Promise<void> {
  const stdout = options.stdout ?? process.stderr
  const footer = options.footer ?? 'Ctrl-C to stop'
  await followLiveView(Dashboard, options.snapshots, {
    initial: {snapshot: initialDevnetSnapshot(options.name), footer, columns: stdout.columns || 80},
    props: (snapshot) => ({snapshot, footer, columns: stdout.columns || 80}),
    signal: options.signal,
    stdout,
  })
}
