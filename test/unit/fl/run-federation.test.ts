import {describe, expect, it} from 'vitest'

import {parseAggregator} from '../../../src/fl/aggregators.js'
import {type ClientResult, type ClientTask, encodeBroadcast, runClientTask} from '../../../src/fl/client-task.js'
import {loadDataset, partition, splitTrainTest, standardize} from '../../../src/fl/data.js'
import {FL_DEFAULTS, createModel} from '../../../src/fl/model.js'
import {Random} from '../../../src/fl/random.js'
import {DEFAULT_FEDERATION_CONFIG, aggregateRound, resolveConfig} from '../../../src/fl/run-federation.js'
import {clientKey, modelHash} from '../../../src/fl/update-message.js'

const data = await loadDataset('digits')
const {train} = splitTrainTest(data, FL_DEFAULTS.splitSeed)
standardize(train)
const shards = partition(train, 4, 'iid', 1)
const model = createModel({kind: 'logreg'}, train.d, train.classes.length)
const params = model.init(new Random(1))
const ids = ['client-0', 'client-1', 'client-2', 'client-3']
const keys = ids.map((id) => clientKey(7, id))
const setup = {data: train, model: {kind: 'logreg' as const}}

function task(c: number, overrides: Partial<ClientTask> = {}): ClientTask {
  return {
    clientId: ids[c]!,
    round: 1,
    broadcast: encodeBroadcast(1, params),
    indices: shards[c]!,
    epochs: 1,
    batchSize: 16,
    lr: 0.1,
    seed: c,
    attack: null,
    clip: null,
    compression: 'none',
    residual: null,
    privateKey: keys[c]!.privateKey,
    ...overrides,
  }
}

function edgeRound(results: (ClientResult | {clientId: string; failed: string})[]) {
  return aggregateRound({
    round: 1,
    config: DEFAULT_FEDERATION_CONFIG,
    aggregator: parseAggregator('fedavg'),
    edgeAggregator: parseAggregator('fedavg'),
    sampled: [0, 1, 2, 3],
    results,
    edges: 0,
    edgeOf: () => 0,
    clientIds: ids,
    publicKeys: keys.map((k) => k.publicKey),
    baseHash: modelHash(params),
    size: model.size,
    broadcastBytes: 4 + params.byteLength,
    rng: new Random(3),
    assumedF: () => 0,
  })
}

describe('a round at the edge', () => {
  it('accepts the signed updates of its clients and averages them by examples', () => {
    const results = [0, 1, 2, 3].map((c) => runClientTask(setup, task(c)))
    const round = edgeRound(results)
    expect(round.participants).toBe(4)
    expect(round.rejections).toEqual([])
    expect(round.bytesUp).toBe(results.reduce((s, r) => s + r.message.byteLength, 0))
    expect(round.bytesDown).toBe(4 * (4 + params.byteLength))
    expect(round.update.some((v) => v !== 0)).toBe(true)
  })

  it('rejects a tampered update, a wrong round, a wrong base model, a replay and a failed client, and aggregates the rest', () => {
    const good = runClientTask(setup, task(0))
    const tampered = runClientTask(setup, task(1))
    tampered.message[tampered.message.length - 100]! ^= 0x01
    const wrongRound = runClientTask(setup, task(2, {round: 2, broadcast: encodeBroadcast(2, params)}))
    const other = Float32Array.from(params, (v) => v + 1)
    const wrongModel = runClientTask(setup, task(3, {broadcast: encodeBroadcast(1, other)}))
    expect(edgeRound([good, tampered, wrongRound, wrongModel]).rejections).toEqual([
      {clientId: 'client-1', reason: 'bad-signature'},
      {clientId: 'client-2', reason: 'wrong-round'},
      {clientId: 'client-3', reason: 'wrong-model'},
    ])
    const replay = edgeRound([good, {clientId: 'client-1', failed: 'FL_NON_FINITE_UPDATE'}, good, good])
    expect(replay.rejections).toEqual([
      {clientId: 'client-1', reason: 'client-failed: FL_NON_FINITE_UPDATE'},
      {clientId: 'client-0', reason: 'replay'},
      {clientId: 'client-0', reason: 'replay'},
    ])
    expect(replay.participants).toBe(1)
    // One accepted update, averaged alone, is that update.
    const alone = edgeRound([good, {clientId: 'client-1', failed: 'x'}, {clientId: 'client-2', failed: 'x'}, {clientId: 'client-3', failed: 'x'}])
    expect(alone.update).toEqual(replay.update)
  })
})

describe('resolveConfig', () => {
  it('fills a new federation from the defaults, and refuses to change an existing one', () => {
    const config = resolveConfig({clients: 8, aggregator: 'median'}, undefined, 'x')
    expect(config).toMatchObject({clients: 8, aggregator: 'median', dataset: 'digits', model: 'mlp'})
    expect(resolveConfig({clients: 8}, config, 'x')).toBe(config)
    expect(() => resolveConfig({clients: 9}, config, 'x')).toThrow(/created with clients=8/)
    expect(() => resolveConfig({fraction: 0}, undefined, 'x')).toThrow(/fraction/)
  })
})
