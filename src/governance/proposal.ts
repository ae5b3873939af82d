import {type Hex, getAddress, isAddress, keccak256} from 'viem'
import {type Document, LineCounter, type Node, isMap, isNode, isScalar, isSeq, parseDocument} from 'yaml'
import {z} from 'zod'

import {XaiError} from '../util/errors.js'
import {GovernanceErrorCode} from './errors.js'
import {canonicalJson} from '../util/canonical-json.js'

/**
 * Governance proposals as the file a user writes (YAML) and `xai governance propose` submits:
 * common fields (title, summary, kind and the document sections riskAnalysis, dependencyDiff,
 * migrationSteps) plus the fields of each kind. Parsing normalises every value (addresses
 * checksummed, hashes lowercase, wei amounts as decimal strings) so that {@link canonicalProposal}
 * and {@link proposalHash} depend only on the proposal's meaning, never on key order,
 * whitespace, comments or quoting in the file.
 *
 * Numbers are integers only: YAML integers are read as bigint and must fit in a safe integer;
 * amounts in wei are decimal strings (a bare integer is accepted and converted). Floats are
 * refused everywhere, since nothing that decides chain state may depend on them.
 */

export const PROPOSAL_KINDS = [
  'text',
  'parameter-change',
  'module-activate',
  'module-upgrade',
  'module-deactivate',
  'validator-add',
  'validator-remove',
  'treasury-spend',
  'feature-flag',
] as const
export type ProposalKind = (typeof PROPOSAL_KINDS)[number]

/** One line per kind, for help texts and `governance draft`'s listing. */
export const PROPOSAL_KIND_DESCRIPTIONS: Record<ProposalKind, string> = {
  text: 'A signalling proposal: text only, changes nothing on chain',
  'parameter-change': 'Change chain, governance or module parameters',
  'module-activate': 'Activate a native module at an exact version and code hash from a height',
  'module-upgrade': 'Swap an active module to a new version and code hash at a height',
  'module-deactivate': 'Stop a module from a height',
  'validator-add': 'Add a validator (address, optional voting power)',
  'validator-remove': 'Remove a validator',
  'treasury-spend': 'Pay an amount of wei from the treasury to an address',
  'feature-flag': 'Turn a named feature flag on or off',
}

/** Chain parameters a parameter-change proposal may set, with the values each accepts. */
export const CHAIN_PARAMETER_KEYS = ['blockGasLimit', 'baseFeeMaxChangeDenominator', 'elasticityMultiplier'] as const
/** Governance's own parameters (see GovernanceParams in lifecycle.ts). */
export const GOVERNANCE_PARAMETER_KEYS = ['votingPeriod', 'quorum', 'threshold', 'vetoThreshold', 'timelock', 'minDeposit'] as const

/** Placeholders the templates leave for the author: `<<NAME>>` in capitals, digits and `_`. */
export const PLACEHOLDER_PATTERN = /<<([A-Z0-9_]+)>>/g

const MODULE_ID = /^[a-z][a-z0-9-]{0,62}$/
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/
const FLAG_NAME = /^[a-z][a-zA-Z0-9._-]{0,63}$/

/** A quoted-hex hint: YAML reads an unquoted 0x… as a number. */
const QUOTE_HEX = 'quote it: YAML reads an unquoted 0x… value as a number'

