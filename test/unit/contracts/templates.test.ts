import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readArtifact} from '../../../src/contracts/artifacts.js'
import {compileProject} from '../../../src/contracts/compile-project.js'
import {validateContractName} from '../../../src/contracts/contract-name.js'
import {initProject} from '../../../src/contracts/init-project.js'
import {newContract} from '../../../src/contracts/new-contract.js'
import {CONTRACT_TEMPLATE_IDS} from '../../../src/contracts/templates.js'
import {XaiError} from '../../../src/util/errors.js'
import {tempProject} from './helpers.js'

function nameError(name: string): XaiError | undefined {
  try {
    validateContractName(name)
    return undefined
  } catch (err) {
    return err as XaiError
  }
}

describe('validateContractName', () => {
  it.each(['Token', 'MyToken2', '_Private', 'erc20Like'])('accepts %s', (name) => {
    expect(nameError(name)).toBeUndefined()
  })

  it.each([
    ['', 'empty'],
    ['2Fast', 'starts with a digit'],
    ['My-Token', 'only letters'],
    ['Dollar$', 'only letters'],
    ['contract', 'keyword'],
    ['uint256', 'keyword'],
    ['bytes32', 'keyword'],
    ['Ownable', 'base contracts'],
    ['A'.repeat(65), 'longer than 64'],
  ])('rejects %j (%s)', (name, why) => {
    const err = nameError(name)
    expect(err?.code).toBe('CONTRACT_INVALID_NAME')
    expect(err?.exitCode).toBe(2)
    expect(err?.message).toContain(why)
  })
})

// Every template through `new`, into one project, compiled together: zero errors, zero warnings.
describe('contract templates', () => {
  let t: Awaited<ReturnType<typeof tempProject>>
  const names = Object.fromEntries(CONTRACT_TEMPLATE_IDS.map((id) => [id, `My${id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`]))
  beforeAll(async () => {
    t = await tempProject()
  })
  afterAll(async () => {
    await t.cleanup()
  })

  it('adds each template under a new name, with its test', async () => {
    for (const id of CONTRACT_TEMPLATE_IDS) {
      const result = await newContract(t.project, {name: names[id]!, template: id})
      expect(result.contract).toBe(`contracts/${names[id]}.sol`)
      const source = await readFile(join(t.root, result.contract), 'utf8')
      expect(source).toContain(`contract ${names[id]} `)
      const test = await readFile(join(t.root, result.test), 'utf8')
      expect(test).toContain(`describe('${names[id]}'`)
      expect(test).toContain(`deploy('${names[id]}'`)
    }
  })

  it('compiles every template with no error and no warning', async () => {
    const result = await compileProject(t.project)
    expect(result.warnings).toEqual([])
    for (const id of CONTRACT_TEMPLATE_IDS) {
      const artifact = await readArtifact(t.project, names[id]!)
      expect(artifact.bytecode.length, id).toBeGreaterThan(100)
    }
    const erc20 = await readArtifact(t.project, names.erc20!)
    expect(erc20.abi).toContainEqual(
      expect.objectContaining({type: 'error', name: 'InsufficientBalance', inputs: [expect.objectContaining({name: 'from', type: 'address'}), expect.objectContaining({name: 'balance'}), expect.objectContaining({name: 'needed'})]}),
    )
    const votes = await readArtifact(t.project, names['governor-token']!)
    expect(votes.abi.map((i) => ('name' in i ? i.name : '')).filter(Boolean)).toEqual(expect.arrayContaining(['delegate', 'getVotes', 'getPastVotes']))
    const owned = await readArtifact(t.project, names.ownable!)
    expect(owned.abi).toContainEqual(expect.objectContaining({type: 'error', name: 'NotOwner'}))
    expect(owned.abi).toContainEqual(expect.objectContaining({type: 'event', name: 'OwnershipTransferred'}))
  })

  it('refuses a name already declared, or a file that exists, or an unknown template', async () => {
    const taken = (await newContract(t.project, {name: names.erc20!, template: 'counter'}).catch((e: unknown) => e)) as XaiError
    expect(taken.code).toBe('CONTRACT_NAME_TAKEN')
    expect(taken.message).toBe(`contracts/${names.erc20}.sol already exists`)
    const declared = (await newContract(t.project, {name: 'ERC20', template: 'counter'}).catch((e: unknown) => e)) as XaiError
    expect(declared.code).toBe('CONTRACT_INVALID_NAME')
    const unknown = (await newContract(t.project, {name: 'Fresh', template: 'erc1155'}).catch((e: unknown) => e)) as XaiError
    expect(unknown.code).toBe('CONTRACT_UNKNOWN_TEMPLATE')
    expect(unknown.hint).toContain('counter, erc20, erc721, ownable, governor-token, verifier')
  })

  it('init refuses an existing project, and --force rewrites only the template files', async () => {
    const again = (await initProject({dir: t.root}).catch((e: unknown) => e)) as XaiError
    expect(again.code).toBe('CONTRACT_PROJECT_EXISTS')
    expect(again.exitCode).toBe(3)
    await t.write('contracts/Counter.sol', '// edited\n')
    const forced = await initProject({dir: t.root, force: true})
    expect(forced.overwritten).toEqual(['contracts/Counter.sol'])
    expect(forced.created).toEqual([])
    expect(await readFile(join(t.root, `contracts/${names.erc20}.sol`), 'utf8')).toContain('contract')
  })
})
