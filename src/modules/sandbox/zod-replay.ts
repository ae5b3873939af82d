import {z} from 'zod'

import {GUEST_FUNCTION, type ZodChain, type ZodStep} from './marshal.js'

/**
 * zod for sandboxed modules. Evaluating zod itself inside QuickJS costs 0.4-0.6 s per context
 * (450 kB of JavaScript; measured), far too much for a fresh context per call. So the guest's
 * `z` only records how a schema is built (`z.object({step: z.coerce.bigint().default(1n)})` is a
 * chain of property reads and calls, see {@link ZodChain}); the host replays that chain on the
 * real zod and parses values with it. Parsing is pure, and what it gets and gives back is plain
 * data, so the host-side zod is as deterministic as the module would be.
 *
 * The chain comes from a hostile module: a step may read only a zod method or namespace (never
 * `constructor`, `__proto__` or anything of Object/Function), every call must give back a zod
 * schema, and a guest function (`refine`, `transform`, custom error maps) or a regular expression
 * is refused: neither can run on the host.
 */

export class ZodReplayError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ZodReplayError'
  }
}

const NAME = /^[A-Za-z][A-Za-z0-9]{0,40}$/
const NEVER = new Set([
  'constructor', 'prototype', 'apply', 'call', 'bind', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', 'parse', 'safeParse', 'parseAsync', 'safeParseAsync', 'spa', 'decode', 'encode', 'decodeAsync', 'encodeAsync',
  'safeDecode', 'safeEncode', 'safeDecodeAsync', 'safeEncodeAsync', 'register', 'with', 'clone',
  'instanceof', 'lazy', 'promise', 'function', 'codec', 'file', 'json', 'config', 'globalRegistry', 'registry', 'locales',
])
/** Methods that take a guest function, which cannot run on the host. */
const TAKES_FUNCTION = new Set(['superRefine', 'refine', 'transform', 'preprocess', 'custom', 'check', 'overwrite'])
const FUNCTION_REFUSED = 'a zod schema with a function (refine, transform, a custom error map, …) cannot run in the module sandbox: check the value in the call instead'
/** The namespaces a schema chain may go through (`z.coerce.bigint()`, `z.iso.date()`). */
const NAMESPACES = new Map<string, object>([
  ['coerce', z.coerce],
  ['iso', z.iso],
])

const MAX_STEPS = 256
const cache = new Map<string, z.ZodType>()

function isSchema(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType
}

function replayArg(value: unknown, budget: {steps: number}): unknown {
  if (value === GUEST_FUNCTION) throw new ZodReplayError(FUNCTION_REFUSED)
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return value
  if (Array.isArray(value)) return value.map((item) => replayArg(item, budget))
  if (Object.hasOwn(value, 'zodChain')) return replayChain((value as ZodChain).zodChain, budget)
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) Object.defineProperty(out, key, {value: replayArg(item, budget), enumerable: true, writable: true, configurable: true})
  return out
}

function replayChain(chain: readonly ZodStep[], budget: {steps: number}): z.ZodType {
  let current: unknown = z
  for (const step of chain) {
    if (--budget.steps < 0) throw new ZodReplayError(`a zod schema built in more than ${MAX_STEPS} steps is refused`)
    const [name, args] = step
    if (TAKES_FUNCTION.has(name)) throw new ZodReplayError(FUNCTION_REFUSED)
    if (!NAME.test(name) || NEVER.has(name) || name in Object.prototype || name in Function.prototype) throw new ZodReplayError(`z…${name} is not available in the module sandbox`)
    if (args === undefined) {
      const namespace = current === z ? NAMESPACES.get(name) : undefined
      if (!namespace) throw new ZodReplayError(`z…${name} is not available in the module sandbox`)
      current = namespace
      continue
    }
    const receiver = current as Record<string, unknown>
    if (!(current === z || [...NAMESPACES.values()].includes(current as object) || isSchema(current))) throw new ZodReplayError(`z…${name}() is not available in the module sandbox`)
    const method = receiver[name]
    if (typeof method !== 'function') throw new ZodReplayError(`z…${name}() is not a zod method`)
    const replayed = args.map((arg) => replayArg(arg, budget))
    let next: unknown
    try {
      next = (method as (...a: unknown[]) => unknown).apply(receiver, replayed)
    } catch (err) {
      throw new ZodReplayError(`z…${name}(): ${err instanceof Error ? err.message : String(err)}`)
    }
    if (!isSchema(next)) throw new ZodReplayError(`z…${name}() does not build a zod schema`)
    current = next
  }
  if (!isSchema(current)) throw new ZodReplayError('not a zod schema')
  return current
}

/** The real zod schema a guest chain describes (cached by its text: replaying is pure). */
export function replayZod(chain: readonly ZodStep[], key: string): z.ZodType {
  let schema = cache.get(key)
  if (!schema) {
    schema = replayChain(chain, {steps: MAX_STEPS})
    if (cache.size > 4_096) cache.clear()
    cache.set(key, schema)
  }
  return schema
}
