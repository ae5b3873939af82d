import {XaiError} from '../util/errors.js'
import type {Dataset} from './data.js'
import type {Random} from './random.js'

/** Error codes of the model layer; all are usage errors (2). */
export const FlModelErrorCode = {
  invalidModel: 'FL_INVALID_MODEL',
  modelMismatch: 'FL_MODEL_MISMATCH',
  invalidTraining: 'FL_INVALID_TRAINING',
} as const
export type FlModelErrorCode = (typeof FlModelErrorCode)[keyof typeof FlModelErrorCode]

/**
 * Training defaults, tuned on digits (80/20 split, standardized with the training part's
 * statistics). Centralized, `centralizedEpochs` epochs reach 97.5–98.1 % (mlp) and 96.9–97.2 %
 * (logreg) on the split of `splitSeed`, against scikit-learn's 97.2 % and 96.6 %; FedAvg over 20
 * clients, dirichlet:0.5, every client every round, reaches 96.7–97.8 % after 30 rounds for run
 * seeds 1–5 (about 3.6 s of one core in-process). Plain SGD: lr 0.2 over 5 local epochs of
 * batches of 16 gives each round enough progress on the small shards; smaller steps leave FedAvg
 * at 94–95 % after 30 rounds.
 */
export const FL_DEFAULTS = {
  lr: 0.2,
  localEpochs: 5,
  batchSize: 16,
  weightDecay: 0,
  hidden: 64,
  /** Epochs of the centralized reference run (one client holding the whole training set). */
  centralizedEpochs: 30,
  testFraction: 0.2,
  /** The seed of the train/test split: fixed, so that runs with different seeds share one test set. */
  splitSeed: 0,
} as const

export type ModelSpec = {kind: 'logreg'} | {kind: 'mlp'; hidden: number}

/**
 * A classifier over flat Float32Array parameters; both kinds end in a softmax and are trained on
 * cross-entropy (a binary data set is a 2-class softmax).
 *
 * Layout of the parameters: logreg `W[classes × inputs], b[classes]`; mlp `W1[hidden × inputs],
 * b1[hidden], W2[classes × hidden], b2[classes]`, every matrix row-major.
 *
 * A model owns scratch buffers for one example's activations, so one model object must not be
 * used by two computations at once (each worker thread creates its own).
 */
export interface Model {
  spec: ModelSpec
  inputs: number
  classes: number
  /** The number of parameters. */
  size: number
  /** Fresh parameters: logreg all zeros; mlp He-normal hidden weights, Glorot-normal output weights, zero biases. */
  init(rng: Random): Float32Array
  /** Accuracy and mean cross-entropy over `data` (or the examples `indices` of it). */
  evaluate(params: Float32Array, data: Dataset, indices?: Uint32Array): {accuracy: number; loss: number}
  /**
   * Adds to `grad` the gradient of the cross-entropy of one example (features
   * `features[offset .. offset + inputs)`, class `label`) and returns that loss.
   */
  accumulateGradient(params: Float32Array, features: Float32Array, offset: number, label: number, grad: Float64Array): number
}

export interface TrainOptions {
  epochs: number
  batchSize: number
  lr: number
  rng: Random
  /** label-flip attack: train on (classes - 1 - y) */
  flipLabels?: boolean
  /** L2 weight decay, default 0 */
  weightDecay?: number
}

export function createModel(spec: ModelSpec, inputs: number, classes: number): Model {
  if (!Number.isInteger(inputs) || inputs < 1) throw invalidModel(`A model needs at least one input feature, got ${inputs}`)
  if (!Number.isInteger(classes) || classes < 2 || classes > 256) throw invalidModel(`A classifier needs 2 to 256 classes, got ${classes}`)
  switch (spec.kind) {
    case 'logreg':
      return new LogisticRegression(inputs, classes)
    case 'mlp':
      if (!Number.isInteger(spec.hidden) || spec.hidden < 1) {
        throw invalidModel(`The hidden layer needs at least one unit, got ${spec.hidden}`, 'Pass --hidden 1 or more, e.g. --hidden 64.')
      }
      return new Mlp(inputs, spec.hidden, classes)
    default:
      throw invalidModel(`Unknown model kind "${(spec as {kind: string}).kind}"`)
  }
}

