// `npm run bench -- fl-aggregate`: wall time of one aggregation of 100 updates of 1,000,000
// parameters for each aggregator, and, when python3 has numpy, the median and trimmed mean
// computed by numpy the way Flower computes them, on the same bytes in the same run.
// Usage: npm run bench -- fl-aggregate --help
import {spawnSync} from 'node:child_process'
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'
import {type AggregatorSpec, aggregate, formatAggregator, parseAggregator, trimCount} from '../src/fl/aggregators.js'
import {Random} from '../src/fl/random.js'
import {MiB, median, round} from './lib/stats.js'

const HELP = `Usage: npm run bench -- fl-aggregate [options]

  --n <count>          updates per aggregation (default 100)
  --d <count>          parameters per update (default 1000000)
  --f <count>          assumed Byzantine updates, also the number of sign-flipped ones (default 10)
  --runs <count>       timed runs per aggregator after one warm-up; the median is reported (default 3)
  --aggregators <list> comma-separated (default fedavg,median,trimmed-mean:0.1,krum,multi-krum:<n−f>,bulyan,nnm+median)
  --seed <n>           data seed (default 1)
  --no-numpy           skip the numpy comparison
  -h, --help

Prints a table, then one JSON line with every figure.`

const log = (message: string) => process.stderr.write(`${message}\n`)

interface Timing {
  aggregator: string
  /** Wall time: the median of the timed runs, the fastest, and each run. */
  medianMs: number
  minMs: number
  samplesMs: number[]
  /** CPU time (user + system) of the median run: less sensitive than wall time to other work on the machine. */
  cpuMs: number
  selected: number
  /** Updates × parameters aggregated per second, in millions. */
  mValuesPerSec: number
}

interface NumpyFigure {
  medianMs: number
  samplesMs: number[]
  cpuMs: number
  /** xai's median wall time over numpy's (above 1: xai is slower). */
  ratio: number
  /** The same for CPU time. */
  cpuRatio: number
  /** Largest |xai − numpy| over all coordinates. */
  maxAbsDiff: number
}

type NumpyResult = {version: string; peakRssMiB: number; median: NumpyFigure; trimmedMean: NumpyFigure & {beta: number}} | {skipped: string}

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${value}`)
  return n
}

/**
 * Honest updates are a shared direction plus uniform noise; the f Byzantine ones (at seeded
 * positions) are that direction flipped and scaled by 4, the sign-flip attack.
 */
function makeUpdates(n: number, d: number, f: number, seed: number): Float32Array[] {
  const rng = new Random(seed)
  const direction = Float32Array.from({length: d}, () => rng.normal() * 0.01)
  const byzantine = new Set(rng.shuffle(Array.from({length: n}, (_, i) => i)).slice(0, f))
  return Array.from({length: n}, (_, i) => {
    const u = new Float32Array(d)
    const sign = byzantine.has(i) ? -4 : 1
    for (let j = 0; j < d; j++) u[j] = sign * direction[j]! + (rng.next() - 0.5) * 0.02
    return u
  })
}

function timeAggregator(spec: AggregatorSpec, updates: Float32Array[], weights: number[], f: number, runs: number, out: Float32Array): Timing {
  const warm = aggregate(spec, updates, weights, f, out)
  const samples: Array<{wall: number; cpu: number}> = []
  for (let r = 0; r < runs; r++) {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    aggregate(spec, updates, weights, f, out)
    const wall = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    samples.push({wall, cpu: (cpu.user + cpu.system) / 1000})
  }
  const samplesMs = samples.map((s) => s.wall)
  const medianMs = median(samplesMs)
  const middle = [...samples].sort((a, b) => a.wall - b.wall)[Math.floor((runs - 1) / 2)]!
  return {
    aggregator: formatAggregator(spec),
    medianMs: round(medianMs, 1),
    minMs: round(Math.min(...samplesMs), 1),
    samplesMs: samplesMs.map((t) => round(t, 1)),
    cpuMs: round(middle.cpu, 1),
    selected: warm.selected.length,
    mValuesPerSec: round((updates.length * updates[0]!.length) / (medianMs * 1000), 1),
  }
}

// Flower aggregates with numpy: aggregate_median is np.median(axis=0) and aggregate_trimmed_avg
// is its _trim_mean (np.partition at the two cut points, then the mean of the middle).
const NUMPY_SCRIPT = `
import json, resource, sys, time
import numpy as np
data_path, n, d, beta, runs, out_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
x = np.fromfile(data_path, dtype=np.float32).reshape(n, d)
def trim_mean(a, proportiontocut):
    nobs = a.shape[0]
    lowercut = int(proportiontocut * nobs)
    uppercut = nobs - lowercut
    atmp = np.partition(a, (lowercut, uppercut - 1), 0)
    return np.mean(atmp[lowercut:uppercut], axis=0)
