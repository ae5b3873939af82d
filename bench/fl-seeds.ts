// `npm run bench -- fl-seeds`: the README's robustness comparison (digits, 20 clients,
// dirichlet:0.5, 30 % sign-flip, 30 rounds) run over several seeds, reported per aggregator as the
// mean, min and max of the final test accuracy, and each aggregator's gain over the first one, seed
// by seed. One seed is one draw: the partition, the attackers, the initial model and every sample.
// Usage: npm run bench -- fl-seeds --help
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {formatAggregator, parseAggregator} from '../src/fl/aggregators.js'
import {runFederation} from '../src/fl/run-federation.js'
import {round} from './lib/stats.js'

export const FL_SEEDS_DEFAULTS = {
  seeds: [42, 43, 44, 45, 46],
  aggregators: ['median', 'nnm+median'],
  dataset: 'digits',
  clients: 20,
  partition: 'dirichlet:0.5',
  byzantine: 0.3,
  attack: 'sign-flip',
  rounds: 30,
} as const

const D = FL_SEEDS_DEFAULTS

const HELP = `Usage: npm run bench -- fl-seeds [options]

  --seeds <list>        comma-separated seeds, at least one (default ${D.seeds.join(',')})
  --aggregators <list>  comma-separated aggregators; the first is the baseline the others are
                        compared with, seed by seed (default ${D.aggregators.join(',')}; e.g.
                        add trimmed-mean:0.3,nnm+trimmed-mean:0.3, about 5 times slower each)
  --rounds <n>          rounds per federation (default ${D.rounds})
  --clients <n>         clients, all sampled every round (default ${D.clients})
  --dataset <d>         digits | breast-cancer | a .csv path (default ${D.dataset})
  --partition <p>       iid | dirichlet:<alpha> (default ${D.partition})
  --byzantine <f>       fraction of Byzantine clients (default ${D.byzantine})
  --attack <a>          sign-flip[:k] | scale:<k> | gaussian:<sigma> | label-flip (default ${D.attack})
  --workers <n>         worker threads for the clients (default 2)
  -h, --help

Runs one federation per (aggregator, seed), with every other setting at xai fl round's default
(flat, mlp, 5 local epochs), and prints the final test accuracy of each, a table of mean / min / max
per aggregator, and one JSON line with every figure.`

const log = (message: string) => process.stderr.write(`${message}\n`)

export interface Spread {
  mean: number
  min: number
  max: number
}

/** Mean, min and max of a non-empty list. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of an empty list')
  return {mean: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values)}
}

export interface AggregatorFigures {
  aggregator: string
  /** Final test accuracy per seed, in the order of `seeds`. */
  accuracy: number[]
  summary: Spread
  /** Accuracy minus the baseline's (the first aggregator), seed by seed; absent for the baseline. */
  gain?: Spread
}

/** The per-aggregator summary of final accuracies (accuracy[aggregator][seed index]). */
export function summarizeSeeds(aggregators: readonly string[], accuracy: readonly (readonly number[])[]): AggregatorFigures[] {
  const base = accuracy[0]!
  return aggregators.map((aggregator, i) => {
    const acc = [...accuracy[i]!]
    const figures: AggregatorFigures = {aggregator, accuracy: acc, summary: spread(acc)}
    if (i > 0) figures.gain = spread(acc.map((a, s) => a - base[s]!))
    return figures
  })
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`
const pts = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`

/** The table printed at the end: one row per aggregator. */
export function seedsTable(figures: readonly AggregatorFigures[], seeds: readonly number[]): string {
  const rows = [['aggregator', 'mean', 'min', 'max', `gain over ${figures[0]?.aggregator ?? '-'} (mean, min..max, points)`, ...seeds.map((s) => `seed ${s}`)]]
  for (const f of figures) {
    rows.push([
      f.aggregator,
      pct(f.summary.mean),
      pct(f.summary.min),
      pct(f.summary.max),
      f.gain ? `${pts(f.gain.mean)} (${pts(f.gain.min)}..${pts(f.gain.max)})` : '-',
      ...f.accuracy.map(pct),
    ])
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n')
}

function integers(name: string, text: string, min: number, max: number): number[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean)
  if (items.length === 0) throw new Error(`--${name} is empty`)
  return items.map((s) => {
    const n = Number(s)
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`--${name}: ${s} is not an integer in ${min}..${max}`)
    return n
  })
}

