import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {checkModuleSource} from '../../../src/modules/check-module-source.js'
import {moduleTemplateDir} from '../../../src/modules/create-module.js'

function findings(source: string): string[] {
  return checkModuleSource(source).findings.map((finding) => `${finding.line}:${finding.col} ${finding.rule}`)
}

describe('checkModuleSource', () => {
  it('passes the module template', async () => {
    const source = await readFile(join(moduleTemplateDir(), 'src/__name__.ts'), 'utf8')
    expect(checkModuleSource(source)).toEqual({ok: true, findings: []})
  })

  it.each([
    ['Date.now', 'const a = 1n\nconst t = Date.now()', '2:11 global'],
    ['new Date', 'x = new Date()', '1:9 global'],
    ['Math.random', '  y = Math.random()', '1:7 global'],
    ['performance', 'performance.now()', '1:1 global'],
    ['process', 'const e = process.env.X', '1:11 global'],
    ['globalThis', 'globalThis.x = 1n', '1:1 global'],
    ['eval', 'eval("1")', '1:1 global'],
    ['Function', 'new Function("return 1")', '1:5 global'],
    ['setTimeout', 'setTimeout(f, 1)', '1:1 global'],
    ['require', "const fs = require('fs')", '1:12 global'],
    ['fs import', "import {readFileSync} from 'node:fs'", '1:28 import'],
    ['net import', "import net from 'net'", '1:17 import'],
    ['child_process import', "import {exec} from 'child_process'", '1:20 import'],
    ['unknown package', "import _ from 'lodash'", '1:15 import'],
    ['re-export', "export * from 'os'", '1:15 import'],
    ['viem transport', "import {http, keccak256} from 'viem'", '1:9 import'],
    ['dynamic import', "const m = await import('x')", '1:11 async'],
    ['float literal', 'const r = 1.5', '1:11 float'],
    ['exponent literal', 'const r = 1e18', '1:11 float'],
    ['division by number', 'const half = total / 2', '1:20 float'],
    ['async', 'async function f() {}', '1:1 async'],
    ['Date in a template expression', 'const s = `at ${Date.now()}`', '1:17 global'],
  ])('rejects %s with line:col', (_name, source, expected) => {
    const result = checkModuleSource(source)
    expect(result.ok).toBe(false)
    expect(findings(source)[0]).toBe(expected)
  })

  it('allows bigint arithmetic, allowed imports, and forbidden words in strings, comments and property names', () => {
    const source = [
      "import {z} from 'zod'",
      "import type {NativeModule} from 'xai/modules'",
      "import {encodeAbiParameters, keccak256, type Hex} from 'viem'",
      "import type {PublicClient} from 'viem'",
      "import {helper} from './helper.js'",
      '// Date.now() and Math.random() in a comment',
      '/* performance.now() */',
      "const s = 'Date.now()' + \"Math.random()\"",
      'const q = 10n / 3n + 0x1f + 1_000n',
      'const t = `value ${q} of ${s}`',
      'const o = {Date: 1n, now: ctx.Date}',
      'const r = /a\\/Date/g',
      'export default {}',
    ].join('\n')
    expect(checkModuleSource(source)).toEqual({ok: true, findings: []})
  })

  it('reports every finding in source order', () => {
    const source = "import fs from 'fs'\nconst a = Date.now()\nconst b = Math.random() * 0.5\n"
    expect(findings(source)).toEqual(['1:16 import', '2:11 global', '3:11 global', '3:27 float'])
  })

  it('reports unreadable source instead of passing it', () => {
    expect(checkModuleSource('const s = "unterminated\n').ok).toBe(false)
  })
})
