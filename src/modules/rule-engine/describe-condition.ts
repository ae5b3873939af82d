import type {NormalizedCondition} from './types.js'

const SYMBOLS: Record<string, string> = {eq: '==', ne: '!=', lt: '<', lte: '<=', gt: '>', gte: '>='}

/** A condition as one line of text, e.g. `tx.value > 10000000000000000000 and tx.to notIn treasury`. */
export function describeCondition(condition: NormalizedCondition, nested = false): string {
  const wrap = (text: string): string => (nested ? `(${text})` : text)
  if ('all' in condition) return condition.all.length === 1 ? describeCondition(condition.all[0]!, nested) : wrap(condition.all.map((part) => describeCondition(part, true)).join(' and '))
  if ('any' in condition) return condition.any.length === 1 ? describeCondition(condition.any[0]!, nested) : wrap(condition.any.map((part) => describeCondition(part, true)).join(' or '))
  if ('not' in condition) return `not ${describeCondition(condition.not, true)}`
  if ('list' in condition) return `${condition.field} ${condition.op} ${condition.list}`
  return `${condition.field} ${SYMBOLS[condition.op]} ${String(condition.value)}`
}
