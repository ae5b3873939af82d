import {readFile} from 'node:fs/promises'
import {basename} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gunzip} from 'node:zlib'
import {promisify} from 'node:util'

import {XaiError} from '../util/errors.js'
import {Random} from './random.js'

/**
 * Error codes of the data layer. A data set that cannot be found or read, a malformed data file
 * and a partition that cannot be made are all usage errors (2): the fix is a different flag or file.
 */
export const FlDataErrorCode = {
  datasetNotFound: 'FL_DATASET_NOT_FOUND',
  datasetInvalid: 'FL_DATASET_INVALID',
  invalidPartition: 'FL_INVALID_PARTITION',
} as const
export type FlDataErrorCode = (typeof FlDataErrorCode)[keyof typeof FlDataErrorCode]

/** A labelled data set held in memory: `n` rows of `d` features, one class label per row. */
export interface Dataset {
  name: string
  /** n × d, row-major: feature j of example i is `features[i * d + j]`. */
  features: Float32Array
  /** The class of each example, in [0, classes.length). */
  labels: Uint8Array
  n: number
  d: number
  /** Class names, indexed by label. */
  classes: string[]
}

/** How a federation's training set is spread over its clients. */
export type PartitionSpec = 'iid' | {dirichlet: number}

/** The data sets shipped with xai, by the name `--dataset` takes. */
export const BUILTIN_DATASETS = {
  digits: 'digits.csv.gz',
  'breast-cancer': 'breast_cancer.csv',
} as const
export type BuiltinDataset = keyof typeof BUILTIN_DATASETS

/** The shipped datasets/ folder: two levels above this module, both in src/fl and in dist/fl. */
const DATASETS_DIR = fileURLToPath(new URL('../../datasets/', import.meta.url))

/** Labels are stored in a Uint8Array. */
const MAX_CLASSES = 256

/** Random streams of the data layer, forked from the caller's seed so that each use draws its own. */
const STREAM = {split: 1, partition: 2} as const

/** Dirichlet partitions are re-drawn this many times while some client is left empty. */
const DIRICHLET_ATTEMPTS = 100

const gunzipAsync = promisify(gunzip)
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const NON_NEGATIVE_INTEGER = /^\d+$/

/**
 * Loads `digits`, `breast-cancer` or a CSV file (optionally gzip-compressed) in the layout of
 * datasets/README.md: an optional header `n_samples,n_features,<class names...>`, then one
 * example a row, its features then its integer label.
 *
 * @example
 * const data = await loadDataset('digits') // n = 1797, d = 64, 10 classes
 */
export async function loadDataset(spec: string): Promise<Dataset> {
  const builtin = Object.hasOwn(BUILTIN_DATASETS, spec) ? (spec as BuiltinDataset) : undefined
  const path = builtin === undefined ? spec : DATASETS_DIR + BUILTIN_DATASETS[builtin]
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      const what = code === 'EISDIR' ? 'is a folder, not a file' : 'does not exist'
      throw new XaiError(
        FlDataErrorCode.datasetNotFound,
        builtin === undefined
          ? `No data set "${spec}": it is neither ${builtinNames()}, and ${path} ${what}`
          : `The shipped data set ${spec} is missing: ${path} ${what}`,
        {
          hint:
            builtin === undefined
              ? `Pass --dataset ${builtinNames('or')}, or the path of a .csv or .csv.gz file in the layout of datasets/README.md.`
              : 'Reinstall xai: its datasets/ folder is incomplete.',
          details: {spec, path},
          cause: err,
        },
      )
    }
    throw new XaiError(FlDataErrorCode.datasetNotFound, `Cannot read the data set ${path}: ${(err as Error).message}`, {
      hint: 'Check that the file is readable.',
      details: {spec, path},
      cause: err,
    })
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes)
    } catch (err) {
      throw invalid(path, undefined, `not a valid gzip file (${(err as Error).message})`)
    }
  }
  const name = builtin ?? basename(path).replace(/\.gz$/i, '').replace(/\.csv$/i, '')
  return parseDataset(bytes.toString('utf8'), name, path)
}