def timed(fn):
    result = fn()
    samples = []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        samples.append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000))
    return result, samples
med, med_ms = timed(lambda: np.median(x, axis=0))
med.astype(np.float32).tofile(out_dir + "/median.f32")
trim, trim_ms = timed(lambda: trim_mean(x, beta))
trim.astype(np.float32).tofile(out_dir + "/trimmed.f32")
print(json.dumps({"version": np.__version__, "median": med_ms, "trimmed": trim_ms, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`

function numpyAvailable(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import numpy'], {encoding: 'utf8', timeout: 30_000})
  if (probe.error) return `python3 not runnable: ${probe.error.message}`
  if (probe.status !== 0) return `python3 has no numpy (${probe.stderr.trim().split('\n').pop()})`
  return undefined
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0
  for (let j = 0; j < a.length; j++) max = Math.max(max, Math.abs(a[j]! - b[j]!))
  return max
}

function compareWithNumpy(updates: Float32Array[], weights: number[], f: number, beta: number, runs: number, ours: {median: Timing; trimmed: Timing}): NumpyResult {
  const missing = numpyAvailable()
  if (missing) return {skipped: missing}
  const n = updates.length
  const d = updates[0]!.length
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xai-fl-aggregate-'))
  try {
    const dataPath = path.join(dir, 'updates.f32')
    const fd = openSync(dataPath, 'w')
    try {
      for (const u of updates) writeSync(fd, new Uint8Array(u.buffer, u.byteOffset, u.byteLength))
    } finally {
      closeSync(fd)
    }
    const scriptPath = path.join(dir, 'aggregate.py')
    writeFileSync(scriptPath, NUMPY_SCRIPT)
    log(`numpy: median and trimmed mean (β = ${beta}) on the same ${n} × ${d} float32 values`)
    const run = spawnSync('python3', [scriptPath, dataPath, String(n), String(d), String(beta), String(runs), dir], {encoding: 'utf8', timeout: 900_000})
    if (run.status !== 0) return {skipped: `python3 failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`}
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as {version: string; median: Array<[number, number]>; trimmed: Array<[number, number]>; maxrss_kib: number}
    const read = (file: string) => {
      const bytes = readFileSync(path.join(dir, file))
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
    }
    const xaiMedian = aggregate({kind: 'median'}, updates, weights, f).model
    const xaiTrimmed = aggregate({kind: 'trimmed-mean', beta}, updates, weights, f).model
    const figure = (samples: Array<[number, number]>, xai: Timing, diff: number): NumpyFigure => {
      const [ms, cpuMs] = [...samples].sort((a, b) => a[0] - b[0])[Math.floor((samples.length - 1) / 2)]!
      return {
        medianMs: round(ms, 1),
        samplesMs: samples.map(([t]) => round(t, 1)),
        cpuMs: round(cpuMs, 1),
        ratio: round(xai.medianMs / ms, 2),
        cpuRatio: round(xai.cpuMs / cpuMs, 2),
        maxAbsDiff: diff,
      }
    }
    return {
      version: out.version,
      peakRssMiB: round((out.maxrss_kib * 1024) / MiB, 0),
      median: figure(out.median, ours.median, maxAbsDiff(xaiMedian, read('median.f32'))),
      trimmedMean: {beta, ...figure(out.trimmed, ours.trimmed, maxAbsDiff(xaiTrimmed, read('trimmed.f32')))},
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function table(rows: Timing[], numpy: NumpyResult): string {
  const numpyFor = (aggregator: string) => {
    if ('skipped' in numpy) return undefined
    if (aggregator === 'median') return numpy.median
    if (aggregator === `trimmed-mean:${numpy.trimmedMean.beta}`) return numpy.trimmedMean
    return undefined
  }
  const seconds = (ms: number) => (ms / 1000).toFixed(3)
  const header = ['aggregator', 'selected', 'wall s', 'min s', 'cpu s', 'M values/s', 'numpy wall s', 'numpy cpu s', 'xai/numpy wall', 'xai/numpy cpu']
  const lines = rows.map((r) => {
    const np = numpyFor(r.aggregator)
    return [
      r.aggregator,
      String(r.selected),
      seconds(r.medianMs),
      seconds(r.minMs),
      seconds(r.cpuMs),
      r.mValuesPerSec.toFixed(1),
      np ? seconds(np.medianMs) : '',
      np ? seconds(np.cpuMs) : '',
      np ? np.ratio.toFixed(2) : '',
      np ? np.cpuRatio.toFixed(2) : '',
    ]
  })
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)))
  const format = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const {values} = parseArgs({
    args: argv,
    options: {
      n: {type: 'string'},
      d: {type: 'string'},
      f: {type: 'string'},
      runs: {type: 'string'},
      aggregators: {type: 'string'},
      seed: {type: 'string'},
      'no-numpy': {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const n = count('n', values.n, 100, 1)
  const d = count('d', values.d, 1_000_000, 1)
  const f = count('f', values.f, 10, 0)
  const runs = count('runs', values.runs, 3, 1)
  const seed = count('seed', values.seed, 1, 0)
  const specs = (values.aggregators ?? `fedavg,median,trimmed-mean:0.1,krum,multi-krum:${Math.max(1, n - f)},bulyan,nnm+median`).split(',').map((s) => parseAggregator(s))
  const trimmedSpec = specs.find((s): s is Extract<AggregatorSpec, {kind: 'trimmed-mean'}> => s.kind === 'trimmed-mean')
  const beta = trimmedSpec?.beta ?? 0.1

  const loadBefore = os.loadavg()
  if (loadBefore[0]! > os.cpus().length * 0.5) log(`warning: 1-min load average is ${loadBefore[0]!.toFixed(2)} on ${os.cpus().length} CPUs; other work on this machine will skew the figures`)
  const t0 = performance.now()
  const updates = makeUpdates(n, d, f, seed)
  const weights = Array.from({length: n}, (_, i) => 100 + ((i * 37) % 50))
  log(`generated ${n} updates of ${d} parameters (${f} sign-flipped, seed ${seed}) in ${Math.round(performance.now() - t0)} ms`)

  const out = new Float32Array(d)
  const timings: Timing[] = []
  for (const spec of specs) {
    const timing = timeAggregator(spec, updates, weights, f, runs, out)
    timings.push(timing)
    log(`${timing.aggregator}: median ${timing.medianMs} ms of ${timing.samplesMs.join(', ')} ms (CPU ${timing.cpuMs} ms); ${timing.selected} updates selected`)
  }

  const byName = (kind: string) => timings.find((t) => parseAggregator(t.aggregator).kind === kind)
  const ourMedian = byName('median') ?? timeAggregator({kind: 'median'}, updates, weights, f, runs, out)
  const ourTrimmed = byName('trimmed-mean') ?? timeAggregator({kind: 'trimmed-mean', beta}, updates, weights, f, runs, out)
  const numpy: NumpyResult = values['no-numpy'] ? {skipped: '--no-numpy'} : compareWithNumpy(updates, weights, f, beta, runs, {median: ourMedian, trimmed: ourTrimmed})
  if ('skipped' in numpy) log(`numpy comparison skipped: ${numpy.skipped}`)

  const peakRssMiB = round((process.resourceUsage().maxRSS * 1024) / MiB, 0)
  process.stdout.write(`\n${n} updates × ${d} parameters, f = ${f}, median of ${runs} runs after a warm-up; peak RSS ${peakRssMiB} MiB\n`)
  process.stdout.write(`${table(timings, numpy)}\n`)
  if (!('skipped' in numpy)) {
    process.stdout.write(
      `numpy ${numpy.version} (peak RSS ${numpy.peakRssMiB} MiB): max |xai − numpy| median ${numpy.median.maxAbsDiff}, trimmed mean ${numpy.trimmedMean.maxAbsDiff} (β = ${beta}, ⌊βn⌋ = ${trimCount(beta, n)})\n`,
    )
  }
  const report = {
    bench: 'fl-aggregate',
    date: new Date().toISOString(),
    n,
    d,
    f,
    runs,
    seed,
    results: timings,
    numpy,
    peakRssMiB,
    host: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadavgBefore: loadBefore.map((v) => round(v, 2)), loadavgAfter: os.loadavg().map((v) => round(v, 2))},
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      process.exitCode = 1
    },
  )
}
