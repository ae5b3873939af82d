/** Libraries log through this: a fixed message plus a context object. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void
  info(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
  error(message: string, context?: Record<string, unknown>): void
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

export const silentLogger: Logger = {debug() {}, info() {}, warn() {}, error() {}}

/** JSON lines, one per event, to the given sink (a node writes them to node.log). */
export function createJsonLogger(write: (line: string) => void, options: {level?: LogLevel; bindings?: Record<string, unknown>} = {}): Logger {
  const min = LEVELS[options.level ?? 'info']
  const emit = (level: LogLevel, msg: string, context?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return
    write(`${JSON.stringify({time: new Date().toISOString(), level, msg, ...options.bindings, ...context}, jsonReplacer)}\n`)
  }
  return {
    debug: (m, c) => emit('debug', m, c),
    info: (m, c) => emit('info', m, c),
    warn: (m, c) => emit('warn', m, c),
    error: (m, c) => emit('error', m, c),
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`
  if (value instanceof Error) return {message: value.message, stack: value.stack}
  return value
}
