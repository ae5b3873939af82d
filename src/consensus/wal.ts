import {closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {crc32} from 'node:zlib'

import type {Step} from './types.js'

/**
 * One entry of the consensus write-ahead log: everything the state machine was fed at the current
 * height, in order. The machine is a pure function, so replaying the entries rebuilds its state
 * (locks included) after a crash, and the signed messages among them are what this validator
 * already said.
 */
export type WalEntry =
  | {t: 'start'; height: number}
  /** A consensus message (wire bytes, hex) handed to the machine; `valid` for proposals. */
  | {t: 'msg'; wire: string; valid?: boolean}
  | {t: 'timeout'; step: Step; height: number; round: number}

const HEADER = 8

/**
 * An append-only file of length- and checksum-framed JSON entries for one height. A torn last
 * entry (a crash mid-write) is dropped on reading. `sync` is called before any vote or proposal
 * leaves the node, so what it signed is on disk before anyone can see it.
 */
export class ConsensusWal {
  private fd: number
  private readonly path: string

  private constructor(
    private readonly dir: string,
    fd: number,
  ) {
    this.fd = fd
    this.path = join(dir, 'consensus.wal')
  }

  /** Opens the log in `dir`, returning it with the entries it already holds. */
  static open(dir: string): {wal: ConsensusWal; entries: WalEntry[]} {
    mkdirSync(dir, {recursive: true})
    const path = join(dir, 'consensus.wal')
    const entries = readEntries(path)
    const fd = openSync(path, 'a')
    return {wal: new ConsensusWal(dir, fd), entries}
  }

  /** Starts a fresh log for `height` (atomically replacing the previous height's). */
  startHeight(height: number): void {
    const tmp = join(this.dir, 'consensus.wal.tmp')
    const fd = openSync(tmp, 'w')
    writeSync(fd, frame({t: 'start', height}))
    fdatasyncSync(fd)
    renameSync(tmp, this.path)
    closeSync(this.fd)
    this.fd = openSync(this.path, 'a')
  }

  append(entry: WalEntry): void {
    writeSync(this.fd, frame(entry))
  }

  /** Makes everything appended so far durable. */
  sync(): void {
    fdatasyncSync(this.fd)
  }

  close(): void {
    try {
      closeSync(this.fd)
    } catch {
      // already closed
    }
  }
}

function frame(entry: WalEntry): Buffer {
  const body = Buffer.from(JSON.stringify(entry), 'utf8')
  const out = Buffer.allocUnsafe(HEADER + body.length)
  out.writeUInt32BE(body.length, 0)
  out.writeUInt32BE(crc32(body), 4)
  body.copy(out, HEADER)
  return out
}

export function readEntries(path: string): WalEntry[] {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const entries: WalEntry[] = []
  let offset = 0
  while (offset + HEADER <= data.length) {
    const length = data.readUInt32BE(offset)
    const sum = data.readUInt32BE(offset + 4)
    const end = offset + HEADER + length
    if (end > data.length) break
    const body = data.subarray(offset + HEADER, end)
    if (crc32(body) !== sum) break
    try {
      entries.push(JSON.parse(body.toString('utf8')) as WalEntry)
    } catch {
      break
    }
    offset = end
  }
  return entries
}
