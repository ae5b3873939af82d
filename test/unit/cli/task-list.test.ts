import {EventEmitter} from 'node:events'

import {describe, expect, it} from 'vitest'

import {type TaskListOutput, type TaskUpdate, createTaskList, taskListOutput} from '../../../src/cli/task-list.js'

/** A stand-in for stderr that keeps what is written (listr2 writes to it through its logger). */
class FakeStream extends EventEmitter {
  readonly columns = 100
  readonly rows = 40
  isTTY = false
  output = ''
  write(chunk: string | Uint8Array): boolean {
    this.output += chunk.toString()
    return true
  }
}

type Event = {step: string; type: 'start' | 'done' | 'skip'; title: string} | {step: string; type: 'fail'; title: string; error: string}

const steps = [
  {id: 'compile', title: 'Compile'},
  {id: 'send', title: 'Sign and send'},
  {id: 'record', title: 'Record in the journal'},
]

const list = (output: TaskListOutput, stream: FakeStream, extra: {lazy?: boolean; line?: (event: Event) => string | undefined} = {}) =>
  createTaskList<Event>({
    output,
    steps,
    updates: (event): TaskUpdate => ({type: event.type, id: event.step, title: event.title, error: event.type === 'fail' ? event.error : undefined}),
    stream: stream as unknown as NodeJS.WriteStream,
    ...extra,
  })

/** Lines of plain (non-ANSI) output. */
const lines = (text: string): string[] =>
  text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colours
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)

describe('taskListOutput', () => {
  it('is none with --json, a list on a terminal, lines otherwise', () => {
    expect(taskListOutput(true, {isTTY: true})).toBe('none')
    expect(taskListOutput(false, {isTTY: true})).toBe('tty')
    expect(taskListOutput(false, {isTTY: false})).toBe('plain')
    expect(taskListOutput(false, {})).toBe('plain')
  })
})

describe('createTaskList', () => {
  it('without a terminal prints one line per finished or skipped step, nothing for a start', async () => {
    const stream = new FakeStream()
    const progress = list('plain', stream)
    const result = await progress.run(async () => {
      progress.onEvent({step: 'compile', type: 'start', title: 'Compile'})
      progress.onEvent({step: 'compile', type: 'skip', title: 'Compile: up to date'})
      progress.onEvent({step: 'send', type: 'start', title: 'Sign and send'})
      progress.onEvent({step: 'send', type: 'done', title: 'Sent 0xabc'})
      progress.onEvent({step: 'record', type: 'done', title: 'Recorded'})
      return 42
    })
    expect(result).toBe(42)
    expect(lines(stream.output)).toEqual(['↓ Compile: up to date', '✔ Sent 0xabc', '✔ Recorded'])
  })

  it('without a terminal prints the lines the command chooses instead, when it gives them', async () => {
    const stream = new FakeStream()
    const progress = list('plain', stream, {line: (event) => (event.type === 'start' ? `› ${event.title}` : undefined)})
    progress.onEvent({step: 'compile', type: 'start', title: 'Compiling 2 source(s)…'})
    progress.onEvent({step: 'compile', type: 'done', title: 'Compiled'})
    await progress.end()
    expect(lines(stream.output)).toEqual(['› Compiling 2 source(s)…'])
  })

  it('with --json writes nothing at all and still returns the result and throws the error', async () => {
    const stream = new FakeStream()
    const progress = list('none', stream)
    expect(
      await progress.run(async () => {
        progress.onEvent({step: 'compile', type: 'done', title: 'Compiled'})
        return 'ok'
      }),
    ).toBe('ok')
    const failing = list('none', stream)
    await expect(failing.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(stream.output).toBe('')
  })

  it('passes the error of the work on unchanged, after marking the failed step', async () => {
    const stream = new FakeStream()
    const progress = list('plain', stream)
    const error = new Error('replacement transaction underpriced')
    const thrown = await progress
      .run(async () => {
        progress.onEvent({step: 'compile', type: 'done', title: 'Compiled'})
        progress.onEvent({step: 'send', type: 'fail', title: 'Sign and send', error: error.message})
        throw error
      })
      .catch((err: unknown) => err)
    expect(thrown).toBe(error)
    expect(lines(stream.output)).toEqual(['✔ Compiled', '✖ Sign and send'])
  })

  it('on a terminal draws the steps with listr2, retitled as events arrive; unreported steps end done', async () => {
    const stream = new FakeStream()
    const progress = list('tty', stream)
    await progress.run(async () => {
      progress.onEvent({step: 'compile', type: 'start', title: 'Compile 2 source(s)'})
      progress.onEvent({step: 'compile', type: 'done', title: 'Compiled (12 ms)'})
      progress.onEvent({step: 'send', type: 'skip', title: 'Already deployed'})
    })
    const out = lines(stream.output).join('\n')
    expect(out).toMatch(/✔ Compiled \(12 ms\)/)
    expect(out).toMatch(/Already deployed/)
    expect(out).toMatch(/✔ Record in the journal/)
    expect(out).not.toMatch(/✖/)
  })

  it('on a terminal stops at the failed step: later steps never show done, and the error still reaches the caller', async () => {
    const stream = new FakeStream()
    const progress = list('tty', stream)
    const thrown = await progress
      .run(async () => {
        progress.onEvent({step: 'compile', type: 'done', title: 'Compiled'})
        progress.onEvent({step: 'send', type: 'fail', title: 'Sign and send', error: 'nonce too low'})
        throw new Error('nonce too low')
      })
      .catch((err: unknown) => err)
    expect((thrown as Error).message).toBe('nonce too low')
    const out = lines(stream.output).join('\n')
    expect(out).toMatch(/✔ Compiled/)
    expect(out).toMatch(/✖ .*(Sign and send|nonce too low)/)
    expect(out).not.toMatch(/✔ Record in the journal/)
  })

  it('a lazy list draws nothing when no event moves it', async () => {
    const stream = new FakeStream()
    const progress = list('tty', stream, {lazy: true})
    await progress.run(async () => undefined)
    expect(stream.output).toBe('')
  })
})
