import {bytesToHex} from '@noble/hashes/utils.js'
import {type Address, type PublicClient, keccak256} from 'viem'

import {XaiError, isXaiError} from '../util/errors.js'
import {checkGuarantee, formatAggregator, parseAggregator} from './aggregators.js'
import {type AnchorEvent, type ChainRecord, anchorRounds, clientAddress, rejectClass} from './anchor.js'
import {parseAttack} from './attacks.js'
import {createClientPool} from './client-pool.js'
import {type ClientResult, type ClientTask, encodeBroadcast} from './client-task.js'
import {parseCompression} from './compress.js'
import {loadDataset, parsePartition, partition, splitTrainTest, standardize} from './data.js'
import {
  type FederationConfig,
  type RoundRecord,
  federationConfigSchema,
  federationPaths,
  readFederation,
  readParams,
  writeFederation,
  writeParams,
  openFederation,
} from './federation.js'
import {FL_DEFAULTS, type ModelSpec, createModel} from './model.js'
import {RdpAccountant} from './privacy.js'
import {Random} from './random.js'
import {aggregateRound, planRound} from './round-aggregate.js'
import {clientKey, modelHash} from './update-message.js'

/** Re-exported: the simulation's round aggregation lives with the processes' in round-aggregate.ts. */
export {aggregateRound, decodeContribution, sampleClients} from './round-aggregate.js'

export const DEFAULT_FEDERATION_NAME = 'default'

/** The settings of a new federation when a flag does not say otherwise. */
export const DEFAULT_FEDERATION_CONFIG: FederationConfig = {
  dataset: 'digits',
  model: 'mlp',
  hidden: FL_DEFAULTS.hidden,
  clients: 20,
  edges: 0,
  fraction: 1,
  localEpochs: FL_DEFAULTS.localEpochs,
  batchSize: FL_DEFAULTS.batchSize,
  lr: FL_DEFAULTS.lr,
  partition: 'dirichlet:0.5',
  aggregator: 'fedavg',
  edgeAggregator: 'fedavg',
  byzantine: 0,
  attack: 'sign-flip',
  dp: false,
  clip: 1,
  noiseMultiplier: 1,
  delta: 1e-5,
  compress: 'none',
  seed: 42,
}

export type FlEvent =
  | {type: 'setup'; name: string; folder: string; config: FederationConfig; resumedAt: number; parameters: number; trainExamples: number; testExamples: number; workers: number}
  | {type: 'round-start'; round: number; sampled: string[]}
  | {type: 'client-done'; round: number; clientId: string; edge: number; loss: number; trainMs: number; bytesUp: number; bytesDown: number}
  | {type: 'round-end'; record: RoundRecord}
  | {type: 'anchor'; event: AnchorEvent}

export interface RunFederationOptions {
  /** The folder holding fl/ (the CLI's default is ./.xai). */
  home: string
  name: string
  /** Settings given on the command line; a new federation fills the rest from the defaults. */
  config: Partial<FederationConfig>
  /** Rounds to run now (more rounds continue the federation). */
  rounds: number
  /** Worker threads for the clients (default: one per core). */
  workers?: number
  signal?: AbortSignal
  onEvent?: (event: FlEvent) => void
  /**
   * Anchor each round on this chain (the `fl` module) as it completes, with the coordinator key
   * of the federation folder; rounds whose commit failed before are committed first, in order.
   */
  chain?: {client: PublicClient; chainId: number}
}

export interface RunFederationResult {
  name: string
  folder: string
  config: FederationConfig
  /** Every round of the federation so far, oldest first (Flower's History, per round). */
  history: RoundRecord[]
  /** The rounds this call ran. */
  ran: number
  final: {round: number; accuracy: number; loss: number; epsilon: number | null} | null
  /** With `chain`: what is committed and what is still pending. */
  chain?: ChainRecord
}

