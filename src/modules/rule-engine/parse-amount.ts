/** Wei per unit, for amounts written like "10 ether" or "5 gwei". */
export const AMOUNT_UNITS: Readonly<Record<string, bigint>> = {
  wei: 1n,
  kwei: 10n ** 3n,
  mwei: 10n ** 6n,
  gwei: 10n ** 9n,
  szabo: 10n ** 12n,
  finney: 10n ** 15n,
  ether: 10n ** 18n,
}

export const MAX_UINT256 = 2n ** 256n - 1n

const AMOUNT = /^(\d+)(?:\.(\d+))?(?:\s*([a-z]+))?$/i
const HEX = /^0x[0-9a-f]+$/i

/**
 * An unsigned integer from how a rule set writes it: a decimal string ("1000"), a string with a
 * unit ("10 ether", "1.5 gwei": exact, so the fraction must come out as whole wei), a hex string
 * ("0x2a"), a bigint, or a safe integer number. Only bigint arithmetic: no floating point.
 * Returns a message instead of a value when the input is not such an amount.
 */
export function parseAmount(value: unknown): {ok: true; value: bigint} | {ok: false; message: string} {
  if (typeof value === 'bigint') return inRange(value)
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return {ok: false, message: `${value} is not an exact integer; write it as a string, e.g. "1.5 ether" or "1500000000000000000"`}
    return inRange(BigInt(value))
  }
  if (typeof value !== 'string') return {ok: false, message: `expected an amount such as "10 ether" or "21000", got ${describe(value)}`}
  const text = value.trim().replaceAll('_', '')
  if (HEX.test(text)) return inRange(BigInt(text))
  const match = AMOUNT.exec(text)
  if (!match) return {ok: false, message: `"${value}" is not an amount; write a whole number, optionally with a unit (wei, gwei, ether…), e.g. "10 ether"`}
  const [, whole = '0', fraction = '', unitName] = match
  const unit = unitName === undefined ? 1n : AMOUNT_UNITS[unitName.toLowerCase()]
  if (unit === undefined) return {ok: false, message: `unknown unit "${unitName}" in "${value}"; units: ${Object.keys(AMOUNT_UNITS).join(', ')}`}
  const scale = 10n ** BigInt(fraction.length)
  const scaled = (BigInt(whole) * scale + BigInt(fraction === '' ? '0' : fraction)) * unit
  if (scaled % scale !== 0n) return {ok: false, message: `"${value}" is not a whole number of wei`}
  return inRange(scaled / scale)
}

function inRange(value: bigint): {ok: true; value: bigint} | {ok: false; message: string} {
  if (value < 0n) return {ok: false, message: `${value} is negative; amounts are unsigned`}
  if (value > MAX_UINT256) return {ok: false, message: `${value} does not fit in 256 bits`}
  return {ok: true, value}
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `"${value}"`
  return `${typeof value} ${String(value)}`
}
