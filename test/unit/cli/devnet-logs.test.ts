import {appendFile, mkdir, mkdtemp, rename, rm, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import {type DevnetPaths, type DevnetRecord, devnetPaths} from '../../../src/devnet/devnet-folder.js'
import {
  type NodeLogEntry,
  type NodeLogFile,
  createLogFollower,
  followNodeLogs,
  formatLogEntry,
  formatTime,
  logEntryJson,
  mergeByTime,
  nodeLogFiles,
  parseLogLine,
  readLogTail,
  tailNodeLogs,
} from '../../../src/devnet/devnet-logs.js'
import {isXaiError} from '../../../src/util/errors.js'

/** A JSON log line as a node's logger writes it, at second `s` (+ `ms`) of 2025-01-01 00:00 UTC. */
function line(s: number, msg: string, context: Record<string, unknown> = {}, level = 'info', ms = 0): string {
  const time = new Date(Date.UTC(2025, 0, 1, 0, 0, s, ms)).toISOString()
  return JSON.stringify({time, level, msg, pid: 4242, ...context})
}

let root: string
let paths: DevnetPaths
let files: NodeLogFile[]

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xai-logs-'))
  paths = devnetPaths({dir: root, name: 'default'})
  files = [0, 1].map((node) => ({node, path: paths.nodeLog(node)}))
  for (const file of files) await mkdir(join(file.path, '..'), {recursive: true})
})

afterEach(async () => {
  await rm(root, {recursive: true, force: true})
})

const messages = (entries: NodeLogEntry[]): string[] => entries.map((e) => `${e.node}:${e.msg}`)

describe('parseLogLine', () => {
  it('splits a record into time, level, msg and its other fields', () => {
    const entry = parseLogLine(2, line(1, 'committed block', {height: 5, txs: 3}))
    expect(entry).toMatchObject({node: 2, time: '2025-01-01T00:00:01.000Z', level: 'info', msg: 'committed block', plain: false})
    expect(entry.fields).toEqual({pid: 4242, height: 5, txs: 3})
    expect(logEntryJson(entry)).toEqual({node: 2, time: '2025-01-01T00:00:01.000Z', level: 'info', msg: 'committed block', pid: 4242, height: 5, txs: 3})
  })

  it('passes lines that are not JSON records through as they are', () => {
    for (const raw of ['    at Engine.commit (file:///x/engine.js:10:5)', '{"time": "2025-01-01T00:00:01.000Z", "msg": "cut o', '[1,2]', 'null']) {
      const entry = parseLogLine(0, raw)
      expect(entry).toMatchObject({plain: true, time: null, level: null, msg: raw, raw})
      expect(formatLogEntry(entry, {color: true})).toBe(raw)
    }
  })
})

describe('nodeLogFiles', () => {
  const record = {name: 'default', nodes: [0, 1, 2, 3].map((index) => ({index}))} as unknown as DevnetRecord

  it('lists every node, or the one asked for', () => {
    expect(nodeLogFiles(paths, record).map((f) => f.node)).toEqual([0, 1, 2, 3])
    expect(nodeLogFiles(paths, record, 2)).toEqual([{node: 2, path: join(root, 'devnets/default/node-2/node.log')}])
  })

  it('rejects an unknown index with a hint listing the valid ones', () => {
    let error: unknown
    try {
      nodeLogFiles(paths, record, 7)
    } catch (err) {
      error = err
    }
    expect(isXaiError(error)).toBe(true)
    expect(error).toMatchObject({code: 'DEVNET_UNKNOWN_NODE', exitCode: 2, message: 'Devnet "default" has no node 7'})
    expect((error as {hint: string}).hint).toContain('0, 1, 2, 3')
  })
})

describe('tail', () => {
  it('takes the last N lines of each node and merges them by time', async () => {
    await writeFile(files[0]!.path, `${[1, 3, 5, 7, 9].map((s) => line(s, `a${s}`)).join('\n')}\n`)
    await writeFile(files[1]!.path, `${[2, 4, 6, 8, 10].map((s) => line(s, `b${s}`)).join('\n')}\n`)
    const tail = await tailNodeLogs(files, {lines: 3})
    expect(messages(tail.entries)).toEqual(['0:a5', '1:b6', '0:a7', '1:b8', '0:a9', '1:b10'])
    expect(tail.missing).toEqual([])
  })

  it('keeps a stack trace under the record it follows, and breaks ties by node index', async () => {
    await writeFile(files[0]!.path, `${line(2, 'a2')}\n${line(5, 'consensus task failed', {}, 'error')}\nError: boom\n    at x (y.js:1:1)\n${line(9, 'a9')}\n`)
    await writeFile(files[1]!.path, `${line(5, 'b5')}\n${line(6, 'b6')}\n`)
    const tail = await tailNodeLogs([files[1]!, files[0]!], {lines: 10})
    expect(messages(tail.entries)).toEqual(['0:a2', '0:consensus task failed', '0:Error: boom', '0:    at x (y.js:1:1)', '1:b5', '1:b6', '0:a9'])
  })

  it('reads the tail of a file larger than its read chunk, and a missing log has no lines', async () => {
    const many = Array.from({length: 5_000}, (_, i) => line(i % 60, `m${i}`, {filler: 'x'.repeat(40)}))
    await writeFile(files[0]!.path, `${many.join('\n')}\n`)
    const tail = await tailNodeLogs(files, {lines: 4})
    expect(messages(tail.entries)).toEqual(['0:m4996', '0:m4997', '0:m4998', '0:m4999'])
    expect(tail.missing).toEqual([1])
    expect(tail.positions.get(1)).toEqual({offset: 0, ino: null})
  })

  it('leaves a line without its newline for the follower unless asked to include it', async () => {
    await writeFile(files[0]!.path, `${line(1, 'a1')}\n${line(2, 'a2')}\n${line(3, 'a3').slice(0, 20)}`)
    const tail = await readLogTail(files[0]!.path, 10)
    expect(tail.lines).toHaveLength(2)
    expect(tail.partial).toBe(line(3, 'a3').slice(0, 20))
    expect(tail.position.offset).toBe(Buffer.byteLength(`${line(1, 'a1')}\n${line(2, 'a2')}\n`))
    const withPartial = await tailNodeLogs([files[0]!], {lines: 2, includePartial: true})
    expect(withPartial.entries.map((e) => e.plain)).toEqual([false, true])
    expect((await readLogTail(files[0]!.path, 0)).lines).toEqual([])
  })
})