/**
 * Creates (on first use) or continues a federation in `<home>/fl/<name>/` and runs rounds:
 * sample clients → broadcast the global model → clients train in worker threads and send signed,
 * compressed updates → each edge verifies and aggregates its clients → the global level
 * aggregates the edges (with DP: clipped sums plus Gaussian noise) → evaluate on the held-out test
 * split → checkpoint and record the round. Everything is seeded: a rerun repeats exactly.
 */
export async function runFederation(options: RunFederationOptions): Promise<RunFederationResult> {
  const paths = federationPaths(options.home, options.name)
  const prior = await readFederation(paths)
  const config = resolveConfig(options.config, prior?.config, options.name)
  if (config.transport === 'wire') {
    throw new XaiError('FL_CONFIG_MISMATCH', `Federation "${options.name}" is served over the wire: its clients hold their own data`, {hint: `Continue it with xai fl serve --name ${options.name}, or simulate under another --name.`})
  }
  const aggregator = parseAggregator(config.aggregator)
  const edgeAggregator = parseAggregator(config.edgeAggregator)
  const attack = parseAttack(config.attack)
  parseCompression(config.compress)
  if (config.dp && (aggregator.kind !== 'fedavg' || edgeAggregator.kind !== 'fedavg')) {
    throw new XaiError('FL_DP_AGGREGATOR', `Differential privacy is accounted for FedAvg (clipped sums plus noise), not ${formatAggregator(aggregator.kind === 'fedavg' ? edgeAggregator : aggregator)}`, {
      hint: 'Use --aggregator fedavg (and --edge-aggregator fedavg) with --dp.',
    })
  }

  if (config.edges > 0 && aggregator.kind === 'nnm') {
    const inner = formatAggregator(aggregator.inner)
    throw new XaiError(
      'FL_NNM_OVER_EDGES',
      `The global level aggregates the edges assuming none is Byzantine (f = 0), and mixing each update with its n − f nearest then averages every edge: ${formatAggregator(aggregator)} there would be the edges' mean`,
      {hint: `Mix at the edges and aggregate them with the plain rule: --edge-aggregator ${formatAggregator(aggregator)} --aggregator ${inner}.`},
    )
  }

  const dataset = await loadDataset(config.dataset)
  const {train, test} = splitTrainTest(dataset, FL_DEFAULTS.splitSeed)
  standardize(train, test)
  if (config.clients > train.n) {
    throw new XaiError('FL_TOO_MANY_CLIENTS', `${config.clients} clients cannot share ${train.n} training examples`, {hint: `Use at most ${train.n} clients.`})
  }
  const shards = partition(train, config.clients, parsePartition(config.partition), config.seed)
  const modelSpec: ModelSpec = config.model === 'mlp' ? {kind: 'mlp', hidden: config.hidden} : {kind: 'logreg'}
  const model = createModel(modelSpec, train.d, train.classes.length)
  const edges = config.edges
  const edgeOf = (client: number): number => (edges === 0 ? 0 : client % edges)
  const clientIds = Array.from({length: config.clients}, (_, i) => `client-${i}`)
  const keys = clientIds.map((id) => clientKey(config.seed, id))
  const addresses = new Map<string, Address>(clientIds.map((id, c) => [id, clientAddress(keys[c]!.publicKey)]))
  const byzantine = new Set(new Random(config.seed ^ 0x5eed_b12).shuffle([...Array(config.clients).keys()]).slice(0, Math.floor(config.byzantine * config.clients)))
  const perRound = Math.max(1, Math.round(config.fraction * config.clients))
  const assumedF = (n: number): number => Math.floor(config.byzantine * n)
  // Fail before any work if an aggregator cannot hold its guarantee at these sizes.
  if (!config.dp) {
    if (edges === 0) checkGuarantee(aggregator, perRound, assumedF(perRound))
    else {
      const perEdge = Math.floor(perRound / edges)
      if (perEdge < 1) throw new XaiError('FL_TOO_MANY_EDGES', `${edges} edges for ${perRound} clients a round leaves some edges empty`, {hint: `Use at most ${perRound} edges.`})
      checkGuarantee(edgeAggregator, perEdge, assumedF(perEdge))
      checkGuarantee(aggregator, edges, 0)
    }
  }

  const opened = await openFederation(paths, options.name, config, prior, {size: model.size, init: () => model.init(new Random(config.seed))})
  let {state, params} = opened
  const compression = parseCompression(config.compress)
  const residuals = compression.kind === 'topk' ? await loadResiduals(paths.residuals, config.clients, model.size) : undefined
  const accountant = RdpAccountant.fromJSON({history: state.privacy})

  const pool = createClientPool({data: {features: train.features, labels: train.labels, n: train.n, d: train.d, classes: train.classes, name: train.name}, model: modelSpec}, {size: Math.min(options.workers ?? 4, perRound)})
  options.onEvent?.({type: 'setup', name: options.name, folder: paths.folder, config, resumedAt: state.rounds.length, parameters: model.size, trainExamples: train.n, testExamples: test.n, workers: pool.size})
  let ran = 0
  let chainRecord: ChainRecord | undefined
  try {
    for (let i = 0; i < options.rounds; i++) {
      if (options.signal?.aborted) break
      const round = state.rounds.length + 1
      const started = performance.now()
      const {rng, sampled, seeds} = planRound(config.seed, round, config.clients, perRound, config.dp)
      options.onEvent?.({type: 'round-start', round, sampled: sampled.map((c) => clientIds[c]!)})
      const broadcast = encodeBroadcast(round, params)
      const baseHash = modelHash(params)
      const tasks: ClientTask[] = sampled.map((c, k) => ({
        clientId: clientIds[c]!,
        round,
        broadcast,
        indices: shards[c]!,
        epochs: config.localEpochs,
        batchSize: config.batchSize,
        lr: config.lr,
        seed: seeds[k]!,
        attack: byzantine.has(c) ? attack : null,
        clip: config.dp ? config.clip : null,
        compression: config.compress,
        residual: residuals?.[c] ?? null,
        privateKey: keys[c]!.privateKey,
      }))
      // A client that fails (e.g. its update diverged to NaN) sends nothing; the round goes on without it.
      const results = await Promise.all(
        tasks.map(async (task, k): Promise<ClientResult | {clientId: string; failed: string}> => {
          const c = sampled[k]!
          try {
            const result = await pool.run(task)
            options.onEvent?.({type: 'client-done', round, clientId: task.clientId, edge: edgeOf(c), loss: result.loss, trainMs: result.trainMs, bytesUp: result.message.byteLength, bytesDown: broadcast.byteLength})
            return result
          } catch (err) {
            if (options.signal?.aborted || (isXaiError(err) && err.code === 'FL_INTERRUPTED')) throw err
            return {clientId: task.clientId, failed: isXaiError(err) ? err.code : 'FL_CLIENT_FAILED'}
          }
        }),
      )
      const record = aggregateRound({
        round,
        config,
        aggregator,
        edgeAggregator,
        sampled,
        results,
        edges,
        edgeOf,
        clientIds,
        publicKeys: keys.map((k) => k.publicKey),
        baseHash,
        size: model.size,
        broadcastBytes: broadcast.byteLength,
        rng,
        assumedF,
        expectedParticipants: perRound,
      })
      for (let j = 0; j < params.length; j++) params[j] = params[j]! + record.update[j]!
      if (residuals) {
        sampled.forEach((c, k) => {
          const result = results[k]!
          if ('message' in result && result.residual) residuals[c]!.set(result.residual)
        })
      }
      if (config.dp) accountant.step(config.noiseMultiplier, perRound / config.clients)
      const evaluation = model.evaluate(params, test)
      const entry: RoundRecord = {
        round,
        accuracy: evaluation.accuracy,
        loss: evaluation.loss,
        participants: record.participants,
        sampled: sampled.length,
        rejected: record.rejections.length,
        rejections: record.rejections,
        bytesUp: record.bytesUp,
        bytesDown: record.bytesDown,
        epsilon: config.dp ? accountant.epsilon(config.delta).epsilon : null,
        durationMs: Math.round(performance.now() - started),
        modelHash: bytesToHex(modelHash(params)),
        edges: record.edges,
        anchor: anchorOf(sampled.map((_, k) => results[k]!), record.rejections, addresses),
      }
      await writeParams(paths.checkpoint(round), params)
      if (residuals) await saveResiduals(paths.residuals, residuals)
      state = {...state, rounds: [...state.rounds, entry], privacy: accountant.toJSON().history}
      await writeFederation(paths, state)
      ran++
      options.onEvent?.({type: 'round-end', record: entry})
      if (options.chain) chainRecord = await anchorRounds(state, {...options.chain, paths, signal: options.signal, onEvent: (event) => options.onEvent?.({type: 'anchor', event})})
    }
  } finally {
    await pool.close()
  }
  const last = state.rounds.at(-1)
  return {
    name: options.name,
    folder: paths.folder,
    config,
    history: state.rounds,
    ran,
    final: last ? {round: last.round, accuracy: last.accuracy, loss: last.loss, epsilon: last.epsilon} : null,
    ...(chainRecord ? {chain: chainRecord} : {}),
  }
}

