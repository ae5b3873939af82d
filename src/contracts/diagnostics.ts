/** A compiler (or import) message, located in a source when solc gave a location. */
export interface Diagnostic {
  severity: 'error' | 'warning' | 'info'
  /** solc's kind (ParserError, TypeError, DeclarationError, Warning, …). */
  type: string
  /** solc's error code, e.g. "2314". */
  errorCode?: string
  message: string
  /** Source name (contracts/Token.sol) … */
  file?: string
  /** … and 1-based line and column. */
  line?: number
  column?: number
  /** `file:line:col: severity: message`, the source line and a caret marker under the span. */
  formatted: string
}

/** A diagnostic as solc's standard JSON output reports it. */
export interface SolcError {
  severity: 'error' | 'warning' | 'info'
  type: string
  errorCode?: string
  message: string
  formattedMessage?: string
  sourceLocation?: {file: string; start: number; end: number}
}

/**
 * Our rendering of a solc diagnostic, with the location turned from byte offsets into
 * line:column and the offending line quoted with a caret marker.
 */
export function toDiagnostic(error: SolcError, sources: ReadonlyMap<string, string>): Diagnostic {
  const location = error.sourceLocation
  const content = location ? sources.get(location.file) : undefined
  if (!location || content === undefined || location.start < 0) {
    const prefix = location?.file ? `${location.file}: ` : ''
    return {
      severity: error.severity,
      type: error.type,
      errorCode: error.errorCode,
      message: error.message,
      file: location?.file,
      formatted: `${prefix}${error.severity}: ${error.message}`,
    }
  }
  const bytes = Buffer.from(content, 'utf8')
  const start = bytes.subarray(0, location.start).toString('utf8').length
  const end = Math.max(start, bytes.subarray(0, Math.max(location.start, location.end)).toString('utf8').length)
  const {line, column} = locate(content, start)
  return {
    severity: error.severity,
    type: error.type,
    errorCode: error.errorCode,
    message: error.message,
    file: location.file,
    line,
    column,
    formatted: formatDiagnostic({severity: error.severity, message: error.message, file: location.file, line, column, length: end - start}, content),
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function locate(content: string, offset: number): {line: number; column: number} {
  const before = content.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return {line, column}
}

/**
 * ```
 * contracts/Broken.sol:4:5: error: Expected ';' but got '}'
 *     uint256 x = 1
 *     ^^^^^^^^^^^^^
 * ```
 * The caret line copies the source line's tabs so the marker lines up; a span running past the
 * end of the line is cut there.
 */
export function formatDiagnostic(
  diagnostic: {severity: string; message: string; file: string; line: number; column: number; length: number},
  content: string,
): string {
  const text = (content.split('\n')[diagnostic.line - 1] ?? '').replace(/\r$/, '')
  const head = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.severity}: ${diagnostic.message}`
  const indent = text.slice(0, diagnostic.column - 1).replace(/[^\t]/g, ' ')
  const width = Math.max(1, Math.min(diagnostic.length, text.length - (diagnostic.column - 1)))
  return `${head}\n${text}\n${indent}${'^'.repeat(width)}`
}
