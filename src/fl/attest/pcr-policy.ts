import {readFileSync} from 'node:fs'

import {parse, stringify} from 'yaml'
import {z} from 'zod'

import {XaiError} from '../../util/errors.js'

/**
 * Which measured states a quote may show: PCR index → the sha256 values allowed for it. Every
 * quote must cover exactly these PCRs. In YAML:
 *
 *     # PCR index: allowed sha256 values (hex)
 *     0: [0000000000000000000000000000000000000000000000000000000000000000]
 *     7:
 *       - 3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969
 */
export interface PcrPolicy {
  /** The PCR indices, ascending. */
  readonly pcrs: readonly number[]
  /** PCR index → allowed values (lowercase hex). */
  readonly allowed: ReadonlyMap<number, ReadonlySet<string>>
}

const SHA256_HEX = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'a sha256 value: 64 hex digits')
  .transform((value) => value.replace(/^0x/, '').toLowerCase())

const PCR_INDEX = /^(?:[0-9]|1[0-9]|2[0-3])$/

const POLICY = z
  .record(z.string(), z.array(SHA256_HEX).min(1, 'at least one allowed value'))
  .superRefine((record, ctx) => {
    const keys = Object.keys(record)
    if (keys.length === 0) ctx.addIssue({code: 'custom', message: 'no PCR listed'})
    for (const key of keys) if (!PCR_INDEX.test(key)) ctx.addIssue({code: 'custom', path: [key], message: 'not a PCR index 0–23'})
  })

/** Parses a policy document; FL_ATTEST_POLICY_INVALID names what is wrong and where. */
export function parsePcrPolicy(text: string, source = 'PCR policy'): PcrPolicy {
  let doc: unknown
  try {
    // The failsafe schema reads every scalar as a string: YAML 1.2 would read an unquoted
    // all-digit value (a PCR of zeros) or a 0x… value as a number.
    doc = parse(text, {schema: 'failsafe'})
  } catch (err) {
    throw new XaiError('FL_ATTEST_POLICY_INVALID', `${source} is not YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, {hint: policyHint})
  }
  const parsed = POLICY.safeParse(doc)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw new XaiError('FL_ATTEST_POLICY_INVALID', `${source} is invalid${where}: ${issue.message}`, {hint: policyHint})
  }
  return policyFromValues(Object.fromEntries(Object.entries(parsed.data).map(([index, values]) => [Number(index), values])))
}

const policyHint = 'A PCR policy maps PCR indices to lists of allowed sha256 values, e.g. "7: [<64 hex digits>]"; xai fl attest check --json prints the current values.'

export function loadPcrPolicy(path: string): PcrPolicy {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new XaiError('FL_ATTEST_POLICY_INVALID', `Cannot read the PCR policy ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {hint: policyHint})
  }
  return parsePcrPolicy(text, path)
}

/** A policy allowing exactly these values (e.g. a reference machine's current PCRs). */
export function policyFromValues(values: Record<number, string | readonly string[]>): PcrPolicy {
  const allowed = new Map<number, Set<string>>()
  for (const [index, value] of Object.entries(values)) allowed.set(Number(index), new Set((typeof value === 'string' ? [value] : value).map((v) => v.toLowerCase())))
  return {pcrs: [...allowed.keys()].sort((a, b) => a - b), allowed}
}

/** The policy as YAML, in the layout {@link parsePcrPolicy} reads. */
export function pcrPolicyToYaml(policy: PcrPolicy): string {
  return `# PCR index: allowed sha256 values\n${stringify(Object.fromEntries(policy.pcrs.map((index) => [index, [...policy.allowed.get(index)!]])))}`
}