/**
 * Parses the text of a data file (see {@link loadDataset}). `source` names the file in errors.
 * Blank lines are skipped; line numbers in errors count every line of the file from 1.
 */
export function parseDataset(text: string, name: string, source = name): Dataset {
  const lines = text.split(/\r?\n/)
  let at = nextLine(lines, 0)
  if (at === lines.length) throw invalid(source, undefined, 'empty: no data rows')

  let header: {samples: number; features: number; classes: string[]; line: number} | undefined
  const first = splitFields(lines[at]!)
  if (isHeader(first, lines, at)) {
    const classes = first.slice(2)
    classes.forEach((label, i) => {
      if (label === '') throw invalid(source, at + 1, `header: class name ${i + 1} is empty`)
    })
    header = {samples: Number(first[0]), features: Number(first[1]), classes, line: at + 1}
    if (header.features < 1) throw invalid(source, at + 1, 'header: n_features must be at least 1')
    if (classes.length === 1) throw invalid(source, at + 1, 'header: names one class; a classifier needs at least two')
    if (classes.length > MAX_CLASSES) throw invalid(source, at + 1, `header: ${classes.length} classes, at most ${MAX_CLASSES} are supported`)
    at = nextLine(lines, at + 1)
    if (at === lines.length) throw invalid(source, undefined, 'empty: a header but no data rows')
  }

  const width = header === undefined ? splitFields(lines[at]!).length : header.features + 1
  if (width < 2) throw invalid(source, at + 1, 'a row needs at least one feature and the label')
  const d = width - 1
  let rows = 0
  for (let i = at; i < lines.length; i++) if (lines[i]!.trim() !== '') rows++
  if (header !== undefined && header.samples !== rows) {
    throw invalid(source, header.line, `header: n_samples is ${header.samples} but the file has ${rows} data rows`)
  }

  const features = new Float32Array(rows * d)
  const labels = new Uint8Array(rows)
  const classLimit = header !== undefined && header.classes.length > 0 ? header.classes.length : MAX_CLASSES
  let maxLabel = 0
  let row = 0
  for (let i = at; i < lines.length; i = nextLine(lines, i + 1)) {
    const line = i + 1
    const fields = splitFields(lines[i]!)
    if (fields.length !== width) {
      throw invalid(source, line, `ragged row: ${fields.length} fields, expected ${width} (${d} features and the label)`)
    }
    for (let j = 0; j < d; j++) {
      const field = fields[j]!
      const value = NUMBER.test(field) ? Number(field) : Number.NaN
      if (!Number.isFinite(value) || Math.abs(value) > 3.4e38) {
        throw invalid(source, line, `field ${j + 1}: not a number: "${field}"`)
      }
      features[row * d + j] = value
    }
    const field = fields[d]!
    const label = NUMBER.test(field) ? Number(field) : Number.NaN
    if (!Number.isInteger(label)) throw invalid(source, line, `label "${field}" is not an integer`)
    if (label < 0 || label >= classLimit) {
      throw invalid(
        source,
        line,
        header !== undefined && header.classes.length > 0
          ? `label ${label} is out of range: the header names ${classLimit} classes (0..${classLimit - 1})`
          : `label ${label} is out of range: labels run from 0 to ${MAX_CLASSES - 1}`,
      )
    }
    labels[row] = label
    if (label > maxLabel) maxLabel = label
    row++
  }

  let classes = header?.classes ?? []
  if (classes.length === 0) {
    if (maxLabel === 0) throw invalid(source, undefined, 'every label is 0: a classifier needs at least two classes')
    classes = Array.from({length: maxLabel + 1}, (_, i) => String(i))
  }
  return {name, features, labels, n: rows, d, classes}
}

/**
 * A seeded, stratified 80/20 (by default) split: each class is shuffled and contributes its share
 * to the test part (largest remainders, so the test part has exactly ⌈n × testFraction⌉ examples,
 * as scikit-learn's train_test_split), then both parts are shuffled. The test part is for
 * evaluation by the coordinator only: it is never given to a client.
 */
