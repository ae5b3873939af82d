import {render} from 'ink'
import {type FunctionComponent, createElement} from 'react'

/**
 * Runners for live Ink views. Views are components that take props only; these draw them on
 * stderr (stdout carries data) and redraw them with new props, from an event handler
 * (startLiveView) or from an async iterator of snapshots a library yields (followLiveView).
 */

export interface LiveView<P> {
  /** Redraws the view with these props. */
  update(props: P): void
  /** Draws `props` (when given) one last time, leaves that frame on screen and lets go of the terminal. Idempotent. */
  end(props?: P): Promise<void>
}

export interface LiveViewOptions {
  /** Where frames go (default stderr: stdout is for data). */
  stdout?: NodeJS.WriteStream
}

/**
 * Draws `View` with `props` now; `update` redraws it.
 *
 * @example
 * const view = startLiveView(FlView, {view: initialFlView(3)})
 * view.update({view: next})
 * await view.end()
 */
export function startLiveView<P extends object>(View: FunctionComponent<P>, props: P, options: LiveViewOptions = {}): LiveView<P> {
  const ink = render(createElement(View, props), {stdout: options.stdout ?? process.stderr, exitOnCtrlC: false, patchConsole: false})
  let ended = false
  return {
    update(next) {
      if (!ended) ink.rerender(createElement(View, next))
    },
    async end(last) {
      if (ended) return
      ended = true
      if (last) ink.rerender(createElement(View, last))
      ink.unmount()
      await ink.waitUntilExit().catch(() => undefined)
    },
  }
}

export interface FollowLiveViewOptions<T, P> extends LiveViewOptions {
  /** Props of the first frame, drawn before the source yields anything. */
  initial: P
  /** Props of the frame for one value of the source. */
  props(value: T): P
  /** Stops following at once (the source is asked to return); Ctrl-C, usually. */
  signal: AbortSignal
}

/**
 * Draws `View` for every value `source` yields until the source ends or `signal` aborts, leaves
 * the last frame on screen and returns the last value (undefined when none came). An error of
 * the source ends the view and is thrown.
 *
 * @example
 * const abort = new AbortController()
 * await followLiveView(Dashboard, watchDevnet(location, {signal: abort.signal}), {
 *   initial: {snapshot: initialDevnetSnapshot('default'), footer},
 *   props: (snapshot) => ({snapshot, footer}),
 *   signal: abort.signal,
 * })
 */
export async function followLiveView<T, P extends object>(View: FunctionComponent<P>, source: AsyncIterable<T>, options: FollowLiveViewOptions<T, P>): Promise<T | undefined> {
  const {signal} = options
  const view = startLiveView(View, options.initial, options)
  const iterator = source[Symbol.asyncIterator]()
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    const stop = (): void => resolve({done: true, value: undefined})
    if (signal.aborted) stop()
    else signal.addEventListener('abort', stop, {once: true})
  })
  let last: T | undefined
  let props = options.initial
  try {
    while (!signal.aborted) {
      const pending = iterator.next()
      // Left behind on abort: its late failure must not become an unhandled rejection.
      pending.catch(() => undefined)
      const next = await Promise.race([pending, aborted])
      if (next.done) break
      last = next.value
      props = options.props(next.value)
      view.update(props)
    }
  } finally {
    // A generator still inside a poll returns once that poll settles; nobody waits for it.
    Promise.resolve(iterator.return?.()).catch(() => undefined)
    await view.end(props)
  }
  return last
}
