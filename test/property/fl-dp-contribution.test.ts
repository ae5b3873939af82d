/**
 * Property of DP aggregation: whatever a client sends (clipped or not, with top-k error feedback
 * carrying a residual of any size, with int8 stochastic rounding), its contribution to the noised
 * sum is at most the clip bound C in L2. The update goes the real way: compressed, signed, verified
 * and decoded by aggregateRound (noise 0, denominator 1, so the round's update is the contribution),
 * flat and through an edge. Also: Poisson sampling takes each client independently.
 *
 * Runs are deterministic: FC_SEED (default fixed) picks the cases and FC_RUNS their number;
 * `FC_SEED=<seed> npx vitest run test/property/fl-dp-contribution.test.ts` replays a failure.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {parseAggregator} from '../../src/fl/aggregators.js'
import {createCompressor, decodeUpdate, parseCompression} from '../../src/fl/compress.js'
import {clipUpdate, l2Norm} from '../../src/fl/dp.js'
import {Random} from '../../src/fl/random.js'
import {DEFAULT_FEDERATION_CONFIG, aggregateRound, sampleClients} from '../../src/fl/run-federation.js'
import {clientKey, encodeUpdateMessage, modelHash, signUpdate} from '../../src/fl/update-message.js'

const seed = Number(process.env.FC_SEED ?? 0xc11b)
const runs = Number(process.env.FC_RUNS ?? 150)

const key = clientKey(5, 'client-0')

const compressions = fc.constantFrom('none', 'int8', 'topk:0.1', 'topk:0.3', 'topk:1')
const values = (d: number) => fc.array(fc.float({min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true}), {minLength: d, maxLength: d})

describe('DP: a client contributes at most C to the noised sum', () => {
  it('for every compression, clipped on the client or not, with any residual', () => {
    fc.assert(
      fc.property(
        fc.integer({min: 1, max: 64}).chain((d) => fc.tuple(fc.constant(d), values(d), values(d))),
        compressions,
        fc.double({min: 1e-3, max: 100, noNaN: true}),
        fc.boolean(),
        fc.integer({min: 0, max: 2 ** 31}),
        fc.constantFrom(0, 1),
        ([d, raw, residual], compression, clip, clientClips, rngSeed, edges) => {
          const update = Float32Array.from(raw)
          if (clientClips) clipUpdate(update, clip)
          const compressor = createCompressor(parseCompression(compression), d)
          if (compressor.residual) compressor.residual.set(residual)
          const payload = compressor.encode(update, new Random(rngSeed))
          const params = new Float32Array(d)
          const message = signUpdate({clientId: 'client-0', round: 1, baseModelHash: modelHash(params), numExamples: 10, payload}, key.privateKey)
          const result = aggregateRound({
            round: 1,
            config: {...DEFAULT_FEDERATION_CONFIG, dp: true, clip, noiseMultiplier: 0, clients: 1, edges},
            aggregator: parseAggregator('fedavg'),
            edgeAggregator: parseAggregator('fedavg'),
            sampled: [0],
            results: [{clientId: 'client-0', message: encodeUpdateMessage(message), residual: null, loss: 0, examples: 10, trainMs: 0}],
            edges,
            edgeOf: () => 0,
            clientIds: ['client-0'],
            publicKeys: [key.publicKey],
            baseHash: modelHash(params),
            size: d,
            broadcastBytes: 4 + 4 * d,
            rng: new Random(1),
            assumedF: () => 0,
            expectedParticipants: 1,
          })
          expect(result.participants).toBe(1)
          expect(l2Norm(result.update)).toBeLessThanOrEqual(clip)
        },
      ),
      {seed, numRuns: runs},
    )
  })

  it('is needed: top-k error feedback alone sends more than C', () => {
    const compressor = createCompressor(parseCompression('topk:1'), 4)
    compressor.residual!.set([3, 0, 0, 0])
    const update = Float32Array.of(0, 1, 0, 0)
    const payload = compressor.encode(update, new Random(1))
    // What the client sent has norm √10 > C = 1: the aggregator must clip it.
    expect(l2Norm(decodeUpdate(payload))).toBeCloseTo(Math.sqrt(10), 5)
    const message = signUpdate({clientId: 'client-0', round: 1, baseModelHash: modelHash(new Float32Array(4)), numExamples: 1, payload}, key.privateKey)
    const result = aggregateRound({
      round: 1,
      config: {...DEFAULT_FEDERATION_CONFIG, dp: true, clip: 1, noiseMultiplier: 0, clients: 1},
      aggregator: parseAggregator('fedavg'),
      edgeAggregator: parseAggregator('fedavg'),
      sampled: [0],
      results: [{clientId: 'client-0', message: encodeUpdateMessage(message), residual: null, loss: 0, examples: 1, trainMs: 0}],
      edges: 0,
      edgeOf: () => 0,
      clientIds: ['client-0'],
      publicKeys: [key.publicKey],
      baseHash: modelHash(new Float32Array(4)),
      size: 4,
      broadcastBytes: 20,
      rng: new Random(1),
      assumedF: () => 0,
      expectedParticipants: 1,
    })
    expect(l2Norm(result.update)).toBeLessThanOrEqual(1)
    expect(l2Norm(result.update)).toBeGreaterThan(0.99)
  })
})

describe('DP: Poisson sampling', () => {
  it('samples each client independently with probability q (the count varies per round)', () => {
    const config = {clients: 50, dp: true}
    const counts = new Set<number>()
    const hits = new Array<number>(50).fill(0)
    const rounds = 400
    for (let r = 0; r < rounds; r++) {
      const sampled = sampleClients(config, 10, new Random(r + 1))
      counts.add(sampled.length)
      for (const c of sampled) hits[c]!++
      expect([...sampled].sort((a, b) => a - b)).toEqual(sampled)
    }
    expect(counts.size).toBeGreaterThan(3)
    // q = 0.2: each client's frequency over 400 rounds lies within 5 standard deviations (0.1).
    for (const h of hits) expect(Math.abs(h / rounds - 0.2)).toBeLessThan(0.1)
  })

  it('keeps the fixed-size subset without DP', () => {
    for (let r = 0; r < 20; r++) expect(sampleClients({clients: 50, dp: false}, 10, new Random(r + 1))).toHaveLength(10)
  })
})
