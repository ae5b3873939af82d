import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {loadDataset, parsePartition, partition, splitTrainTest, standardize} from '../../../src/fl/data.js'
import {FL_DEFAULTS} from '../../../src/fl/model.js'
import {shortestFloat32, splitDataset} from '../../../src/fl/split.js'

const dirs: string[] = []
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, {recursive: true, force: true})))
})

describe('splitDataset', () => {
  it("writes each client exactly the examples fl round gives it, and the test part, bit for bit", async () => {
    const out = await mkdtemp(join(tmpdir(), 'xai-split-'))
    dirs.push(out)
    const result = await splitDataset({dataset: 'digits', clients: 3, partition: 'dirichlet:0.5', seed: 7, out})
    const {train, test} = splitTrainTest(await loadDataset('digits'), FL_DEFAULTS.splitSeed)
    standardize(train, test)
    const shards = partition(train, 3, parsePartition('dirichlet:0.5'), 7)
    expect(result.clients.map((c) => c.examples)).toEqual(shards.map((s) => s.length))
    for (const [i, shard] of shards.entries()) {
      const client = await loadDataset(result.clients[i]!.file)
      expect(client.classes).toEqual(train.classes)
      expect(client.n).toBe(shard.length)
      shard.forEach((row, k) => {
        expect(client.labels[k]).toBe(train.labels[row])
        expect(client.features.subarray(k * train.d, (k + 1) * train.d)).toEqual(train.features.subarray(row * train.d, (row + 1) * train.d))
      })
    }
    const written = await loadDataset(result.test.file)
    expect(written.features).toEqual(test.features)
    expect(written.labels).toEqual(test.labels)
    expect(JSON.parse(await readFile(join(out, 'split.json'), 'utf8')).clients).toHaveLength(3)
  })

  it('prints the shortest decimal that reads back as the same float32', () => {
    for (const v of [0.1, -1.2345678, 3.4e38, 1e-30, 1 / 3, -0]) {
      const f = Math.fround(v)
      const text = shortestFloat32(f)
      expect(Object.is(Math.fround(Number(text)), f)).toBe(true)
    }
    expect(shortestFloat32(Math.fround(0.1))).toBe('0.1')
  })
})
