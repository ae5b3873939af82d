import {Flags} from '@oclif/core'

import {resolveChainArg} from '../../cli/chain-target.js'
import {devnetsRoot} from '../../cli/devnet-flags.js'
import {type FlViewSnapshot, formatRound, initialFlView, reduceFlView} from '../../cli/fl-view-model.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {XaiError} from '../../util/errors.js'
import type {AnchorEvent} from '../../fl/anchor.js'
import type {FederationConfig} from '../../fl/federation.js'
import {type FlEvent, DEFAULT_FEDERATION_CONFIG, DEFAULT_FEDERATION_NAME, type RunFederationResult, runFederation} from '../../fl/run-federation.js'

const d = DEFAULT_FEDERATION_CONFIG

/** Flags naming a federation and where federations live (shared by the fl commands). */
export const federationFlags = {
  name: Flags.string({description: 'Federation name (a folder under <dir>/fl/)', default: DEFAULT_FEDERATION_NAME, env: 'XAI_FL_NAME'}),
  dir: Flags.string({description: 'Folder holding fl/ [default: ./.xai]', env: 'XAI_HOME'}),
}

export default class FlRound extends XaiCommand<RunFederationResult> {
  static override summary = 'Run federated-learning rounds: clients train in parallel, edges and the global level aggregate.'
  static override description = `A federation lives in .xai/fl/<name>/ (federation.json with its settings and per-round history, checkpoints/round-<n>.f32). The first run creates it from the flags (the rest from the defaults shown); later runs continue it for --rounds more rounds and refuse flags that contradict its settings.

Each round: a --fraction of the clients is sampled; each trains --local-epochs of SGD on its own shard (an iid or Dirichlet label-skewed partition of the 80 % training split) in a worker thread, and sends up its update, compressed (--compress) and signed with its key over the round and the hash of the model it started from. Its edge (client i → edge i mod --edges) verifies the signature, round, model hash and replays, and aggregates its clients with --edge-aggregator; the global level aggregates the edges with --aggregator (--edges 0: the clients directly). The model is evaluated on the 20 % test split, which no client sees.

Robustness: --byzantine makes that fraction of clients attack (--attack), and the robust aggregators (median, trimmed-mean:β, krum, multi-krum:m, bulyan) refuse a setting outside their guarantee. On label-skewed data, prefix a rule with nnm+ (nearest-neighbour mixing: each update first becomes the mean of its n − f nearest, Allouah et al. 2023): honest updates then agree, and median and trimmed mean keep their accuracy where a fixed set of attackers holds most of some classes. With --edges, mix at the edges (--edge-aggregator nnm+median --aggregator median): the global level assumes no Byzantine edge, where mixing would average them all. Privacy: --dp clips each update to --clip and adds Gaussian noise of --noise-multiplier × clip to the sum (DP-FedAvg); ε for --delta is tracked by an RDP accountant (xai fl privacy reproduces it).

Chain: with --chain <devnet name | JSON-RPC URL>, each round is committed to the fl module as it completes (model hash, Merkle root of the accepted updates, rejections by class, ε), signed by the federation's coordinator key (coordinator.key in the federation folder, made on first use, mode 0600). When the coordinator holds less than 1 ether it is funded from the faucet module, the claim signed by the node's first unlocked account (devnets unlock theirs); on another chain, send it funds yourself. A failed commit is reported, the round's result is kept, and the next run commits every round the chain does not have yet, in order (chain.json in the folder records what is committed and what is pending). Each accepted update earns its client's address the fl module's reward from the treasury: see xai fl rewards and xai fl verify.

On a terminal it shows a live view on stderr; otherwise one line per round. --json prints the whole history, as Flower's History holds it.`

  static override examples = [
    {description: 'Thirty rounds of 20 clients on the digits data, four edges', command: '<%= config.bin %> <%= command.id %> --dataset digits --clients 20 --edges 4 --rounds 30'},
    {description: 'Byzantine clients against a robust aggregator', command: '<%= config.bin %> <%= command.id %> --name robust --byzantine 0.3 --attack sign-flip --aggregator median --rounds 30'},
    {description: 'The same, with nearest-neighbour mixing before the median (for non-IID data)', command: '<%= config.bin %> <%= command.id %> --name robust-nnm --byzantine 0.3 --attack sign-flip --aggregator nnm+median --rounds 30'},
    {description: 'Differential privacy, with ε reported per round', command: '<%= config.bin %> <%= command.id %> --name private --dp --clip 1 --noise-multiplier 1.1 --fraction 0.5 --rounds 20'},
    {description: 'Compressed updates (int8), history as JSON', command: "<%= config.bin %> <%= command.id %> --name small --compress int8 --rounds 10 --json | jq '.history[-1].accuracy'"},
    {description: 'Continue the default federation for five more rounds', command: '<%= config.bin %> <%= command.id %> --rounds 5'},
    {description: 'Anchor each round on the default devnet (rewards paid to the clients)', command: '<%= config.bin %> <%= command.id %> --name anchored --model logreg --clients 5 --rounds 3 --chain default'},
  ]

