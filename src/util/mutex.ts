/** Runs async tasks one at a time, in the order they were queued. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve()
  private queued = 0

  /** Whether a task is running or waiting. */
  get busy(): boolean {
    return this.queued > 0
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued++
    const result = this.tail.then(task, task).finally(() => {
      this.queued--
    })
    this.tail = result.catch(() => undefined)
    return result
  }

  /** Resolves once everything queued so far has finished. */
  async drain(): Promise<void> {
    await this.tail
  }
}