export function splitTrainTest(data: Dataset, seed: number, testFraction = 0.2): {train: Dataset; test: Dataset} {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new XaiError(FlDataErrorCode.datasetInvalid, `The test fraction must be between 0 and 1 (exclusive), got ${testFraction}`, {
      hint: 'Use a test fraction such as 0.2.',
      details: {testFraction},
    })
  }
  const testSize = Math.ceil(data.n * testFraction)
  if (testSize >= data.n) {
    throw new XaiError(FlDataErrorCode.datasetInvalid, `The data set ${data.name} has ${data.n} examples: too few to split into a training and a test part`, {
      hint: 'Use a data set with more examples.',
      details: {n: data.n, testFraction},
    })
  }
  const rng = new Random(seed).fork(STREAM.split)
  const byClass = indicesByClass(data)
  const quota = byClass.map((members) => (members.length * testSize) / data.n)
  const take = quota.map(Math.floor)
  let missing = testSize - take.reduce((sum, k) => sum + k, 0)
  const byRemainder = quota.map((q, c) => ({c, rest: q - Math.floor(q)})).sort((a, b) => b.rest - a.rest || a.c - b.c)
  for (const {c} of byRemainder) {
    if (missing === 0) break
    take[c]!++
    missing--
  }
  const train: number[] = []
  const test: number[] = []
  byClass.forEach((members, c) => {
    rng.shuffle(members)
    test.push(...members.slice(0, take[c]))
    train.push(...members.slice(take[c]))
  })
  return {train: subset(data, rng.shuffle(train)), test: subset(data, rng.shuffle(test))}
}

/**
 * Standardizes every feature to zero mean and unit variance (population variance, as
 * scikit-learn's StandardScaler), with the statistics of `train` only, applied in place to `train`
 * and to each of `others`. A feature that is constant on `train` becomes 0 everywhere.
 */
export function standardize(train: Dataset, ...others: Dataset[]): void {
  const {n, d} = train
  for (const other of others) {
    if (other.d !== d) {
      throw new XaiError(FlDataErrorCode.datasetInvalid, `Cannot standardize ${other.name} (${other.d} features) with the statistics of ${train.name} (${d} features)`, {
        hint: 'Standardize parts of the same data set together.',
      })
    }
  }
  const mean = new Float64Array(d)
  const scale = new Float64Array(d)
  const min = new Float64Array(d).fill(Number.POSITIVE_INFINITY)
  const max = new Float64Array(d).fill(Number.NEGATIVE_INFINITY)
  const x = train.features
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * d; j < d; j++) {
      const v = x[o + j]!
      mean[j]! += v
      if (v < min[j]!) min[j] = v
      if (v > max[j]!) max[j] = v
    }
  }
  for (let j = 0; j < d; j++) mean[j]! /= Math.max(n, 1)
  for (let i = 0; i < n; i++) {
    for (let j = 0, o = i * d; j < d; j++) {
      const delta = x[o + j]! - mean[j]!
      scale[j]! += delta * delta
    }
  }
  // scale[j] = 1 / standard deviation; 0 for a constant feature, so that it maps to 0.
  for (let j = 0; j < d; j++) scale[j] = n > 0 && max[j]! > min[j]! ? 1 / Math.sqrt(scale[j]! / n) : 0
  for (const part of [train, ...others]) {
    const f = part.features
    for (let i = 0; i < part.n; i++) {
      for (let j = 0, o = i * d; j < d; j++) f[o + j] = (f[o + j]! - mean[j]!) * scale[j]!
    }
  }
}

