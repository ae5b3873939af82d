import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Stream} from '@libp2p/interface'
import {describe, expect, it} from 'vitest'

import {FrameReader, FramingError, decodeVarint, encodeFrame, encodeVarint, writeFrames} from '../../../src/p2p/framing.js'
import '../../../src/p2p/polyfill.js'
import {sendRequest, serveRequest} from '../../../src/p2p/request-response.js'
import {bytes, memoryLogger, text, waitFor} from './helpers.js'

/** Just enough of a libp2p 3 Stream for the framing code: an EventTarget with send/close/abort. */
class FakeStream extends EventTarget {
  status = 'open'
  remoteWriteStatus = 'writable'
  writeStatus = 'writable'
  readBufferLength = 0
  readonly sent: Uint8Array[] = []
  aborted?: Error
  writeClosed = false

  send(data: Uint8Array): boolean {
    if (this.writeStatus !== 'writable') throw new Error(`cannot write to a ${this.writeStatus} stream`)
    this.sent.push(data.slice())
    return true
  }
  async onDrain(): Promise<void> {}
  async close(): Promise<void> {
    this.writeClosed = true
    this.writeStatus = 'closed'
  }
  abort(err: Error): void {
    if (this.aborted !== undefined) return
    this.aborted = err
    this.status = 'aborted'
    this.writeStatus = 'closed'
    this.dispatchEvent(Object.assign(new Event('close'), {error: err}))
  }
  /** The remote sends bytes. */
  push(data: Uint8Array): void {
    this.dispatchEvent(Object.assign(new Event('message'), {data}))
  }
  /** The remote closes its writable end. */
  end(): void {
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(new Event('remoteCloseWrite'))
  }
  /** Everything written, as one buffer. */
  written(): Uint8Array {
    return Buffer.concat(this.sent)
  }
  asStream(): Stream {
    return this as unknown as Stream
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

/** Splits everything written into frames. */
function frames(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let offset = 0
  while (offset < data.length) {
    const prefix = decodeVarint(data, offset)!
    out.push(data.subarray(offset + prefix.length, offset + prefix.length + prefix.value))
    offset += prefix.length + prefix.value
  }
  return out
}

describe('varint framing', () => {
  it('round-trips lengths across the 7-bit boundaries', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 31 - 1]) {
      const encoded = encodeVarint(n)
      expect(decodeVarint(encoded)).toEqual({value: n, length: encoded.length})
    }
    expect(encodeVarint(300)).toEqual(Uint8Array.from([0xac, 0x02]))
    expect(() => encodeVarint(-1)).toThrow(RangeError)
    expect(() => encodeVarint(2 ** 31)).toThrow(RangeError)
  })

