import {keccak256, toBytes} from 'viem'
import {describe, expect, it} from 'vitest'

import {canonicalJson} from '../../../src/util/canonical-json.js'
import {isXaiError} from '../../../src/util/errors.js'
import {
  PROPOSAL_KINDS,
  type ProposalProblem,
  canonicalProposal,
  decodeProposal,
  describeProposal,
  parseProposalFile,
  proposalHash,
} from '../../../src/governance/proposal.js'

const DOC = `riskAnalysis: Low.
dependencyDiff: None.
migrationSteps: Nothing to do.
`
const HASH = `0x${'ab'.repeat(32)}`
const ALICE = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const ALICE_CHECKSUM = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'

/** A valid file of each kind. */
const VALID: Record<(typeof PROPOSAL_KINDS)[number], string> = {
  text: 'kind: text\ntitle: Adopt the code of conduct\nsummary: We adopt it.\n',
  'parameter-change': `kind: parameter-change\ntitle: Gas\nsummary: More gas.\n${DOC}changes:\n  - {module: chain, key: blockGasLimit, value: 60000000}\n  - {module: governance, key: quorum, value: 4000}\n  - {module: governance, key: minDeposit, value: "1000000000000000000000"}\n  - {module: withdrawal-guard, key: limits, value: {window: 100, max: "5000", enabled: true}}\n`,
  'module-activate': `kind: module-activate\ntitle: Guard\nsummary: Turn it on.\n${DOC}id: withdrawal-guard\nversion: 1.0.0\ncodeHash: "${HASH}"\nheight: 100\n`,
  'module-upgrade': `kind: module-upgrade\ntitle: Guard 1.1\nsummary: Upgrade.\n${DOC}id: withdrawal-guard\nversion: 1.1.0-rc.1\ncodeHash: "${HASH.toUpperCase().replace('0X', '0x')}"\nheight: 200\n`,
  'module-deactivate': `kind: module-deactivate\ntitle: Guard off\nsummary: Off.\n${DOC}id: withdrawal-guard\nversion: 1.1.0\ncodeHash: "${HASH}"\nheight: 300\n`,
  'validator-add': `kind: validator-add\ntitle: Add Alice\nsummary: Add.\n${DOC}address: "${ALICE}"\npower: 10\n`,
  'validator-remove': `kind: validator-remove\ntitle: Remove Alice\nsummary: Remove.\n${DOC}address: "${ALICE_CHECKSUM}"\n`,
  'treasury-spend': `kind: treasury-spend\ntitle: Audit\nsummary: Pay the audit.\n${DOC}to: "${ALICE}"\namount: 123456789012345678901234567890\nreason: Audit\n`,
  'feature-flag': `kind: feature-flag\ntitle: Enable 7702\nsummary: On.\n${DOC}flag: eip-7702\nenabled: true\n`,
}

function problems(text: string): ProposalProblem[] {
  try {
    parseProposalFile(text, 'p.yaml')
  } catch (err) {
    if (isXaiError(err) && err.code === 'GOV_INVALID_PROPOSAL') {
      expect(err.exitCode).toBe(2)
      return (err.details as {problems: ProposalProblem[]}).problems
    }
    throw err
  }
  throw new Error('expected the proposal to be invalid')
}

