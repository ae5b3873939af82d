import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {ERROR_CODES, ExitCode, exitCodeOf, isErrorCode, renderErrorCodeTable} from '../../../src/util/error-codes.js'
import {XaiError} from '../../../src/util/errors.js'

describe('error codes', () => {
  it('docs/errors.md is the rendered table (run `npm run docs:errors` after adding a code)', () => {
    expect(readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')).toBe(renderErrorCodeTable())
  })

  it('every code is upper snake case, with a lowercase domain', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/)
      expect(info.domain).toMatch(/^[a-z0-9-]+$/)
    }
  })

  it('XaiError takes its exit code from the table unless a call site gives one', () => {
    expect(new XaiError('DEVNET_PORT_IN_USE', 'busy').exitCode).toBe(ExitCode.environment)
    expect(new XaiError('CONTRACT_REVERTED', 'reverted').exitCode).toBe(exitCodeOf('CONTRACT_REVERTED'))
    expect(new XaiError('DEVNET_PORT_IN_USE', 'busy', {exitCode: ExitCode.usage}).exitCode).toBe(ExitCode.usage)
    expect(isErrorCode('DEVNET_PORT_IN_USE')).toBe(true)
    expect(isErrorCode('NOT_A_CODE')).toBe(false)
    expect(isErrorCode('toString')).toBe(false)
  })
})
