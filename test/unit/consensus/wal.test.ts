import {appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ConsensusWal, readEntries} from '../../../src/consensus/wal.js'

describe('ConsensusWal', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'xai-wal-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('returns what was appended, in order, after a reopen', () => {
    const {wal, entries} = ConsensusWal.open(dir)
    expect(entries).toEqual([])
    wal.startHeight(7)
    wal.append({t: 'msg', wire: Uint8Array.of(1), valid: true})
    wal.append({t: 'timeout', step: 'propose', height: 7, round: 0})
    wal.sync()
    wal.close()
    expect(ConsensusWal.open(dir).entries).toEqual([
      {t: 'start', height: 7},
      {t: 'msg', wire: Uint8Array.of(1), valid: true},
      {t: 'timeout', step: 'propose', height: 7, round: 0},
    ])
  })

  it('starting a height replaces the previous height\'s entries', () => {
    const {wal} = ConsensusWal.open(dir)
    wal.startHeight(1)
    wal.append({t: 'msg', wire: Uint8Array.of(0xaa)})
    wal.startHeight(2)
    wal.append({t: 'msg', wire: Uint8Array.of(0xbb)})
    wal.sync()
    wal.close()
    expect(readEntries(join(dir, 'consensus.wal'))).toEqual([{t: 'start', height: 2}, {t: 'msg', wire: Uint8Array.of(0xbb)}])
  })

  it('drops a torn or corrupted tail (a crash mid-write) and keeps everything before it', () => {
    const {wal} = ConsensusWal.open(dir)
    wal.startHeight(3)
    wal.append({t: 'msg', wire: Uint8Array.of(1, 2)})
    wal.sync()
    wal.close()
    const path = join(dir, 'consensus.wal')
    const good = readFileSync(path)
    // A frame header announcing more bytes than were written.
    appendFileSync(path, Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 5]))
    expect(readEntries(path)).toEqual([{t: 'start', height: 3}, {t: 'msg', wire: Uint8Array.of(1, 2)}])
    // A flipped byte inside the last entry: its checksum fails, the entries before it stay.
    const flipped = Buffer.from(good)
    flipped[flipped.length - 3] ^= 0xff
    writeFileSync(path, flipped)
    expect(readEntries(path)).toEqual([{t: 'start', height: 3}])
  })
})
