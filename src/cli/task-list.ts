import {Listr, ListrLogger, ProcessOutput} from 'listr2'

import {type Gate, gate} from './gate.js'

/**
 * Progress of a library operation as a task list, in one place for every command: a listr2
 * list on a terminal, plain lines otherwise, nothing with --json (always on stderr: stdout is
 * for data). Libraries report progress through events; a command says how its library's events
 * move the list's steps, and which line each prints without a terminal.
 */

/** One step of the list, known before the operation runs. */
export interface TaskStep {
  id: string
  title: string
}

/**
 * How an event moves one step: `start` (and retitle), `title` (retitle only), `done`, `skip`
 * or `fail` (with the reason). A step not reported done by the end of a successful run is done;
 * of a failed run, failed.
 */
export interface TaskUpdate {
  type: 'start' | 'title' | 'done' | 'skip' | 'fail'
  id: string
  title?: string
  error?: string
}

/** tty: a listr2 list; plain: one line per event that has one; none: nothing (--json). */
export type TaskListOutput = 'tty' | 'plain' | 'none'

/** The output a command's task list uses: none with --json, a list on a terminal, else lines. */
export function taskListOutput(json: boolean, stream: {isTTY?: boolean} = process.stderr): TaskListOutput {
  if (json) return 'none'
  return stream.isTTY === true ? 'tty' : 'plain'
}

export interface TaskListOptions<E> {
  output: TaskListOutput
  steps: readonly TaskStep[]
  /** How a library event moves the list (undefined: it does not). */
  updates(event: E): TaskUpdate | readonly TaskUpdate[] | undefined
  /**
   * Without a terminal, the line an event prints (undefined: none). By default the event's done,
   * skip and fail updates print `✔ title`, `↓ title` and `✖ title`.
   */
  line?(event: E): string | undefined
  /** Draw the list only once an event moves it, so that a run with nothing to do shows nothing (default: at once). */
  lazy?: boolean
  /** Where it goes (default stderr). */
  stream?: NodeJS.WriteStream
}

export interface TaskList<E> {
  /** The library's event sink. */
  onEvent(event: E): void
  /** Settles the list: steps not reported finish as done, or fail with `err`. Idempotent. */
  end(err?: Error): Promise<void>
  /** Runs `work` (which reports through onEvent), settles the list, and returns its result or throws its error. */
  run<T>(work: () => Promise<T>): Promise<T>
}

interface StepState {
  step: TaskStep
  gate: Gate
  settled: boolean
  skip: boolean
  title: string
  task?: {title: string; skip(message?: string): void}
}

const MARK: Partial<Record<TaskUpdate['type'], string>> = {done: '✔', skip: '↓', fail: '✖'}

/**
 * A task list for one operation.
 *
 * @example
 * const progress = createTaskList<DeployEvent>({
 *   output: taskListOutput(this.jsonEnabled()),
 *   steps: DEPLOY_STEPS.map((id) => ({id, title: TITLES[id]})),
 *   updates: (event) => ({type: event.type, id: event.step, title: event.title}),
 * })
 * const result = await progress.run(() => deployContract(project, {...options, onEvent: progress.onEvent}))
 */
export function createTaskList<E>(options: TaskListOptions<E>): TaskList<E> {
  const stream = options.stream ?? process.stderr
  const states = new Map<string, StepState>(options.steps.map((step) => [step.id, {step, gate: gate(), settled: false, skip: false, title: step.title}]))
  const updatesOf = (event: E): readonly TaskUpdate[] => {
    const updates = options.updates(event)
    return updates === undefined ? [] : Array.isArray(updates) ? updates : [updates as TaskUpdate]
  }
  let running: Promise<unknown> | undefined
  let ended = false

  const startList = (): void => {
    if (running || options.output !== 'tty') return
    const logger = new ListrLogger({processOutput: new ProcessOutput(stream, stream)})
    const list = new Listr(
      [...states.values()].map((state) => ({
        title: state.title,
        task: async (_ctx: unknown, task: {title: string; skip(message?: string): void}) => {
          state.task = task
          task.title = state.title
          await state.gate.promise
          if (state.skip) task.skip(state.title)
        },
      })),
      {
        concurrent: false,
        exitOnError: true,
        registerSignalListeners: false,
        rendererOptions: {logger, collapseErrors: false},
        fallbackRendererOptions: {logger},
      },
    )
    running = list.run().catch(() => undefined)
  }

  const settle = (state: StepState, err?: Error): void => {
    if (state.settled) return
    state.settled = true
    if (err) state.gate.fail(err)
    else state.gate.open()
  }

  const apply = (update: TaskUpdate): void => {
    const state = states.get(update.id)
    if (!state) return
    startList()
    if (update.title !== undefined) {
      state.title = update.title
      if (state.task) state.task.title = update.title
    }
    if (update.type === 'done') settle(state)
    else if (update.type === 'skip') {
      state.skip = true
      settle(state)
    } else if (update.type === 'fail') settle(state, new Error(update.error ?? 'failed'))
  }

  const plainLine = (event: E): string | undefined => {
    if (options.line) return options.line(event)
    const lines = updatesOf(event).flatMap((update) => {
      const mark = MARK[update.type]
      return mark === undefined ? [] : [`${mark} ${update.title ?? states.get(update.id)?.title ?? update.id}`]
    })
    return lines.length === 0 ? undefined : lines.join('\n')
  }

  if (!options.lazy) startList()

  const end = async (err?: Error): Promise<void> => {
    if (ended) return
    ended = true
    for (const state of states.values()) settle(state, err)
    await running
  }

  return {
    onEvent(event) {
      if (ended || options.output === 'none') return
      if (options.output === 'plain') {
        const line = plainLine(event)
        if (line !== undefined) stream.write(`${line}\n`)
        return
      }
      for (const update of updatesOf(event)) apply(update)
    },
    end,
    async run(work) {
      let result
      try {
        result = await work()
      } catch (err) {
        await end(err instanceof Error ? err : new Error(String(err)))
        throw err
      }
      await end()
      return result
    },
  }
}