describe('createLogFollower', () => {
  it('picks up appended lines, completing a line once its newline arrives', async () => {
    await writeFile(files[0]!.path, `${line(1, 'old')}\n`)
    const {position} = await readLogTail(files[0]!.path, 0)
    const follower = createLogFollower(files[0]!, position)
    expect(await follower.poll()).toEqual([])
    await appendFile(files[0]!.path, `${line(2, 'new')}\n${line(3, 'half').slice(0, 10)}`)
    expect(messages(await follower.poll())).toEqual(['0:new'])
    await appendFile(files[0]!.path, `${line(3, 'half').slice(10)}\n`)
    expect(messages(await follower.poll())).toEqual(['0:half'])
  })

  it('reads a truncated file again from its start', async () => {
    await writeFile(files[0]!.path, `${line(1, 'one')}\n${line(2, 'two')}\n`)
    const follower = createLogFollower(files[0]!, (await readLogTail(files[0]!.path, 0)).position)
    await truncate(files[0]!.path, 0)
    expect(await follower.poll()).toEqual([])
    await appendFile(files[0]!.path, `${line(3, 'after truncation')}\n`)
    expect(messages(await follower.poll())).toEqual(['0:after truncation'])
  })

  it('reads a rotated (replaced) file from its start', async () => {
    await writeFile(files[0]!.path, `${line(1, 'one')}\n${line(2, 'two')}\n${line(3, 'three')}\n`)
    const follower = createLogFollower(files[0]!, (await readLogTail(files[0]!.path, 0)).position)
    await rename(files[0]!.path, `${files[0]!.path}.1`)
    await writeFile(files[0]!.path, `${line(4, 'rotated, and longer than the old offset')}\n${line(5, 'x'.repeat(400))}\n`)
    expect(messages(await follower.poll())).toEqual(['0:rotated, and longer than the old offset', `0:${'x'.repeat(400)}`])
  })

  it('waits for a log that does not exist yet', async () => {
    const follower = createLogFollower(files[1]!)
    expect(await follower.poll()).toEqual([])
    await writeFile(files[1]!.path, `${line(1, 'first')}\n`)
    expect(messages(await follower.poll())).toEqual(['1:first'])
  })
})

describe('followNodeLogs', () => {
  it('reports what the nodes append, merged by time, until the signal aborts', async () => {
    await writeFile(files[0]!.path, `${line(1, 'a1')}\n`)
    const tail = await tailNodeLogs(files, {lines: 10})
    const abort = new AbortController()
    const seen: NodeLogEntry[][] = []
    const following = followNodeLogs(files, {from: tail.positions, signal: abort.signal, pollMs: 5, onEntries: (entries) => seen.push(entries)})
    await appendFile(files[0]!.path, `${line(4, 'a4')}\nnot json\n`)
    await writeFile(files[1]!.path, `${line(3, 'b3')}\n`)
    await vi.waitFor(() => expect(seen.flat()).toHaveLength(3), {timeout: 5_000, interval: 5})
    abort.abort()
    await following
    const all = seen.flat()
    // Within one batch, by time; across batches, in arrival order.
    if (seen.length === 1) expect(messages(all)).toEqual(['1:b3', '0:a4', '0:not json'])
    expect(all.filter((e) => e.node === 0).map((e) => e.msg)).toEqual(['a4', 'not json'])
    expect(all.some((e) => e.msg === 'a1')).toBe(false)
  })
})

describe('mergeByTime', () => {
  it('carries the last time of a node across batches for lines without one', () => {
    const lastTimes = new Map<number, number>()
    mergeByTime([[parseLogLine(0, line(10, 'a10'))]], lastTimes)
    const merged = mergeByTime([[parseLogLine(0, 'trace line')], [parseLogLine(1, line(5, 'b5')), parseLogLine(1, line(11, 'b11'))]], lastTimes)
    expect(messages(merged)).toEqual(['1:b5', '0:trace line', '1:b11'])
  })
})

describe('formatLogEntry', () => {
  it('prints time, node, level, message and key=value pairs, leaving out the pid', () => {
    const entry = parseLogLine(3, line(7, 'committed block', {height: 12, hash: '0xab', note: 'two words', info: {a: 1}, ok: true}, 'info', 25))
    const text = formatLogEntry(entry, {color: false})
    expect(text).toBe(`${formatTime(entry.time)} node-3 INFO  committed block height=12 hash=0xab note="two words" info={"a":1} ok=true`)
    expect(formatTime(entry.time)).toMatch(/^\d\d:\d\d:\d\d\.025$/)
  })

  it('colours the level on a terminal and prints multi-line fields (stacks) below, indented', () => {
    const entry = parseLogLine(0, line(1, 'consensus task failed', {error: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)'}, 'error'))
    const text = formatLogEntry(entry, {color: true})
    expect(text).toContain('\u001B[31mERROR\u001B[0m')
    const lines = text.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[2]).toBe('      Error: boom')
    expect(lines[3]).toBe('          at x (y.js:1:1)')
  })
})