  it('reports an incomplete prefix as undefined and an overlong one as an error', () => {
    expect(decodeVarint(Uint8Array.from([0x80, 0x80]))).toBeUndefined()
    expect(() => decodeVarint(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(FramingError)
    expect(() => decodeVarint(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/out of range/)
  })

  it('reads frames split across chunks, several per chunk, and empty ones', async () => {
    const stream = new FakeStream()
    const reader = new FrameReader(stream.asStream(), 1024)
    const wire = concat(...encodeFrame(bytes('hello')), ...encodeFrame(new Uint8Array(0)), ...encodeFrame(bytes('world!')))
    for (let i = 0; i < wire.length; i += 3) stream.push(wire.subarray(i, i + 3))
    stream.end()
    expect(text((await reader.next(100))!)).toBe('hello')
    expect((await reader.next(100))!.length).toBe(0)
    expect(text((await reader.next(100))!)).toBe('world!')
    expect(await reader.next(100)).toBeUndefined()
    reader.dispose()
  })

  it('waits for bytes that arrive later', async () => {
    const stream = new FakeStream()
    const reader = new FrameReader(stream.asStream(), 1024)
    const pending = reader.next(100)
    stream.push(encodeVarint(3))
    stream.push(bytes('abc'))
    expect(text((await pending)!)).toBe('abc')
  })

  it('rejects an oversized frame, a truncated one, and a reset stream', async () => {
    const big = new FakeStream()
    const bigReader = new FrameReader(big.asStream(), 4096)
    big.push(encodeVarint(1000))
    await expect(bigReader.next(999)).rejects.toMatchObject({tooLarge: true})

    const flood = new FakeStream()
    const floodReader = new FrameReader(flood.asStream(), 16)
    flood.push(new Uint8Array(17))
    expect(flood.aborted).toBeInstanceOf(FramingError)
    await expect(floodReader.next(1000)).rejects.toThrow(/more than 16 bytes/)

    const truncated = new FakeStream()
    const truncatedReader = new FrameReader(truncated.asStream(), 1024)
    truncated.push(concat(encodeVarint(10), bytes('abc')))
    truncated.end()
    await expect(truncatedReader.next(100)).rejects.toThrow(/ended inside a frame/)

    const reset = new FakeStream()
    const resetReader = new FrameReader(reset.asStream(), 1024)
    const pending = resetReader.next(100)
    reset.abort(new Error('stream reset'))
    await expect(pending).rejects.toThrow('stream reset')
  })

  it('stops waiting when the signal aborts', async () => {
    const stream = new FakeStream()
    const reader = new FrameReader(stream.asStream(), 1024)
    const abort = new AbortController()
    const pending = reader.next(100, abort.signal)
    abort.abort(new Error('gave up'))
    await expect(pending).rejects.toThrow('gave up')
  })

  it('writes a frame as prefix and payload', async () => {
    const stream = new FakeStream()
    await writeFrames(stream.asStream(), [bytes('a'), new Uint8Array(0), new Uint8Array(70_000)])
    expect(frames(stream.written()).map((f) => f.length)).toEqual([1, 0, 70_000])
  })
})

describe('request/response protocol', () => {
  const serve = (stream: FakeStream, handler: (request: Uint8Array) => Promise<Uint8Array[]>, logger = memoryLogger()) =>
    serveRequest(stream.asStream(), {from: 'peer-x', protocol: 'sync', handler, logger})

  it('answers with a header counting the chunks, then the chunks, then closes', async () => {
    const stream = new FakeStream()
    const done = serve(stream, async (request) => [request, new Uint8Array(0), bytes('z')])
    stream.push(concat(...encodeFrame(bytes('req'))))
    stream.end()
    await done
    const [header, ...chunks] = frames(stream.written())
    expect([...header!]).toEqual([0, 3])
    expect(chunks.map(text)).toEqual(['req', '', 'z'])
    expect(stream.writeClosed).toBe(true)
    expect(stream.aborted).toBeUndefined()
  })

  it('reports a throwing handler in an error header and logs it', async () => {
    const stream = new FakeStream()
    const logger = memoryLogger()
    const done = serve(stream, async () => {
      throw new Error('no such block')
    }, logger)
    stream.push(concat(...encodeFrame(bytes('req'))))
    stream.end()
    await done
    const [header] = frames(stream.written())
    expect(header![0]).toBe(1)
    expect(text(header!.subarray(1))).toBe('no such block')
    expect(logger.lines).toContainEqual(expect.objectContaining({level: 'warn', message: 'p2p request handler failed'}))
  })

  it('treats a handler returning something else than byte arrays as a failure', async () => {
    const stream = new FakeStream()
    const done = serve(stream, async () => ['not bytes'] as unknown as Uint8Array[])
    stream.push(concat(...encodeFrame(bytes('req'))))
    stream.end()
    await done
    expect(frames(stream.written())[0]![0]).toBe(1)
  })

  it('aborts the stream on malformed input without throwing or calling the handler', async () => {
    let called = false
    const handler = async (): Promise<Uint8Array[]> => {
      called = true
      return []
    }
    for (const garbage of [
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // overlong length prefix
      encodeVarint(64 * 1024 * 1024), // a request over the 4 MiB limit
      Uint8Array.from([0x05, 0x01]), // truncated request
      new Uint8Array(0), // nothing at all
    ]) {
      const stream = new FakeStream()
      const done = serve(stream, handler)
      if (garbage.length > 0) stream.push(garbage)
      stream.end()
      await expect(done).resolves.toBeUndefined()
      expect(stream.aborted).toBeInstanceOf(Error)
    }
    expect(called).toBe(false)
  })

  it('rejects a response whose header announces too many chunks', async () => {
    const stream = new FakeStream()
    const pending = sendRequest(stream.asStream(), bytes('q'), {
      peerId: 'peer-x',
      protocol: 'sync',
      limits: {maxChunks: 2, maxBytes: 100},
      signal: new AbortController().signal,
    })
    await waitFor(() => stream.writeClosed, 'request written')
    stream.push(concat(...encodeFrame(Uint8Array.from([0, 3]))))
    await expect(pending).rejects.toMatchObject({code: 'P2P_RESPONSE_TOO_LARGE'})
  })

  it('rejects a truncated response and a malformed header', async () => {
    for (const [wire, pattern] of [
      [concat(...encodeFrame(Uint8Array.from([0, 2])), ...encodeFrame(bytes('one'))), /truncated after 1 of 2/],
      [concat(...encodeFrame(Uint8Array.from([7]))), /malformed response header/],
    ] as const) {
      const stream = new FakeStream()
      const pending = sendRequest(stream.asStream(), bytes('q'), {
        peerId: 'peer-x',
        protocol: 'sync',
        limits: {maxChunks: 10, maxBytes: 100},
        signal: new AbortController().signal,
      })
      await waitFor(() => stream.writeClosed, 'request written')
      stream.push(wire)
      stream.end()
      await expect(pending).rejects.toThrow(pattern)
    }
  })
})

describe('Promise.withResolvers polyfill', () => {
  it('exists and behaves as the spec says', async () => {
    const withResolvers = (Promise as unknown as {withResolvers: <T>() => {promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void}}).withResolvers
    expect(typeof withResolvers).toBe('function')
    expect(Object.getOwnPropertyDescriptor(Promise, 'withResolvers')?.enumerable).toBe(false)

    const ok = withResolvers.call(Promise) as {promise: Promise<number>; resolve: (v: number) => void}
    ok.resolve(42)
    await expect(ok.promise).resolves.toBe(42)
    const bad = withResolvers.call(Promise) as {promise: Promise<number>; reject: (e: unknown) => void}
    bad.reject(new Error('nope'))
    await expect(bad.promise).rejects.toThrow('nope')

    class SubPromise<T> extends Promise<T> {}
    expect(withResolvers.call(SubPromise).promise).toBeInstanceOf(SubPromise)
    expect(() => withResolvers.call({})).toThrow(TypeError)
  })
})

describe('src/p2p module graph', () => {
  it('loads libp2p only dynamically, so importing host.ts is cheap', async () => {
    const dir = fileURLToPath(new URL('../../../src/p2p', import.meta.url))
    const heavy = /^(libp2p|@libp2p\/|@chainsafe\/|@multiformats\/)/
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.ts')) continue
      const source = await readFile(join(dir, file), 'utf8')
      for (const match of source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
        if (heavy.test(match[2]!)) expect(match[1], `${file} imports ${match[2]} at run time`).toBe('type ')
      }
    }
    const host = await readFile(join(dir, 'host.ts'), 'utf8')
    const firstImport = host.match(/^import\s.*$/m)?.[0]
    expect(firstImport).toBe("import './polyfill.js'")
  })
})
