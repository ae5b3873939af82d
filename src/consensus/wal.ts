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
  /** A consensus message (its wire bytes) handed to the machine; `valid` for proposals. */
  | {t: 'msg'; wire: Uint8Array; valid?: boolean}
  | {t: 'timeout'; step: Step; height: number; round: number}

const HEADER = 8
/** Body kinds: a JSON entry, or a message stored as its raw bytes (a proposal can be 1 MiB). */
const BODY_JSON = 0
const BODY_MSG = 1

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

  /**
   * Starts a fresh log for `height` (atomically replacing the previous height's). It is made
   * durable by the first `sync`, before anything this node signs at the height leaves it; a
   * crash before that loses only entries that can be received again.
   */
  startHeight(height: number): void {
    const tmp = join(this.dir, 'consensus.wal.tmp')
    const fd = openSync(tmp, 'w')
    writeSync(fd, frame({t: 'start', height}))
    closeSync(fd)
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

/** [length u32][crc32 u32][kind u8][body]: JSON, or for messages [valid u8][wire bytes]. */
function frame(entry: WalEntry): Buffer {
  let out: Buffer
  if (entry.t === 'msg') {
    out = Buffer.allocUnsafe(HEADER + 2 + entry.wire.length)
    out[HEADER] = BODY_MSG
    out[HEADER + 1] = entry.valid === undefined ? 2 : entry.valid ? 1 : 0
    out.set(entry.wire, HEADER + 2)
  } else {
    const json = Buffer.from(JSON.stringify(entry), 'utf8')
    out = Buffer.allocUnsafe(HEADER + 1 + json.length)
    out[HEADER] = BODY_JSON
    json.copy(out, HEADER + 1)
  }
  const body = out.subarray(HEADER)
  out.writeUInt32BE(body.length, 0)
  out.writeUInt32BE(crc32(body), 4)
  return out
}

function parseBody(body: Buffer): WalEntry {
  if (body[0] === BODY_MSG) {
    const flag = body[1]
    const wire = new Uint8Array(body.subarray(2))
    return flag === 2 ? {t: 'msg', wire} : {t: 'msg', wire, valid: flag === 1}
  }
  if (body[0] !== BODY_JSON) throw new Error('unknown WAL entry kind')
  return JSON.parse(body.subarray(1).toString('utf8')) as WalEntry
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
      entries.push(parseBody(body))
    } catch {
      break
    }
    offset = end
  }
  return entries
}
