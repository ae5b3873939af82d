import {describe, expect, it} from 'vitest'

import {XaiError} from '../../../src/util/errors.js'
import {type Dataset, loadDataset, parseDataset, partition, splitTrainTest, standardize} from '../../../src/fl/data.js'
import {FL_DEFAULTS, type Model, type ModelSpec, createModel, trainLocal} from '../../../src/fl/model.js'
import {Random} from '../../../src/fl/random.js'

const SPECS: ModelSpec[] = [{kind: 'logreg'}, {kind: 'mlp', hidden: 5}]

/** 6 examples, 4 features, 3 classes, with values of both signs. */
const tiny = parseDataset(
  ['0.5,-1.2,0.3,2.0,0', '-0.7,0.4,1.1,-0.2,1', '1.5,0.9,-0.6,0.1,2', '0.2,0.2,0.8,-1.4,1', '-1.1,-0.3,0.05,0.6,0', '0.9,-0.8,-1.3,0.7,2'].join('\n'),
  'tiny',
)
const all = (data: Dataset): Uint32Array => Uint32Array.from({length: data.n}, (_, i) => i)

/** Random parameters (also for logreg, whose init is all zeros), so that no gradient is trivially 0. */
function randomParams(model: Model, seed: number): Float32Array {
  const rng = new Random(seed)
  return Float32Array.from({length: model.size}, () => rng.normal() * 0.5)
}

function sumGradient(model: Model, params: Float32Array, data: Dataset): {grad: Float64Array; loss: number} {
  const grad = new Float64Array(model.size)
  let loss = 0
  for (let i = 0; i < data.n; i++) loss += model.accumulateGradient(params, data.features, i * data.d, data.labels[i]!, grad)
  return {grad, loss}
}

