// `npm run bench -- fl-round`: seconds per federated round for 100 clients on digits (MLP 64,
// every client every round, 5 local epochs), clients in worker threads as `xai fl round` runs them.
// Usage: npm run bench -- fl-round --help
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {type RoundRecord} from '../src/fl/federation.js'
import {runFederation} from '../src/fl/run-federation.js'
import {median, round} from './lib/stats.js'

const HELP = `Usage: npm run bench -- fl-round [options]

  --clients <n>       clients, all sampled every round (default 100)
  --rounds <n>        timed rounds after one warm-up round (default 3)
  --workers <n>       worker threads (default 4)
  --model <m>         logreg | mlp (default mlp)
  --compress <c>      none | int8 | topk:<f> (default none)
  --aggregator <a>    default fedavg
  -h, --help

Prints one line per round, then one JSON line with the median seconds per round.`

export async function main(argv: string[]): Promise<number> {
  const {values} = parseArgs({
    args: argv,
    options: {
      clients: {type: 'string', default: '100'},
      rounds: {type: 'string', default: '3'},
      workers: {type: 'string', default: '4'},
      model: {type: 'string', default: 'mlp'},
      compress: {type: 'string', default: 'none'},
      aggregator: {type: 'string', default: 'fedavg'},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const home = mkdtempSync(path.join(os.tmpdir(), 'xai-bench-fl-'))
  try {
    const config = {clients: Number(values.clients), model: values.model, compress: values.compress, aggregator: values.aggregator, edgeAggregator: values.aggregator, fraction: 1}
    const timed: RoundRecord[] = []
    await runFederation({
      home,
      name: 'bench',
      config,
      rounds: Number(values.rounds) + 1,
      workers: Number(values.workers),
      onEvent: (event) => {
        if (event.type !== 'round-end') return
        const r = event.record
        process.stderr.write(`round ${r.round}${r.round === 1 ? ' (warm-up)' : ''}: ${(r.durationMs / 1000).toFixed(2)} s, accuracy ${(r.accuracy * 100).toFixed(2)} %, up ${r.bytesUp} B\n`)
        if (r.round > 1) timed.push(r)
      },
    })
    const seconds = median(timed.map((r) => r.durationMs / 1000))
    const result = {
      benchmark: 'fl-round',
      clients: config.clients,
      model: config.model,
      workers: Number(values.workers),
      cores: os.availableParallelism(),
      secondsPerRound: round(seconds, 3),
      clientsPerSecond: round(config.clients / seconds, 1),
      accuracy: timed.at(-1)?.accuracy,
    }
    process.stdout.write(`\n${config.clients} clients (${config.model}, ${result.workers} workers on ${result.cores} cores): ${result.secondsPerRound} s per round, ${result.clientsPerSecond} clients/s\n${JSON.stringify(result)}\n`)
    return 0
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}