/**
 * What a round anchors: the accepted updates in client order (address of the client's key,
 * keccak256 of the signed message as sent) and the rejections with their reason class. A
 * rejection naming a client id the federation does not have has no address and is left out.
 */
export function anchorOf(results: readonly (ClientResult | {clientId: string; failed: string})[], rejections: readonly {clientId: string; reason: string}[], addresses: ReadonlyMap<string, Address>): NonNullable<RoundRecord['anchor']> {
  const rejectedIds = new Set(rejections.map((r) => r.clientId))
  const updates: NonNullable<RoundRecord['anchor']>['updates'] = []
  for (const result of results) {
    if (!('message' in result) || rejectedIds.has(result.clientId)) continue
    const address = addresses.get(result.clientId)
    if (address) updates.push({clientId: result.clientId, address, hash: keccak256(result.message)})
  }
  const rejected: NonNullable<RoundRecord['anchor']>['rejected'] = []
  for (const r of rejections) {
    const cls = rejectClass(r.reason)
    const address = addresses.get(r.clientId)
    if (cls && address) rejected.push({clientId: r.clientId, address, class: cls})
  }
  return {updates, rejected}
}

/** The federation's config: a new one from the flags and the defaults; an existing one must not be contradicted. */
export function resolveConfig(given: Partial<FederationConfig>, prior: FederationConfig | undefined, name: string): FederationConfig {
  if (prior) {
    const conflicts = Object.entries(given).filter(([key, value]) => value !== undefined && prior[key as keyof FederationConfig] !== value)
    if (conflicts.length > 0) {
      throw new XaiError('FL_CONFIG_MISMATCH', `Federation "${name}" was created with ${conflicts.map(([key]) => `${key}=${JSON.stringify(prior[key as keyof FederationConfig])}`).join(', ')}; it cannot change (${conflicts.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(', ')} given)`, {
        hint: 'Leave those flags out to continue it, or start another federation with --name.',
        details: {conflicts: Object.fromEntries(conflicts)},
      })
    }
    return prior
  }
  const merged = {...DEFAULT_FEDERATION_CONFIG, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))}
  const parsed = federationConfigSchema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new XaiError('FL_INVALID_CONFIG', `Invalid federation setting ${issue.path.join('.')}: ${issue.message}`, {hint: 'See xai fl round --help for the ranges.'})
  }
  return parsed.data
}

async function loadResiduals(path: string, clients: number, size: number): Promise<Float32Array[]> {
  const all = await readParams(path, clients * size).catch(() => new Float32Array(clients * size))
  return Array.from({length: clients}, (_, c) => all.subarray(c * size, (c + 1) * size))
}

async function saveResiduals(path: string, residuals: Float32Array[]): Promise<void> {
  const size = residuals[0]?.length ?? 0
  const all = new Float32Array(residuals.length * size)
  residuals.forEach((r, c) => all.set(r, c * size))
  await writeParams(path, all)
}

