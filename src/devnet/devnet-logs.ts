/**
 * Reading the nodes' logs of a devnet (`node-<i>/node.log`, JSON lines written by each node's
 * logger plus whatever the process printed, e.g. a stack trace): the last lines of each, merged
 * by time, and following them as they grow.
 */
import {type Stats} from 'node:fs'
import {open, stat} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import {XaiError} from '../util/errors.js'
import type {DevnetPaths, DevnetRecord} from './devnet-folder.js'

export const DevnetLogsErrorCode = {
  unknownNode: 'DEVNET_UNKNOWN_NODE',
} as const

/** One log file to read: a node index and the path of its node.log. */
export interface NodeLogFile {
  node: number
  path: string
}

/** One line of a node's log. */
export interface NodeLogEntry {
  node: number
  /** ISO time of the line; null for a line that is not a JSON log record. */
  time: string | null
  level: string | null
  /** The message; for a line that is not JSON, the whole line. */
  msg: string
  /** The record's other keys (its context). */
  fields: Record<string, unknown>
  /** The line as it stands in the file. */
  raw: string
  /** True when the line is not a JSON log record (a stack trace, output of a crash). */
  plain: boolean
}

/** Where reading a log file resumes: the byte after the last complete line, and the file's inode. */
export interface LogPosition {
  offset: number
  ino: number | null
}

/** The log files of a devnet's nodes, or of one node; an unknown index is a usage error. */
export function nodeLogFiles(paths: DevnetPaths, record: DevnetRecord, node?: number): NodeLogFile[] {
  const indexes = record.nodes.map((n) => n.index).sort((a, b) => a - b)
  if (node === undefined) return indexes.map((i) => ({node: i, path: paths.nodeLog(i)}))
  if (!indexes.includes(node)) {
    throw new XaiError(DevnetLogsErrorCode.unknownNode, `Devnet "${record.name}" has no node ${node}`, {
      hint: `Pass --node with one of its nodes: ${indexes.join(', ')}.`,
      details: {node, nodes: indexes},
    })
  }
  return [{node, path: paths.nodeLog(node)}]
}

const RESERVED = new Set(['time', 'level', 'msg'])

/** Parses one line: a JSON object becomes a record, anything else passes through as `plain`. */
export function parseLogLine(node: number, line: string): NodeLogEntry {
  const plain: NodeLogEntry = {node, time: null, level: null, msg: line, fields: {}, raw: line, plain: true}
  if (!line.startsWith('{')) return plain
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return plain
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return plain
  const record = value as Record<string, unknown>
  const fields: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(record)) if (!RESERVED.has(key)) fields[key] = v
  return {
    node,
    time: typeof record.time === 'string' ? record.time : null,
    level: typeof record.level === 'string' ? record.level : null,
    msg: typeof record.msg === 'string' ? record.msg : '',
    fields,
    raw: line,
    plain: false,
  }
}

/** The `--json` form of an entry: `{node, time, level, msg, ...fields}`. */
export function logEntryJson(entry: NodeLogEntry): Record<string, unknown> {
  const json: Record<string, unknown> = {node: entry.node, time: entry.time, level: entry.level, msg: entry.msg}
  for (const [key, value] of Object.entries(entry.fields)) if (!(key in json)) json[key] = value
  return json
}

/**
 * Merges the entries of several nodes into one sequence by time, keeping each node's own order.
 * A line without a time (a stack trace) takes the time of the record before it in its node's log,
 * so it stays under the line it belongs to. Ties go to the lower node index.
 */
export function mergeByTime(perNode: NodeLogEntry[][], lastTimes: Map<number, number> = new Map()): NodeLogEntry[] {
  const keyed = perNode.map((entries) =>
    entries.map((entry) => {
      const parsed = entry.time === null ? Number.NaN : Date.parse(entry.time)
      if (!Number.isNaN(parsed)) lastTimes.set(entry.node, parsed)
      return {entry, key: lastTimes.get(entry.node) ?? Number.NEGATIVE_INFINITY}
    }),
  )
  const cursors = keyed.map(() => 0)
  const merged: NodeLogEntry[] = []
  for (;;) {
    let best = -1
    for (let i = 0; i < keyed.length; i++) {
      const candidate = keyed[i]![cursors[i]!]
      if (!candidate) continue
      if (best < 0) {
        best = i
        continue
      }
      const current = keyed[best]![cursors[best]!]!
      if (candidate.key < current.key || (candidate.key === current.key && candidate.entry.node < current.entry.node)) best = i
    }
    if (best < 0) return merged
    merged.push(keyed[best]![cursors[best]!]!.entry)
    cursors[best]!++
  }
}