  static override flags = {
    ...federationFlags,
    rounds: Flags.integer({char: 'r', description: 'Rounds to run now', default: 1, min: 1, max: 100_000, env: 'XAI_FL_ROUNDS'}),
    dataset: Flags.string({description: `digits | breast-cancer | a .csv/.csv.gz path in the same layout [default: ${d.dataset}]`, env: 'XAI_FL_DATASET'}),
    model: Flags.option({options: ['logreg', 'mlp'] as const, description: `Model [default: ${d.model}]`, env: 'XAI_FL_MODEL'})(),
    hidden: Flags.integer({description: `Hidden units of the mlp [default: ${d.hidden}]`, min: 1, max: 4096, env: 'XAI_FL_HIDDEN'}),
    clients: Flags.integer({description: `Clients [default: ${d.clients}]`, min: 1, max: 10_000, env: 'XAI_FL_CLIENTS'}),
    edges: Flags.integer({description: `Edge aggregators; 0 = flat [default: ${d.edges}]`, min: 0, max: 1_000, env: 'XAI_FL_EDGES'}),
    fraction: Flags.string({description: `Fraction of the clients sampled each round [default: ${d.fraction}]`, env: 'XAI_FL_FRACTION'}),
    'local-epochs': Flags.integer({description: `Local epochs per round [default: ${d.localEpochs}]`, min: 1, max: 1_000, env: 'XAI_FL_LOCAL_EPOCHS'}),
    'batch-size': Flags.integer({description: `Mini-batch size [default: ${d.batchSize}]`, min: 1, env: 'XAI_FL_BATCH_SIZE'}),
    lr: Flags.string({description: `Learning rate [default: ${d.lr}]`, env: 'XAI_FL_LR'}),
    partition: Flags.string({description: `iid | dirichlet:<alpha> [default: ${d.partition}]`, env: 'XAI_FL_PARTITION'}),
    aggregator: Flags.string({description: `fedavg | median | trimmed-mean:<beta> | krum | multi-krum:<m> | bulyan, optionally after nearest-neighbour mixing: nnm+<rule> [default: ${d.aggregator}]`, env: 'XAI_FL_AGGREGATOR'}),
    'edge-aggregator': Flags.string({description: 'Aggregator at the edges [default: --aggregator]', env: 'XAI_FL_EDGE_AGGREGATOR'}),
    byzantine: Flags.string({description: `Fraction of Byzantine clients [default: ${d.byzantine}]`, env: 'XAI_FL_BYZANTINE'}),
    attack: Flags.string({description: `sign-flip[:k] | scale:<k> | gaussian:<sigma> | label-flip [default: ${d.attack}]`, env: 'XAI_FL_ATTACK'}),
    dp: Flags.boolean({description: 'Client-level differential privacy (DP-FedAvg)', allowNo: true, env: 'XAI_FL_DP'}),
    clip: Flags.string({description: `L2 bound of each update with --dp [default: ${d.clip}]`, env: 'XAI_FL_CLIP'}),
    'noise-multiplier': Flags.string({description: `Noise std / clip with --dp [default: ${d.noiseMultiplier}]`, env: 'XAI_FL_NOISE_MULTIPLIER'}),
    delta: Flags.string({description: `δ of the reported (ε, δ) [default: ${d.delta}]`, env: 'XAI_FL_DELTA'}),
    compress: Flags.string({description: `none | int8 | topk:<fraction> [default: ${d.compress}]`, env: 'XAI_FL_COMPRESS'}),
    seed: Flags.integer({description: `Seed of every random choice [default: ${d.seed}]`, min: 0, max: 0xffff_ffff, env: 'XAI_FL_SEED'}),
    workers: Flags.integer({description: 'Worker threads for the clients [default: 4, at most the clients per round]', min: 1, max: 16, env: 'XAI_FL_WORKERS'}),
    chain: Flags.string({description: 'Commit each round to this chain: a devnet name or a JSON-RPC URL', env: 'XAI_FL_CHAIN'}),
  }

