import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {bytesToHex, hexToBytes} from '@noble/hashes/utils.js'

import {writeJsonAtomic} from '../../util/atomic-write.js'
import {XaiError} from '../../util/errors.js'
import {checkGuarantee, parseAggregator} from '../aggregators.js'
import type {AttestationVerifier} from '../attestation-port.js'
import {encodeBroadcast} from '../client-task.js'
import {parseCompression} from '../compress.js'
import {type Dataset, loadDataset, splitTrainTest, standardize} from '../data.js'
import {type FederationConfig, type RoundRecord, federationPaths, readFederation, writeFederation, writeParams, openFederation} from '../federation.js'
import {FL_DEFAULTS, type ModelSpec, createModel} from '../model.js'
import {RdpAccountant} from '../privacy.js'
import {Random} from '../random.js'
import {combineEdges, planRound} from '../round-aggregate.js'
import {resolveConfig} from '../run-federation.js'
import {modelHash} from '../update-message.js'
import {gatherLevel} from './gather.js'
import {type AttestMode, type AttestationStats, Hub, attestationCheck} from './hub.js'
import {type WireSettings, toB64} from './messages.js'

export type ServeEvent =
  | {type: 'listening'; url: string; name: string; folder: string; resumedAt: number; parameters: number}
  | {type: 'waiting'; connected: number; needed: number}
  | {type: 'round-start'; round: number; sampled: string[]}
  | {type: 'round-retry'; round: number; arrived: number; needed: number}
  | {type: 'round-end'; record: RoundRecord}
  | {type: 'refused'; clientId?: string; reason: string}

export interface ServeOptions {
  home: string
  name: string
  /** Settings given on the command line (a new federation takes the rest from the defaults). */
  config: Partial<FederationConfig>
  /** The federation's total rounds: a restarted server runs the rounds still missing. */
  rounds: number
  /** Clients to wait for before the first round. */
  minClients: number
  /** Updates a round needs to count (fewer: the round is run again). Default 1. */
  minUpdates?: number
  host: string
  port: number
  roundTimeoutMs: number
  attest: AttestMode
  verifier?: AttestationVerifier
  signal?: AbortSignal
  onEvent?(event: ServeEvent): void
}

export interface ServeResult {
  name: string
  folder: string
  url: string
  config: FederationConfig
  history: RoundRecord[]
  ran: number
  final: {round: number; accuracy: number; loss: number; epsilon: number | null} | null
}

/**
 * `fl serve`: the global coordinator over the wire. Same federation folder, history, checkpoints
 * and accountant as `fl round`, same round planning (planRound) and aggregation (aggregateEdge,
 * combineEdges); the clients are processes that hold their own data (fl join), directly or
 * through edges (fl edge). A round waits for its sampled clients until the deadline; a client that
 * disconnects or misses it is recorded as dropped and the round goes on with the rest.
 */
