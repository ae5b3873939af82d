import {type AttackSpec, applyAttack} from './attacks.js'
import {createCompressor, parseCompression} from './compress.js'
import type {Dataset} from './data.js'
import {clipUpdate} from './dp.js'
import {type ModelSpec, createModel, trainLocal} from './model.js'
import {Random} from './random.js'
import {type UpdateMessage, encodeUpdateMessage, modelHash, signUpdate} from './update-message.js'

/** What a client needs once: its view of the data and the model's shape. */
export interface ClientSetup {
  data: Pick<Dataset, 'features' | 'labels' | 'n' | 'd' | 'classes' | 'name'>
  model: ModelSpec
}

/** One client's work in one round, as it travels to the client (all fields structured-cloneable). */
export interface ClientTask {
  clientId: string
  round: number
  /** The global model as broadcast: see encodeBroadcast. */
  broadcast: Uint8Array
  /** The client's own examples (indices into the training data). */
  indices: Uint32Array
  epochs: number
  batchSize: number
  lr: number
  seed: number
  /** Set for a Byzantine client. */
  attack: AttackSpec | null
  /** Client-level DP: the L2 bound each update is clipped to. */
  clip: number | null
  compression: string
  /** The client's error-feedback residual (top-k), carried between rounds. */
  residual: Float32Array | null
  privateKey: Uint8Array
}

export interface ClientResult {
  clientId: string
  /** The signed, encoded update message: the bytes sent up to the edge. */
  message: Uint8Array
  residual: Float32Array | null
  loss: number
  examples: number
  trainMs: number
}

/** The broadcast of the global model: u32 round (LE), then the float32 parameters (LE). */
export function encodeBroadcast(round: number, params: Float32Array): Uint8Array {
  const out = new Uint8Array(4 + params.byteLength)
  new DataView(out.buffer).setUint32(0, round, true)
  out.set(new Uint8Array(params.buffer, params.byteOffset, params.byteLength), 4)
  return out
}

export function decodeBroadcast(bytes: Uint8Array): {round: number; params: Float32Array} {
  const round = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const params = new Float32Array((bytes.byteLength - 4) / 4)
  new Uint8Array(params.buffer).set(bytes.subarray(4))
  return {round, params}
}

/** A client's trained update before it is signed: the fields of its update message, and what stays with the client. */
export interface TrainedUpdate {
  fields: Omit<UpdateMessage, 'signature'>
  residual: Float32Array | null
  loss: number
  examples: number
  started: number
}

/**
 * A client's round: decode the broadcast model, train locally on its own examples, form the
 * update (new − old), apply its attack if Byzantine, clip it (DP), compress it, and sign it with
 * the round and the hash of the model it started from. The one implementation of a client, run in
 * worker threads by `fl round` and in `fl join`'s process (which may add an attestation quote
 * between {@link trainClientUpdate} and {@link finishClientTask}).
 */
export function runClientTask(setup: ClientSetup, task: ClientTask): ClientResult {
  return finishClientTask(trainClientUpdate(setup, task), task.privateKey)
}

export function trainClientUpdate(setup: ClientSetup, task: ClientTask): TrainedUpdate {
  const started = performance.now()
  const {params} = decodeBroadcast(task.broadcast)
  const data = setup.data as Dataset
  const model = createModel(setup.model, data.d, data.classes.length)
  const rng = new Random(task.seed)
  const trained = trainLocal(model, params, data, task.indices, {
    epochs: task.epochs,
    batchSize: task.batchSize,
    lr: task.lr,
    rng,
    flipLabels: task.attack?.kind === 'label-flip',
  })
  const update = trained.params
  for (let i = 0; i < update.length; i++) update[i] = update[i]! - params[i]!
  if (task.attack) applyAttack(task.attack, update, rng)
  if (task.clip !== null) clipUpdate(update, task.clip)
  const compressor = createCompressor(parseCompression(task.compression), update.length)
  if (task.residual && compressor.residual) compressor.residual.set(task.residual)
  const payload = compressor.encode(update, rng)
  return {
    fields: {clientId: task.clientId, round: task.round, baseModelHash: modelHash(params), numExamples: task.indices.length, payload},
    residual: compressor.residual ? Float32Array.from(compressor.residual) : null,
    loss: trained.loss,
    examples: task.indices.length,
    started,
  }
}

/** Signs a trained update (with its attestation evidence, if any) into the message sent up. */
export function finishClientTask(trained: TrainedUpdate, privateKey: Uint8Array, attestation?: Uint8Array): ClientResult {
  const fields = attestation === undefined ? trained.fields : {...trained.fields, attestation}
  const message = signUpdate(fields, privateKey)
  return {
    clientId: trained.fields.clientId,
    message: encodeUpdateMessage(message),
    residual: trained.residual,
    loss: trained.loss,
    examples: trained.examples,
    trainMs: performance.now() - trained.started,
  }
}
