/**
 * Random and mutated JSON-RPC requests against the dispatcher: whatever arrives, the answer is a
 * well-formed JSON-RPC response (or nothing, for notifications), and the dispatcher never throws.
 *
 * The seed comes from FC_SEED (fast-check prints the seed and the shrunk counterexample when a
 * property fails, so `FC_SEED=<seed> npx vitest run test/property/rpc-fuzz.test.ts` replays it).
 */
import fc from 'fast-check'
import type {Hex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type Harness, createHarness, probeCall} from '../unit/rpc/harness.js'

const seed = process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED)
const runs = Number(process.env.FC_RUNS ?? 150)

let h: Harness
let methods: string[] = []
let probe: Hex = '0x'

beforeAll(async () => {
  h = await createHarness({limits: {maxBatch: 20, maxLogsBlockRange: 100}})
  probe = await h.deployProbe()
  await h.send({to: probe, data: probeCall('store', [3n])})
  methods = h.api.dispatcher.methodNames()
}, 60_000)
afterAll(() => h.close())

/** Values that look like what RPC params contain, valid and almost-valid. */
function paramValue(): fc.Arbitrary<unknown> {
  const hexDigits = fc.string({unit: fc.constantFrom(...'0123456789abcdefABCDEFxg'), maxLength: 70})
  const leaf = fc.oneof(
    fc.constantFrom('latest', 'pending', 'earliest', 'safe', 'finalized', '0x', '0x0', '0x1', '0x00', probe, `0x${'ff'.repeat(32)}`, `0x${'00'.repeat(20)}`),
    hexDigits.map((d) => `0x${d}`),
    fc.bigInt({min: 0n, max: (1n << 300n)}).map((n) => `0x${n.toString(16)}`),
    fc.string({maxLength: 20}),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  )
  const callObject = fc.record(
    {
      from: leaf,
      to: fc.oneof(fc.constant(probe), leaf),
      gas: leaf,
      gasPrice: leaf,
      maxFeePerGas: leaf,
      value: leaf,
      data: fc.oneof(fc.constantFrom(probeCall('value'), probeCall('store', [1n]), probeCall('failCustom', [2n])), leaf),
      input: leaf,
      accessList: fc.array(fc.record({address: leaf, storageKeys: fc.array(leaf, {maxLength: 2})}, {requiredKeys: []}), {maxLength: 2}),
      fromBlock: leaf,
      toBlock: leaf,
      blockHash: leaf,
      address: fc.oneof(leaf, fc.array(leaf, {maxLength: 3})),
      topics: fc.array(fc.oneof(leaf, fc.array(leaf, {maxLength: 3})), {maxLength: 5}),
      tracer: leaf,
      disableStack: leaf,
      limit: leaf,
    },
    {requiredKeys: []},
  )
  return fc.oneof({weight: 4, arbitrary: leaf}, {weight: 3, arbitrary: callObject}, {weight: 1, arbitrary: fc.array(leaf, {maxLength: 3})}, {weight: 1, arbitrary: fc.jsonValue({maxDepth: 2})})
}

function request(): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      jsonrpc: fc.oneof({weight: 8, arbitrary: fc.constant('2.0')}, {weight: 1, arbitrary: fc.jsonValue({maxDepth: 1})}),
      id: fc.oneof(fc.integer(), fc.string({maxLength: 10}), fc.constant(null), fc.jsonValue({maxDepth: 1})),
      method: fc.oneof({weight: 8, arbitrary: fc.constantFrom(...methods)}, {weight: 1, arbitrary: fc.string({maxLength: 30})}, {weight: 1, arbitrary: fc.jsonValue({maxDepth: 1})}),
      params: fc.oneof({weight: 8, arbitrary: fc.array(paramValue(), {maxLength: 4})}, {weight: 1, arbitrary: fc.jsonValue({maxDepth: 2})}),
    },
    {requiredKeys: ['method']},
  )
}

/** Edits of a serialized request: drop, duplicate or replace characters, truncate. */
function mutated(): fc.Arbitrary<string> {
  return fc
    .tuple(request(), fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'dup', 'swap', 'cut'), fc.constantFrom(...'{}[]",:0x\\ "e1')), {minLength: 1, maxLength: 4}))
    .map(([req, edits]) => {
      let s = JSON.stringify(req)
      for (const [at, kind, ch] of edits) {
        const i = s.length === 0 ? 0 : at % s.length
        if (kind === 'drop') s = s.slice(0, i) + s.slice(i + 1)
        else if (kind === 'dup') s = s.slice(0, i) + s[i] + s.slice(i)
        else if (kind === 'swap') s = s.slice(0, i) + ch + s.slice(i + 1)
        else s = s.slice(0, i)
      }
      return s
    })
}

/** fc.assert with the seed in the failure message, so a failing run names how to replay it. */
async function assertProperty<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, {seed, numRuns})
  } catch (err) {
    throw new Error(`rpc fuzz failed; replay with FC_SEED=${seed}\n${(err as Error).message}`, {cause: err})
  }
}

function assertWellFormed(response: unknown): void {
  expect(response !== null && typeof response === 'object' && !Array.isArray(response)).toBe(true)
  const r = response as Record<string, unknown>
  expect(r.jsonrpc).toBe('2.0')
  expect('id' in r).toBe(true)
  expect(r.id === null || typeof r.id === 'string' || typeof r.id === 'number').toBe(true)
  expect('result' in r !== 'error' in r).toBe(true)
  if ('error' in r) {
    const e = r.error as {code: unknown; message: unknown}
    expect(Number.isInteger(e.code)).toBe(true)
    expect(typeof e.message).toBe('string')
  }
}

async function check(body: string): Promise<void> {
  let out: string | undefined
  try {
    out = await h.api.dispatcher.handle(body)
  } catch (err) {
    throw new Error(`dispatcher threw on ${body.slice(0, 300)}: ${String(err)}`)
  }
  if (out === undefined) return // notifications only
  const parsed = JSON.parse(out) as unknown
  if (Array.isArray(parsed)) {
    expect(parsed.length).toBeGreaterThan(0)
    parsed.forEach(assertWellFormed)
  } else {
    assertWellFormed(parsed)
    const e = (parsed as {error?: {code: number}}).error
    // Never an internal error: every malformed input is classified.
    expect(e?.code, `internal error for ${body.slice(0, 300)}: ${out.slice(0, 300)}`).not.toBe(-32603)
  }
}

describe('dispatcher fuzz', () => {
  it('answers random requests with well-formed responses', async () => {
    await assertProperty(
      fc.asyncProperty(request(), async (req) => {
        await check(JSON.stringify(req))
        if ('id' in req && (typeof req.id === 'number' || typeof req.id === 'string')) {
          const out = JSON.parse((await h.api.dispatcher.handle(JSON.stringify(req)))!) as {id: unknown}
          expect(out.id).toBe(req.id)
        }
      }),
      runs,
    )
  }, 600_000)

  it('answers random batches in order', async () => {
    await assertProperty(
      fc.asyncProperty(fc.array(request(), {minLength: 1, maxLength: 6}), async (batch) => {
        await check(JSON.stringify(batch))
      }),
      Math.ceil(runs / 3),
    )
  }, 600_000)

  it('answers mutated and arbitrary bodies without throwing', async () => {
    await assertProperty(
      fc.asyncProperty(fc.oneof(mutated(), fc.string({maxLength: 200}), fc.jsonValue().map((v) => JSON.stringify(v))), async (body) => {
        await check(body)
      }),
      runs,
    )
  }, 600_000)
})