export async function main(argv: string[]): Promise<number> {
  const {values} = parseArgs({
    args: argv,
    options: {
      seeds: {type: 'string', default: D.seeds.join(',')},
      aggregators: {type: 'string', default: D.aggregators.join(',')},
      rounds: {type: 'string', default: String(D.rounds)},
      clients: {type: 'string', default: String(D.clients)},
      dataset: {type: 'string', default: D.dataset},
      partition: {type: 'string', default: D.partition},
      byzantine: {type: 'string', default: String(D.byzantine)},
      attack: {type: 'string', default: D.attack},
      workers: {type: 'string', default: '2'},
      help: {type: 'boolean', short: 'h', default: false},
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const seeds = integers('seeds', values.seeds, 0, 0xffff_ffff)
  const aggregators = values.aggregators.split(',').map((s) => s.trim()).filter(Boolean)
  if (aggregators.length === 0) throw new Error('--aggregators is empty')
  for (const a of aggregators) parseAggregator(a) // refuse a misspelt rule before hours of training
  const [rounds] = integers('rounds', values.rounds, 1, 100_000)
  const [clients] = integers('clients', values.clients, 1, 10_000)
  const [workers] = integers('workers', values.workers, 1, 16)
  const byzantine = Number(values.byzantine)
  if (!(byzantine >= 0 && byzantine < 1)) throw new Error(`--byzantine must be a fraction in [0, 1), got ${values.byzantine}`)

  const home = mkdtempSync(path.join(os.tmpdir(), 'xai-bench-fl-seeds-'))
  const started = performance.now()
  try {
    const accuracy: number[][] = aggregators.map(() => [])
    for (const [s, seed] of seeds.entries()) {
      for (const [i, aggregator] of aggregators.entries()) {
        const t0 = performance.now()
        const result = await runFederation({
          home,
          name: `seed-${seed}-${i}`,
          config: {dataset: values.dataset, clients, partition: values.partition, byzantine, attack: values.attack, aggregator, edgeAggregator: aggregator, seed, fraction: 1},
          rounds: rounds!,
          workers,
        })
        if (!result.final) throw new Error(`seed ${seed}, ${aggregator}: no round ran`)
        accuracy[i]![s] = result.final.accuracy
        log(`seed ${seed} ${formatAggregator(parseAggregator(aggregator))}: ${pct(result.final.accuracy)} after ${result.final.round} rounds (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
      }
    }
    const figures = summarizeSeeds(aggregators, accuracy)
    const result = {
      benchmark: 'fl-seeds',
      setting: {dataset: values.dataset, clients, partition: values.partition, byzantine, attack: values.attack, rounds, edges: 0, fraction: 1},
      seeds,
      figures: figures.map((f) => ({
        aggregator: f.aggregator,
        accuracy: f.accuracy.map((a) => round(a, 4)),
        mean: round(f.summary.mean, 4),
        min: round(f.summary.min, 4),
        max: round(f.summary.max, 4),
        gain: f.gain && {mean: round(f.gain.mean, 4), min: round(f.gain.min, 4), max: round(f.gain.max, 4)},
      })),
      seconds: round((performance.now() - started) / 1000, 0),
    }
    process.stdout.write(
      `\n${values.dataset}, ${clients} clients, ${values.partition}, ${byzantine * 100} % ${values.attack}, ${rounds} rounds; final test accuracy over ${seeds.length} seeds:\n${seedsTable(figures, seeds)}\n${JSON.stringify(result)}\n`,
    )
    return 0
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}
