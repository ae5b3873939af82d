import nodeCrypto from 'node:crypto'
import {syncBuiltinESMExports} from 'node:module'

/**
 * Thrown when module code touches something that differs between validators: the clock, a
 * random source or a timer. `touched` names it (`Date.now`, `Math.random`, `setTimeout`, …).
 */
export class ModuleDeterminismError extends Error {
  readonly touched: string

  constructor(touched: string) {
    super(`Module code touched ${touched}, which is not deterministic: use ctx.height / ctx.timestamp and bigint arithmetic instead`)
    this.name = 'ModuleDeterminismError'
    this.touched = touched
  }
}

function thrower(touched: string): (...args: unknown[]) => never {
  return () => {
    throw new ModuleDeterminismError(touched)
  }
}

const RealDate = Date

/**
 * A stand-in for `Date`: constructing, calling or reading anything off it throws, except
 * `instanceof Date` (which libraries such as zod ask, and which reads no clock).
 */
function guardedDate(): DateConstructor {
  const target = function Date() {}
  return new Proxy(target, {
    apply: thrower('Date()'),
    construct: thrower('new Date()'),
    get: (_target, key) => {
      if (key === Symbol.hasInstance) return (value: unknown) => value instanceof RealDate
      throw new ModuleDeterminismError(`Date.${String(key)}`)
    },
  }) as unknown as DateConstructor
}

function guardedHrtime(): NodeJS.HRTime {
  const hrtime = thrower('process.hrtime') as unknown as NodeJS.HRTime
  Object.defineProperty(hrtime, 'bigint', {value: thrower('process.hrtime.bigint')})
  return hrtime
}

interface Patch {
  target: object
  key: string
  value: () => unknown
}

const PATCHES: readonly Patch[] = [
  {target: globalThis, key: 'Date', value: guardedDate},
  {target: Math, key: 'random', value: () => thrower('Math.random')},
  {target: globalThis.performance, key: 'now', value: () => thrower('performance.now')},
  {target: globalThis, key: 'setTimeout', value: () => thrower('setTimeout')},
  {target: globalThis, key: 'setInterval', value: () => thrower('setInterval')},
  {target: globalThis, key: 'setImmediate', value: () => thrower('setImmediate')},
  {target: process, key: 'hrtime', value: guardedHrtime},
  {target: globalThis.crypto, key: 'getRandomValues', value: () => thrower('crypto.getRandomValues')},
  {target: globalThis.crypto, key: 'randomUUID', value: () => thrower('crypto.randomUUID')},
]

/** node:crypto's random sources: patching them means re-syncing the ESM exports, twice per run. */
const NODE_PATCHES: readonly Patch[] = ['randomBytes', 'randomFillSync', 'randomFill', 'randomInt', 'randomUUID'].map((key) => ({
  target: nodeCrypto as object,
  key,
  value: () => thrower(`crypto.${key}`),
}))

let depth = 0

/**
 * Runs `fn` with the clock, random sources and timers replaced by functions that throw a
 * {@link ModuleDeterminismError}, and restores every original afterwards, also when `fn` throws.
 * `fn` must be synchronous (module hooks and calls are); nested calls share one patch.
 *
 * `nodeBuiltins: false` leaves node:crypto's exports alone (much cheaper): for code that cannot
 * import node:crypto, as user modules on the chain cannot (their `require` hands out only the
 * module API, zod and viem).
 */
export function runDeterministically<T>(fn: () => T, options: {nodeBuiltins?: boolean} = {}): T {
  if (depth > 0) return fn()
  const nodeBuiltins = options.nodeBuiltins ?? true
  const saved = (nodeBuiltins ? [...PATCHES, ...NODE_PATCHES] : PATCHES).map((patch) => ({patch, descriptor: Object.getOwnPropertyDescriptor(patch.target, patch.key)}))
  depth++
  try {
    for (const {patch, descriptor} of saved) {
      if (!descriptor || descriptor.configurable) {
        Object.defineProperty(patch.target, patch.key, {value: patch.value(), configurable: true, writable: true, enumerable: descriptor?.enumerable ?? false})
      } else if (descriptor.writable) {
        ;(patch.target as Record<string, unknown>)[patch.key] = patch.value()
      }
    }
    if (nodeBuiltins) syncBuiltinESMExports()
    return fn()
  } finally {
    for (const {patch, descriptor} of saved) {
      if (!descriptor) delete (patch.target as Record<string, unknown>)[patch.key]
      else if (descriptor.configurable) Object.defineProperty(patch.target, patch.key, descriptor)
      else if (descriptor.writable) (patch.target as Record<string, unknown>)[patch.key] = descriptor.value
    }
    if (nodeBuiltins) syncBuiltinESMExports()
    depth--
  }
}