describe('parseProposalFile', () => {
  it.each(PROPOSAL_KINDS)('accepts a valid %s proposal', (kind) => {
    const proposal = parseProposalFile(VALID[kind], 'p.yaml')
    expect(proposal.kind).toBe(kind)
    expect(describeProposal(proposal).length).toBeGreaterThan(0)
  })

  it('normalises values: checksummed addresses, lowercase hashes, wei as decimal strings', () => {
    const remove = parseProposalFile(VALID['validator-remove'], 'p.yaml')
    expect(remove).toMatchObject({address: ALICE_CHECKSUM})
    expect(parseProposalFile(VALID['validator-add'], 'p.yaml')).toMatchObject({address: ALICE_CHECKSUM, power: 10})
    expect(parseProposalFile(VALID['module-upgrade'], 'p.yaml')).toMatchObject({codeHash: HASH, version: '1.1.0-rc.1'})
    expect(parseProposalFile(VALID['treasury-spend'], 'p.yaml')).toMatchObject({amount: '123456789012345678901234567890'})
    const change = parseProposalFile(VALID['parameter-change'], 'p.yaml')
    expect(change).toMatchObject({changes: [{value: 60000000}, {value: 4000}, {value: '1000000000000000000000'}, {value: {window: 100, max: '5000', enabled: true}}]})
  })

  it('a text proposal needs no document sections; every other kind needs all three, non-empty', () => {
    expect(() => parseProposalFile(VALID.text, 'p.yaml')).not.toThrow()
    const noSections = VALID['feature-flag'].replace(DOC, '')
    expect(problems(noSections).map((p) => p.message)).toEqual(['riskAnalysis is required', 'dependencyDiff is required', 'migrationSteps is required'])
    const empty = VALID['feature-flag'].replace('riskAnalysis: Low.', 'riskAnalysis: "  "')
    expect(problems(empty)).toEqual([{path: 'riskAnalysis', line: 4, column: 15, message: 'riskAnalysis must not be empty'}])
  })

  it('reports a YAML syntax error with its line', () => {
    const [problem] = problems('kind: text\ntitle: a\ntitle: b\nsummary: x\n')
    expect(problem).toMatchObject({line: 3, column: 1})
    expect(problem.message).toMatch(/^YAML: .*unique/)
  })

  it('reports an unknown kind, listing the kinds', () => {
    expect(problems('kind: coup\ntitle: x\nsummary: y\n')).toEqual([{path: 'kind', line: 1, column: 7, message: `kind must be one of: ${PROPOSAL_KINDS.join(', ')}`}])
  })

  it('reports unknown fields (typos) at their line', () => {
    expect(problems(`${VALID.text}riskAnalyis: typo\n`)).toEqual([{path: 'riskAnalyis', line: 4, column: 1, message: 'unknown field "riskAnalyis"'}])
  })

  it('refuses a file that is not a mapping', () => {
    expect(problems('- a\n- b\n')[0].message).toMatch(/YAML mapping/)
  })

  describe('invalid values of each kind, with their lines', () => {
    const cases: [string, string, string, Partial<ProposalProblem>][] = [
      ['text', 'title: Adopt the code of conduct', 'title: ""', {path: 'title', line: 2, message: 'title must not be empty'}],
      ['parameter-change', 'value: 60000000', 'value: 100', {path: 'changes.0.value', line: 8, message: 'blockGasLimit must be at least 5000'}],
      ['parameter-change', 'value: 4000', 'value: 10001', {path: 'changes.1.value', line: 9, message: 'quorum (basis points) must be at most 10000'}],
      ['parameter-change', 'key: quorum', 'key: quorom', {path: 'changes.1.key', line: 9, message: expect.stringMatching(/governance has no parameter "quorom"/)}],
      ['parameter-change', 'value: "1000000000000000000000"', 'value: "1e21"', {path: 'changes.2.value', line: 10, message: expect.stringMatching(/digits only/)}],
      ['parameter-change', 'window: 100', 'window: 1.5', {path: 'changes.3.value.window', line: 11, message: expect.stringMatching(/not an integer/)}],
      ['parameter-change', 'module: withdrawal-guard', 'module: Guard', {path: 'changes.3.module', line: 11, message: expect.stringMatching(/module must be/)}],
      ['module-activate', `codeHash: "${HASH}"`, 'codeHash: "0x1234"', {path: 'codeHash', line: 9, message: 'codeHash must be 0x and 32 bytes (64 hex digits)'}],
      ['module-activate', `codeHash: "${HASH}"`, `codeHash: ${HASH}`, {path: 'codeHash', line: 9, message: expect.stringMatching(/quote it/)}],
      ['module-upgrade', 'version: 1.1.0-rc.1', 'version: 1.1', {path: 'version', line: 8, message: expect.stringMatching(/quote it/)}],
      ['module-deactivate', 'height: 300', 'height: 0', {path: 'height', line: 10, message: 'height must be at least 1'}],
      ['module-deactivate', 'id: withdrawal-guard', 'id: Guard', {path: 'id', line: 7, message: expect.stringMatching(/module id/)}],
      ['validator-add', `address: "${ALICE}"`, 'address: "0x1234"', {path: 'address', line: 7, message: expect.stringMatching(/40 hex digits/)}],
      ['validator-add', 'power: 10', 'power: -1', {path: 'power', line: 8, message: 'power must be at least 1'}],
      ['validator-remove', `address: "${ALICE_CHECKSUM}"`, `address: "${ALICE_CHECKSUM.replace('C8', 'c8')}"`, {path: 'address', line: 7, message: expect.stringMatching(/checksum/)}],
      ['treasury-spend', 'amount: 123456789012345678901234567890', 'amount: 0', {path: 'amount', line: 8, message: 'amount must be more than 0'}],
      ['treasury-spend', 'reason: Audit', 'reason:', {path: 'reason', line: 9, message: 'reason must be a string'}],
      ['feature-flag', 'enabled: true', 'enabled: "yes"', {path: 'enabled', line: 8, message: 'enabled must be true or false'}],
      ['feature-flag', 'flag: eip-7702', 'flag: Bad Flag', {path: 'flag', line: 7, message: expect.stringMatching(/flag must be a name/)}],
    ]
    it.each(cases)('%s: %s → %s', (kind, from, to, expected) => {
      const text = VALID[kind as keyof typeof VALID]
      expect(text).toContain(from)
      expect(problems(text.replace(from, to))).toEqual([expect.objectContaining(expected)])
    })
  })

  it('a change made twice is refused', () => {
    const text = VALID['parameter-change'].replace('{module: governance, key: quorum, value: 4000}', '{module: chain, key: blockGasLimit, value: 70000000}')
    expect(problems(text)).toEqual([expect.objectContaining({path: 'changes.1.key', message: 'chain.blockGasLimit is changed twice'})])
  })

  it('names every placeholder left, at its line, and no other problem for those fields', () => {
    const text = 'kind: module-activate\ntitle: <<TITLE>>\nsummary: |\n  Intro.\n  <<SUMMARY>>\nid: withdrawal-guard\nversion: 1.0.0\ncodeHash: "<<CODE_HASH>>"\nheight: <<ACTIVATION_HEIGHT>>\n'
    expect(problems(text)).toEqual([
      {path: 'riskAnalysis', line: 1, column: 1, message: 'riskAnalysis is required'},
      {path: 'dependencyDiff', line: 1, column: 1, message: 'dependencyDiff is required'},
      {path: 'migrationSteps', line: 1, column: 1, message: 'migrationSteps is required'},
      {path: 'title', line: 2, column: 8, message: 'placeholder <<TITLE>> is not filled in'},
      {path: 'summary', line: 5, column: 3, message: 'placeholder <<SUMMARY>> is not filled in'},
      {path: 'codeHash', line: 8, column: 12, message: 'placeholder <<CODE_HASH>> is not filled in'},
      {path: 'height', line: 9, column: 9, message: 'placeholder <<ACTIVATION_HEIGHT>> is not filled in'},
    ])
  })

  it('the error message lists each problem with its line', () => {
    try {
      parseProposalFile('kind: text\ntitle: <<TITLE>>\nsummary: ""\n', 'draft.yaml')
      expect.unreachable()
    } catch (err) {
      expect((err as Error).message).toBe('draft.yaml is not a valid proposal (2 problems):\n  line 2: title: placeholder <<TITLE>> is not filled in\n  line 3: summary: summary must not be empty')
      expect((err as {hint: string}).hint).toMatch(/PLACEHOLDER/)
    }
  })
})

