import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {type SolcCandidate, findProjectCompilers, loadSolcFrom, selectCompiler, solidityPragmas} from '../../../src/contracts/solc.js'
import {XaiError} from '../../../src/util/errors.js'

const bundled: SolcCandidate = {version: '0.8.37', label: 'bundled'}
const p = (range: string, source = 'contracts/A.sol'): {source: string; range: string} => ({source, range})

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})

describe('compiler selection', () => {
  it('reads pragma solidity ranges, ignoring comments', () => {
    expect(solidityPragmas('// pragma solidity 0.4.0;\npragma solidity >=0.8.0 <0.9.0;\n/* pragma solidity ^0.5.0; */\npragma abicoder v2;')).toEqual(['>=0.8.0 <0.9.0'])
  })

  it("prefers the newest installed solc every pragma accepts, else the bundled one", () => {
    const installed: SolcCandidate[] = [
      {version: '0.8.24', dir: '/p/node_modules/solc-0.8.24', label: 'solc-0.8.24'},
      {version: '0.8.20', dir: '/p/node_modules/solc-0.8.20', label: 'solc-0.8.20'},
    ]
    expect(selectCompiler([p('^0.8.20'), p('>=0.8.0 <0.8.22', 'contracts/B.sol')], installed, bundled).label).toBe('solc-0.8.20')
    expect(selectCompiler([p('^0.8.20')], installed, bundled).label).toBe('solc-0.8.24')
    expect(selectCompiler([p('^0.8.30')], installed, bundled).label).toBe('bundled')
    expect(selectCompiler([], [], bundled).label).toBe('bundled')
  })

  it('names what to install when no compiler fits, and refuses a malformed pragma', () => {
    const err = (() => {
      try {
        selectCompiler([p('0.8.19'), p('^0.8.0', 'contracts/B.sol')], [], bundled)
      } catch (e) {
        return e as XaiError
      }
    })()!
    expect(err).toBeInstanceOf(XaiError)
    expect(err.code).toBe('CONTRACT_NO_COMPILER')
    expect(err.message).toBe('No available solc satisfies 0.8.19 and ^0.8.0 (contracts/A.sol: 0.8.19)')
    expect(err.hint).toContain('npm i -D solc-0.8.19@npm:solc@0.8.19')
    expect(() => selectCompiler([p('not a range')], [], bundled)).toThrow('"pragma solidity not a range;" is not a version range')
  })

  it('finds solc packages in node_modules under npm alias folders and loads one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'xai-solc-'))
    dirs.push(root)
    const pkg = async (folder: string, name: string, version: string): Promise<void> => {
      await mkdir(join(root, 'node_modules', folder), {recursive: true})
      await writeFile(join(root, 'node_modules', folder, 'package.json'), JSON.stringify({name, version, main: 'index.js'}))
      await writeFile(join(root, 'node_modules', folder, 'index.js'), `module.exports = {version: () => '${version}+fake', compile: () => '{}'}\n`)
    }
    await pkg('solc-0.8.20', 'solc', '0.8.20')
    await pkg('solc-0.8.26', 'solc', '0.8.26')
    await pkg('not-solc', 'other', '1.0.0')
    const found = findProjectCompilers(root).filter((c) => c.dir!.startsWith(root))
    expect(found.map((c) => `${c.label}@${c.version}`)).toEqual(['solc-0.8.26@0.8.26', 'solc-0.8.20@0.8.20'])
    expect((await loadSolcFrom(found[1]!.dir!)).version()).toBe('0.8.20+fake')
  })
})