/**
 * Local SGD (mini-batch, shuffled each epoch by rng) from `params` on the examples `indices` of
 * `data`; returns the new parameters (params untouched) and the mean training loss of the last
 * epoch (each example's loss taken before the step of its batch). The step of a batch of b examples
 * is `w -= lr × (Σ grad / b + weightDecay × w)` over every parameter, as PyTorch's SGD with
 * weight_decay. Allocates per call, never per example.
 */
export function trainLocal(
  model: Model,
  params: Float32Array,
  data: Dataset,
  indices: Uint32Array,
  options: TrainOptions,
): {params: Float32Array; loss: number} {
  checkShapes(model, params, data)
  const {epochs, batchSize, lr, rng} = options
  const weightDecay = options.weightDecay ?? 0
  if (!Number.isInteger(epochs) || epochs < 0) throw invalidTraining(`Local epochs must be a non-negative integer, got ${epochs}`)
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidTraining(`The batch size must be a positive integer, got ${batchSize}`)
  if (!(Number.isFinite(lr) && lr > 0)) throw invalidTraining(`The learning rate must be a number above 0, got ${lr}`)
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) throw invalidTraining(`Weight decay must be a number of at least 0, got ${weightDecay}`)

  const w = Float32Array.from(params)
  const grad = new Float64Array(model.size)
  const order = Uint32Array.from(indices)
  const {features, labels, d} = data
  const flip = options.flipLabels === true
  const top = model.classes - 1
  const n = order.length
  const decay = 1 - lr * weightDecay
  let loss = 0
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      const tmp = order[i]!
      order[i] = order[j]!
      order[j] = tmp
    }
    let total = 0
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(start + batchSize, n)
      for (let k = start; k < end; k++) {
        const example = order[k]!
        const label = flip ? top - labels[example]! : labels[example]!
        total += model.accumulateGradient(w, features, example * d, label, grad)
      }
      const step = lr / (end - start)
      for (let p = 0; p < w.length; p++) {
        w[p] = decay * w[p]! - step * grad[p]!
        grad[p] = 0
      }
    }
    loss = n > 0 ? total / n : 0
  }
  return {params: w, loss}
}

/** Softmax cross-entropy on `logits[0 .. classes)`: turns the logits into p − onehot(label) in place and returns the loss. */
function softmaxCrossEntropy(logits: Float64Array, classes: number, label: number): number {
  let max = logits[0]!
  for (let c = 1; c < classes; c++) if (logits[c]! > max) max = logits[c]!
  let sum = 0
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[c]! - max)
  const logSumExp = max + Math.log(sum)
  const loss = logSumExp - logits[label]!
  for (let c = 0; c < classes; c++) logits[c] = Math.exp(logits[c]! - logSumExp)
  logits[label]! -= 1
  return loss
}

/** The loss of the true class and whether the arg-max is that class, without changing the logits. */
function scoreLogits(logits: Float64Array, classes: number, label: number): {loss: number; correct: boolean} {
  let max = logits[0]!
  let best = 0
  for (let c = 1; c < classes; c++) {
    if (logits[c]! > max) {
      max = logits[c]!
      best = c
    }
  }
  let sum = 0
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[c]! - max)
  return {loss: max + Math.log(sum) - logits[label]!, correct: best === label}
}

abstract class SoftmaxModel implements Model {
  abstract readonly spec: ModelSpec
  abstract readonly size: number
  protected readonly logits: Float64Array

  constructor(
    readonly inputs: number,
    readonly classes: number,
  ) {
    this.logits = new Float64Array(classes)
  }

