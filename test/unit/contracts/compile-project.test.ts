import {readFile, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readArtifact} from '../../../src/contracts/artifacts.js'
import {type CompileEvent, compileProject} from '../../../src/contracts/compile-project.js'
import type {Diagnostic} from '../../../src/contracts/diagnostics.js'
import {XaiError} from '../../../src/util/errors.js'
import {HEADER, tempProject} from './helpers.js'

// One project, compiled step by step: Leaf ← Middle ← Top, plus the unrelated Counter from init.
describe('compileProject', () => {
  let t: Awaited<ReturnType<typeof tempProject>>
  beforeAll(async () => {
    t = await tempProject()
    await t.write('contracts/lib/Leaf.sol', `${HEADER}contract Leaf { function leaf() external pure returns (uint256) { return 1; } }\n`)
    await t.write('contracts/Middle.sol', `${HEADER}import "./lib/Leaf.sol";\ncontract Middle is Leaf {}\n`)
    await t.write('contracts/Top.sol', `${HEADER}import {Middle} from "contracts/Middle.sol";\ncontract Top is Middle { uint256 public value; }\n`)
  })
  afterAll(async () => {
    await t.cleanup()
  })

  it('compiles every source into artifacts/<source>/<Contract>.json, then nothing', async () => {
    const events: CompileEvent['type'][] = []
    const first = await compileProject(t.project, {onEvent: (e) => events.push(e.type)})
    expect(first.compiled).toEqual(['contracts/Counter.sol', 'contracts/Middle.sol', 'contracts/Top.sol', 'contracts/lib/Leaf.sol'])
    expect(first.upToDate).toEqual([])
    expect(first.warnings).toEqual([])
    expect(events).toEqual(['plan', 'load-compiler', 'compiler-loaded', 'compile', 'compiled', 'write'])
    expect(first.artifacts.map((a) => a.path)).toContain('artifacts/contracts/Top.sol/Top.json')

    const top = await readArtifact(t.project, 'Top')
    expect(top).toMatchObject({contractName: 'Top', sourceName: 'contracts/Top.sol', buildInfo: first.buildInfo})
    expect(top.bytecode).toMatch(/^0x60/)
    expect(top.deployedBytecode).toMatch(/^0x60/)
    expect(top.abi.map((item) => ('name' in item ? item.name : item.type)).sort()).toEqual(['leaf', 'value'])
    expect(JSON.stringify(top.storageLayout)).toContain('"label":"value"')
    expect(top.sourceMap.length).toBeGreaterThan(0)
    expect(top.compiler).toEqual({version: expect.stringMatching(/^0\.8\.37\+commit/), settings: {optimizer: {enabled: true, runs: 200}, evmVersion: 'prague'}})
    const buildInfo = JSON.parse(await readFile(join(t.root, 'artifacts', 'build-info', `${first.buildInfo}.json`), 'utf8'))
    expect(Object.keys(buildInfo.input.sources)).toHaveLength(4)

    const cache = JSON.parse(await readFile(t.project.paths.compileCache, 'utf8'))
    expect(cache.sources['contracts/Top.sol'].imports).toEqual(['contracts/Middle.sol'])
    expect(cache.sources['contracts/Top.sol'].contentHash).toMatch(/^[0-9a-f]{64}$/)

    const loads: string[] = []
    const second = await compileProject(t.project, {onEvent: (e) => loads.push(e.type)})
    expect(second.compiled).toEqual([])
    expect(second.upToDate).toHaveLength(4)
    expect(loads).toEqual(['plan']) // solc is not even loaded
  })

  it('recompiles a changed leaf and its dependants only', async () => {
    await t.write('contracts/lib/Leaf.sol', `${HEADER}contract Leaf { function leaf() external pure returns (uint256) { return 2; } }\n`)
    const result = await compileProject(t.project)
    expect(result.compiled).toEqual(['contracts/Middle.sol', 'contracts/Top.sol', 'contracts/lib/Leaf.sol'])
    expect(result.upToDate).toEqual(['contracts/Counter.sol'])
  })

  it('recompiles a changed dependant without touching what it imports', async () => {
    await t.write('contracts/Top.sol', `${HEADER}import {Middle} from "contracts/Middle.sol";\ncontract Top is Middle { uint256 public value; uint256 public other; }\n`)
    const result = await compileProject(t.project)
    expect(result.compiled).toEqual(['contracts/Top.sol'])
    expect(result.upToDate).toEqual(['contracts/Counter.sol', 'contracts/Middle.sol', 'contracts/lib/Leaf.sol'])
  })

  it('recompiles everything with force, after a settings change, or when an artifact is gone', async () => {
    expect((await compileProject(t.project, {force: true})).compiled).toHaveLength(4)
    await rm(join(t.root, 'artifacts', 'contracts', 'Counter.sol', 'Counter.json'))
    expect((await compileProject(t.project)).compiled).toEqual(['contracts/Counter.sol'])
    const tuned = {...t.project, config: {...t.project.config, solc: {...t.project.config.solc, optimizer: {enabled: true, runs: 1000}}}}
    expect((await compileProject(tuned)).compiled).toHaveLength(4)
    expect((await readArtifact(tuned, 'Counter')).compiler.settings.optimizer.runs).toBe(1000)
    expect((await compileProject(t.project)).compiled).toHaveLength(4) // back to the project's settings
  })

  it('fails on a syntax error with file:line:col, the line and a caret, and keeps the old artifacts', async () => {
    const before = await readFile(join(t.root, 'artifacts', 'contracts', 'Top.sol', 'Top.json'), 'utf8')
    await t.write('contracts/Top.sol', `${HEADER}import {Middle} from "contracts/Middle.sol";\ncontract Top is Middle {\n\tuint256 public value = 1\n}\n`)
    const err = (await compileProject(t.project).catch((e: unknown) => e)) as XaiError
    expect(err).toBeInstanceOf(XaiError)
    expect(err.code).toBe('CONTRACT_COMPILE_FAILED')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe('Compilation failed: 1 error in contracts/Top.sol')
    const [diagnostic] = err.details!.diagnostics as Diagnostic[]
    expect(diagnostic).toMatchObject({severity: 'error', type: 'ParserError', file: 'contracts/Top.sol', line: 6, column: 1})
    expect(diagnostic!.formatted).toBe("contracts/Top.sol:6:1: error: Expected ';' but got '}'\n}\n^")
    expect(await readFile(join(t.root, 'artifacts', 'contracts', 'Top.sol', 'Top.json'), 'utf8')).toBe(before)
  })

  it('underlines a type error under its span, tabs kept, and reports warnings without failing', async () => {
    await t.write('contracts/Top.sol', `${HEADER}contract Top {\n\tfunction f() external pure returns (uint8) { return 300; }\n}\n`)
    const err = (await compileProject(t.project).catch((e: unknown) => e)) as XaiError
    const [diagnostic] = err.details!.diagnostics as Diagnostic[]
    expect(diagnostic!.formatted.split('\n')).toEqual([
      expect.stringMatching(/^contracts\/Top\.sol:4:54: error: Return argument type int_const 300 is not implicitly convertible/),
      '\tfunction f() external pure returns (uint8) { return 300; }',
      `\t${' '.repeat(52)}^^^`,
    ])

    await t.write('contracts/Top.sol', `${HEADER}contract Top {\n    function f(uint256 unused) external pure returns (uint256) { return 1; }\n}\n`)
    const result = await compileProject(t.project)
    expect(result.compiled).toEqual(['contracts/Top.sol'])
    expect(result.warnings.map((w) => w.formatted.split('\n')[0])).toEqual(['contracts/Top.sol:4:16: warning: Unused function parameter. Remove or comment out the variable name to silence this warning.'])
  })

  it('removes the artifacts of a deleted source and of a removed contract', async () => {
    await rm(join(t.root, 'contracts', 'Middle.sol'))
    await t.write('contracts/Top.sol', `${HEADER}contract Top2 {}\n`)
    const result = await compileProject(t.project)
    expect(result.compiled).toEqual(['contracts/Top.sol'])
    await expect(stat(join(t.root, 'artifacts', 'contracts', 'Middle.sol'))).rejects.toThrow()
    await expect(stat(join(t.root, 'artifacts', 'contracts', 'Top.sol', 'Top.json'))).rejects.toThrow()
    expect(result.artifacts.map((a) => a.fullyQualifiedName)).toEqual(['contracts/Counter.sol:Counter', 'contracts/lib/Leaf.sol:Leaf', 'contracts/Top.sol:Top2'])
  })

  it('readArtifact: unknown and ambiguous names list the candidates', async () => {
    await t.write('contracts/other/Leaf.sol', `${HEADER}contract Leaf {}\n`)
    await compileProject(t.project)
    const unknown = (await readArtifact(t.project, 'Nope').catch((e: unknown) => e)) as XaiError
    expect(unknown.code).toBe('CONTRACT_ARTIFACT_NOT_FOUND')
    expect(unknown.hint).toContain('Counter, Leaf, Top2')
    const ambiguous = (await readArtifact(t.project, 'Leaf').catch((e: unknown) => e)) as XaiError
    expect(ambiguous.code).toBe('CONTRACT_ARTIFACT_AMBIGUOUS')
    expect(ambiguous.details!.candidates).toEqual(['contracts/lib/Leaf.sol:Leaf', 'contracts/other/Leaf.sol:Leaf'])
    expect((await readArtifact(t.project, 'contracts/other/Leaf.sol:Leaf')).sourceName).toBe('contracts/other/Leaf.sol')
  })
})
