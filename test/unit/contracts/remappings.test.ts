import {mkdir, symlink} from 'node:fs/promises'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {applyRemappings, loadRemappings, parseFoundryToml, parseRemappings} from '../../../src/contracts/remappings.js'
import {createImportResolver, loadSourceGraph} from '../../../src/contracts/sources.js'
import {XaiError} from '../../../src/util/errors.js'
import {HEADER, tempProject} from './helpers.js'

describe('parseRemappings', () => {
  it('reads prefix=target and context:prefix=target, skipping blanks and comments', () => {
    const text = '# deps\nforge-std/=lib/forge-std/src/\n\n  ctx/:@oz/=./node_modules/@openzeppelin/ # trailing\n'
    expect(parseRemappings(text)).toEqual([
      {context: '', prefix: 'forge-std/', target: 'lib/forge-std/src/', origin: 'remappings.txt'},
      {context: 'ctx/', prefix: '@oz/', target: 'node_modules/@openzeppelin/', origin: 'remappings.txt'},
    ])
  })

  it('names a malformed line', () => {
    const err = (() => {
      try {
        parseRemappings('ok/=lib/ok/\nnot a remapping\n')
      } catch (e) {
        return e
      }
    })() as XaiError
    expect(err).toBeInstanceOf(XaiError)
    expect(err.message).toBe('remappings.txt:2: "not a remapping" is not a remapping')
  })
})

describe('applyRemappings', () => {
  const r = parseRemappings('a/=lib/a/\na/deep/=lib/deep/\ncontracts/x/:a/=lib/ctx/\n')
  it('picks the longest context, then the longest prefix, and leaves others alone', () => {
    expect(applyRemappings(r, 'contracts/A.sol', 'a/B.sol')).toBe('lib/a/B.sol')
    expect(applyRemappings(r, 'contracts/A.sol', 'a/deep/C.sol')).toBe('lib/deep/C.sol')
    expect(applyRemappings(r, 'contracts/x/A.sol', 'a/deep/C.sol')).toBe('lib/ctx/deep/C.sol')
    expect(applyRemappings(r, 'contracts/A.sol', 'b/B.sol')).toBe('b/B.sol')
  })
})

describe('parseFoundryToml', () => {
  it('reads [profile.default] strings and multi-line arrays, ignoring other profiles and comments', () => {
    const toml = [
      'src = "top-src" # top-level keys are the default profile',
      '[profile.default]',
      "out = 'out'",
      'libs = ["lib", "deps"]',
      'remappings = [',
      '  "forge-std/=lib/forge-std/src/", # the test library',
      "  '@oz/=node_modules/@openzeppelin/',",
      ']',
      '[profile.ci]',
      'remappings = ["x/=y/"]',
      '[fmt]',
      'line_length = 120',
    ].join('\n')
    expect(parseFoundryToml(toml)).toEqual({src: 'top-src', out: 'out', libs: ['lib', 'deps'], remappings: ['forge-std/=lib/forge-std/src/', '@oz/=node_modules/@openzeppelin/']})
  })
})