  abstract init(rng: Random): Float32Array
  abstract accumulateGradient(params: Float32Array, features: Float32Array, offset: number, label: number, grad: Float64Array): number
  /** Writes the logits of one example into this.logits. */
  protected abstract forward(params: Float32Array, features: Float32Array, offset: number): void

  evaluate(params: Float32Array, data: Dataset, indices?: Uint32Array): {accuracy: number; loss: number} {
    checkShapes(this, params, data)
    const n = indices === undefined ? data.n : indices.length
    if (n === 0) return {accuracy: 0, loss: 0}
    let loss = 0
    let correct = 0
    for (let k = 0; k < n; k++) {
      const example = indices === undefined ? k : indices[k]!
      this.forward(params, data.features, example * data.d)
      const score = scoreLogits(this.logits, this.classes, data.labels[example]!)
      loss += score.loss
      if (score.correct) correct++
    }
    return {accuracy: correct / n, loss: loss / n}
  }
}

class LogisticRegression extends SoftmaxModel {
  readonly spec: ModelSpec = {kind: 'logreg'}
  readonly size: number

  constructor(inputs: number, classes: number) {
    super(inputs, classes)
    this.size = classes * inputs + classes
  }

  init(): Float32Array {
    return new Float32Array(this.size)
  }

  protected forward(params: Float32Array, features: Float32Array, offset: number): void {
    const {inputs: d, classes, logits} = this
    const bias = classes * d
    for (let c = 0; c < classes; c++) logits[c] = params[bias + c]! + dot(params, c * d, features, offset, d)
  }

  accumulateGradient(params: Float32Array, features: Float32Array, offset: number, label: number, grad: Float64Array): number {
    this.forward(params, features, offset)
    const {inputs: d, classes, logits} = this
    const loss = softmaxCrossEntropy(logits, classes, label)
    const bias = classes * d
    for (let c = 0; c < classes; c++) {
      const g = logits[c]!
      grad[bias + c]! += g
      for (let j = 0, row = c * d; j < d; j++) grad[row + j]! += g * features[offset + j]!
    }
    return loss
  }
}

class Mlp extends SoftmaxModel {
  readonly spec: ModelSpec
  readonly size: number
  private readonly hidden: number
  /** Offsets of b1, W2 and b2 in the parameter vector (W1 starts at 0). */
  private readonly b1: number
  private readonly w2: number
  private readonly b2: number
  /** The hidden layer's activations (after ReLU) and, in backward, their gradients. */
  private readonly activation: Float64Array
  private readonly delta: Float64Array

  constructor(inputs: number, hidden: number, classes: number) {
    super(inputs, classes)
    this.spec = {kind: 'mlp', hidden}
    this.hidden = hidden
    this.b1 = hidden * inputs
    this.w2 = this.b1 + hidden
    this.b2 = this.w2 + classes * hidden
    this.size = this.b2 + classes
    this.activation = new Float64Array(hidden)
    this.delta = new Float64Array(hidden)
  }

  init(rng: Random): Float32Array {
    const params = new Float32Array(this.size)
    const heStd = Math.sqrt(2 / this.inputs)
    for (let p = 0; p < this.b1; p++) params[p] = rng.normal() * heStd
    const glorotStd = Math.sqrt(2 / (this.hidden + this.classes))
    for (let p = this.w2; p < this.b2; p++) params[p] = rng.normal() * glorotStd
    return params
  }

  protected forward(params: Float32Array, features: Float32Array, offset: number): void {
    const {inputs: d, hidden, classes, activation, logits, b1, w2, b2} = this
    for (let k = 0; k < hidden; k++) {
      const a = params[b1 + k]! + dot(params, k * d, features, offset, d)
      activation[k] = a > 0 ? a : 0
    }
    for (let c = 0; c < classes; c++) logits[c] = params[b2 + c]! + dotActivation(params, w2 + c * hidden, activation, hidden)
  }

