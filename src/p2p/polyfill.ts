/**
 * Side-effect module: defines `Promise.withResolvers` (ES2024) where the runtime lacks it. Node 20
 * has no `Promise.withResolvers` and libp2p 3 calls it, so this module must be evaluated before
 * any libp2p module is: `src/p2p/host.ts` imports it first and loads libp2p lazily afterwards.
 *
 * Follows the spec (27.2.4.9): the receiver is the constructor, so subclasses get instances of
 * themselves, and a non-constructor receiver is a TypeError. Non-enumerable, like the built-in.
 */

interface PromiseWithResolversPolyfill<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

type PromiseCtor = new <T>(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: unknown) => void) => void) => Promise<T>

const target = Promise as unknown as {withResolvers?: unknown}

if (typeof target.withResolvers !== 'function') {
  const withResolvers = {
    // A method definition, so it has no [[Construct]] (as the built-in) and is named `withResolvers`.
    withResolvers<T>(this: unknown): PromiseWithResolversPolyfill<T> {
      if (typeof this !== 'function') throw new TypeError('Promise.withResolvers called on a non-constructor')
      let resolve!: PromiseWithResolversPolyfill<T>['resolve']
      let reject!: PromiseWithResolversPolyfill<T>['reject']
      const promise = new (this as PromiseCtor)<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return {promise, resolve, reject}
    },
  }.withResolvers
  Object.defineProperty(Promise, 'withResolvers', {value: withResolvers, writable: true, enumerable: false, configurable: true})
}

export {}
