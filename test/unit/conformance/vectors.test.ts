import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {formatVectorFile, generateVectors, vectorDiff} from '../../../src/conformance/vectors.js'

const DIR = join(import.meta.dirname, '..', '..', '..', 'docs', 'spec', 'vectors')

describe('conformance vectors', () => {
  it('regenerate byte for byte from the implementation (a protocol change is a visible diff: run npm run vectors)', async () => {
    const files = await generateVectors()
    expect((await readdir(DIR)).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(files).sort())
    const drift: string[] = []
    for (const [name, content] of Object.entries(files)) {
      const text = await readFile(join(DIR, name), 'utf8')
      if (text === formatVectorFile(content)) continue
      const paths = vectorDiff(JSON.parse(text), JSON.parse(formatVectorFile(content)))
      drift.push(`${name}:\n  ${paths.length > 0 ? paths.join('\n  ') : 'formatting only'}`)
    }
    expect(drift, `vectors drifted from the implementation (expected -> generated):\n${drift.join('\n')}`).toEqual([])
  })

  it('names the changed vector when one drifts', () => {
    const expected = {cases: [{name: 'valid', valid: true}, {name: 'duplicate signer', valid: false}]}
    const actual = {cases: [{name: 'valid', valid: true}, {name: 'duplicate signer', valid: true}]}
    expect(vectorDiff(expected, actual)).toEqual(['$.cases[1] (duplicate signer).valid: false -> true'])
    expect(vectorDiff({a: 1}, {a: 1, b: 2})).toEqual(['$.b: added'])
  })
})
