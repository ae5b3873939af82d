import {expect} from 'vitest'

import {XaiError} from '../../src/util/errors.js'

/** The XaiError `fn` throws (with this code, when given); fails the test when it throws none. */
export function thrown(fn: () => unknown, code?: string): XaiError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(XaiError)
    if (code !== undefined) expect((err as XaiError).code).toBe(code)
    return err as XaiError
  }
  throw new Error(code === undefined ? 'expected a failure' : `expected ${code}, nothing was thrown`)
}
