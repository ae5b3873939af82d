import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {XaiError} from '../../../src/util/errors.js'
import {type Dataset, loadDataset, parseDataset, parsePartition, partition, splitTrainTest, standardize} from '../../../src/fl/data.js'

let dir: string
let digits: Dataset
let cancer: Dataset

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xai-fl-data-'))
  digits = await loadDataset('digits')
  cancer = await loadDataset('breast-cancer')
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** Runs `fn` and returns the XaiError it throws. */
async function failure(fn: () => unknown): Promise<XaiError> {
  try {
    await fn()
  } catch (err) {
    expect(err).toBeInstanceOf(XaiError)
    return err as XaiError
  }
  throw new Error('expected an XaiError')
}

async function writeCsv(name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

function counts(labels: ArrayLike<number>, classes: number): number[] {
  const out = Array.from({length: classes}, () => 0)
  for (let i = 0; i < labels.length; i++) out[labels[i]!]!++
  return out
}

describe('loadDataset', () => {
  it('loads digits: 1797 examples of 64 pixels (0..16), 10 classes', () => {
    expect(digits).toMatchObject({name: 'digits', n: 1797, d: 64, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']})
    expect(digits.features.length).toBe(1797 * 64)
    expect(digits.labels.length).toBe(1797)
    expect(Math.min(...digits.features)).toBe(0)
    expect(Math.max(...digits.features)).toBe(16)
    // scikit-learn's load_digits class counts.
    expect(counts(digits.labels, 10)).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    // The first row of the file: 0,0,5,13,9,1,0,0,... label 0
    expect(Array.from(digits.features.subarray(0, 8))).toEqual([0, 0, 5, 13, 9, 1, 0, 0])
    expect(digits.labels[0]).toBe(0)
  })

  it('loads breast-cancer with its header: 569 examples, 30 features, malignant/benign', () => {
    expect(cancer).toMatchObject({name: 'breast-cancer', n: 569, d: 30, classes: ['malignant', 'benign']})
    expect(cancer.features.length).toBe(569 * 30)
    expect(counts(cancer.labels, 2)).toEqual([212, 357])
    expect(cancer.features[0]).toBeCloseTo(17.99, 5)
    expect(cancer.features[3]).toBe(1001)
  })

  it('loads a user file, plain or gzip-compressed, named after the file', async () => {
    const text = '4,2,no,yes\n1,2,0\n3,4.5,1\n\n-1e2,0,1\n0.5,.25,0\n'
    const plain = await loadDataset(await writeCsv('mine.csv', text))
    const gzipped = join(dir, 'mine2.csv.gz')
    await writeFile(gzipped, gzipSync(text))
    const fromGzip = await loadDataset(gzipped)
    for (const data of [plain, fromGzip]) {
      expect(data).toMatchObject({n: 4, d: 2, classes: ['no', 'yes']})
      expect(Array.from(data.features)).toEqual([1, 2, 3, 4.5, -100, 0, 0.5, 0.25])
      expect(Array.from(data.labels)).toEqual([0, 1, 1, 0])
    }
    expect(plain.name).toBe('mine')
    expect(fromGzip.name).toBe('mine2')
  })

  it('reads a file without header, taking the classes from the largest label', () => {
    const data = parseDataset('1,2,0\r\n3,4,2\r\n', 'x')
    expect(data).toMatchObject({n: 2, d: 2, classes: ['0', '1', '2']})
  })

  it('takes an all-numeric first row as a header only when its counts describe the rows', () => {
    expect(parseDataset('2,2,0,1\n1,2,0\n3,4,1\n', 'x')).toMatchObject({n: 2, d: 2, classes: ['0', '1']})
    // Same width as the rows, counts that do not match: a data row.
    expect(parseDataset('5,2,1\n1,2,0\n3,4,1\n', 'x')).toMatchObject({n: 3, d: 2, classes: ['0', '1']})
    // A named header as wide as the rows.
    expect(parseDataset('2,3,no,yes\n1,2,3,0\n4,5,6,1\n', 'x')).toMatchObject({n: 2, d: 3, classes: ['no', 'yes']})
    // A first row with a typo is data, and is reported as such.
    expect(() => parseDataset('1,2,x,0\n3,4,5,1\n', 'x')).toThrow('x line 1: field 3: not a number: "x"')
  })

  it('refuses a missing file or an unknown name with FL_DATASET_NOT_FOUND (exit 2)', async () => {
    const missing = join(dir, 'nope.csv')
    const err = await failure(() => loadDataset(missing))
    expect(err.code).toBe('FL_DATASET_NOT_FOUND')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`No data set "${missing}": it is neither digits nor breast-cancer, and ${missing} does not exist`)
    expect(err.hint).toContain('--dataset digits or breast-cancer')
    expect((await failure(() => loadDataset('mnist'))).code).toBe('FL_DATASET_NOT_FOUND')
    expect((await failure(() => loadDataset(dir))).message).toContain('is a folder, not a file')
  })

  const malformed: [kind: string, text: string, message: string][] = [
    ['ragged row', '1,2,0\n3,4,1\n5,1\n', 'bad.csv line 3: ragged row: 2 fields, expected 3 (2 features and the label)'],
    ['ragged row under a header', '2,2,a,b\n1,2,0\n3,4,5,1\n', 'bad.csv line 3: ragged row: 4 fields, expected 3 (2 features and the label)'],
    ['non-number', '1,2,0\n3,x4,1\n', 'bad.csv line 2: field 2: not a number: "x4"'],
    ['empty field', '1,2,0\n,4,1\n', 'bad.csv line 2: field 1: not a number: ""'],
    ['label not an integer', '1,2,0\n3,4,1.5\n', 'bad.csv line 2: label "1.5" is not an integer'],
    ['label not a number', '1,2,0\n3,4,cat\n', 'bad.csv line 2: label "cat" is not an integer'],
    ['label out of range (header)', '2,2,a,b\n1,2,0\n3,4,2\n', 'bad.csv line 3: label 2 is out of range: the header names 2 classes (0..1)'],
    ['negative label', '1,2,0\n3,4,-1\n', 'bad.csv line 2: label -1 is out of range: labels run from 0 to 255'],
    ['label above 255', '1,2,0\n3,4,256\n', 'bad.csv line 2: label 256 is out of range: labels run from 0 to 255'],
    ['empty', '', 'bad.csv: empty: no data rows'],
    ['only blank lines', '\n  \n\n', 'bad.csv: empty: no data rows'],
    ['header without rows', '0,2,a,b\n', 'bad.csv: empty: a header but no data rows'],
    ['header with the wrong count', '3,2,a,b\n1,2,0\n3,4,1\n', 'bad.csv line 1: header: n_samples is 3 but the file has 2 data rows'],
    ['one class', '1,2,0\n3,4,0\n', 'bad.csv: every label is 0: a classifier needs at least two classes'],
    ['no feature', '0\n1\n', 'bad.csv line 1: a row needs at least one feature and the label'],
  ]
  for (const [kind, text, message] of malformed) {
    it(`refuses a malformed file (${kind}) with FL_DATASET_INVALID naming the line`, async () => {
      const err = await failure(async () => loadDataset(await writeCsv('bad.csv', text)))
      expect(err.code).toBe('FL_DATASET_INVALID')
      expect(err.exitCode).toBe(2)
      expect(err.message).toBe(message.replace('bad.csv', join(dir, 'bad.csv')))
      expect(err.hint).toContain('datasets/README.md')
    })
  }

  it('refuses a corrupt gzip file', async () => {
    const path = join(dir, 'broken.csv.gz')
    await writeFile(path, Buffer.concat([gzipSync('1,2,0\n3,4,1\n').subarray(0, 12)]))
    const err = await failure(() => loadDataset(path))
    expect(err.code).toBe('FL_DATASET_INVALID')
    expect(err.message).toMatch(/not a valid gzip file/)
  })
})

describe('splitTrainTest', () => {
  it('splits 80/20 as scikit-learn sizes it: digits 1437/360, breast-cancer 455/114', () => {
    const d = splitTrainTest(digits, 7)
    expect([d.train.n, d.test.n]).toEqual([1437, 360])
    const c = splitTrainTest(cancer, 7)
    expect([c.train.n, c.test.n]).toEqual([455, 114])
    expect(c.train.classes).toEqual(['malignant', 'benign'])
    expect(c.train.features.length).toBe(455 * 30)
  })

  it('is stratified: each class keeps its share in both parts', () => {
    const {train, test} = splitTrainTest(digits, 3)
    const all = counts(digits.labels, 10)
    const inTest = counts(test.labels, 10)
    const inTrain = counts(train.labels, 10)
    for (let c = 0; c < 10; c++) {
      expect(inTest[c]! + inTrain[c]!).toBe(all[c])
      expect(Math.abs(inTest[c]! - all[c]! * 0.2)).toBeLessThan(1)
    }
  })

  it('is deterministic per seed, differs across seeds, and its parts are disjoint and cover the data', () => {
    const rows = (data: Dataset): string[] => Array.from({length: data.n}, (_, i) => `${data.features.subarray(i * data.d, (i + 1) * data.d).join(',')}|${data.labels[i]}`)
    const a = splitTrainTest(digits, 11)
    const b = splitTrainTest(digits, 11)
    const c = splitTrainTest(digits, 12)
    expect(a.train.features).toEqual(b.train.features)
    expect(a.test.labels).toEqual(b.test.labels)
    expect(rows(a.test)).not.toEqual(rows(c.test))
    // Rows with their labels: the two parts together are the data set, as a multiset.
    const whole = rows(digits).sort()
    expect([...rows(a.train), ...rows(a.test)].sort()).toEqual(whole)
  })

  it('copies: changing a part does not change the data set', () => {
    const before = digits.features[0]
    const {train, test} = splitTrainTest(digits, 1)
    train.features.fill(99)
    test.features.fill(99)
    expect(digits.features[0]).toBe(before)
  })

  it('refuses a fraction outside (0, 1)', async () => {
    expect((await failure(() => splitTrainTest(digits, 1, 1))).code).toBe('FL_DATASET_INVALID')
    expect((await failure(() => splitTrainTest(digits, 1, 0))).code).toBe('FL_DATASET_INVALID')
  })
})

describe('standardize', () => {
  it('fits mean and variance on the training part only and applies them to the others', () => {
    const train = parseDataset('1,5,0\n3,5,1\n5,5,0\n', 'train')
    const test = parseDataset('3,7,0\n7,5,1\n', 'test')
    standardize(train, test)
    // Feature 1: mean 3, population sd sqrt(8/3); feature 2 is constant on train → 0 everywhere.
    const sd = Math.sqrt(8 / 3)
    expect(Array.from(train.features)).toEqual([-2 / sd, 0, 0, 0, 2 / sd, 0].map(Math.fround))
    expect(Array.from(test.features)).toEqual([0, 0, 4 / sd, 0].map(Math.fround))
  })

  it('gives the training part of digits zero mean and unit variance, and the test part not exactly', () => {
    const {train, test} = splitTrainTest(digits, 5)
    standardize(train, test)
    const stats = (data: Dataset, j: number): {mean: number; variance: number} => {
      let sum = 0
      let squares = 0
      for (let i = 0; i < data.n; i++) {
        const v = data.features[i * data.d + j]!
        sum += v
        squares += v * v
      }
      return {mean: sum / data.n, variance: squares / data.n - (sum / data.n) ** 2}
    }
    // Pixel 0 is blank in every digit: constant → 0.
    expect(stats(train, 0)).toEqual({mean: 0, variance: 0})
    const pixel = stats(train, 20)
    expect(pixel.mean).toBeCloseTo(0, 5)
    expect(pixel.variance).toBeCloseTo(1, 4)
    const testPixel = stats(test, 20)
    expect(Math.abs(testPixel.mean)).toBeGreaterThan(1e-4)
  })
})

describe('partition', async () => {
  const {train} = splitTrainTest(await loadDataset('digits'), 1)

  function checkCover(shards: Uint32Array[], n: number): void {
    const seen = new Uint8Array(n)
    for (const shard of shards) {
      expect(shard.length).toBeGreaterThan(0)
      for (const i of shard) seen[i]!++
    }
    expect(seen.every((v) => v === 1)).toBe(true)
  }

  /** Mean over clients of the share of the client's examples in its most common class. */
  function dominance(shards: Uint32Array[]): number {
    let total = 0
    for (const shard of shards) {
      const byClass = counts(Array.from(shard, (i) => train.labels[i]!), 10)
      total += Math.max(...byClass) / shard.length
    }
    return total / shards.length
  }

  it('iid: every index exactly once, sizes within one, deterministic per seed', () => {
    const shards = partition(train, 20, 'iid', 4)
    checkCover(shards, train.n)
    const sizes = shards.map((s) => s.length)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    expect(partition(train, 20, 'iid', 4)).toEqual(shards)
    expect(partition(train, 20, 'iid', 5)).not.toEqual(shards)
  })

  it('dirichlet: every index exactly once, deterministic per seed, skewed at α = 0.1 and not at iid', () => {
    for (const alpha of [0.1, 0.5, 100]) {
      const shards = partition(train, 20, {dirichlet: alpha}, 9)
      checkCover(shards, train.n)
      expect(partition(train, 20, {dirichlet: alpha}, 9)).toEqual(shards)
    }
    expect(partition(train, 20, {dirichlet: 0.5}, 10)).not.toEqual(partition(train, 20, {dirichlet: 0.5}, 9))
    const iid = dominance(partition(train, 20, 'iid', 9))
    const skewed = dominance(partition(train, 20, {dirichlet: 0.1}, 9))
    const mild = dominance(partition(train, 20, {dirichlet: 0.5}, 9))
    expect(iid).toBeLessThan(0.3)
    expect(skewed).toBeGreaterThan(0.5)
    expect(mild).toBeGreaterThan(iid)
    expect(skewed).toBeGreaterThan(mild)
  })

  it('gives every client at least one example even when the draw leaves one empty', () => {
    // 60 clients over 60 examples at a tiny α: the draws nearly always leave clients empty.
    const small = parseDataset(Array.from({length: 60}, (_, i) => `${i},${i % 3}`).join('\n'), 'small')
    for (const seed of [1, 2, 3]) {
      const shards = partition(small, 60, {dirichlet: 0.01}, seed)
      expect(shards.length).toBe(60)
      const seen = new Uint8Array(60)
      for (const shard of shards) {
        expect(shard.length).toBe(1)
        seen[shard[0]!]!++
      }
      expect(seen.every((v) => v === 1)).toBe(true)
    }
  })

  it('refuses more clients than examples, and a non-positive client count', async () => {
    const err = await failure(() => partition(train, train.n + 1, 'iid', 1))
    expect(err.code).toBe('FL_INVALID_PARTITION')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`${train.n + 1} clients but only ${train.n} training examples: every client needs at least one`)
    expect((await failure(() => partition(train, 0, 'iid', 1))).code).toBe('FL_INVALID_PARTITION')
  })
})

describe('parsePartition', () => {
  it('reads iid and dirichlet:<alpha>', () => {
    expect(parsePartition('iid')).toBe('iid')
    expect(parsePartition('dirichlet:0.5')).toEqual({dirichlet: 0.5})
    expect(parsePartition('dirichlet:10')).toEqual({dirichlet: 10})
  })

  for (const bad of ['', 'IID', 'dirichlet', 'dirichlet:', 'dirichlet:0', 'dirichlet:-1', 'dirichlet:abc', 'dirichlet:Infinity', 'shards:2']) {
    it(`refuses "${bad}" with FL_INVALID_PARTITION`, async () => {
      const err = await failure(() => parsePartition(bad))
      expect(err.code).toBe('FL_INVALID_PARTITION')
      expect(err.exitCode).toBe(2)
      expect(err.hint).toContain('dirichlet:0.5')
    })
  }
})