describe('models', () => {
  it('have the documented sizes', () => {
    expect(createModel({kind: 'logreg'}, 64, 10).size).toBe(64 * 10 + 10)
    expect(createModel({kind: 'mlp', hidden: 64}, 64, 10).size).toBe(64 * 64 + 64 + 64 * 10 + 10)
    expect(createModel({kind: 'mlp', hidden: 64}, 30, 2).size).toBe(30 * 64 + 64 + 64 * 2 + 2)
  })

  for (const spec of SPECS) {
    it(`${spec.kind}: the gradient matches central finite differences of the loss`, () => {
      const model = createModel(spec, tiny.d, tiny.classes.length)
      const params = randomParams(model, 3)
      const {grad, loss} = sumGradient(model, params, tiny)
      // evaluate reports the mean loss; the gradient is of the summed loss.
      expect(model.evaluate(params, tiny).loss * tiny.n).toBeCloseTo(loss, 9)
      const eps = 1e-3
      for (let p = 0; p < model.size; p++) {
        const saved = params[p]!
        params[p] = saved + eps
        const up = params[p]!
        const lossUp = model.evaluate(params, tiny).loss * tiny.n
        params[p] = saved - eps
        const down = params[p]!
        const lossDown = model.evaluate(params, tiny).loss * tiny.n
        params[p] = saved
        const numeric = (lossUp - lossDown) / (up - down)
        expect(Math.abs(numeric - grad[p]!)).toBeLessThan(1e-4 + 1e-3 * Math.abs(grad[p]!))
      }
    })

    it(`${spec.kind}: one SGD step is params − lr × (mean gradient + weightDecay × params)`, () => {
      const model = createModel(spec, tiny.d, tiny.classes.length)
      const params = randomParams(model, 4)
      const before = Float32Array.from(params)
      const {grad} = sumGradient(model, params, tiny)
      const lr = 0.1
      const weightDecay = 0.01
      const result = trainLocal(model, params, tiny, all(tiny), {epochs: 1, batchSize: tiny.n, lr, weightDecay, rng: new Random(1)})
      expect(params).toEqual(before)
      for (let p = 0; p < model.size; p++) {
        const expected = params[p]! - lr * (grad[p]! / tiny.n + weightDecay * params[p]!)
        expect(result.params[p]).toBeCloseTo(expected, 5)
      }
    })

    it(`${spec.kind}: training with flipLabels is training on the labels classes − 1 − y`, () => {
      const model = createModel(spec, tiny.d, tiny.classes.length)
      const params = randomParams(model, 5)
      const flipped: Dataset = {...tiny, labels: tiny.labels.map((y) => tiny.classes.length - 1 - y)}
      const options = {epochs: 3, batchSize: 2, lr: 0.1}
      const a = trainLocal(model, params, tiny, all(tiny), {...options, rng: new Random(9), flipLabels: true})
      const b = trainLocal(model, params, flipped, all(flipped), {...options, rng: new Random(9)})
      expect(a.params).toEqual(b.params)
      expect(a.loss).toBe(b.loss)
      const c = trainLocal(model, params, tiny, all(tiny), {...options, rng: new Random(9)})
      expect(c.params).not.toEqual(a.params)
    })
  }

  it('evaluates zero logreg parameters as a uniform guess: loss ln(classes)', () => {
    const model = createModel({kind: 'logreg'}, tiny.d, 3)
    const params = model.init(new Random(1))
    expect(params.every((v) => v === 0)).toBe(true)
    const {accuracy, loss} = model.evaluate(params, tiny)
    expect(loss).toBeCloseTo(Math.log(3), 12)
    // Ties go to the first class: the two examples of class 0 are "right".
    expect(accuracy).toBeCloseTo(2 / 6, 12)
    expect(model.evaluate(params, tiny, Uint32Array.of(0, 4)).accuracy).toBe(1)
  })

  it('keeps the softmax finite for huge logits', () => {
    const model = createModel({kind: 'logreg'}, 1, 2)
    // Both rows of class 0; the header names the two classes.
    const data = parseDataset('2,1,a,b\n1000,0\n-1000,0\n', 'huge')
    const params = Float32Array.of(10, -10, 0, 0) // logits ±10,000
    const {loss, accuracy} = model.evaluate(params, data)
    expect(accuracy).toBe(0.5)
    expect(loss).toBeCloseTo(10_000, 6) // one right with loss 0, one wrong by 20,000: mean 10,000
    const {grad} = sumGradient(model, params, data)
    expect(grad.every(Number.isFinite)).toBe(true)
  })

  it('inits mlp weights He-normal (hidden) with zero biases, deterministically per seed', async () => {
    const model = createModel({kind: 'mlp', hidden: 64}, 64, 10)
    const params = model.init(new Random(7))
    expect(model.init(new Random(7))).toEqual(params)
    expect(model.init(new Random(8))).not.toEqual(params)
    const w1 = params.subarray(0, 64 * 64)
    const variance = w1.reduce((sum, v) => sum + v * v, 0) / w1.length
    expect(variance).toBeGreaterThan((2 / 64) * 0.9)
    expect(variance).toBeLessThan((2 / 64) * 1.1)
    expect(params.subarray(64 * 64, 64 * 64 + 64).every((v) => v === 0)).toBe(true)
    expect(params.subarray(model.size - 10).every((v) => v === 0)).toBe(true)
  })

  it('refuses a bad model, mismatched parameters or data, and bad options with exit 2', () => {
    const codeOf = (fn: () => unknown): string => {
      try {
        fn()
      } catch (err) {
        expect(err).toBeInstanceOf(XaiError)
        expect((err as XaiError).exitCode).toBe(2)
        return (err as XaiError).code
      }
      throw new Error('expected an XaiError')
    }
    expect(codeOf(() => createModel({kind: 'mlp', hidden: 0}, 4, 3))).toBe('FL_INVALID_MODEL')
    expect(codeOf(() => createModel({kind: 'logreg'}, 4, 1))).toBe('FL_INVALID_MODEL')
    const model = createModel({kind: 'logreg'}, tiny.d, 3)
    expect(codeOf(() => model.evaluate(new Float32Array(3), tiny))).toBe('FL_MODEL_MISMATCH')
    expect(codeOf(() => createModel({kind: 'logreg'}, 5, 3).evaluate(new Float32Array(18), tiny))).toBe('FL_MODEL_MISMATCH')
    const params = model.init(new Random(1))
    const rng = new Random(1)
    expect(codeOf(() => trainLocal(model, params, tiny, all(tiny), {epochs: 1, batchSize: 0, lr: 0.1, rng}))).toBe('FL_INVALID_TRAINING')
    expect(codeOf(() => trainLocal(model, params, tiny, all(tiny), {epochs: 1, batchSize: 2, lr: 0, rng}))).toBe('FL_INVALID_TRAINING')
    expect(codeOf(() => trainLocal(model, params, tiny, all(tiny), {epochs: -1, batchSize: 2, lr: 0.1, rng}))).toBe('FL_INVALID_TRAINING')
  })
})

