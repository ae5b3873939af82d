/**
 * The one encoding values cross the sandbox boundary in, both ways: JSON text in which bigints,
 * bytes and `undefined` are tagged objects (`{"$n": "12"}`, `{"$u": "0a0b"}`, `{"$x": 1}`),
 * a zod schema built in the guest is `{"$z": chain}` and a guest function is `{"$fn": 1}`. A plain
 * object's own key starting with `$` gets one more `$`. The guest prelude holds the same code.
 *
 * The host decodes what a module sends as hostile input: only plain data comes out (objects are
 * rebuilt with `defineProperty`, so a `__proto__` key is an ordinary key), depth and size are
 * bounded, anything else is refused with a {@link MarshalError}.
 */

export class MarshalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MarshalError'
  }
}

/** Nesting a value may have across the boundary. */
export const MAX_DEPTH = 64

/** A guest zod schema: the chain of property reads and calls that built it. */
export interface ZodChain {
  readonly zodChain: readonly ZodStep[]
}
/** `[name]`: a property read; `[name, args]`: a method call. */
export type ZodStep = [string] | [string, unknown[]]

/** A guest function arrived where plain data was expected (only zod refuses it with a reason). */
export const GUEST_FUNCTION: unique symbol = Symbol('guest function')

const TAGS = new Set(['$n', '$u', '$x', '$z', '$fn'])

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function toJsonable(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new MarshalError(`a value nested deeper than ${MAX_DEPTH} cannot cross the sandbox boundary`)
  switch (typeof value) {
    case 'bigint':
      return {$n: value.toString()}
    case 'undefined':
      return {$x: 1}
    case 'number':
      if (!Number.isFinite(value)) throw new MarshalError(`the number ${value} cannot cross the sandbox boundary`)
      return value
    case 'string':
    case 'boolean':
      return value
    case 'object': {
      if (value === null) return null
      if (value instanceof Uint8Array) return {$u: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}
      if (Array.isArray(value)) return value.map((item) => toJsonable(item, depth + 1))
      if (isZodChain(value)) return {$z: toJsonable(value.zodChain, depth + 1)}
      if (!isPlainObject(value)) throw new MarshalError(`a ${value.constructor?.name ?? 'non-plain object'} cannot cross the sandbox boundary`)
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(value)) {
        Object.defineProperty(out, key.startsWith('$') ? `$${key}` : key, {value: toJsonable((value as Record<string, unknown>)[key], depth + 1), enumerable: true, writable: true, configurable: true})
      }
      return out
    }
    default:
      if (value === GUEST_FUNCTION) return {$fn: 1}
      throw new MarshalError(`a ${typeof value} cannot cross the sandbox boundary`)
  }
}

/** Host value → text for the guest. */
export function encodeValue(value: unknown): string {
  return JSON.stringify(toJsonable(value, 0))
}

function isZodChain(value: object): value is ZodChain {
  return Object.hasOwn(value, 'zodChain')
}

function fromJsonable(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new MarshalError(`a value nested deeper than ${MAX_DEPTH} cannot cross the sandbox boundary`)
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item) => fromJsonable(item, depth + 1))
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length === 1 && TAGS.has(keys[0]!)) {
    const tag = keys[0]!
    const inner = record[tag]
    if (tag === '$n') {
      if (typeof inner !== 'string' || !/^-?\d{1,100}$/.test(inner)) throw new MarshalError('a malformed bigint crossed the sandbox boundary')
      return BigInt(inner)
    }
    if (tag === '$u') {
      if (typeof inner !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(inner)) throw new MarshalError('malformed bytes crossed the sandbox boundary')
      return new Uint8Array(Buffer.from(inner, 'hex'))
    }
    if (tag === '$x') return undefined
    if (tag === '$fn') return GUEST_FUNCTION
    if (!Array.isArray(inner)) throw new MarshalError('a malformed zod schema crossed the sandbox boundary')
    const chain: ZodStep[] = inner.map((step: unknown) => {
      if (!Array.isArray(step) || typeof step[0] !== 'string' || step.length > 2 || (step.length === 2 && !Array.isArray(step[1]))) {
        throw new MarshalError('a malformed zod schema crossed the sandbox boundary')
      }
      return step.length === 1 ? [step[0]] : [step[0], (step[1] as unknown[]).map((arg) => fromJsonable(arg, depth + 2))]
    })
    return {zodChain: chain} satisfies ZodChain
  }
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    Object.defineProperty(out, key.startsWith('$') ? key.slice(1) : key, {value: fromJsonable(record[key], depth + 1), enumerable: true, writable: true, configurable: true})
  }
  return out
}

/** Guest text → host value (plain data only). */
export function decodeValue(text: string): unknown {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new MarshalError('the sandbox sent malformed data')
  }
  return fromJsonable(parsed, 0)
}