const text = (what: string, max = 100_000) =>
  z.string({error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`)}).trim().min(1, `${what} must not be empty`).max(max, `${what} is longer than ${max} characters`)

const safeInt = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.number({error: (issue) => (issue.input === undefined ? `${what} is required` : typeof issue.input === 'bigint' ? `${what} is larger than ${max}` : `${what} must be an integer`)})
    .int(`${what} must be an integer`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`)

const weiAmount = (what: string, positive: boolean) =>
  z.union([z.string(), z.number(), z.bigint()], {error: `${what} must be a decimal amount of wei`}).transform((value, ctx) => {
    const raw = typeof value === 'string' ? value.trim() : value
    if (typeof raw === 'number' && !Number.isInteger(raw)) {
      ctx.addIssue({code: 'custom', message: `${what} must be a whole number of wei, not ${raw}`})
      return z.NEVER
    }
    if (typeof raw === 'string' && !/^\d+$/.test(raw)) {
      ctx.addIssue({code: 'custom', message: `${what} must be a decimal number of wei (digits only), not "${raw}"`})
      return z.NEVER
    }
    const amount = BigInt(raw)
    if (positive && amount === 0n) {
      ctx.addIssue({code: 'custom', message: `${what} must be more than 0`})
      return z.NEVER
    }
    return amount.toString()
  })

const address = (what: string) =>
  z.unknown().transform((value, ctx): Hex => {
    if (typeof value !== 'string') {
      ctx.addIssue({code: 'custom', message: value === undefined ? `${what} is required` : typeof value === 'bigint' || typeof value === 'number' ? `${what} must be an address; ${QUOTE_HEX}` : `${what} must be an address`})
      return z.NEVER
    }
    if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
      ctx.addIssue({code: 'custom', message: `${what} must be an address (0x and 40 hex digits), not "${value}"`})
      return z.NEVER
    }
    if (!isAddress(value, {strict: true})) {
      ctx.addIssue({code: 'custom', message: `${what} "${value}" has a wrong checksum (mixed case); write it all lowercase or with its correct checksum`})
      return z.NEVER
    }
    return getAddress(value)
  })

const codeHash = z.unknown().transform((value, ctx): Hex => {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    const extra = typeof value === 'bigint' || typeof value === 'number' ? `; ${QUOTE_HEX}` : ''
    ctx.addIssue({code: 'custom', message: value === undefined ? 'codeHash is required' : `codeHash must be 0x and 32 bytes (64 hex digits)${extra}`})
    return z.NEVER
  }
  return value.toLowerCase() as Hex
})

const moduleId = z.string({error: 'id must be a module id (lowercase letters, digits and "-")'}).regex(MODULE_ID, 'id must be a module id: a lowercase letter, then lowercase letters, digits or "-" (at most 63)')

const version = z.union([z.string(), z.number(), z.bigint()], {error: 'version is required'}).transform((value, ctx) => {
  if (typeof value !== 'string') {
    ctx.addIssue({code: 'custom', message: `version must be a semantic version string such as "1.2.0"; quote it (YAML reads ${String(value)} as a number)`})
    return z.NEVER
  }
  if (!SEMVER.test(value)) {
    ctx.addIssue({code: 'custom', message: `version must be a semantic version such as 1.2.0, not "${value}"`})
    return z.NEVER
  }
  return value
})

/** A module parameter value: JSON with integers only (safe integers; larger ones as strings). */
export type ParameterValue = string | number | boolean | null | ParameterValue[] | {[key: string]: ParameterValue}

function checkParameterValue(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) ctx.addIssue({code: 'custom', path, message: `value ${value} is not an integer; parameters take integers, strings and booleans (no floats)`})
    return
  }
  if (typeof value === 'bigint') {
    ctx.addIssue({code: 'custom', path, message: `value ${value} is larger than a safe integer; quote it as a decimal string`})
    return
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkParameterValue(item, [...path, i], ctx))
    return
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkParameterValue(item, [...path, key], ctx)
    return
  }
  ctx.addIssue({code: 'custom', path, message: `value of type ${typeof value} is not allowed`})
}

/** Value schema of each chain and governance parameter. */
const KEY_VALUES: Record<'chain' | 'governance', Record<string, z.ZodType>> = {
  chain: {
    blockGasLimit: safeInt('blockGasLimit', 5000),
    baseFeeMaxChangeDenominator: safeInt('baseFeeMaxChangeDenominator', 1),
    elasticityMultiplier: safeInt('elasticityMultiplier', 1),
  },
  governance: {
    votingPeriod: safeInt('votingPeriod (blocks)', 1),
    quorum: safeInt('quorum (basis points)', 0, 10_000),
    threshold: safeInt('threshold (basis points)', 0, 10_000),
    vetoThreshold: safeInt('vetoThreshold (basis points)', 0, 10_000),
    timelock: safeInt('timelock (blocks)', 0),
    minDeposit: weiAmount('minDeposit', false),
  },
}

