// End to end: the tests `xai contract new --template …` writes into a user's project run, as the
// user runs them, against a real devnet. A template (or test helper) that breaks fails here first.
// One single-node devnet for the file, started through the CLI on a free port and stopped by PID;
// one contracts project holding every template; one vitest run inside it.
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CONTRACT_TEMPLATE_IDS} from '../../src/contracts/templates.js'
import {explain, runXai} from '../helpers/cli.js'
import {type E2eDevnet, REPO_ROOT, cliEnv, startE2eDevnet} from '../helpers/devnet.js'

/** The contract name each template is added under (init's own Counter stays as it is). */
const NAMES: Record<string, string> = Object.fromEntries(CONTRACT_TEMPLATE_IDS.map((id) => [id, `T${id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`]))

/** The part of vitest's JSON report read here. */
interface VitestReport {
  numTotalTests: number
  numFailedTests: number
  testResults: {name: string; status: string; message?: string; assertionResults: {fullName: string; status: string; failureMessages: string[]}[]}[]
}

describe('the tests every contract template ships, run against a devnet', () => {
  let devnet: E2eDevnet | undefined
  let tmp: string
  let project: string

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-templates-e2e-'))
    project = join(tmp, 'proj')
    devnet = await startE2eDevnet({blockTime: 0})
  }, 180_000)

  afterAll(async () => {
    await devnet?.stop()
    await rm(tmp, {recursive: true, force: true})
  }, 60_000)

  it('creates a project, adds every template and compiles it', async () => {
    const init = await runXai(['contract', 'init', 'proj'], tmp, 60_000)
    expect(init.exitCode, explain(init)).toBe(0)
    for (const id of CONTRACT_TEMPLATE_IDS) {
      const added = await runXai(['contract', 'new', NAMES[id]!, '--template', id], project, 60_000)
      expect(added.exitCode, explain(added)).toBe(0)
      expect(existsSync(join(project, 'test', `${NAMES[id]}.test.ts`)), id).toBe(true)
    }
    const compiled = await runXai(['contract', 'compile', '--json'], project, 120_000)
    expect(compiled.exitCode, explain(compiled)).toBe(0)
  }, 300_000)

  it("runs each template's generated test with the project's own vitest config: all pass", async () => {
    expect(existsSync(join(project, 'artifacts')), 'the project was compiled by the test before').toBe(true)
    // The project's tests import vitest and viem: lend it the repository's node_modules.
    await symlink(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'), 'dir')
    const report = join(tmp, 'report.json')
    const run = await execa(process.execPath, [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=json', `--outputFile=${report}`], {
      cwd: project,
      // Not the runner's VITEST_* variables (they would make the inner vitest a worker of ours).
      env: {...cliEnv(), XAI_RPC_URL: devnet!.rpcUrl, XAI_CHAIN_ID: String(devnet!.chainId)},
      extendEnv: false,
      reject: false,
      timeout: 600_000,
      stdin: 'ignore',
    })
    const output = `exit ${run.exitCode}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}\n--- node log ---\n${await devnet!.logTail(30)}`
    expect(existsSync(report), output).toBe(true)
    const result = JSON.parse(await readFile(report, 'utf8')) as VitestReport
    const failures = result.testResults.flatMap((file) => [
      ...(file.status === 'failed' && file.assertionResults.length === 0 ? [`${file.name}: ${file.message ?? 'failed'}`] : []),
      ...file.assertionResults.filter((t) => t.status !== 'passed').map((t) => `${file.name} › ${t.fullName}: ${t.status}\n${t.failureMessages.join('\n')}`),
    ])
    expect(failures, output).toEqual([])
    expect(run.exitCode, output).toBe(0)

    // Every template's test ran (init's Counter too), each with at least one test.
    const files = new Map(result.testResults.map((f) => [f.name.slice(f.name.lastIndexOf('/') + 1), f.assertionResults.length]))
    for (const name of ['Counter', ...CONTRACT_TEMPLATE_IDS.map((id) => NAMES[id]!)]) {
      expect(files.get(`${name}.test.ts`), `${name}.test.ts in ${[...files.keys()].join(', ')}`).toBeGreaterThan(0)
    }
    expect(files.size).toBe(CONTRACT_TEMPLATE_IDS.length + 1)
    expect(result.numFailedTests).toBe(0)
    expect(result.numTotalTests).toBeGreaterThanOrEqual(2 * files.size)
  }, 600_000)
})
