import {parse} from '@oclif/core/parser'
import * as Flags from '@oclif/core/flags'
import {describe, expect, it} from 'vitest'

import {usageMessage} from '../../../src/cli/command-error.js'

/** The message oclif's parser throws for `argv` against these flags. */
async function parseError(argv: string[]): Promise<string> {
  const flags = {home: Flags.string({required: true}), nodes: Flags.integer()}
  return parse(argv, {flags, strict: true}).then(
    () => 'parsed',
    (err: Error) => err.message,
  )
}

describe('usageMessage', () => {
  it("says why oclif refused the flags, not only oclif's heading", async () => {
    expect(usageMessage(await parseError([]))).toBe('Missing required flag home')
    expect(usageMessage(await parseError(['--home', 'h', '--nodes', 'abc']))).toBe('Parsing --nodes: Expected an integer but received: abc')
    expect(usageMessage(await parseError(['--home', 'h', '--bogus']))).toBe('Nonexistent flag: --bogus')
  })

  it('keeps a one-line message as it is', () => {
    expect(usageMessage('Unexpected argument: x')).toBe('Unexpected argument: x')
  })
})
