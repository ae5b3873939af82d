// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) creating a contracts
// project in a temporary folder, adding templates, compiling incrementally and failing clearly.
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai} from '../helpers/cli.js'

import {REPO_ROOT} from '../helpers/devnet.js'


let tmp: string
let project: string

function xai(args: string[], cwd = project): Promise<CliResult> {
  return runXai(args, cwd, 60_000)
}



describe('xai contract (CLI)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-contract-e2e-'))
    project = join(tmp, 'proj')
  })
  afterAll(async () => {
    await rm(tmp, {recursive: true, force: true})
  })

  it('init creates the project from the templates', async () => {
    const result = await xai(['contract', 'init', 'proj'], tmp)
    expect(result.exitCode, explain(result)).toBe(0)
    expect(result.stdout).toContain('created      contracts/Counter.sol')
    for (const file of ['xai.config.json', '.gitignore', 'contracts/Counter.sol', 'test/Counter.test.ts', 'test/helpers/xai.ts', 'package.json']) {
      expect(existsSync(join(project, file)), file).toBe(true)
    }
    expect(JSON.parse(await readFile(join(project, 'xai.config.json'), 'utf8'))).toMatchObject({networks: {local: {devnet: 'default'}}, defaultNetwork: 'local'})
  })

  it('new Token --template erc20 adds the contract, its test and the shared bases', async () => {
    const result = await xai(['contract', 'new', 'Token', '--template', 'erc20', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(json(result)).toEqual({
      name: 'Token',
      template: 'erc20',
      contract: 'contracts/Token.sol',
      test: 'test/Token.test.ts',
      created: ['contracts/xai/ERC20.sol', 'contracts/xai/Ownable.sol', 'contracts/Token.sol', 'test/Token.test.ts'],
      kept: ['test/helpers/xai.ts'],
    })
  })

  it('compile writes artifacts with abi, bytecode and storage layout, then finds everything up to date', async () => {
    const first = await xai(['contract', 'compile', '--json'])
    expect(first.exitCode, explain(first)).toBe(0)
    const doc = json(first)
    expect(doc.compiled).toEqual(['contracts/Counter.sol', 'contracts/Token.sol', 'contracts/xai/ERC20.sol', 'contracts/xai/Ownable.sol'])
    expect(doc.upToDate).toEqual([])
    expect(doc.warnings).toEqual([])
    expect(doc.artifacts).toContainEqual(expect.objectContaining({contractName: 'Token', path: 'artifacts/contracts/Token.sol/Token.json'}))
    const token = JSON.parse(await readFile(join(project, 'artifacts/contracts/Token.sol/Token.json'), 'utf8'))
    expect(token.abi).toContainEqual(expect.objectContaining({type: 'function', name: 'mint'}))
    expect(token.bytecode).toMatch(/^0x[0-9a-f]{100,}$/)
    expect(token.deployedBytecode).toMatch(/^0x[0-9a-f]{100,}$/)
    expect(token.storageLayout.storage.map((s: {label: string}) => s.label)).toEqual(expect.arrayContaining(['name', 'symbol', 'totalSupply', 'balanceOf', 'allowance', '_owner']))
    expect(existsSync(join(project, 'cache/compile.json'))).toBe(true)

    const again = await xai(['contract', 'compile'])
    expect(again.exitCode, explain(again)).toBe(0)
    expect(again.stdout).toBe('Nothing to compile: 4 sources up to date.')
  })

  it('every template added through the CLI compiles, and the generated tests type-check', async () => {
    for (const [name, template] of [
      ['Nft', 'erc721'],
      ['Box', 'ownable'],
      ['Gov', 'governor-token'],
      ['Sig', 'verifier'],
    ] as const) {
      const result = await xai(['contract', 'new', name, '-t', template])
      expect(result.exitCode, explain(result)).toBe(0)
    }
    const result = await xai(['contract', 'compile', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(json(result).compiled).toEqual(['contracts/Box.sol', 'contracts/Gov.sol', 'contracts/Nft.sol', 'contracts/Sig.sol', 'contracts/xai/IERC721Receiver.sol'])
    expect(json(result).warnings).toEqual([])

    // The project's tests import vitest and viem: lend it the repository's node_modules.
    await symlink(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'), 'dir')
    const tsc = await execa(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {cwd: project, reject: false, timeout: 60_000})
    expect(tsc.exitCode, `${tsc.stdout}\n${tsc.stderr}`).toBe(0)
    await rm(join(project, 'node_modules'))
  })

  it('a solc error is printed as file:line:col with the line and a caret, exits 2 and keeps the artifacts', async () => {
    const tokenArtifact = join(project, 'artifacts/contracts/Token.sol/Token.json')
    const before = await readFile(tokenArtifact, 'utf8')
    const source = await readFile(join(project, 'contracts/Token.sol'), 'utf8')
    await writeFile(join(project, 'contracts/Token.sol'), source.replace('_mint(to, value);', '_mint(to, value)'))

    const result = await xai(['contract', 'compile'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/contracts\/Token\.sol:\d+:\d+: error: Expected ';' but got '}'\n +}\n +\^\n/)
    expect(result.stderr).toContain('✖ Compilation failed: 1 error in contracts/Token.sol [CONTRACT_COMPILE_FAILED]')
    expect(await readFile(tokenArtifact, 'utf8')).toBe(before)

    const asJson = await xai(['contract', 'compile', '--json'])
    expect(asJson.exitCode).toBe(2)
    expect(json(asJson).error).toMatchObject({code: 'CONTRACT_COMPILE_FAILED', details: {diagnostics: [expect.objectContaining({file: 'contracts/Token.sol', severity: 'error'})]}})

    // The failed run changed neither artifacts nor cache: restoring the source makes it current again.
    await writeFile(join(project, 'contracts/Token.sol'), source)
    const fixed = await xai(['contract', 'compile', '--json'])
    expect(fixed.exitCode, explain(fixed)).toBe(0)
    expect(json(fixed).compiled).toEqual([])
    expect(json(fixed).upToDate).toContain('contracts/Token.sol')
  })

  it('bad inputs fail with a clear error, its code and the right exit code', async () => {
    const template = await xai(['contract', 'new', 'Thing', '--template', 'erc1155'])
    expect(template.exitCode, explain(template)).toBe(2)
    expect(template.stderr).toMatch(/erc1155.*counter, erc20, erc721, ownable, governor-token, verifier/s)

    const name = await xai(['contract', 'new', '2Fast', '--json'])
    expect(name.exitCode, explain(name)).toBe(2)
    expect(json(name).error).toMatchObject({code: 'CONTRACT_INVALID_NAME', message: '"2Fast" is not a valid contract name: it starts with a digit'})

    const taken = await xai(['contract', 'new', 'Token'])
    expect(taken.exitCode, explain(taken)).toBe(3)
    expect(taken.stderr).toContain('contracts/Token.sol already exists [CONTRACT_NAME_TAKEN]')

    const init = await xai(['contract', 'init'])
    expect(init.exitCode, explain(init)).toBe(3)
    expect(init.stderr).toContain('is already a contracts project (it has xai.config.json) [CONTRACT_PROJECT_EXISTS]')
    expect(init.stderr).toContain('Hint: ')

    const outside = await xai(['contract', 'compile'], tmp)
    expect(outside.exitCode, explain(outside)).toBe(3)
    expect(outside.stderr).toContain('[CONTRACT_PROJECT_NOT_FOUND]')
    expect(outside.stderr).toContain('xai contract init')
  })

  it('every command has --help with examples', async () => {
    for (const command of ['init', 'new', 'compile']) {
      const help = await xai(['contract', command, '--help'])
      expect(help.exitCode, explain(help)).toBe(0)
      expect(help.stdout).toContain('EXAMPLES')
    }
  })
})
