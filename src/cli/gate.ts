/**
 * A promise opened or failed from outside: how a listr2 task waits for the library step it shows
 * to report that it is done. Its rejection is pre-handled (a step that never ran fails quietly).
 */
export interface Gate {
  promise: Promise<void>
  open(): void
  fail(err: Error): void
}

export function gate(): Gate {
  let open!: () => void
  let fail!: (err: Error) => void
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  promise.catch(() => undefined)
  return {promise, open, fail}
}