const parameterChange = z
  .strictObject({
    module: z.string({error: 'module must be "chain", "governance" or a module id'}).regex(MODULE_ID, 'module must be "chain", "governance" or a module id (lowercase letters, digits and "-")'),
    key: z.string({error: 'key is required'}).regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'key must be a parameter name (letters, digits and "_")'),
    value: z.unknown(),
  })
  .transform((change, ctx) => {
    if (change.value === undefined) {
      ctx.addIssue({code: 'custom', path: ['value'], message: 'value is required'})
      return z.NEVER
    }
    if (change.module === 'chain' || change.module === 'governance') {
      const schema = KEY_VALUES[change.module][change.key]
      if (!schema) {
        ctx.addIssue({code: 'custom', path: ['key'], message: `${change.module} has no parameter "${change.key}"; it has ${Object.keys(KEY_VALUES[change.module]).join(', ')}`})
        return z.NEVER
      }
      const parsed = schema.safeParse(change.value)
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({code: 'custom', path: ['value', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: issue.message})
        return z.NEVER
      }
      return {module: change.module, key: change.key, value: parsed.data as ParameterValue}
    }
    checkParameterValue(change.value, ['value'], ctx)
    return {module: change.module, key: change.key, value: change.value as ParameterValue}
  })

const common = {
  title: text('title', 200).refine((t) => !/[\r\n]/.test(t), 'title must be one line'),
  summary: text('summary'),
}
const sections = {
  riskAnalysis: text('riskAnalysis'),
  dependencyDiff: text('dependencyDiff'),
  migrationSteps: text('migrationSteps'),
}
const moduleFields = {
  id: moduleId,
  version,
  codeHash,
  height: safeInt('height', 1),
}

export const proposalSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({kind: z.literal('text'), ...common, riskAnalysis: sections.riskAnalysis.optional(), dependencyDiff: sections.dependencyDiff.optional(), migrationSteps: sections.migrationSteps.optional()}),
    z.strictObject({
      kind: z.literal('parameter-change'),
      ...common,
      ...sections,
      changes: z
        .array(parameterChange, {error: 'changes must be a list of {module, key, value}'})
        .min(1, 'changes must list at least one change')
        .superRefine((changes, ctx) => {
          const seen = new Set<string>()
          changes.forEach((change, i) => {
            const id = `${change.module}.${change.key}`
            if (seen.has(id)) ctx.addIssue({code: 'custom', path: [i, 'key'], message: `${id} is changed twice`})
            seen.add(id)
          })
        }),
    }),
    z.strictObject({kind: z.literal('module-activate'), ...common, ...sections, ...moduleFields}),
    z.strictObject({kind: z.literal('module-upgrade'), ...common, ...sections, ...moduleFields}),
    z.strictObject({kind: z.literal('module-deactivate'), ...common, ...sections, ...moduleFields}),
    z.strictObject({kind: z.literal('validator-add'), ...common, ...sections, address: address('address'), power: safeInt('power', 1).optional()}),
    z.strictObject({kind: z.literal('validator-remove'), ...common, ...sections, address: address('address'), power: safeInt('power', 1).optional()}),
    z.strictObject({kind: z.literal('treasury-spend'), ...common, ...sections, to: address('to'), amount: weiAmount('amount', true), reason: text('reason', 1000)}),
    z.strictObject({
      kind: z.literal('feature-flag'),
      ...common,
      ...sections,
      flag: z.string({error: 'flag is required'}).regex(FLAG_NAME, 'flag must be a name: a lowercase letter, then letters, digits, ".", "_" or "-"'),
      enabled: z.boolean({error: 'enabled must be true or false'}),
    }),
  ],
  {error: (issue) => (issue.code === 'invalid_union' ? `kind must be one of: ${PROPOSAL_KINDS.join(', ')}` : undefined)},
)