describe('canonical form and hash', () => {
  const a = `kind: treasury-spend\ntitle: Audit\nsummary: Pay the audit.\n${DOC}to: "${ALICE}"\namount: "1000"\nreason: Audit\n`
  it('is the same whatever the key order, whitespace, comments, quoting and address case', () => {
    const b = `# a comment\nreason: 'Audit'   # trailing comment\namount:    1000\n\n${DOC.split('\n').reverse().join('\n')}\nto: "${ALICE_CHECKSUM}"\nsummary: >-\n  Pay the audit.\ntitle: "Audit"\nkind: treasury-spend\n`
    const pa = parseProposalFile(a, 'a.yaml')
    const pb = parseProposalFile(b, 'b.yaml')
    expect(canonicalProposal(pb)).toEqual(canonicalProposal(pa))
    expect(proposalHash(pb)).toBe(proposalHash(pa))
  })

  it('changes when the meaning changes', () => {
    expect(proposalHash(parseProposalFile(a.replace('"1000"', '"1001"'), 'a.yaml'))).not.toBe(proposalHash(parseProposalFile(a, 'a.yaml')))
  })

  it('is sorted-key JSON without whitespace, hashed with keccak256 (a fixed vector)', () => {
    const proposal = parseProposalFile('title: T\nsummary: S\nkind: text\n', 't.yaml')
    const json = '{"kind":"text","summary":"S","title":"T"}'
    expect(new TextDecoder().decode(canonicalProposal(proposal))).toBe(json)
    expect(proposalHash(proposal)).toBe(keccak256(toBytes(json)))
  })

  it('canonicalJson sorts nested keys and refuses floats', () => {
    expect(canonicalJson({b: [{d: 1, c: 'x'}], a: null})).toBe('{"a":null,"b":[{"c":"x","d":1}]}')
    expect(() => canonicalJson({a: 1.5})).toThrow(/safe integers/)
  })

  it('decodeProposal takes canonical bytes back and refuses any other encoding', () => {
    for (const kind of PROPOSAL_KINDS) {
      const proposal = parseProposalFile(VALID[kind], 'p.yaml')
      expect(decodeProposal(canonicalProposal(proposal))).toEqual(proposal)
    }
    expect(() => decodeProposal(new TextEncoder().encode('{"title":"T","summary":"S","kind":"text"}'))).toThrow(/canonical form/)
    expect(() => decodeProposal(new TextEncoder().encode('{"kind":"text"}'))).toThrow(/title is required/)
  })
})