/** The last lines of a file and where reading it on resumes. */
export interface LogTail {
  /** The last complete lines (blank lines left out), oldest first. */
  lines: string[]
  /** Text after the last newline: a line still being written. */
  partial: string
  position: LogPosition
}

const CHUNK = 64 * 1024

/** The last `count` lines of a file, read backwards in chunks; a missing file has none. */
export async function readLogTail(path: string, count: number): Promise<LogTail> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {lines: [], partial: '', position: {offset: 0, ino: null}}
    throw err
  }
  try {
    const info = await handle.stat()
    let pos = info.size
    let buffer = Buffer.alloc(0)
    let newlines = 0
    // Enough to hold `count` complete lines plus the partial tail: count + 1 newlines, or the start.
    while (pos > 0 && newlines <= count) {
      const length = Math.min(CHUNK, pos)
      pos -= length
      const chunk = Buffer.alloc(length)
      const {bytesRead} = await handle.read(chunk, 0, length, pos)
      const read = chunk.subarray(0, bytesRead)
      for (const byte of read) if (byte === 0x0a) newlines++
      buffer = Buffer.concat([read, buffer])
    }
    const lastNewline = buffer.lastIndexOf(0x0a)
    const partial = buffer.subarray(lastNewline + 1).toString('utf8')
    const complete = lastNewline < 0 ? [] : splitLines(buffer.subarray(0, lastNewline + 1).toString('utf8'))
    // The first line is cut when the file was not read from its start.
    if (pos > 0) complete.shift()
    const lines = complete.filter((line) => line.trim() !== '')
    return {
      lines: count === 0 ? [] : lines.slice(-count),
      partial,
      position: {offset: pos + lastNewline + 1, ino: info.ino},
    }
  } finally {
    await handle.close()
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
}

/** What tailNodeLogs returns: the merged entries and where each file's reading resumes. */
export interface NodeLogsTail {
  entries: NodeLogEntry[]
  positions: Map<number, LogPosition>
  /** Nodes whose log does not exist (yet). */
  missing: number[]
}

/**
 * The last `lines` lines of each node's log, merged by time. With `includePartial`, a last line
 * without its newline counts too (when not following; a follower prints it once it is complete).
 */
export async function tailNodeLogs(files: NodeLogFile[], options: {lines: number; includePartial?: boolean}): Promise<NodeLogsTail> {
  const positions = new Map<number, LogPosition>()
  const missing: number[] = []
  const perNode = await Promise.all(
    files.map(async (file) => {
      const tail = await readLogTail(file.path, options.lines)
      positions.set(file.node, tail.position)
      if (tail.position.ino === null) missing.push(file.node)
      let lines = tail.lines
      if (options.includePartial && tail.partial.trim() !== '' && options.lines > 0) lines = [...lines, tail.partial].slice(-options.lines)
      return lines.map((line) => parseLogLine(file.node, line))
    }),
  )
  return {entries: mergeByTime(perNode), positions, missing: missing.sort((a, b) => a - b)}
}

/** Reads what was appended to one log file since the last poll. */
export interface LogFollower {
  readonly node: number
  /** New complete lines since the last poll; starts over from byte 0 after truncation or rotation. */
  poll(): Promise<NodeLogEntry[]>
}

/**
 * Follows one log file from `position` (default: its start, for a file that does not exist yet).
 * A file that shrank (truncated) or was replaced (another inode: rotated, or removed and
 * re-created) is read again from its start; a missing file is waited for.
 */
