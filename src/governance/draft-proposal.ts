import {randomBytes} from 'node:crypto'
import {link, mkdir, open, readFile, rm, stat} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeFileAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {GovernanceErrorCode} from './errors.js'
import {PLACEHOLDER_PATTERN, PROPOSAL_KINDS, PROPOSAL_KIND_DESCRIPTIONS, type ProposalKind} from './proposal.js'

/** templates/proposal/, found relative to this module in src/ (tsx, tests) and in dist/ alike. */
export function proposalTemplatesDir(): string {
  return fileURLToPath(new URL('../../templates/proposal/', import.meta.url))
}

export function isProposalKind(kind: string): kind is ProposalKind {
  return (PROPOSAL_KINDS as readonly string[]).includes(kind)
}

/** The template of a kind with the title filled in when one is given. */
export async function renderProposalTemplate(kind: ProposalKind, options: {title?: string} = {}): Promise<string> {
  const template = await readFile(join(proposalTemplatesDir(), `${kind}.yaml`), 'utf8')
  // A JSON string is a valid YAML double-quoted scalar, whatever the title contains.
  return options.title === undefined ? template : template.replace('<<TITLE>>', JSON.stringify(options.title))
}

export interface DraftProposalParameters {
  kind: string
  /** Where to write; relative to `cwd`. Default: proposal-<kind>.yaml. */
  out?: string
  cwd: string
  title?: string
  /** Replace an existing file. */
  force?: boolean
}

export interface DraftProposalResult {
  kind: ProposalKind
  /** Absolute path of the file written. */
  path: string
  /** Whether an existing file was replaced (only with force). */
  overwritten: boolean
  /** The placeholders left for the author to fill in, in order. */
  placeholders: string[]
}

/**
 * Writes the template of a proposal kind to a new file: atomically, and never over an existing
 * file unless `force` is set. Unknown kind: GOV_UNKNOWN_KIND (exit 2) listing the kinds; an
 * existing file: GOV_FILE_EXISTS (exit 3).
 */
export async function draftProposal({kind, out, cwd, title, force = false}: DraftProposalParameters): Promise<DraftProposalResult> {
  if (!isProposalKind(kind)) throw unknownKind(kind)
  if (title !== undefined && (title.trim() === '' || /[\r\n]/.test(title))) {
    throw new XaiError(GovernanceErrorCode.invalidProposal, 'The title must be one non-empty line', {details: {title}})
  }
  const path = resolve(cwd, out ?? `proposal-${kind}.yaml`)
  const content = await renderProposalTemplate(kind, {title})
  const exists = await stat(path).then((s) => s, () => undefined)
  if (exists?.isDirectory()) {
    throw new XaiError(GovernanceErrorCode.fileExists, `${path} is a folder`, {hint: 'Pass --out with a file name.', details: {path}})
  }
  if (exists && !force) throw fileExists(path)
  if (force) await writeFileAtomic(path, content)
  else await writeNewFileAtomic(path, content)
  const placeholders = [...new Set([...content.matchAll(PLACEHOLDER_PATTERN)].map((m) => m[0]))]
  return {kind, path, overwritten: exists !== undefined, placeholders}
}

export function unknownKind(kind: string): XaiError {
  return new XaiError(GovernanceErrorCode.unknownKind, `Unknown proposal kind "${kind}"; the kinds are: ${PROPOSAL_KINDS.join(', ')}`, {
    hint: `Kinds:\n${PROPOSAL_KINDS.map((k) => `  ${k.padEnd(18)}${PROPOSAL_KIND_DESCRIPTIONS[k]}`).join('\n')}`,
    details: {kind, kinds: PROPOSAL_KINDS},
  })
}

function fileExists(path: string): XaiError {
  return new XaiError(GovernanceErrorCode.fileExists, `${path} already exists`, {
    hint: 'Choose another file with --out, or pass --force to replace it.',
    details: {path},
  })
}

/**
 * Writes a file that must not exist yet, so that readers never see it half written: the data
 * goes to a temporary file beside it, is flushed, then hard-linked to the target, which fails
 * (EEXIST) rather than replace a file that appeared in the meantime.
 */
async function writeNewFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const handle = await open(tmp, 'wx', 0o644)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw fileExists(path)
    throw err
  } finally {
    await rm(tmp, {force: true})
  }
}
