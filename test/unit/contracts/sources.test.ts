import {afterEach, describe, expect, it} from 'vitest'

import {closureHash, loadSourceGraph, parseImports, resolveImport, stripComments} from '../../../src/contracts/sources.js'
import {XaiError} from '../../../src/util/errors.js'
import {HEADER, tempProject} from './helpers.js'

describe('parseImports', () => {
  it('finds every import form and ignores comments', () => {
    const source = [
      'import "./A.sol";',
      "import './B.sol' as B;",
      'import * as C from "../C.sol";',
      'import {D, E as F} from "contracts/lib/D.sol";',
      '// import "./Commented.sol";',
      '/* import "./Block.sol"; */',
      'string constant s = "import";',
    ].join('\n')
    expect(parseImports(source).map((i) => i.path)).toEqual(['./A.sol', './B.sol', '../C.sol', 'contracts/lib/D.sol'])
  })

  it('keeps offsets when blanking comments', () => {
    const source = 'a /* x\ny */ b // z\nc'
    expect(stripComments(source)).toHaveLength(source.length)
    expect(stripComments(source).split('\n')).toHaveLength(3)
  })
})

describe('resolveImport', () => {
  it('resolves relative paths against the importing file and others against the project root', () => {
    expect(resolveImport('contracts/token/Token.sol', './Base.sol')).toBe('contracts/token/Base.sol')
    expect(resolveImport('contracts/token/Token.sol', '../xai/ERC20.sol')).toBe('contracts/xai/ERC20.sol')
    expect(resolveImport('contracts/Token.sol', 'contracts/xai/ERC20.sol')).toBe('contracts/xai/ERC20.sol')
    expect(resolveImport('contracts/Token.sol', 'lib/Math.sol')).toBe('lib/Math.sol')
  })

  it('refuses paths that leave the project', () => {
    expect(resolveImport('contracts/Token.sol', '../../outside.sol')).toBeUndefined()
    expect(resolveImport('contracts/Token.sol', '/etc/passwd')).toBeUndefined()
  })
})

describe('loadSourceGraph', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()))
  })

  it('follows relative and project-root imports, including files outside contracts/', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    await t.write('lib/Math.sol', `${HEADER}library Math { function max(uint a, uint b) internal pure returns (uint) { return a > b ? a : b; } }\n`)
    await t.write('contracts/a/A.sol', `${HEADER}import "../b/B.sol";\nimport {Math} from "lib/Math.sol";\ncontract A is B {}\n`)
    await t.write('contracts/b/B.sol', `${HEADER}contract B {}\n`)
    const graph = await loadSourceGraph(t.root, ['contracts/a/A.sol'])
    expect([...graph.keys()].sort()).toEqual(['contracts/a/A.sol', 'contracts/b/B.sol', 'lib/Math.sol'])
    expect(graph.get('contracts/a/A.sol')!.imports).toEqual(['contracts/b/B.sol', 'lib/Math.sol'])
    const before = closureHash(graph, 'contracts/a/A.sol')
    await t.write('lib/Math.sol', `${HEADER}library Math {}\n`)
    const after = closureHash(await loadSourceGraph(t.root, ['contracts/a/A.sol']), 'contracts/a/A.sol')
    expect(after).not.toBe(before)
  })

  it('reports a missing import at its file:line:col with the line and a caret', async () => {
    const t = await tempProject()
    cleanups.push(t.cleanup)
    await t.write('contracts/A.sol', `${HEADER}import {X} from "./Missing.sol";\ncontract A {}\n`)
    const err = (await loadSourceGraph(t.root, ['contracts/A.sol']).catch((e: unknown) => e)) as XaiError
    expect(err).toBeInstanceOf(XaiError)
    expect(err.code).toBe('CONTRACT_IMPORT_NOT_FOUND')
    expect(err.exitCode).toBe(2)
    const [diagnostic] = err.details!.diagnostics as string[]
    expect(diagnostic).toBe(
      [
        'contracts/A.sol:3:17: error: Import "./Missing.sol" not found: contracts/Missing.sol does not exist',
        'import {X} from "./Missing.sol";',
        '                ^^^^^^^^^^^^^^^',
      ].join('\n'),
    )
  })
})