describe('trainLocal on real data', async () => {
  const cancer = splitTrainTest(await loadDataset('breast-cancer'), 1)
  standardize(cancer.train, cancer.test)
  const digits = splitTrainTest(await loadDataset('digits'), FL_DEFAULTS.splitSeed)
  standardize(digits.train, digits.test)

  for (const spec of [{kind: 'logreg'}, {kind: 'mlp', hidden: 16}] as ModelSpec[]) {
    it(`${spec.kind}: a few epochs on breast-cancer lower the loss, deterministically`, () => {
      const {train, test} = cancer
      const model = createModel(spec, train.d, 2)
      const params = model.init(new Random(2))
      const before = model.evaluate(params, train)
      const options = {epochs: 3, batchSize: FL_DEFAULTS.batchSize, lr: FL_DEFAULTS.lr}
      const first = trainLocal(model, params, train, all(train), {...options, epochs: 1, rng: new Random(3)})
      const result = trainLocal(model, params, train, all(train), {...options, rng: new Random(3)})
      const after = model.evaluate(result.params, train)
      expect(after.loss).toBeLessThan(before.loss / 2)
      expect(result.loss).toBeLessThan(first.loss)
      expect(model.evaluate(result.params, test).accuracy).toBeGreaterThan(0.93)
      expect(trainLocal(model, params, train, all(train), {...options, rng: new Random(3)})).toEqual(result)
    })
  }

  it('trains only on the given examples', () => {
    const {train} = digits
    const model = createModel({kind: 'logreg'}, train.d, 10)
    const params = model.init(new Random(1))
    const zeros = Uint32Array.from(Array.from({length: train.n}, (_, i) => i).filter((i) => train.labels[i] === 0))
    const {params: trained} = trainLocal(model, params, train, zeros, {epochs: 2, batchSize: 16, lr: 0.1, rng: new Random(1)})
    const others = Uint32Array.from(Array.from({length: train.n}, (_, i) => i).filter((i) => train.labels[i] !== 0))
    // Having seen only zeros, it knows the zeros and next to nothing else (trained on all: ~97 %).
    expect(model.evaluate(trained, train, zeros).accuracy).toBe(1)
    expect(model.evaluate(trained, train, others).accuracy).toBeLessThan(0.3)
  })

  for (const [spec, floor] of [
    [{kind: 'logreg'}, 0.94],
    [{kind: 'mlp', hidden: FL_DEFAULTS.hidden}, 0.95],
  ] as [ModelSpec, number][]) {
    it(`${spec.kind}: centralized training on digits with the defaults reaches ≥ ${floor * 100} % test accuracy`, () => {
      const {train, test} = digits
      const model = createModel(spec, train.d, 10)
      const rng = new Random(1)
      const result = trainLocal(model, model.init(rng), train, all(train), {
        epochs: FL_DEFAULTS.centralizedEpochs,
        batchSize: FL_DEFAULTS.batchSize,
        lr: FL_DEFAULTS.lr,
        weightDecay: FL_DEFAULTS.weightDecay,
        rng,
      })
      expect(model.evaluate(result.params, test).accuracy).toBeGreaterThanOrEqual(floor)
    })
  }

  it('FedAvg in-process with the defaults: 20 clients, dirichlet:0.5, mlp, 30 rounds reach ≥ 96 % on digits', () => {
    const {train, test} = digits
    const model = createModel({kind: 'mlp', hidden: FL_DEFAULTS.hidden}, train.d, 10)
    const shards = partition(train, 20, {dirichlet: 0.5}, 1)
    const rng = new Random(1)
    let global = model.init(rng)
    const sum = new Float64Array(model.size)
    for (let round = 0; round < 30; round++) {
      sum.fill(0)
      shards.forEach((shard, client) => {
        const local = trainLocal(model, global, train, shard, {
          epochs: FL_DEFAULTS.localEpochs,
          batchSize: FL_DEFAULTS.batchSize,
          lr: FL_DEFAULTS.lr,
          weightDecay: FL_DEFAULTS.weightDecay,
          rng: rng.fork(client),
        })
        for (let p = 0; p < sum.length; p++) sum[p]! += local.params[p]! * shard.length
      })
      global = Float32Array.from(sum, (v) => v / train.n)
    }
    expect(model.evaluate(global, test).accuracy).toBeGreaterThanOrEqual(0.96)
  })
})