  async run(): Promise<RunFederationResult> {
    const {flags} = await this.parse(FlRound)
    const given: Partial<FederationConfig> = {
      dataset: flags.dataset,
      model: flags.model,
      hidden: flags.hidden,
      clients: flags.clients,
      edges: flags.edges,
      fraction: num(flags.fraction, 'fraction'),
      localEpochs: flags['local-epochs'],
      batchSize: flags['batch-size'],
      lr: num(flags.lr, 'lr'),
      partition: flags.partition,
      aggregator: flags.aggregator,
      edgeAggregator: flags['edge-aggregator'] ?? (flags.aggregator !== undefined ? flags.aggregator : undefined),
      byzantine: num(flags.byzantine, 'byzantine'),
      attack: flags.attack,
      dp: flags.dp,
      clip: num(flags.clip, 'clip'),
      noiseMultiplier: num(flags['noise-multiplier'], 'noise-multiplier'),
      delta: num(flags.delta, 'delta'),
      compress: flags.compress,
      seed: flags.seed,
    }
    const stop = (): void => this.abort.abort()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    const json = this.jsonEnabled()
    const network = flags.chain === undefined ? undefined : await resolveChainArg(flags.chain, flags.dir)
    const chain = network ? {client: createChainClient(network), chainId: network.chainId} : undefined
    const view = !json && process.stderr.isTTY === true ? await startFlView(flags.rounds) : undefined
    try {
      const result = await runFederation({
        home: devnetsRoot(flags.dir),
        name: flags.name,
        config: given,
        rounds: flags.rounds,
        workers: flags.workers,
        signal: this.signal,
        chain,
        onEvent: (event) => {
          view?.onEvent(event)
          if (!json && event.type === 'anchor') this.note(formatAnchorEvent(event.event))
          if (!view && !json && event.type === 'round-end') process.stdout.write(`${formatRound(event.record)}\n`)
          if (!view && !json && event.type === 'setup') this.note(`Federation "${event.name}" (${event.folder}): ${event.resumedAt === 0 ? 'created' : `continuing after round ${event.resumedAt}`}, ${event.parameters} parameters, ${event.trainExamples} training / ${event.testExamples} test examples, ${event.workers} workers`)
        },
      })
      await view?.end()
      if (!json && result.final) this.note(`Round ${result.final.round}: test accuracy ${(result.final.accuracy * 100).toFixed(2)} %${result.final.epsilon === null ? '' : `, ε = ${result.final.epsilon.toFixed(4)} (δ = ${result.config.delta})`}`)
      return result
    } catch (err) {
      await view?.end()
      throw err
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

function formatAnchorEvent(event: AnchorEvent): string {
  switch (event.type) {
    case 'funded':
      return `Coordinator ${event.address} funded from the faucet (${event.amount} wei)`
    case 'registered':
      return `Federation registered on chain as ${event.federationId}`
    case 'round-committed':
      return `Round ${event.round} committed in block ${event.blockNumber} (${event.ms} ms); ${event.rewards.length} reward${event.rewards.length === 1 ? '' : 's'} paid`
    case 'commit-failed':
      return `Round ${event.round} is not on chain yet (kept locally; the next run retries): ${event.error}`
  }
}

/** The live view on stderr (Ink, loaded only on a terminal), folded from the run's events. */
async function startFlView(planned: number): Promise<{onEvent(event: FlEvent): void; end(): Promise<void>}> {
  const [{startLiveView}, {FlView}] = await Promise.all([import('../../cli/live-view.js'), import('../../cli/fl-view.js')])
  let view: FlViewSnapshot = initialFlView(planned)
  const live = startLiveView(FlView, {view})
  return {
    onEvent(event) {
      view = reduceFlView(view, event)
      live.update({view})
    },
    end: () => live.end({view: {...view, done: true}}),
  }
}

/** A numeric flag given as text (fractions), or undefined when absent. */
function num(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new XaiError('FL_INVALID_CONFIG', `--${flag} expects a number, not "${text}"`, {hint: 'Pass a decimal number, e.g. 0.5.'})
  }
  return value
}
