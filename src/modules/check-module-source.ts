/**
 * The static determinism check of a module's source. It works on tokens (no TypeScript compiler
 * at run time): comments and string contents are skipped, template-literal expressions are
 * checked, and every finding carries its 1-based line and column.
 *
 * Rejected: imports other than the module API (`xai/modules`), `zod`, viem's pure encoding
 * helpers and relative files of the module; `require`, dynamic `import()` and `import.meta`; the
 * clock, randomness, timers, the process, global objects and code evaluation (`Date`,
 * `performance`, `Math`, `process`, `globalThis`, `eval`, `Function`, `setTimeout`, …);
 * `async`/`await` (hooks and calls are synchronous); non-integer numeric literals and division by
 * a plain number (use bigint: `10n / 3n`).
 */

export interface ModuleSourceFinding {
  line: number
  col: number
  rule: 'import' | 'global' | 'float' | 'async'
  message: string
}

export interface ModuleSourceCheck {
  ok: boolean
  findings: ModuleSourceFinding[]
}

/** The import specifiers a module may use (plus relative `./` files of the module itself). */
export const MODULE_IMPORT_ALLOWLIST = ['xai/modules', 'zod'] as const

/** viem's pure helpers a module may import as values (`import type` of anything is fine). */
export const VIEM_PURE_HELPERS: ReadonlySet<string> = new Set([
  'encodeAbiParameters', 'decodeAbiParameters', 'encodeFunctionData', 'decodeFunctionData', 'encodeFunctionResult',
  'decodeFunctionResult', 'encodeEventTopics', 'decodeEventLog', 'encodePacked', 'parseAbi', 'parseAbiItem',
  'parseAbiParameters', 'keccak256', 'sha256', 'toHex', 'toBytes', 'fromHex', 'hexToBigInt', 'hexToBytes', 'hexToString',
  'bytesToHex', 'bytesToBigInt', 'numberToHex', 'stringToHex', 'stringToBytes', 'getAddress', 'isAddress',
  'isAddressEqual', 'concat', 'concatHex', 'pad', 'padHex', 'slice', 'sliceHex', 'size', 'trim', 'toFunctionSelector',
  'toEventSelector', 'zeroAddress', 'maxUint256', 'parseUnits', 'formatUnits',
])

const FORBIDDEN_GLOBALS: Record<string, string> = {
  Date: 'the clock: use ctx.timestamp (the block\'s) or ctx.height',
  performance: 'the clock: use ctx.height',
  Math: 'floating-point arithmetic and randomness: use bigint arithmetic',
  process: 'the process environment is not the same on every validator',
  globalThis: 'global state is shared between modules and runs',
  global: 'global state is shared between modules and runs',
  window: 'global state is shared between modules and runs',
  self: 'global state is shared between modules and runs',
  eval: 'code evaluation',
  Function: 'code evaluation',
  require: 'loading code at run time: use an allowed import',
  setTimeout: 'timers', setInterval: 'timers', setImmediate: 'timers', queueMicrotask: 'timers',
  crypto: 'a random source', fetch: 'I/O', XMLHttpRequest: 'I/O', WebSocket: 'I/O',
  WebAssembly: 'code evaluation', Atomics: 'shared memory', SharedArrayBuffer: 'shared memory',
  WeakRef: 'garbage-collection timing', FinalizationRegistry: 'garbage-collection timing',
  parseFloat: 'floating point', Intl: 'locale data differs between hosts',
}

type TokenKind = 'ident' | 'number' | 'string' | 'template' | 'regex' | 'punct'
interface Token {
  kind: TokenKind
  text: string
  line: number
  col: number
}

const REGEX_AFTER_KEYWORDS = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await'])
const PUNCTUATORS = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=', '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '<<', '>>']

class SourceSyntaxError extends Error {
  constructor(readonly line: number, readonly col: number, message: string) {
    super(message)
  }
}