/**
 * Spreads the examples of `train` over `clients`, as lists of indices into `train` (each sorted).
 * Every index goes to exactly one client, and every client gets at least one example.
 *
 * - `iid`: a seeded shuffle cut into `clients` parts whose sizes differ by at most one.
 * - `{dirichlet: α}`: label skew as in Flower Datasets' DirichletPartitioner (its default, without
 *   self-balancing) and NIID-Bench (Li et al., 2022): for each class, proportions p ~ Dir(α, ..., α)
 *   over the clients, the class's shuffled examples are cut at ⌊cumsum(p) × count⌋. There is no
 *   balancing cap (NIID-Bench gives no more examples to a client holding more than n / clients):
 *   applied class by class in label order, it leaves the last classes to the few clients still
 *   under it (digits, 20 clients, α = 0.5: class 9 on 4.7 clients in effect, class 0 on 7.7). The
 *   whole draw is repeated while a client is left empty (NIID-Bench repeats until each has 10; here
 *   1), up to 100 times; after that each empty client is given one random example of the largest.
 *   Small α (0.1) gives clients few classes; large α approaches iid.
 */
export function partition(train: Dataset, clients: number, spec: PartitionSpec, seed: number): Uint32Array[] {
  if (!Number.isInteger(clients) || clients < 1) {
    throw new XaiError(FlDataErrorCode.invalidPartition, `The number of clients must be a positive integer, got ${clients}`, {
      hint: 'Pass --clients 1 or more.',
      details: {clients},
    })
  }
  if (clients > train.n) {
    throw new XaiError(FlDataErrorCode.invalidPartition, `${clients} clients but only ${train.n} training examples: every client needs at least one`, {
      hint: `Use at most ${train.n} clients, or a larger data set.`,
      details: {clients, examples: train.n},
    })
  }
  if (spec !== 'iid') assertAlpha(spec.dirichlet, `dirichlet:${spec.dirichlet}`)
  const rng = new Random(seed).fork(STREAM.partition)
  const shards = spec === 'iid' ? partitionIid(train.n, clients, rng) : partitionDirichlet(train, clients, spec.dirichlet, rng)
  return shards.map((shard) => Uint32Array.from(shard).sort())
}

/** Parses `--partition`: `iid` or `dirichlet:<alpha>` with alpha > 0. */
export function parsePartition(text: string): PartitionSpec {
  const value = text.trim()
  if (value === 'iid') return 'iid'
  const match = /^dirichlet:(.*)$/.exec(value)
  if (match === null) {
    throw new XaiError(FlDataErrorCode.invalidPartition, `Unknown partition "${text}"`, {
      hint: 'Use --partition iid or --partition dirichlet:<alpha>, e.g. dirichlet:0.5 (smaller alpha, more skew).',
      details: {partition: text},
    })
  }
  const alpha = NUMBER.test(match[1]!) ? Number(match[1]) : Number.NaN
  assertAlpha(alpha, text)
  return {dirichlet: alpha}
}

/** The examples at `indices`, copied into a new data set (same name and classes). */
export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const {d} = data
  const n = indices.length
  const features = new Float32Array(n * d)
  const labels = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const from = indices[i]!
    features.set(data.features.subarray(from * d, from * d + d), i * d)
    labels[i] = data.labels[from]!
  }
  return {name: data.name, features, labels, n, d, classes: data.classes}
}

function partitionIid(n: number, clients: number, rng: Random): number[][] {
  const order = rng.shuffle(Array.from({length: n}, (_, i) => i))
  const base = Math.floor(n / clients)
  const extra = n % clients
  const shards: number[][] = []
  let at = 0
  for (let k = 0; k < clients; k++) {
    const size = base + (k < extra ? 1 : 0)
    shards.push(order.slice(at, at + size))
    at += size
  }
  return shards
}

