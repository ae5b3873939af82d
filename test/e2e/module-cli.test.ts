// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) scaffolding a native
// module, its generated tests passing under vitest, and `xai module test` catching a clock read.
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {execa} from 'execa'
import {keccak256, stringToBytes} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {REPO_ROOT} from '../helpers/devnet.js'
import {linkModuleDependencies} from '../helpers/module-project.js'

let tmp: string
let moduleDir: string

function xai(args: string[], cwd = tmp): Promise<CliResult> {
  return runXai(args, cwd, 60_000)
}

describe('xai module (CLI)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-module-e2e-'))
    moduleDir = join(tmp, 'my-counter')
    await linkModuleDependencies(tmp)
  })
  afterAll(async () => {
    await rm(tmp, {recursive: true, force: true})
  })

  it('create writes the module folder and fills the code hash into the proposal', async () => {
    const result = await xai(['module', 'create', 'my-counter', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc.files).toEqual(['MyCounter.sol', 'README.md', 'proposals/activate.yaml', 'src/my-counter.ts', 'test/my-counter.test.ts'])
    expect(doc.folder).toBe(moduleDir)
    const source = await readFile(join(moduleDir, 'src/my-counter.ts'), 'utf8')
    expect(doc.codeHash).toBe(keccak256(stringToBytes(source)))
    expect(doc.address).toBe(`0x00000000000000000000000000000a11${keccak256(stringToBytes('xai-module:my-counter')).slice(2, 10)}`)
    const proposal = await readFile(join(moduleDir, 'proposals/activate.yaml'), 'utf8')
    expect(proposal).toContain(`codeHash: "${doc.codeHash}"`)
    expect(proposal).toContain('id: my-counter')
    // The activation proposal is a governance proposal: once its placeholders are filled, it validates.
    const filled = proposal.replace('<<ACTIVATION_HEIGHT>>', '1000').replace('<<RISK_ANALYSIS>>', 'Low.').replace('<<DEPENDENCY_DIFF>>', 'None.').replace('<<MIGRATION_STEPS>>', 'None.')
    await writeFile(join(tmp, 'activate-filled.yaml'), filled)
    const validated = await xai(['governance', 'validate', join(tmp, 'activate-filled.yaml'), '--json'])
    expect(validated.exitCode, explain(validated)).toBe(0)
    expect(json(validated)).toMatchObject({kind: 'module-activate'})
    expect(await readFile(join(moduleDir, 'MyCounter.sol'), 'utf8')).toContain('interface IMyCounter')
    expect(source).toContain("id: 'my-counter'")
  })

  it('create refuses an existing folder without --force, and a bad name', async () => {
    const again = await xai(['module', 'create', 'my-counter'])
    expect(again.exitCode, explain(again)).toBe(3)
    expect(again.stderr).toContain('[MODULE_FOLDER_EXISTS]')
    const bad = await xai(['module', 'create', 'My_Counter', '--json'])
    expect(bad.exitCode, explain(bad)).toBe(2)
    expect(json(bad).error.code).toBe('MODULE_INVALID_NAME')
    const forced = await xai(['module', 'create', 'my-counter', '--force', '--json'])
    expect(forced.exitCode, explain(forced)).toBe(0)
  })

  it('the generated tests pass under vitest', async () => {
    const vitest = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs')
    const result = await execa(process.execPath, [vitest, 'run', '--root', moduleDir], {cwd: moduleDir, reject: false, timeout: 120_000, stdin: 'ignore', env: {CI: '1'}})
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0)
    expect(result.stdout).toMatch(/4 passed/)
  })

  it('module test passes the generated module: static check and replay', async () => {
    const result = await xai(['module', 'test', 'my-counter', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc).toMatchObject({source: 'src/my-counter.ts', id: 'my-counter', version: '0.1.0', static: {ok: true, findings: []}, replay: {ran: true, runs: 2, steps: 64}})
    const human = await xai(['module', 'test'], moduleDir)
    expect(human.exitCode, explain(human)).toBe(0)
    expect(human.stdout).toContain('replay   ok')
  })

  it('module test fails with exit 2 naming the line of a Date.now call', async () => {
    const path = join(moduleDir, 'src/my-counter.ts')
    const source = await readFile(path, 'utf8')
    const edited = source.replace('const by = ctx.params.step as bigint', 'const by = BigInt(Date.now())')
    expect(edited).not.toBe(source)
    await writeFile(path, edited)
    const line = edited.split('\n').findIndex((text) => text.includes('Date.now')) + 1
    const col = edited.split('\n')[line - 1]!.indexOf('Date') + 1

    const result = await xai(['module', 'test', 'my-counter'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(result.stderr).toContain(`src/my-counter.ts:${line}:${col} Date:`)
    expect(result.stderr).toContain('[MODULE_NONDETERMINISTIC_SOURCE]')
    const asJson = await xai(['module', 'test', 'my-counter', '--json'])
    expect(asJson.exitCode).toBe(2)
    expect(json(asJson).error.details.findings[0]).toContain(`src/my-counter.ts:${line}:${col} [global]`)
  })
})
