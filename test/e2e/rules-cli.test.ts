// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) compiling the rule set
// templates, evaluating transactions against them and failing clearly on a broken rule file.
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {compileRuleSet} from '../../src/modules/rule-engine/index.js'
import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {REPO_ROOT} from '../helpers/devnet.js'

const TEMPLATE = join(REPO_ROOT, 'templates/rules/large-transfers.yaml')
const ALICE = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const DAVE = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'

let tmp: string

function xai(args: string[]): Promise<CliResult> {
  return runXai(args, tmp, 60_000)
}

describe('xai rules check (CLI)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-rules-e2e-'))
  })
  afterAll(async () => {
    await rm(tmp, {recursive: true, force: true})
  })

  it('compiles a template and prints its rules and hash', async () => {
    const result = await xai(['rules', 'check', TEMPLATE, '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const expectedHash = compileRuleSet(await readFile(TEMPLATE, 'utf8')).hash
    expect(json(result)).toMatchObject({
      name: 'large-transfers',
      hash: expectedHash,
      default: 'allow',
      requiredState: [],
      lists: [{name: 'allowlist', size: 2}],
      rules: [
        {id: 'large-to-listed', action: 'allow', when: 'tx.value > 10000000000000000000 and tx.to in allowlist', reason: null},
        {id: 'large-to-unlisted', action: 'reject', when: 'tx.value > 10000000000000000000', reason: 'transfers above 10 ether may only go to allowlisted addresses'},
      ],
    })
    expect(json(result).decision).toBeUndefined()
  })

  it('--tx evaluates a transaction: a large transfer to an unlisted address is rejected with its reason', async () => {
    const tx = JSON.stringify({from: ALICE, to: DAVE, value: '11 ether'})
    const result = await xai(['rules', 'check', TEMPLATE, '--tx', tx, '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(json(result).decision).toEqual({action: 'reject', ruleId: 'large-to-unlisted', reason: 'transfers above 10 ether may only go to allowlisted addresses', flags: []})

    const human = await xai(['rules', 'check', TEMPLATE, '--tx', tx])
    expect(human.exitCode, explain(human)).toBe(0)
    expect(human.stdout).toContain('decision: reject by large-to-unlisted: transfers above 10 ether may only go to allowlisted addresses')
  })

  it('--tx with state: a draining transfer is rejected and flagged', async () => {
    const tx = JSON.stringify({from: ALICE, to: DAVE, value: '95 ether', state: {from: {balance: '150 ether'}}})
    const result = await xai(['rules', 'check', join(REPO_ROOT, 'templates/rules/large-withdrawals.yaml'), '--tx', tx, '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(json(result).decision).toMatchObject({action: 'reject', ruleId: 'drains-account', flags: [{ruleId: 'large-withdrawal', reason: 'withdrawal of 50 ether or more'}]})
  })

  it('a broken rule file fails with RULES_INVALID, the rule id and the line (exit 2)', async () => {
    const file = join(tmp, 'broken.yaml')
    await writeFile(file, 'version: 1\nname: broken\nrules:\n  - id: bad-compare\n    when: {field: tx.to, lt: 5}\n    action: allow\ndefault: allow\n')
    const human = await xai(['rules', 'check', file])
    expect(human.exitCode, explain(human)).toBe(2)
    expect(human.stderr).toContain('✖ Rule "bad-compare" (line 5): tx.to is an address and cannot be compared with lt')
    expect(human.stderr).toContain('[RULES_INVALID]')
    expect(human.stderr).toContain('Hint:')
    const result = await xai(['rules', 'check', file, '--json'])
    expect(result.exitCode).toBe(2)
    expect(json(result).error).toMatchObject({code: 'RULES_INVALID', details: {problems: [{ruleId: 'bad-compare', line: 5}]}})
  })

  it('an invalid --tx and a missing file fail with their codes', async () => {
    const badTx = await xai(['rules', 'check', TEMPLATE, '--tx', '{"to": 1}', '--json'])
    expect(badTx.exitCode, explain(badTx)).toBe(2)
    expect(json(badTx).error.code).toBe('RULES_INVALID_TX')
    const missing = await xai(['rules', 'check', join(tmp, 'nope.yaml'), '--json'])
    expect(missing.exitCode, explain(missing)).toBe(3)
    expect(json(missing).error.code).toBe('RULES_FILE_NOT_FOUND')
  })
})
