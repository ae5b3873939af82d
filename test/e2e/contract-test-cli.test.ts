// End to end: `xai contract test` compiles, starts a throwaway devnet, runs the project's vitest
// tests against it with its URL and keys in the environment, stops it and exits with their code.
import {mkdtemp, readdir, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {explain, json, runXai} from '../helpers/cli.js'
import {REPO_ROOT, isAlive} from '../helpers/devnet.js'

let tmp: string
let project: string

const ENV_TEST = `import {expect, it} from 'vitest'
import {createPublicClient, http} from 'viem'

it('gets the devnet in its environment', async () => {
  expect(process.env.XAI_PRIVATE_KEYS!.split(',')).toHaveLength(10)
  const client = createPublicClient({transport: http(process.env.XAI_RPC_URL)})
  expect(await client.getChainId()).toBe(Number(process.env.XAI_CHAIN_ID))
})
`

describe('xai contract test (CLI)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-contract-test-e2e-'))
    project = join(tmp, 'proj')
    const init = await runXai(['contract', 'init', 'proj'], tmp)
    expect(init.exitCode, explain(init)).toBe(0)
    // The project's tests import vitest and viem: lend it the repository's node_modules.
    await symlink(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'), 'dir')
    await writeFile(join(project, 'test', 'Env.test.ts'), ENV_TEST)
  }, 120_000)
  afterAll(async () => {
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('runs the scaffolded tests on a throwaway devnet, then stops it (by PID) and removes it', async () => {
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('xai-contract-test-') && !tmp.endsWith(n))
    const result = await runXai(['contract', 'test', '--json'], project, 600_000)
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc).toMatchObject({exitCode: 0, nodes: 1, vitest: 'project'})
    expect(result.stderr).toMatch(/Test Files\s+2 passed/)
    for (const pid of doc.pids) expect(isAlive(pid)).toBe(false)
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('xai-contract-test-') && !tmp.endsWith(n))
    expect(after.filter((n) => !before.includes(n))).toEqual([])
  }, 600_000)

  it("exits with the tests' exit code and passes the arguments after -- to vitest", async () => {
    await writeFile(join(project, 'test', 'Failing.test.ts'), "import {expect, it} from 'vitest'\nit('fails', () => { expect(1).toBe(2) })\n")
    const result = await runXai(['contract', 'test', '--', 'test/Failing.test.ts'], project, 600_000)
    expect(result.exitCode, explain(result)).toBe(1)
    expect(result.stdout).toMatch(/Test Files\s+1 failed \(1\)/)
    expect(result.stderr).toContain('Devnet stopped (1 node).')
  }, 600_000)
})