function partitionDirichlet(train: Dataset, clients: number, alpha: number, rng: Random): number[][] {
  const byClass = indicesByClass(train)
  const proportions = new Float64Array(clients)
  let shards: number[][] = []
  for (let attempt = 0; attempt < DIRICHLET_ATTEMPTS; attempt++) {
    shards = Array.from({length: clients}, () => [])
    for (const members of byClass) {
      if (members.length === 0) continue
      rng.shuffle(members)
      let sum = 0
      for (let k = 0; k < clients; k++) {
        proportions[k] = rng.gamma(alpha)
        sum += proportions[k]!
      }
      if (!(sum > 0)) {
        // Every gamma draw underflowed (tiny alpha): the class goes to one client.
        proportions.fill(0)
        proportions[rng.int(clients)] = 1
        sum = 1
      }
      let cumulative = 0
      let from = 0
      for (let k = 0; k < clients; k++) {
        cumulative += proportions[k]!
        const to = k === clients - 1 ? members.length : Math.floor((cumulative / sum) * members.length)
        for (let i = from; i < to; i++) shards[k]!.push(members[i]!)
        from = Math.max(from, to)
      }
    }
    if (shards.every((shard) => shard.length > 0)) return shards
  }
  for (const shard of shards) {
    if (shard.length > 0) continue
    let largest = shards[0]!
    for (const other of shards) if (other.length > largest.length) largest = other
    const pick = rng.int(largest.length)
    shard.push(largest[pick]!)
    largest[pick] = largest[largest.length - 1]!
    largest.pop()
  }
  return shards
}

function indicesByClass(data: Dataset): number[][] {
  const byClass: number[][] = Array.from({length: data.classes.length}, () => [])
  for (let i = 0; i < data.n; i++) byClass[data.labels[i]!]!.push(i)
  return byClass
}

function assertAlpha(alpha: number, text: string): void {
  if (!(Number.isFinite(alpha) && alpha > 0)) {
    throw new XaiError(FlDataErrorCode.invalidPartition, `Invalid Dirichlet concentration in "${text}": alpha must be a number above 0`, {
      hint: 'Use --partition dirichlet:<alpha> with alpha > 0, e.g. dirichlet:0.5 (smaller alpha, more skew).',
      details: {partition: text},
    })
  }
}

/**
 * Whether the first row is sklearn's header `n_samples,n_features,<class names...>` rather than
 * data. It must start with two counts. If it differs in width from the rows after it, it is a
 * header when it names classes or when its n_features matches those rows. If it has their width,
 * it is a header only when its counts describe the rows exactly and, if its class names are all
 * numbers, they are 0, 1, ..., k - 1 (k ≥ 2): a data row is never taken for a header by accident.
 */
function isHeader(fields: string[], lines: string[], at: number): boolean {
  if (fields.length < 2 || !NON_NEGATIVE_INTEGER.test(fields[0]!) || !NON_NEGATIVE_INTEGER.test(fields[1]!)) return false
  const names = fields.slice(2)
  const named = names.some((field) => !NUMBER.test(field))
  const next = nextLine(lines, at + 1)
  if (next === lines.length) return named
  const width = splitFields(lines[next]!).length
  const declaresWidth = Number(fields[1]) + 1 === width
  if (fields.length !== width) return named || declaresWidth
  if (!declaresWidth) return false
  if (!named && (names.length === 1 || names.some((field, i) => field !== String(i)))) return false
  let rows = 0
  for (let i = next; i < lines.length; i++) if (lines[i]!.trim() !== '') rows++
  return Number(fields[0]) === rows
}

function splitFields(line: string): string[] {
  return line.split(',').map((field) => field.trim())
}

function nextLine(lines: string[], from: number): number {
  let i = from
  while (i < lines.length && lines[i]!.trim() === '') i++
  return i
}

function builtinNames(joiner = 'nor'): string {
  const names = Object.keys(BUILTIN_DATASETS)
  return `${names.slice(0, -1).join(', ')} ${joiner} ${names.at(-1)}`
}

function invalid(source: string, line: number | undefined, problem: string): XaiError {
  return new XaiError(FlDataErrorCode.datasetInvalid, line === undefined ? `${source}: ${problem}` : `${source} line ${line}: ${problem}`, {
    hint: 'Fix the file to the layout of datasets/README.md: an optional header n_samples,n_features,<class names>, then one row per example, its numeric features then its integer label (0 to classes - 1).',
    details: {source, line, problem},
  })
}
