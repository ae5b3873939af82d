import type {MessageStream, Stream} from '@libp2p/interface'

/**
 * Length-prefixed frames on a libp2p 3 stream: an unsigned LEB128 varint byte count, then the
 * bytes (the framing libp2p's own protocols use). Hand-rolled rather than `lpStream` from
 * @libp2p/utils because that decoder silently skips empty frames and reports a clean end of
 * stream as an error; here an empty frame is a frame and `next()` returns undefined at the end.
 */

/** Frames larger than this are never accepted, whatever the caller's limit (2 GiB - 1). */
const MAX_FRAME_LENGTH = 0x7fffffff
/** A varint for MAX_FRAME_LENGTH takes 5 bytes. */
const MAX_VARINT_BYTES = 5
/** Payloads up to this size are copied behind their prefix and sent as one buffer. */
const COALESCE_BELOW = 64 * 1024

/** Unsigned LEB128 encoding of a frame length. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FRAME_LENGTH) throw new RangeError(`Cannot encode ${value} as a frame length`)
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

/** Decodes a varint at `offset`; undefined when `bytes` ends first. Throws on an overlong one. */
export function decodeVarint(bytes: ArrayLike<number>, offset = 0): {value: number; length: number} | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= bytes.length) return undefined
    const byte = bytes[offset + i]!
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (value > MAX_FRAME_LENGTH) throw new FramingError(`Frame length ${value} is out of range`)
      return {value, length: i + 1}
    }
    scale *= 0x80
  }
  throw new FramingError('Frame length prefix is longer than 5 bytes')
}

/** The stream carried something that is not a valid frame, or more than the reader allows. */
export class FramingError extends Error {
  constructor(
    message: string,
    /** The peer sent more than the reader's limit (as opposed to malformed or truncated data). */
    readonly tooLarge = false,
  ) {
    super(message)
    this.name = 'FramingError'
  }
}

/** The byte chunks that put `payload` on the wire as one frame. */
export function encodeFrame(payload: Uint8Array): Uint8Array[] {
  const prefix = encodeVarint(payload.length)
  if (payload.length >= COALESCE_BELOW) return [prefix, payload]
  const out = new Uint8Array(prefix.length + payload.length)
  out.set(prefix)
  out.set(payload, prefix.length)
  return [out]
}

/** Writes each payload as a frame, waiting for the stream to drain when its buffer is full. */
export async function writeFrames(stream: MessageStream, payloads: Uint8Array[], signal?: AbortSignal): Promise<void> {
  for (const payload of payloads) {
    for (const bytes of encodeFrame(payload)) {
      signal?.throwIfAborted()
      if (!stream.send(bytes)) await stream.onDrain({signal})
    }
  }
}

/**
 * Reads frames from a stream. Listens from construction on, so nothing the remote sends early is
 * left to the stream's own (bounded) pause buffer. Holds at most `maxBuffered` unread bytes: a
 * peer that sends more than that is cut off (the stream is aborted), so a reader never buffers
 * more than its caller agreed to. Call `dispose()` when done.
 */
export class FrameReader {
  private readonly chunks: Uint8Array[] = []
  private buffered = 0
  private ended = false
  private failure?: Error
  private wake?: () => void
  private disposed = false

  private readonly onMessage = (evt: {data: Uint8Array | {subarray(): Uint8Array}}): void => {
    const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
    if (data.length === 0 || this.failure !== undefined) return
    this.chunks.push(data)
    this.buffered += data.length
    if (this.buffered > this.maxBuffered) {
      // Nothing from a peer that overran its allowance is handed out.
      this.chunks.length = 0
      this.buffered = 0
      this.fail(new FramingError(`Peer sent more than ${this.maxBuffered} bytes`, true))
      this.stream.abort(this.failure!)
      return
    }
    this.notify()
  }

  private readonly onRemoteCloseWrite = (): void => {
    this.ended = true
    this.notify()
  }

  private readonly onClose = (evt: {error?: Error}): void => {
    if (evt.error !== undefined) this.fail(evt.error)
    this.ended = true
    this.notify()
  }

  constructor(
    private readonly stream: Stream,
    private readonly maxBuffered: number,
  ) {
    // Bytes that arrived before this listener sit in the stream's read buffer; adding a 'message'
    // listener makes the stream dispatch them (in a microtask).
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
    stream.addEventListener('close', this.onClose)
  }

  /**
   * The next frame (at most `maxFrameBytes` long), or undefined when the stream ended cleanly at
   * a frame boundary. Rejects on a truncated or oversized frame, a reset stream, or `signal`.
   */
  async next(maxFrameBytes: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    for (;;) {
      const frame = this.tryTakeFrame(maxFrameBytes)
      if (frame !== undefined) return frame
      if (this.failure !== undefined) throw this.failure
      if (this.isEnded()) {
        if (this.buffered === 0) return undefined
        throw new FramingError(`Stream ended inside a frame (${this.buffered} bytes left over)`)
      }
      await this.waitForData(signal)
    }
  }

  /** The remote will send nothing more and the stream holds nothing undispatched. */
  private isEnded(): boolean {
    const remoteDone = this.ended || this.stream.remoteWriteStatus === 'closed' || this.stream.status !== 'open'
    return remoteDone && this.stream.readBufferLength === 0
  }

  /** Stops listening to the stream; unread bytes are dropped. */
  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
    this.stream.removeEventListener('close', this.onClose)
    this.chunks.length = 0
    this.buffered = 0
    this.notify()
  }

  private tryTakeFrame(maxFrameBytes: number): Uint8Array | undefined {
    const head = this.peek(MAX_VARINT_BYTES)
    const prefix = decodeVarint(head)
    if (prefix === undefined) return undefined
    if (prefix.value > maxFrameBytes) throw this.fail(new FramingError(`Frame of ${prefix.value} bytes exceeds the ${maxFrameBytes}-byte limit`, true))
    if (this.buffered < prefix.length + prefix.value) return undefined
    this.take(prefix.length)
    return this.take(prefix.value)
  }

  private fail(err: Error): Error {
    this.failure ??= err
    return this.failure
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private async waitForData(signal?: AbortSignal): Promise<void> {
    if (this.disposed) throw new FramingError('Frame reader disposed')
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.wake = undefined
        reject(signal!.reason)
      }
      this.wake = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  /** Up to `n` leading bytes, without consuming them. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]
    if (first === undefined) return new Uint8Array(0)
    if (first.length >= n || this.chunks.length === 1) return first.subarray(0, n)
    const out: number[] = []
    for (const chunk of this.chunks) {
      for (const byte of chunk) {
        out.push(byte)
        if (out.length === n) return Uint8Array.from(out)
      }
    }
    return Uint8Array.from(out)
  }

  /** Consumes `n` buffered bytes into a fresh array (frames never alias the transport's buffers). */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let offset = 0
    while (offset < n) {
      const chunk = this.chunks[0]!
      const count = Math.min(chunk.length, n - offset)
      out.set(chunk.subarray(0, count), offset)
      offset += count
      if (count === chunk.length) this.chunks.shift()
      else this.chunks[0] = chunk.subarray(count)
    }
    this.buffered -= n
    return out
  }
}