/** Splits TypeScript source into tokens, skipping whitespace and comments. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let pos = 0
  let line = 1
  let lineStart = 0
  // '{' of a block/object or of a template substitution, to know where a template resumes.
  const braces: ('brace' | 'template')[] = []

  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) {
      if (source[i] === '\n') {
        line++
        lineStart = i + 1
      }
    }
    pos = to
  }
  const push = (kind: TokenKind, start: number, end: number, startLine: number, startCol: number): void => {
    tokens.push({kind, text: source.slice(start, end), line: startLine, col: startCol})
  }
  const regexAllowed = (): boolean => {
    const prev = tokens.at(-1)
    if (!prev) return true
    if (prev.kind === 'ident') return REGEX_AFTER_KEYWORDS.has(prev.text)
    if (prev.kind === 'punct') return ![')', ']', '}'].includes(prev.text)
    return false
  }
  /** Scans template characters from `pos` (just after '`' or a substitution's '}'). */
  const scanTemplate = (start: number, startLine: number, startCol: number): void => {
    let i = pos
    while (i < source.length) {
      const ch = source[i]
      if (ch === '\\') {
        i += 2
      } else if (ch === '`') {
        advance(i + 1)
        push('template', start, pos, startLine, startCol)
        return
      } else if (ch === '$' && source[i + 1] === '{') {
        advance(i + 2)
        push('template', start, pos, startLine, startCol)
        braces.push('template')
        return
      } else {
        i++
      }
    }
    throw new SourceSyntaxError(startLine, startCol, 'unterminated template literal')
  }

  while (pos < source.length) {
    const ch = source[pos]!
    const startLine = line
    const startCol = pos - lineStart + 1
    const start = pos
    if (/\s/.test(ch)) {
      advance(pos + 1)
    } else if (ch === '/' && source[pos + 1] === '/') {
      const end = source.indexOf('\n', pos)
      advance(end === -1 ? source.length : end)
    } else if (ch === '/' && source[pos + 1] === '*') {
      const end = source.indexOf('*/', pos + 2)
      if (end === -1) throw new SourceSyntaxError(startLine, startCol, 'unterminated comment')
      advance(end + 2)
    } else if (ch === '"' || ch === "'") {
      let i = pos + 1
      while (i < source.length && source[i] !== ch) {
        if (source[i] === '\n') throw new SourceSyntaxError(startLine, startCol, 'unterminated string')
        i += source[i] === '\\' ? 2 : 1
      }
      if (i >= source.length) throw new SourceSyntaxError(startLine, startCol, 'unterminated string')
      advance(i + 1)
      push('string', start, pos, startLine, startCol)
    } else if (ch === '`') {
      advance(pos + 1)
      scanTemplate(start, startLine, startCol)
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(ch)) {
      let i = pos + 1
      while (i < source.length && /[\w$\u0080-\uffff]/.test(source[i]!)) i++
      advance(i)
      push('ident', start, pos, startLine, startCol)
    } else if (/\d/.test(ch) || (ch === '.' && /\d/.test(source[pos + 1] ?? ''))) {
      const match = /^(?:0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?(?:\.[\d_]*)?(?:[eE][+-]?\d[\d_]*)?)n?/.exec(source.slice(pos))
      advance(pos + Math.max(1, match![0].length))
      push('number', start, pos, startLine, startCol)
    } else if (ch === '/' && regexAllowed()) {
      let i = pos + 1
      let inClass = false
      while (i < source.length) {
        const c = source[i]
        if (c === '\n') throw new SourceSyntaxError(startLine, startCol, 'unterminated regular expression')
        if (c === '\\') i++
        else if (c === '[') inClass = true
        else if (c === ']') inClass = false
        else if (c === '/' && !inClass) break
        i++
      }
      i++
      while (i < source.length && /[a-z]/.test(source[i]!)) i++
      advance(i)
      push('regex', start, pos, startLine, startCol)
    } else if (ch === '{') {
      braces.push('brace')
      advance(pos + 1)
      push('punct', start, pos, startLine, startCol)
    } else if (ch === '}') {
      if (braces.pop() === 'template') {
        advance(pos + 1)
        scanTemplate(start, startLine, startCol)
      } else {
        advance(pos + 1)
        push('punct', start, pos, startLine, startCol)
      }
    } else {
      const punct = PUNCTUATORS.find((candidate) => source.startsWith(candidate, pos)) ?? ch
      advance(pos + punct.length)
      push('punct', start, pos, startLine, startCol)
    }
  }
  return tokens
}

function unquote(token: Token): string {
  return token.text.slice(1, -1)
}

function isFloatLiteral(text: string): boolean {
  if (/^0[xXoObB]/.test(text) || text.endsWith('n')) return false
  return /[.eE]/.test(text)
}

