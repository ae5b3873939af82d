import type {Stream} from '@libp2p/interface'

import {errorMessage} from '../util/errors.js'
import type {Logger} from '../util/logger.js'
import {remoteHandlerFailed, responseTooLarge} from './errors.js'
import {FrameReader, FramingError, decodeVarint, encodeVarint, writeFrames} from './framing.js'

/**
 * The request/response wire protocol, one exchange per stream:
 *
 *   requester → responder   frame(request), then close of the requester's writable end
 *   responder → requester   frame(header), frame(chunk 1) … frame(chunk n), then close
 *
 * The header is `0x00 varint(n)` for a response of n chunks, or `0x01 utf8(reason)` when the
 * handler failed. Each frame is `varint(length) bytes`. The count up front lets the requester
 * refuse an oversized response before reading it and tell a truncated one from a complete one.
 */

/** Largest request a responder reads (4 MiB). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** Default bound on the number of response chunks a requester accepts. */
export const DEFAULT_MAX_CHUNKS = 4096
/** Default bound on the total response bytes a requester accepts (64 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

const STATUS_OK = 0
const STATUS_ERROR = 1
/** An error header carries at most this much of the handler's message. */
const MAX_REASON_BYTES = 256
const MAX_HEADER_BYTES = 1 + MAX_REASON_BYTES * 4
/** How long a responder waits for the request bytes. */
const REQUEST_READ_TIMEOUT_MS = 10_000
/** How long a responder keeps writing to a requester that stopped reading. */
const RESPONSE_WRITE_TIMEOUT_MS = 60_000

/** Answers a request: gets the request bytes, returns the response chunks. */
export type RequestHandler = (request: Uint8Array, from: string) => Promise<Uint8Array[]>

export interface ResponseLimits {
  maxChunks: number
  maxBytes: number
}

/**
 * Serves one inbound request stream. Never throws: a malformed request, a handler that throws or
 * returns something else than a list of byte arrays, and a requester that goes away are logged.
 * A handler failure is reported to the requester as an error header.
 */
export async function serveRequest(stream: Stream, context: {from: string; protocol: string; handler: RequestHandler; logger: Logger}): Promise<void> {
  const {from, protocol, handler, logger} = context
  const reader = new FrameReader(stream, MAX_REQUEST_BYTES + 16)
  const deadline = new AbortController()
  let timer = setTimeout(() => deadline.abort(new Error(`no request within ${REQUEST_READ_TIMEOUT_MS} ms`)), REQUEST_READ_TIMEOUT_MS)
  try {
    const request = await reader.next(MAX_REQUEST_BYTES, deadline.signal)
    reader.dispose()
    if (request === undefined) throw new FramingError('stream ended before the request')
    clearTimeout(timer)
    timer = setTimeout(() => deadline.abort(new Error(`response not taken within ${RESPONSE_WRITE_TIMEOUT_MS} ms`)), RESPONSE_WRITE_TIMEOUT_MS)

    let chunks: Uint8Array[]
    try {
      chunks = await handler(request, from)
      if (!Array.isArray(chunks) || !chunks.every((chunk) => chunk instanceof Uint8Array)) {
        throw new TypeError('handler did not return a list of Uint8Array')
      }
    } catch (err) {
      logger.warn('p2p request handler failed', {protocol, peer: from, error: errorMessage(err)})
      await writeFrames(stream, [errorHeader(errorMessage(err))], deadline.signal)
      await stream.close({signal: deadline.signal})
      return
    }
    await writeFrames(stream, [okHeader(chunks.length), ...chunks], deadline.signal)
    await stream.close({signal: deadline.signal})
  } catch (err) {
    logger.debug('p2p inbound request failed', {protocol, peer: from, error: errorMessage(err)})
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  } finally {
    clearTimeout(timer)
    reader.dispose()
  }
}

/**
 * Sends `request` on a freshly opened stream and reads the response chunks within `limits`.
 * Rejects with a P2P_REMOTE_HANDLER_FAILED or P2P_RESPONSE_TOO_LARGE XaiError, or with the raw
 * stream/framing error (the caller wraps it); aborting `signal` rejects with its reason.
 */
export async function sendRequest(
  stream: Stream,
  request: Uint8Array,
  context: {peerId: string; protocol: string; limits: ResponseLimits; signal: AbortSignal},
): Promise<Uint8Array[]> {
  const {peerId, protocol, limits, signal} = context
  const overhead = MAX_HEADER_BYTES + 8 + (limits.maxChunks + 1) * 5
  const reader = new FrameReader(stream, limits.maxBytes + overhead)
  try {
    await writeFrames(stream, [request], signal)
    await stream.close({signal})

    const header = await reader.next(MAX_HEADER_BYTES, signal)
    if (header === undefined) throw new FramingError('stream closed before the response')
    if (header[0] === STATUS_ERROR) {
      throw remoteHandlerFailed(peerId, protocol, new TextDecoder().decode(header.subarray(1)) || 'unknown error')
    }
    const count = header[0] === STATUS_OK ? decodeVarint(header, 1) : undefined
    if (count === undefined || count.length + 1 !== header.length) throw new FramingError('malformed response header')
    if (count.value > limits.maxChunks) {
      throw responseTooLarge(peerId, protocol, `${count.value} chunks > maxChunks ${limits.maxChunks}`)
    }

    const chunks: Uint8Array[] = []
    let total = 0
    for (let i = 0; i < count.value; i++) {
      let chunk: Uint8Array | undefined
      try {
        chunk = await reader.next(limits.maxBytes - total, signal)
      } catch (err) {
        if (err instanceof FramingError && err.tooLarge) {
          throw responseTooLarge(peerId, protocol, `more than maxBytes ${limits.maxBytes} bytes`)
        }
        throw err
      }
      if (chunk === undefined) throw new FramingError(`response truncated after ${i} of ${count.value} chunks`)
      total += chunk.length
      chunks.push(chunk)
    }
    return chunks
  } finally {
    reader.dispose()
  }
}

function okHeader(count: number): Uint8Array {
  const varint = encodeVarint(count)
  const header = new Uint8Array(1 + varint.length)
  header[0] = STATUS_OK
  header.set(varint, 1)
  return header
}

function errorHeader(reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason.slice(0, MAX_REASON_BYTES))
  const header = new Uint8Array(1 + text.length)
  header[0] = STATUS_ERROR
  header.set(text, 1)
  return header
}
