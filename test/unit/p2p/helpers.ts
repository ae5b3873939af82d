import {findFreePortRange} from '../../../src/util/ports.js'

import type {Logger} from '../../../src/util/logger.js'

/** Polls `condition` every `intervalMs` until it holds; fails with `message` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, message: string, timeoutMs = 15_000, intervalMs = 25): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await condition()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${message}`)
    await sleep(intervalMs)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A TCP port free on 127.0.0.1 right now, outside the kernel's ephemeral range. */
export function freePort(): Promise<number> {
  return findFreePortRange(1)
}

export interface LogLine {
  level: string
  message: string
  context?: Record<string, unknown>
}

/** A logger that keeps what it is told, for assertions. */
export function memoryLogger(): Logger & {lines: LogLine[]} {
  const lines: LogLine[] = []
  const at = (level: string) => (message: string, context?: Record<string, unknown>) => {
    lines.push({level, message, context})
  }
  return {lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error')}
}

export function seed(n: number): Uint8Array {
  const out = new Uint8Array(32)
  out.fill(n)
  out[0] = 0x5e
  return out
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data)
}