/** Checks a module's source for anything that could make validators disagree. */
export function checkModuleSource(source: string): ModuleSourceCheck {
  let tokens: Token[]
  try {
    tokens = tokenize(source)
  } catch (err) {
    if (err instanceof SourceSyntaxError) return {ok: false, findings: [{line: err.line, col: err.col, rule: 'import', message: `cannot read the source: ${err.message}`}]}
    throw err
  }
  const findings: ModuleSourceFinding[] = []
  const at = (token: Token, rule: ModuleSourceFinding['rule'], message: string): void => {
    findings.push({line: token.line, col: token.col, rule, message})
  }

  const checkSpecifier = (token: Token, names: {name: string; token: Token}[] | 'namespace' | 'none', typeOnly: boolean): void => {
    const specifier = unquote(token)
    if (specifier.startsWith('./')) return
    if ((MODULE_IMPORT_ALLOWLIST as readonly string[]).includes(specifier)) return
    if (specifier === 'viem') {
      if (typeOnly) return
      if (names === 'namespace') return at(token, 'import', `"import * from 'viem'": import viem's pure helpers by name`)
      for (const {name, token: nameToken} of names === 'none' ? [] : names) {
        if (!VIEM_PURE_HELPERS.has(name)) at(nameToken, 'import', `viem's "${name}" is not one of the pure encoding helpers a module may use`)
      }
      return
    }
    if (typeOnly) return
    const builtin = /^(node:)?(fs|net|child_process|http|https|os|crypto|dgram|worker_threads|cluster|dns|tls|process|fs\/promises|timers|perf_hooks|vm)$/.test(specifier)
    at(token, 'import', builtin ? `"${specifier}" is I/O or host state a module cannot use` : `"${specifier}" is not an allowed import (allowed: ${MODULE_IMPORT_ALLOWLIST.join(', ')}, viem's encoding helpers, ./ files)`)
  }

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    const prev = tokens[i - 1]
    const next = tokens[i + 1]
    const isProperty = prev?.kind === 'punct' && (prev.text === '.' || prev.text === '?.')

    if (token.kind === 'ident' && !isProperty && (token.text === 'import' || token.text === 'export')) {
      if (token.text === 'import' && next?.text === '(') {
        at(token, 'import', 'dynamic import() loads code at run time')
        continue
      }
      if (token.text === 'import' && next?.text === '.') {
        at(token, 'import', 'import.meta is host state')
        continue
      }
      // import 'x' | import [type] … from 'x' | export … from 'x'
      if (token.text === 'import' && next?.kind === 'string') {
        checkSpecifier(next, 'none', false)
        continue
      }
      let j = i + 1
      const typeOnly = tokens[j]?.text === 'type' && tokens[j + 1]?.text !== 'from' && tokens[j + 1]?.text !== ','
      if (typeOnly) j++
      // `export` only matters as a re-export: `export {…} from` / `export * from`.
      if (token.text === 'export' && tokens[j]?.text !== '{' && tokens[j]?.text !== '*') continue
      const names: {name: string; token: Token}[] = []
      let namespace = false
      let depth = 0
      let entryStart = true
      for (; j < tokens.length; j++) {
        const t = tokens[j]!
        if (t.text === '{') {
          depth++
          entryStart = true
        } else if (t.text === '}') {
          depth--
        } else if (t.text === ',') {
          entryStart = true
        } else if (t.text === '*') {
          namespace = true
        } else if (depth === 0 && t.kind === 'ident' && t.text === 'from') {
          break
        } else if (t.text === ';' || (t.kind !== 'ident' && t.kind !== 'punct')) {
          break
        } else if (t.kind === 'ident' && entryStart) {
          entryStart = false
          if (t.text === 'type' && tokens[j + 1]?.kind === 'ident' && tokens[j + 1]?.text !== 'as') {
            j++ // `type X`: a type-only entry
          } else if (!namespace) {
            names.push({name: depth > 0 ? t.text : 'default', token: t})
          }
        }
      }
      if (tokens[j]?.text === 'from' && tokens[j + 1]?.kind === 'string') {
        checkSpecifier(tokens[j + 1]!, namespace ? 'namespace' : names, typeOnly)
        i = j + 1
      }
      continue
    }

    if (token.kind === 'ident' && !isProperty) {
      if (token.text in FORBIDDEN_GLOBALS && Object.hasOwn(FORBIDDEN_GLOBALS, token.text)) {
        // An object key (`{Date: 1}`) or a member name is not a use of the global.
        const isKey = next?.text === ':' && (prev?.text === '{' || prev?.text === ',')
        if (!isKey) at(token, 'global', `${token.text}: ${FORBIDDEN_GLOBALS[token.text]}`)
      } else if (token.text === 'async' || token.text === 'await') {
        at(token, 'async', `${token.text}: module hooks and calls are synchronous`)
      }
    }

    if (token.kind === 'number' && isFloatLiteral(token.text)) {
      at(token, 'float', `${token.text}: floating-point literal; state is computed in bigint (e.g. ${token.text.split('.')[0] || '0'}n)`)
    }
    if (token.kind === 'punct' && (token.text === '/' || token.text === '/=') && next?.kind === 'number' && !next.text.endsWith('n')) {
      at(token, 'float', `division by the number ${next.text} is floating point; divide bigints (${next.text}n)`)
    }
  }
  findings.sort((a, b) => a.line - b.line || a.col - b.col)
  return {ok: findings.length === 0, findings}
}
