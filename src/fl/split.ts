import {mkdir} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {writeFileAtomic, writeJsonAtomic} from '../util/atomic-write.js'
import {type Dataset, loadDataset, parsePartition, partition, splitTrainTest, standardize, subset} from './data.js'
import {FL_DEFAULTS} from './model.js'

export interface SplitOptions {
  /** digits | breast-cancer | a CSV path (see loadDataset). */
  dataset: string
  clients: number
  /** iid | dirichlet:<alpha>. */
  partition: string
  seed: number
  /** The folder the CSV files go to (created). */
  out: string
}

export interface SplitResult {
  folder: string
  dataset: string
  partition: string
  seed: number
  /** One file per client, in client order: client-<i>.csv. */
  clients: {id: string; file: string; examples: number}[]
  test: {file: string; examples: number}
  features: number
  classes: string[]
}

/**
 * Writes the data of a federation as `fl round` would give it to its clients: the same seeded
 * 80/20 train/test split, the features standardized with the statistics of the training part, and
 * the training part spread over the clients by the same partition (same seed, same shards). One
 * CSV per client (client-<i>.csv, its examples in index order) and test.csv (the held-back part,
 * for `fl serve --eval-data`), in the layout loadDataset reads, with a header naming the classes
 * (so a client missing some classes still knows them all). Values are written as the shortest
 * decimal that reads back as the same float32, so a client trains on exactly the simulation's data.
 */
export async function splitDataset(options: SplitOptions): Promise<SplitResult> {
  const spec = parsePartition(options.partition)
  const dataset = await loadDataset(options.dataset)
  const {train, test} = splitTrainTest(dataset, FL_DEFAULTS.splitSeed)
  standardize(train, test)
  const shards = partition(train, options.clients, spec, options.seed)
  const folder = resolve(options.out)
  await mkdir(folder, {recursive: true})
  const clients: SplitResult['clients'] = []
  for (const [i, shard] of shards.entries()) {
    const file = join(folder, `client-${i}.csv`)
    await writeFileAtomic(file, formatCsv(subset(train, shard)))
    clients.push({id: `client-${i}`, file, examples: shard.length})
  }
  const testFile = join(folder, 'test.csv')
  await writeFileAtomic(testFile, formatCsv(test))
  const result: SplitResult = {
    folder,
    dataset: options.dataset,
    partition: options.partition,
    seed: options.seed,
    clients,
    test: {file: testFile, examples: test.n},
    features: train.d,
    classes: train.classes,
  }
  await writeJsonAtomic(join(folder, 'split.json'), result)
  return result
}

/** A data set in loadDataset's layout: `n,d,<class names>` then one row per example. */
export function formatCsv(data: Dataset): string {
  const lines = [[data.n, data.d, ...data.classes].join(',')]
  for (let i = 0; i < data.n; i++) {
    const row: string[] = []
    for (let j = 0; j < data.d; j++) row.push(shortestFloat32(data.features[i * data.d + j]!))
    row.push(String(data.labels[i]))
    lines.push(row.join(','))
  }
  return `${lines.join('\n')}\n`
}

/** The shortest decimal (up to 9 significant digits, which always suffice) that parses back to the float32 `value`. */
export function shortestFloat32(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0'
  for (let p = 1; p < 9; p++) {
    const text = value.toPrecision(p)
    if (Math.fround(Number(text)) === value) return String(Number(text))
  }
  return String(Number(value.toPrecision(9)))
}
