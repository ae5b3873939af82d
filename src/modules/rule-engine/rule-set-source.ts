import {LineCounter, isMap, isNode, isScalar, isSeq, parseDocument} from 'yaml'

import {type RuleSetProblem, ruleSetInvalid} from './errors.js'

/** A rule set read from YAML: its plain value, and the line each path in it came from. */
export interface RuleSetSource {
  value: unknown
  /** 1-based line of the deepest node on `path` (a mapping key's own line for a key), or null. */
  lineOf(path: readonly (string | number)[]): number | null
}

/**
 * Reads YAML with the failsafe schema: every scalar stays the text it was written as, so an
 * address such as 0x00ab… is never read as a hex number and a big amount never loses digits.
 * The compiler interprets each value by the field it is compared with. Syntax errors and
 * duplicate keys throw RULES_INVALID with their line.
 */
export function readRuleSetSource(text: string): RuleSetSource {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {schema: 'failsafe', lineCounter, uniqueKeys: true, prettyErrors: false})
  if (doc.errors.length > 0) {
    const problems: RuleSetProblem[] = doc.errors.map((err) => ({
      ruleId: null,
      line: lineCounter.linePos(err.pos[0]).line,
      path: '',
      message: `YAML syntax: ${err.message.split('\n')[0]}`,
    }))
    throw ruleSetInvalid(problems)
  }
  const lineOf = (path: readonly (string | number)[]): number | null => {
    let node: unknown = doc.contents
    let offset: number | undefined = isNode(node) ? node.range?.[0] : undefined
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : item.key) === String(segment))
        if (!pair) break
        if (isNode(pair.key) && pair.key.range) offset = pair.key.range[0]
        node = pair.value
        // A key's own line names it best; step into its value only to go deeper.
        continue
      }
      if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment]
        if (!isNode(item)) break
        node = item
        if (item.range) offset = item.range[0]
        continue
      }
      break
    }
    return offset === undefined ? null : lineCounter.linePos(offset).line
  }
  return {value: doc.toJS({maxAliasCount: 100}), lineOf}
}
