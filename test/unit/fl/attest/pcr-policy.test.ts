import {describe, expect, it} from 'vitest'

import {parsePcrPolicy, pcrPolicyToYaml, policyFromValues} from '../../../../src/fl/attest/pcr-policy.js'
import {XaiError} from '../../../../src/util/errors.js'

const A = 'ab'.repeat(32)
const B = 'CD'.repeat(32)

function refusal(text: string): string {
  try {
    parsePcrPolicy(text, 'policy.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(XaiError)
    expect((err as XaiError).code).toBe('FL_ATTEST_POLICY_INVALID')
    expect((err as XaiError).hint).toBeTruthy()
    return (err as XaiError).message
  }
  throw new Error('accepted')
}

describe('PCR policy', () => {
  it('reads PCR index → allowed sha256 values, lowercased, indices ascending', () => {
    const policy = parsePcrPolicy(`# boot chain\n1: [${'0'.repeat(64)}]\n7:\n  - ${A}\n  - 0x${B}\n0: [${A}]\n`)
    expect(policy.pcrs).toEqual([0, 1, 7])
    expect([...policy.allowed.get(1)!]).toEqual(['0'.repeat(64)])
    expect([...policy.allowed.get(7)!]).toEqual([A, B.toLowerCase()])
    expect(policy.allowed.get(0)!.has(A)).toBe(true)
  })

  it('round-trips through its YAML form', () => {
    const policy = policyFromValues({0: A, 7: [A, B.toLowerCase()]})
    const again = parsePcrPolicy(pcrPolicyToYaml(policy))
    expect(again.pcrs).toEqual(policy.pcrs)
    expect([...again.allowed.get(7)!]).toEqual([...policy.allowed.get(7)!])
  })

  it('refuses, saying where: not YAML, no PCR, bad index, bad value, empty list', () => {
    expect(refusal('7: [')).toMatch(/is not YAML/)
    expect(refusal('{}')).toMatch(/no PCR listed/)
    expect(refusal('[1, 2]')).toMatch(/invalid/)
    expect(refusal(`24: [${A}]`)).toMatch(/at 24: not a PCR index 0–23/)
    expect(refusal(`7: [abc]`)).toMatch(/at 7\.0: a sha256 value/)
    expect(refusal('7: []')).toMatch(/at least one allowed value/)
  })
})