  accumulateGradient(params: Float32Array, features: Float32Array, offset: number, label: number, grad: Float64Array): number {
    this.forward(params, features, offset)
    const {inputs: d, hidden, classes, activation, delta, logits, b1, w2, b2} = this
    const loss = softmaxCrossEntropy(logits, classes, label)
    delta.fill(0)
    for (let c = 0; c < classes; c++) {
      const g = logits[c]!
      grad[b2 + c]! += g
      for (let k = 0, row = w2 + c * hidden; k < hidden; k++) {
        grad[row + k]! += g * activation[k]!
        delta[k]! += g * params[row + k]!
      }
    }
    for (let k = 0; k < hidden; k++) {
      // ReLU: no gradient through a unit that was off.
      if (activation[k]! <= 0) continue
      const g = delta[k]!
      grad[b1 + k]! += g
      for (let j = 0, row = k * d; j < d; j++) grad[row + j]! += g * features[offset + j]!
    }
    return loss
  }
}

/**
 * Σ w[wAt + j] · x[xAt + j] for j < n, with four partial sums: a single running sum makes every
 * addition wait for the previous one, which halves the speed of the forward pass.
 */
function dot(w: Float32Array, wAt: number, x: Float32Array, xAt: number, n: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let j = 0
  for (; j + 3 < n; j += 4) {
    s0 += w[wAt + j]! * x[xAt + j]!
    s1 += w[wAt + j + 1]! * x[xAt + j + 1]!
    s2 += w[wAt + j + 2]! * x[xAt + j + 2]!
    s3 += w[wAt + j + 3]! * x[xAt + j + 3]!
  }
  for (; j < n; j++) s0 += w[wAt + j]! * x[xAt + j]!
  return s0 + s1 + (s2 + s3)
}

/** {@link dot} against the hidden activations (a Float64Array: one element type per call site). */
function dotActivation(w: Float32Array, wAt: number, h: Float64Array, n: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let k = 0
  for (; k + 3 < n; k += 4) {
    s0 += w[wAt + k]! * h[k]!
    s1 += w[wAt + k + 1]! * h[k + 1]!
    s2 += w[wAt + k + 2]! * h[k + 2]!
    s3 += w[wAt + k + 3]! * h[k + 3]!
  }
  for (; k < n; k++) s0 += w[wAt + k]! * h[k]!
  return s0 + s1 + (s2 + s3)
}

function checkShapes(model: Model, params: Float32Array, data: Dataset): void {
  if (params.length !== model.size) {
    throw new XaiError(FlModelErrorCode.modelMismatch, `The parameters have ${params.length} values but the model ${describe(model)} has ${model.size}`, {
      hint: 'Use parameters made for the same --model, --hidden and data set (start a new federation with --name to change them).',
      details: {parameters: params.length, expected: model.size},
    })
  }
  if (data.d !== model.inputs) {
    throw new XaiError(FlModelErrorCode.modelMismatch, `The data set ${data.name} has ${data.d} features but the model ${describe(model)} takes ${model.inputs}`, {
      hint: 'Use the data set the model was created for.',
      details: {features: data.d, inputs: model.inputs},
    })
  }
}

function describe(model: Model): string {
  return model.spec.kind === 'mlp' ? `mlp(${model.inputs}→${model.spec.hidden}→${model.classes})` : `logreg(${model.inputs}→${model.classes})`
}

function invalidModel(message: string, hint = 'Use --model logreg or --model mlp with --hidden 1 or more.'): XaiError {
  return new XaiError(FlModelErrorCode.invalidModel, message, {hint})
}

function invalidTraining(message: string): XaiError {
  return new XaiError(FlModelErrorCode.invalidTraining, message, {
    hint: 'Use --local-epochs 0 or more, --batch-size 1 or more and --lr above 0.',
  })
}
