import type {StopOutcome} from '../util/process.js'

/** A step of a devnet operation, for progress views (a listr2 task list, plain lines). */
export interface DevnetStep {
  id: string
  title: string
}

/** What the orchestrator reports while it works. Views render these; libraries never print. */
export type DevnetEvent =
  | {type: 'step'; id: string; status: 'start' | 'done' | 'fail'; title: string; error?: string}
  | {type: 'node-stopped'; index: number; pid: number; outcome: StopOutcome}
  | {type: 'node-exited'; index: number; pid: number; exitCode?: number; signal?: string}
  /** The head state was written to the devnet's state file before its nodes stopped (--state), or could not be. */
  | {type: 'state-saved'; file: string; accounts?: number; error?: string}

export type DevnetEventSink = (event: DevnetEvent) => void

/** Runs `fn` as step `step`, reporting start, done (with an optional new title) and failure. */
export async function runStep<T>(
  onEvent: DevnetEventSink | undefined,
  step: DevnetStep,
  fn: (setTitle: (title: string) => void) => Promise<T>,
): Promise<T> {
  let title = step.title
  onEvent?.({type: 'step', id: step.id, status: 'start', title})
  try {
    const result = await fn((next) => {
      title = next
    })
    onEvent?.({type: 'step', id: step.id, status: 'done', title})
    return result
  } catch (err) {
    onEvent?.({type: 'step', id: step.id, status: 'fail', title, error: (err as Error).message})
    throw err
  }
}