export type Proposal = z.output<typeof proposalSchema>
export type ParameterChange = Extract<Proposal, {kind: 'parameter-change'}>['changes'][number]

/** One thing wrong with a proposal file: where (path and, from a file, line) and what. */
export interface ProposalProblem {
  path: string
  line?: number
  column?: number
  message: string
}

/**
 * Parses and validates a proposal file. `source` names it in errors (a path). Throws XaiError
 * GOV_INVALID_PROPOSAL (exit 2) whose details.problems lists every problem with its line; a
 * template's unfilled `<<PLACEHOLDER>>`s are reported by name.
 */
export function parseProposalFile(text: string, source: string): Proposal {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, intAsBigInt: true, uniqueKeys: true, prettyErrors: false})
  const position = (offset: number) => {
    const {line, col} = lineCounter.linePos(offset)
    return {line, column: col}
  }
  if (doc.errors.length > 0) {
    throw invalidProposal(
      source,
      doc.errors.map((err) => ({path: '', ...position(err.pos[0]), message: `YAML: ${err.message.split('\n')[0]}`})),
    )
  }
  const problems = placeholderProblems(doc, text, position)
  const value = toPlain(doc.toJS({maxAliasCount: 100}))
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidProposal(source, [...problems, {path: '', line: 1, column: 1, message: 'a proposal file is a YAML mapping (title: …, kind: …)'}])
  }
  const parsed = proposalSchema.safeParse(value)
  if (parsed.success && problems.length === 0) return parsed.data
  const withPlaceholders = new Set(problems.map((p) => p.path))
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const paths: (string | number)[][] =
      issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...pathOf(issue.path), key]) : [pathOf(issue.path)]
    for (const path of paths) {
      const dotted = path.join('.')
      if ([...withPlaceholders].some((p) => p === dotted || p.startsWith(`${dotted}.`) || dotted.startsWith(`${p}.`))) continue
      const message = issue.code === 'unrecognized_keys' ? `unknown field "${path.at(-1)}"` : issue.message
      const at = issue.code === 'unrecognized_keys' ? nodePosition(doc, path.slice(0, -1), position, path.at(-1)) : nodePosition(doc, path, position)
      problems.push({path: dotted, ...at, message})
    }
  }
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))
  throw invalidProposal(source, problems)
}

/** Validates a proposal given as a value (decoded JSON, an object built in code). */
export function parseProposal(value: unknown, source = 'proposal'): Proposal {
  const parsed = proposalSchema.safeParse(toPlain(value))
  if (parsed.success) return parsed.data
  throw invalidProposal(
    source,
    parsed.error.issues.map((issue) => ({path: pathOf(issue.path).join('.'), message: issue.message})),
  )
}

/**
 * Decodes canonical proposal bytes (as submitted on chain): JSON that validates and is exactly
 * the canonical encoding of what it decodes to, so one proposal has one encoding and one hash.
 */
export function decodeProposal(bytes: Uint8Array, source = 'proposal'): Proposal {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(bytes))
  } catch (err) {
    throw invalidProposal(source, [{path: '', message: `not UTF-8 JSON: ${(err as Error).message}`}])
  }
  const proposal = parseProposal(value, source)
  if (!equalBytes(canonicalProposal(proposal), bytes)) throw invalidProposal(source, [{path: '', message: 'not in canonical form (sorted keys, no whitespace, normalised values)'}])
  return proposal
}

/** The proposal's canonical bytes: UTF-8 of its canonical JSON. What is submitted and hashed. */
export function canonicalProposal(proposal: Proposal): Uint8Array {
  return new TextEncoder().encode(canonicalJson(proposal))
}

/** keccak256 of the canonical bytes: the same for every file that means the same proposal. */
export function proposalHash(proposal: Proposal): Hex {
  return keccak256(canonicalProposal(proposal))
}