describe('loadRemappings and import resolution', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()))
  })

  it('infers lib/<name>/src/ (or lib/<name>/) remappings unless one is explicit, remappings.txt first', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    await t.write('lib/forge-std/src/Test.sol', `${HEADER}contract Test {}\n`)
    await t.write('lib/solady/utils/X.sol', `${HEADER}library X {}\n`)
    await t.write('lib/mine/src/M.sol', `${HEADER}library M {}\n`)
    await t.write('remappings.txt', 'mine/=lib/mine/\n')
    await t.write('foundry.toml', '[profile.default]\nremappings = ["mine/=lib/ignored/", "tom/=lib/tom/"]\n')
    const r = await loadRemappings(t.root)
    expect(r.map((x) => `${x.prefix}=${x.target} (${x.origin})`)).toEqual([
      'mine/=lib/mine/ (remappings.txt)',
      'tom/=lib/tom/ (foundry.toml)',
      'forge-std/=lib/forge-std/src/ (lib/forge-std)',
      'solady/=lib/solady/ (lib/solady)',
    ])
  })

  it('resolves remapped lib/ imports and node_modules packages walking up, with Hardhat source names', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    const project = join(t.root, 'packages', 'app')
    const pkg = join(t.root, 'node_modules', '@acme', 'lib')
    await mkdir(pkg, {recursive: true})
    await t.write('node_modules/@acme/lib/token/Base.sol', `${HEADER}import "./IBase.sol";\ncontract Base is IBase {}\n`)
    await t.write('node_modules/@acme/lib/token/IBase.sol', `${HEADER}interface IBase {}\n`)
    await t.write('packages/app/lib/forge-std/src/Test.sol', `${HEADER}contract Test {}\n`)
    await t.write(
      'packages/app/contracts/A.sol',
      `${HEADER}import {Base} from "@acme/lib/token/Base.sol";\nimport {Test} from "forge-std/Test.sol";\ncontract A is Base, Test {}\n`,
    )
    const remappings = await loadRemappings(project)
    const graph = await loadSourceGraph(project, ['contracts/A.sol'], {remappings})
    expect([...graph.keys()].sort()).toEqual(['@acme/lib/token/Base.sol', '@acme/lib/token/IBase.sol', 'contracts/A.sol', 'lib/forge-std/src/Test.sol'])
    expect(graph.get('@acme/lib/token/IBase.sol')!.file).toBe(join(pkg, 'token', 'IBase.sol'))
    expect(graph.get('contracts/A.sol')!.imports).toEqual(['@acme/lib/token/Base.sol', 'lib/forge-std/src/Test.sol'])
  })

  it('follows a symlinked package (npm link, workspaces)', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    await t.write('elsewhere/oz/token/T.sol', `${HEADER}contract T {}\n`)
    await mkdir(join(t.root, 'node_modules', '@oz'), {recursive: true})
    await symlink(join(t.root, 'elsewhere', 'oz'), join(t.root, 'node_modules', '@oz', 'contracts'))
    const resolve = createImportResolver(t.root)
    expect(await resolve('contracts/A.sol', '@oz/contracts/token/T.sol')).toEqual({sourceName: '@oz/contracts/token/T.sol', file: join(t.root, 'node_modules', '@oz', 'contracts', 'token', 'T.sol')})
  })

  it('refuses imports and remappings that leave the project, and names the package to install', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    const resolve = createImportResolver(t.root, {remappings: parseRemappings('evil/=../../\n')})
    expect(await resolve('contracts/A.sol', '../../x.sol')).toEqual({problem: 'leaves the project folder'})
    expect(await resolve('contracts/A.sol', 'evil/etc/passwd')).toMatchObject({problem: 'remapped to ../../etc/passwd, which leaves the project folder'})
    expect(await resolve('contracts/A.sol', '@nope/pkg/../../../x.sol')).toEqual({problem: 'leaves the project folder'})
    await t.write('contracts/A.sol', `${HEADER}import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";\ncontract A {}\n`)
    const err = (await loadSourceGraph(t.root, ['contracts/A.sol']).catch((e: unknown) => e)) as XaiError
    expect(err.code).toBe('CONTRACT_IMPORT_NOT_FOUND')
    expect((err.details!.diagnostics as string[])[0]!.split('\n')).toEqual([
      'contracts/A.sol:3:21: error: Import "@openzeppelin/contracts/token/ERC20/ERC20.sol" not found: @openzeppelin/contracts/token/ERC20/ERC20.sol does not exist and no package @openzeppelin/contracts in node_modules (npm i -D @openzeppelin/contracts)',
      'import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";',
      `${' '.repeat(20)}${'^'.repeat('"@openzeppelin/contracts/token/ERC20/ERC20.sol"'.length)}`,
    ])
  })

  it('names the missing file inside an installed package', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    await t.write('node_modules/@oz/contracts/package.json', '{}')
    const resolve = createImportResolver(t.root)
    expect(await resolve('contracts/A.sol', '@oz/contracts/Nope.sol')).toEqual({problem: 'Nope.sol does not exist in node_modules/@oz/contracts', sourceName: '@oz/contracts/Nope.sol'})
  })
})
