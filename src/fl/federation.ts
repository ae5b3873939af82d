import {readFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {z} from 'zod'

import {writeFileAtomic, writeJsonAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'

export const FEDERATION_FORMAT = 'xai-federation-1'

/** Everything that defines a federation; fixed at creation, so that more rounds continue the same run. */
export const federationConfigSchema = z.strictObject({
  dataset: z.string().min(1),
  model: z.string().regex(/^(logreg|mlp)$/),
  hidden: z.number().int().min(1).max(4096),
  clients: z.number().int().min(1).max(10_000),
  edges: z.number().int().min(0).max(1_000),
  fraction: z.number().gt(0).max(1),
  localEpochs: z.number().int().min(1).max(1_000),
  batchSize: z.number().int().min(1).max(100_000),
  lr: z.number().gt(0).max(100),
  partition: z.string().min(1),
  aggregator: z.string().min(1),
  edgeAggregator: z.string().min(1),
  byzantine: z.number().min(0).lt(1),
  attack: z.string().min(1),
  dp: z.boolean(),
  clip: z.number().gt(0),
  noiseMultiplier: z.number().min(0),
  delta: z.number().gt(0).lt(1),
  compress: z.string().min(1),
  seed: z.number().int().min(0).max(0xffff_ffff),
  /** Set by `fl serve`: the clients are processes over the wire, holding their own data. */
  transport: z.literal('wire').optional(),
  /** `fl serve --eval-data`: the (already standardized) CSV the coordinator evaluates on. */
  evalData: z.string().optional(),
})
export type FederationConfig = z.infer<typeof federationConfigSchema>

/** One round, as Flower's History would hold it, plus what xai adds (bytes, ε, rejections, edges). */
export const roundRecordSchema = z.strictObject({
  round: z.number().int().min(1),
  accuracy: z.number(),
  loss: z.number(),
  /** Clients whose updates were accepted by their edge and used. */
  participants: z.number().int().min(0),
  sampled: z.number().int().min(0),
  /** Updates an edge refused (signature, round, model hash, replay) or a robust aggregator left out. */
  rejected: z.number().int().min(0),
  rejections: z.array(z.strictObject({clientId: z.string(), reason: z.string()})),
  bytesUp: z.number().int().min(0),
  bytesDown: z.number().int().min(0),
  /** ε spent so far (δ from the config); null without --dp. */
  epsilon: z.number().nullable(),
  durationMs: z.number().min(0),
  modelHash: z.string(),
  edges: z.array(z.strictObject({edge: z.number().int(), clients: z.number().int(), accepted: z.number().int(), bytesUp: z.number().int(), bytesDown: z.number().int()})),
  /** Over the wire with attestation: updates whose quote verified, arrived without one (optional), or were refused. */
  attestation: z.strictObject({verified: z.number().int(), unattested: z.number().int(), refused: z.number().int()}).optional(),
  /**
   * What the round anchors on chain (`fl` module): the accepted updates in client order, each the
   * client's chain address and keccak256 of its signed update message as sent, and the rejected
   * clients with their reason class. Absent in rounds run before anchoring existed.
   */
  anchor: z
    .strictObject({
      updates: z.array(z.strictObject({clientId: z.string(), address: z.string().regex(/^0x[0-9a-fA-F]{40}$/), hash: z.string().regex(/^0x[0-9a-f]{64}$/)})),
      rejected: z.array(z.strictObject({clientId: z.string(), address: z.string().regex(/^0x[0-9a-fA-F]{40}$/), class: z.enum(['aggregator', 'attestation', 'proof', 'signature'])})),
    })
    .optional(),
})
export type RoundRecord = z.infer<typeof roundRecordSchema>

const stateSchema = z.strictObject({
  _format: z.literal(FEDERATION_FORMAT),
  name: z.string(),
  createdAt: z.string(),
  config: federationConfigSchema,
  rounds: z.array(roundRecordSchema),
  /** The RDP accountant's history: [noise multiplier, sample rate, steps][]. */
  privacy: z.array(z.tuple([z.number(), z.number(), z.number()])),
})
export type FederationState = z.infer<typeof stateSchema>

export interface FederationPaths {
  folder: string
  state: string
  checkpoints: string
  checkpoint(round: number): string
  /** Error-feedback residuals of the clients (top-k compression), one Float32Array each. */
  residuals: string
  /** The coordinator's chain key (hex, mode 0600), made on the first run with --chain. */
  coordinatorKey: string
  /** What was committed to which chain and what is pending (see anchor.ts). */
  chain: string
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** `<home>/fl/<name>/`: federation.json, checkpoints/round-<n>.f32, residuals.f32. */
export function federationPaths(home: string, name: string): FederationPaths {
  if (!NAME.test(name)) {
    throw new XaiError('FL_INVALID_NAME', `"${name}" is not a valid federation name`, {
      hint: 'Use letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit.',
    })
  }
  const folder = resolve(home, 'fl', name)
  const checkpoints = join(folder, 'checkpoints')
  return {
    folder,
    state: join(folder, 'federation.json'),
    checkpoints,
    checkpoint: (round) => join(checkpoints, `round-${String(round).padStart(4, '0')}.f32`),
    residuals: join(folder, 'residuals.f32'),
    coordinatorKey: join(folder, 'coordinator.key'),
    chain: join(folder, 'chain.json'),
  }
}

/** The federation's state, or undefined when it does not exist yet. */
export async function readFederation(paths: FederationPaths): Promise<FederationState | undefined> {
  let text: string
  try {
    text = await readFile(paths.state, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw corrupt(paths.state, (err as Error).message, err)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw corrupt(paths.state, 'it is not JSON', err)
  }
  const parsed = stateSchema.safeParse(json)
  if (!parsed.success) throw corrupt(paths.state, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
  return parsed.data
}

/** Like readFederation, but a missing federation is FL_NOT_FOUND. */
export async function requireFederation(paths: FederationPaths, name: string): Promise<FederationState> {
  const state = await readFederation(paths)
  if (state) return state
  throw new XaiError('FL_NOT_FOUND', `No federation "${name}" in ${paths.folder}`, {
    hint: `Create it by running a round: xai fl round${name === 'default' ? '' : ` --name ${name}`}`,
  })
}

export async function writeFederation(paths: FederationPaths, state: FederationState): Promise<void> {
  await writeJsonAtomic(paths.state, state)
}

export async function writeParams(path: string, params: Float32Array): Promise<void> {
  await writeFileAtomic(path, new Uint8Array(params.buffer, params.byteOffset, params.byteLength))
}

/** A Float32Array written by writeParams; its length must be `size`. */
export async function readParams(path: string, size: number): Promise<Float32Array> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw corrupt(path, (err as Error).message, err)
  }
  if (bytes.length !== size * 4) throw corrupt(path, `it holds ${bytes.length} bytes, not ${size * 4} (${size} parameters)`)
  const out = new Float32Array(size)
  new Uint8Array(out.buffer).set(bytes)
  return out
}

function corrupt(path: string, why: string, cause?: unknown): XaiError {
  return new XaiError('FL_CORRUPT', `Cannot read ${path}: ${why}`, {
    hint: 'Remove the federation folder to start over (rm -r it), or run with another --name.',
    cause,
  })
}

/**
 * A federation's state and current parameters: the prior run's (its last checkpoint), or a new
 * federation whose initial parameters `init` gives, written as checkpoint 0 with federation.json.
 */
export async function openFederation(paths: FederationPaths, name: string, config: FederationState['config'], prior: FederationState | undefined, model: {size: number; init(): Float32Array}): Promise<{state: FederationState; params: Float32Array}> {
  if (prior) return {state: prior, params: await readParams(paths.checkpoint(prior.rounds.length), model.size)}
  const params = model.init()
  const state: FederationState = {_format: FEDERATION_FORMAT, name, createdAt: new Date().toISOString(), config, rounds: [], privacy: []}
  await writeParams(paths.checkpoint(0), params)
  await writeFederation(paths, state)
  return {state, params}
}