export function createLogFollower(file: NodeLogFile, position: LogPosition = {offset: 0, ino: null}): LogFollower {
  let {offset, ino} = position
  let partial = Buffer.alloc(0)
  const restart = (): void => {
    offset = 0
    partial = Buffer.alloc(0)
  }
  return {
    node: file.node,
    async poll() {
      let info: Stats
      try {
        info = await stat(file.path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        if (ino !== null) {
          ino = null
          restart()
        }
        return []
      }
      if ((ino !== null && info.ino !== ino) || info.size < offset) restart()
      ino = info.ino
      if (info.size <= offset) return []
      const handle = await open(file.path, 'r')
      const chunks: Buffer[] = [partial]
      try {
        while (offset < info.size) {
          const length = Math.min(4 * CHUNK, info.size - offset)
          const chunk = Buffer.alloc(length)
          const {bytesRead} = await handle.read(chunk, 0, length, offset)
          if (bytesRead === 0) break
          chunks.push(chunk.subarray(0, bytesRead))
          offset += bytesRead
        }
      } finally {
        await handle.close()
      }
      const buffer = Buffer.concat(chunks)
      const lastNewline = buffer.lastIndexOf(0x0a)
      partial = Buffer.from(buffer.subarray(lastNewline + 1))
      if (lastNewline < 0) return []
      return splitLines(buffer.subarray(0, lastNewline + 1).toString('utf8'))
        .filter((line) => line.trim() !== '')
        .map((line) => parseLogLine(file.node, line))
    },
  }
}

export interface FollowNodeLogsOptions {
  /** Where each node's reading resumes (from tailNodeLogs); a node not in it is read from its start. */
  from?: Map<number, LogPosition>
  /** Stops following. */
  signal: AbortSignal
  /** Milliseconds between polls of the files' sizes (default 250). */
  pollMs?: number
  /** Each poll's new lines, merged by time across nodes. */
  onEntries(entries: NodeLogEntry[]): void
}

/** Prints (through `onEntries`) what the nodes append to their logs until the signal aborts. */
export async function followNodeLogs(files: NodeLogFile[], options: FollowNodeLogsOptions): Promise<void> {
  const followers = files.map((file) => createLogFollower(file, options.from?.get(file.node)))
  const lastTimes = new Map<number, number>()
  const pollMs = options.pollMs ?? 250
  while (!options.signal.aborted) {
    const perNode = await Promise.all(followers.map((f) => f.poll().catch(() => [])))
    const entries = mergeByTime(perNode, lastTimes)
    if (entries.length > 0 && !options.signal.aborted) options.onEntries(entries)
    await sleep(pollMs, undefined, {signal: options.signal}).catch(() => undefined)
  }
}

const LEVEL_COLORS: Record<string, string> = {debug: '90', info: '32', warn: '33', error: '31'}

export interface FormatLogEntryOptions {
  /** ANSI colours (on a terminal). */
  color: boolean
  /** Fields not printed (default: `pid`, which every line of a node carries). */
  omit?: readonly string[]
}

/**
 * One entry for humans: `HH:MM:SS.mmm node-1 INFO  message key=value …` (local time); string
 * fields spanning several lines (stacks) follow, indented. A line that is not JSON is returned as
 * it is.
 */
export function formatLogEntry(entry: NodeLogEntry, options: FormatLogEntryOptions): string {
  if (entry.plain) return entry.raw
  const paint = (code: string, text: string): string => (options.color ? `\u001B[${code}m${text}\u001B[0m` : text)
  const omit = new Set(options.omit ?? ['pid'])
  const level = (entry.level ?? '').toUpperCase().padEnd(5)
  const pairs: string[] = []
  const blocks: string[] = []
  for (const [key, value] of Object.entries(entry.fields)) {
    if (omit.has(key)) continue
    if (typeof value === 'string' && value.includes('\n')) {
      blocks.push(`    ${paint('2', `${key}:`)}`, ...value.split('\n').map((line) => `      ${line}`))
    } else {
      pairs.push(`${paint('2', `${key}=`)}${formatValue(value)}`)
    }
  }
  const head = [
    paint('2', formatTime(entry.time)),
    paint('36', `node-${entry.node}`),
    paint(LEVEL_COLORS[entry.level ?? ''] ?? '0', level),
    entry.msg,
    ...pairs,
  ].join(' ')
  return [head, ...blocks].join('\n')
}

/** `HH:MM:SS.mmm` in local time; the string as it is when it is not a date. */
export function formatTime(time: string | null): string {
  if (time === null) return '--:--:--.---'
  const date = new Date(time)
  if (Number.isNaN(date.getTime())) return time
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value !== '' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
  if (typeof value === 'object' && value !== null) return JSON.stringify(value)
  return String(value)
}