/** What the proposal would do, one line per action, for humans. */
export function describeProposal(proposal: Proposal): string[] {
  switch (proposal.kind) {
    case 'text':
      return ['no on-chain change (signalling only)']
    case 'parameter-change':
      return proposal.changes.map((c) => `set ${c.module}.${c.key} = ${canonicalJson(c.value)}`)
    case 'module-activate':
      return [`activate module ${proposal.id} ${proposal.version} (code ${proposal.codeHash}) at height ${proposal.height}`]
    case 'module-upgrade':
      return [`upgrade module ${proposal.id} to ${proposal.version} (code ${proposal.codeHash}) at height ${proposal.height}`]
    case 'module-deactivate':
      return [`deactivate module ${proposal.id} ${proposal.version} (code ${proposal.codeHash}) at height ${proposal.height}`]
    case 'validator-add':
      return [`add validator ${proposal.address}${proposal.power === undefined ? '' : ` with power ${proposal.power}`}`]
    case 'validator-remove':
      return [`remove validator ${proposal.address}`]
    case 'treasury-spend':
      return [`pay ${proposal.amount} wei from the treasury to ${proposal.to}: ${proposal.reason}`]
    case 'feature-flag':
      return [`${proposal.enabled ? 'enable' : 'disable'} feature flag ${proposal.flag}`]
  }
}

function invalidProposal(source: string, problems: ProposalProblem[]): XaiError {
  const lines = problems.map((p) => `  ${p.line === undefined ? '' : `line ${p.line}: `}${p.path ? `${p.path}: ` : ''}${p.message}`)
  const placeholders = problems.some((p) => p.message.startsWith('placeholder '))
  return new XaiError(GovernanceErrorCode.invalidProposal, `${source} is not a valid proposal (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    hint: placeholders
      ? 'Replace every <<PLACEHOLDER>> the template left with your value, then run `xai governance validate` again.'
      : 'Fix the fields named above; `xai governance draft <kind>` writes a commented template for each kind.',
    details: {source, problems},
  })
}

/** Every `<<NAME>>` left in a string value, at the line where it stands. */
function placeholderProblems(doc: Document, text: string, position: (offset: number) => {line: number; column: number}): ProposalProblem[] {
  const problems: ProposalProblem[] = []
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        visit(pair.value, [...path, key])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]))
    } else if (isScalar(node) && typeof node.value === 'string' && node.range) {
      const [start, end] = node.range
      const raw = text.slice(start, end)
      for (const match of node.value.matchAll(PLACEHOLDER_PATTERN)) {
        const at = raw.indexOf(match[0])
        problems.push({path: path.join('.'), ...position(at >= 0 ? start + at : start), message: `placeholder ${match[0]} is not filled in`})
      }
    }
  }
  visit(doc.contents, [])
  return problems
}

/**
 * The line of the node at `path`, or of its nearest ancestor that exists (a missing field: its
 * mapping); with `key`, of that key in the mapping at `path`.
 */
function nodePosition(doc: Document, path: (string | number)[], position: (offset: number) => {line: number; column: number}, key?: string | number): {line?: number; column?: number} {
  if (key !== undefined) path = [...path, key]
  for (let n = key === undefined ? path.length : path.length - 1; n >= 0; n--) {
    const prefix = path.slice(0, n)
    const node: unknown = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true)
    if (isNode(node) && (node as Node).range) {
      // For a mapping, point at its key where the field sits rather than the mapping's start.
      if (n < path.length && isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && item.key.value === path[n])
        if (pair && isScalar(pair.key) && pair.key.range) return position(pair.key.range[0])
      }
      return position((node as Node).range![0])
    }
  }
  return {}
}

function pathOf(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((p) => (typeof p === 'symbol' ? String(p) : p))
}

/** Safe-integer bigints (YAML reads every integer as bigint) become numbers; the rest is copied. */
function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
  if (Array.isArray(value)) return value.map((item) => toPlain(item))
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v)]))
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]))
  return value
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