export async function serveFederation(options: ServeOptions): Promise<ServeResult> {
  const paths = federationPaths(options.home, options.name)
  const prior = await readFederation(paths)
  const config = resolveConfig({...options.config, transport: 'wire'}, prior?.config, options.name)
  const aggregator = parseAggregator(config.aggregator)
  const edgeAggregator = parseAggregator(config.edgeAggregator)
  parseCompression(config.compress)
  if (config.dp && (aggregator.kind !== 'fedavg' || edgeAggregator.kind !== 'fedavg')) {
    throw new XaiError('FL_DP_AGGREGATOR', 'Differential privacy is accounted for FedAvg (clipped sums plus noise)', {hint: 'Use --aggregator fedavg (and --edge-aggregator fedavg) with --dp.'})
  }
  if (!config.dp) checkGuarantee(aggregator, config.clients, 0)
  const test = await evaluationData(config)
  const modelSpec: ModelSpec = config.model === 'mlp' ? {kind: 'mlp', hidden: config.hidden} : {kind: 'logreg'}
  const model = createModel(modelSpec, test.d, test.classes.length)
  const opened = await openFederation(paths, options.name, config, prior, {size: model.size, init: () => model.init(new Random(config.seed))})
  let {state, params} = opened
  const accountant = RdpAccountant.fromJSON({history: state.privacy})
  const keysFile = join(paths.folder, 'clients.json')
  const keys = await readKeys(keysFile)
  const settings: WireSettings = {
    federation: options.name,
    model: modelSpec,
    features: test.d,
    classes: test.classes,
    epochs: config.localEpochs,
    batchSize: config.batchSize,
    lr: config.lr,
    clip: config.dp ? config.clip : null,
    compression: config.compress,
    dp: config.dp,
    edgeAggregator: config.edgeAggregator,
    pcrs: options.attest !== 'off' && options.verifier ? [...options.verifier.pcrs] : [],
  }
  let keysDirty = false
  const hub = new Hub({
    host: options.host,
    port: options.port,
    settings: () => settings,
    attest: options.attest,
    verifier: options.verifier,
    register(id, publicKey) {
      const hex = bytesToHex(publicKey)
      const known = keys.get(id)
      if (known !== undefined) return known === hex
      keys.set(id, hex)
      keysDirty = true
      return true
    },
    onRefused: (clientId, reason) => options.onEvent?.({type: 'refused', clientId, reason}),
  })
  const url = await hub.url()
  options.onEvent?.({type: 'listening', url, name: options.name, folder: paths.folder, resumedAt: state.rounds.length, parameters: model.size})
  const minUpdates = Math.max(1, options.minUpdates ?? 1)
  let ran = 0
  try {
    if (state.rounds.length < options.rounds) {
      options.onEvent?.({type: 'waiting', connected: hub.leaves().length, needed: options.minClients})
      await hub.waitForLeaves(options.minClients, options.signal)
    }
    while (state.rounds.length < options.rounds && !options.signal?.aborted) {
      const round = state.rounds.length + 1
      await hub.waitForLeaves(minUpdates, options.signal)
      if (keysDirty) {
        keysDirty = false
        await writeJsonAtomic(keysFile, Object.fromEntries(keys))
      }
      const started = performance.now()
      const leaves = hub.leaves()
      const perRound = config.fraction >= 1 ? leaves.length : Math.min(leaves.length, Math.max(1, Math.round(config.fraction * config.clients)))
      const {rng, sampled, seeds} = planRound(config.seed, round, leaves.length, perRound, config.dp)
      const tasks = sampled.map((i, k) => ({clientId: leaves[i]!.id, seed: seeds[k]!}))
      options.onEvent?.({type: 'round-start', round, sampled: tasks.map((t) => t.clientId)})
      const broadcast = encodeBroadcast(round, params)
      const baseHash = modelHash(params)
      const result = await hub.runRound({round, model: toB64(broadcast), deadlineMs: options.roundTimeoutMs, tasks}, options.signal)
      if (options.signal?.aborted) break
      const stats: AttestationStats = {verified: 0, unattested: 0, refused: 0}
      const gathered = gatherLevel({
        round,
        baseHash,
        size: model.size,
        dp: config.dp,
        clip: config.dp ? config.clip : null,
        flatRule: aggregator,
        edgeRule: edgeAggregator,
        result,
        publicKeys: new Map(leaves.filter((l) => l.viaRole === 'client').map((l) => [l.id, l.publicKey])),
        check: attestationCheck(options.attest, options.verifier, round, baseHash, stats),
      })
      if (gathered.participants < minUpdates) {
        options.onEvent?.({type: 'round-retry', round, arrived: gathered.participants, needed: minUpdates})
        continue
      }
      const update = combineEdges({
        size: model.size,
        aggregator,
        edges: gathered.aggregates,
        flat: gathered.flat,
        dp: config.dp ? {noiseMultiplier: config.noiseMultiplier, clip: config.clip, rng, sampled: perRound} : null,
      })
      for (let j = 0; j < params.length; j++) params[j] = params[j]! + update[j]!
      if (config.dp) accountant.step(config.noiseMultiplier, perRound / leaves.length)
      const evaluation = model.evaluate(params, test)
      const entry: RoundRecord = {
        round,
        accuracy: evaluation.accuracy,
        loss: evaluation.loss,
        participants: gathered.participants,
        sampled: tasks.length,
        rejected: gathered.rejections.length,
        rejections: gathered.rejections,
        bytesUp: gathered.bytesUp,
        bytesDown: result.bytesDown,
        epsilon: config.dp ? accountant.epsilon(config.delta).epsilon : null,
        durationMs: Math.round(performance.now() - started),
        modelHash: bytesToHex(modelHash(params)),
        edges: gathered.edges,
        ...(options.attest === 'off' ? {} : {attestation: stats}),
      }
      await writeParams(paths.checkpoint(round), params)
      state = {...state, rounds: [...state.rounds, entry], privacy: accountant.toJSON().history}
      await writeFederation(paths, state)
      ran++
      const refused = new Map(gathered.rejections.map((r) => [r.clientId, r.reason]))
      for (const task of tasks) {
        const reason = refused.get(task.clientId)
        hub.sendToLeaf(task.clientId, {type: 'verdict', round, clientId: task.clientId, accepted: reason === undefined, ...(reason === undefined ? {} : {reason}), accuracy: evaluation.accuracy})
      }
      options.onEvent?.({type: 'round-end', record: entry})
    }
    if (!options.signal?.aborted) hub.broadcast({type: 'end', rounds: state.rounds.length, accuracy: state.rounds.at(-1)?.accuracy ?? null})
  } finally {
    if (keysDirty) await writeJsonAtomic(keysFile, Object.fromEntries(keys))
    await hub.close()
  }
  const last = state.rounds.at(-1)
  return {name: options.name, folder: paths.folder, url, config, history: state.rounds, ran, final: last ? {round: last.round, accuracy: last.accuracy, loss: last.loss, epsilon: last.epsilon} : null}
}

/** The coordinator's test data: --eval-data as written (fl split standardized it), or the built-in split's test part. */
async function evaluationData(config: FederationConfig): Promise<Dataset> {
  if (config.evalData !== undefined) return loadDataset(config.evalData)
  const {train, test} = splitTrainTest(await loadDataset(config.dataset), FL_DEFAULTS.splitSeed)
  standardize(train, test)
  return test
}

async function readKeys(path: string): Promise<Map<string, string>> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
    return new Map(Object.entries(json).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length === 66 && hexToBytes(e[1]).length === 33))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
    throw new XaiError('FL_CORRUPT', `Cannot read ${path}: ${(err as Error).message}`, {hint: 'Fix or remove it (clients then register their keys again).'})
  }
}
