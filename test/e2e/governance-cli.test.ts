// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) drafting a proposal of
// every kind, refusing it while its placeholders are unfilled, and validating it once filled.
import {readFile, rm, writeFile} from 'node:fs/promises'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {PROPOSAL_KINDS} from '../../src/governance/proposal.js'
import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {fillPlaceholders} from '../helpers/proposal-fill.js'

let tmp: string

function xai(args: string[]): Promise<CliResult> {
  return runXai(args, tmp, 60_000)
}

describe('xai governance draft / validate (CLI)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-governance-e2e-'))
  })
  afterAll(async () => {
    await rm(tmp, {recursive: true, force: true})
  })

  it.each(PROPOSAL_KINDS)('%s: draft → validate fails naming the placeholders → fill → validate passes', async (kind) => {
    const drafted = await xai(['governance', 'draft', kind, '--json'])
    expect(drafted.exitCode, explain(drafted)).toBe(0)
    const draft = json(drafted)
    expect(draft).toMatchObject({kind, path: join(tmp, `proposal-${kind}.yaml`), overwritten: false})
    expect(draft.placeholders).toContain('<<TITLE>>')

    const unfilled = await xai(['governance', 'validate', `proposal-${kind}.yaml`])
    expect(unfilled.exitCode, explain(unfilled)).toBe(2)
    expect(unfilled.stderr).toContain('[GOV_INVALID_PROPOSAL]')
    for (const placeholder of draft.placeholders) expect(unfilled.stderr).toMatch(new RegExp(`line \\d+: \\S+: placeholder ${placeholder} is not filled in`))

    await writeFile(draft.path, fillPlaceholders(await readFile(draft.path, 'utf8')))
    const filled = await xai(['governance', 'validate', `proposal-${kind}.yaml`, '--json'])
    expect(filled.exitCode, explain(filled)).toBe(0)
    const result = json(filled)
    expect(result).toMatchObject({kind, title: 'Raise the limit', hash: expect.stringMatching(/^0x[0-9a-f]{64}$/), proposal: {kind}})
    expect(result.actions.length).toBeGreaterThan(0)

    const human = await xai(['governance', 'validate', `proposal-${kind}.yaml`])
    expect(human.exitCode, explain(human)).toBe(0)
    expect(human.stdout).toContain(`hash     ${result.hash}`)
  })

  it('--title fills the title (quoted safely); an existing file is kept without --force', async () => {
    const first = await xai(['governance', 'draft', 'text', '--out', 'sub/idea.yaml', '--title', 'Adopt: the #1 rule', '--json'])
    expect(first.exitCode, explain(first)).toBe(0)
    expect(json(first).placeholders).toEqual(['<<SUMMARY>>'])
    const text = await readFile(join(tmp, 'sub/idea.yaml'), 'utf8')
    expect(text).toContain('title: "Adopt: the #1 rule"')

    await writeFile(join(tmp, 'sub/idea.yaml'), 'mine\n')
    const again = await xai(['governance', 'draft', 'text', '--out', 'sub/idea.yaml'])
    expect(again.exitCode, explain(again)).toBe(3)
    expect(again.stderr).toContain('[GOV_FILE_EXISTS]')
    expect(await readFile(join(tmp, 'sub/idea.yaml'), 'utf8')).toBe('mine\n')

    const forced = await xai(['governance', 'draft', 'text', '--out', 'sub/idea.yaml', '--force'])
    expect(forced.exitCode, explain(forced)).toBe(0)
    expect(forced.stdout.trim()).toBe(join(tmp, 'sub/idea.yaml'))
    expect(await readFile(join(tmp, 'sub/idea.yaml'), 'utf8')).toContain('kind: text')
  })

  it('an unknown kind exits 2 listing the kinds', async () => {
    const result = await xai(['governance', 'draft', 'coup', '--json'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(json(result).error).toMatchObject({code: 'GOV_UNKNOWN_KIND', details: {kinds: [...PROPOSAL_KINDS]}})
  })

  it('validate --json of an invalid file gives each problem with its line; a missing file exits 2', async () => {
    await writeFile(join(tmp, 'bad.yaml'), 'kind: feature-flag\ntitle: x\nsummary: y\nflag: eip-7702\nenabled: maybe\n')
    const result = await xai(['governance', 'validate', 'bad.yaml', '--json'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(json(result).error.details.problems).toContainEqual({path: 'enabled', line: 5, column: 10, message: 'enabled must be true or false'})
    const missing = await xai(['governance', 'validate', 'nope.yaml'])
    expect(missing.exitCode, explain(missing)).toBe(2)
    expect(missing.stderr).toContain('[GOV_FILE_NOT_FOUND]')
  })
})
