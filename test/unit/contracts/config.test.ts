import {mkdtemp, mkdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {defaultConfig, loadConfig, parseConfig} from '../../../src/contracts/config.js'
import {findProject} from '../../../src/contracts/project.js'
import {XaiError} from '../../../src/util/errors.js'
import {thrown} from '../../helpers/errors.js'


describe('parseConfig', () => {
  it('fills defaults: optimizer on with 200 runs, prague, a local network on the default devnet', () => {
    expect(defaultConfig()).toEqual({
      solc: {optimizer: {enabled: true, runs: 200}, evmVersion: 'prague'},
      networks: {local: {devnet: 'default'}},
      defaultNetwork: 'local',
    })
    expect(parseConfig({solc: {optimizer: {runs: 1000}}}).solc).toEqual({optimizer: {enabled: true, runs: 1000}, evmVersion: 'prague'})
  })

  it('accepts devnet and rpcUrl networks', () => {
    const config = parseConfig({networks: {local: {devnet: 'default'}, sepolia: {rpcUrl: 'https://rpc.example.org'}}, defaultNetwork: 'sepolia'})
    expect(config.networks.sepolia).toEqual({rpcUrl: 'https://rpc.example.org'})
  })

  it.each([
    [{solc: {evmVersion: 'frontier2'}}, 'solc.evmVersion'],
    [{solc: {optimizer: {runs: 0}}}, 'solc.optimizer.runs'],
    [{solc: {optimizer: {runs: 1.5}}}, 'solc.optimizer.runs'],
    [{solc: {optimiser: {}}}, 'solc'],
    [{networks: {local: {rpcUrl: 'not a url'}}}, 'networks.local'],
    [{networks: {local: {devnet: 'a', rpcUrl: 'http://x'}}}, 'networks.local'],
    [{defaultNetwork: 'mainnet'}, 'defaultNetwork'],
    [{extra: true}, '(root)'],
  ])('rejects %j, naming %s', (value, path) => {
    const err = thrown(() => parseConfig(value, 'xai.config.json'))
    expect(err.code).toBe('CONTRACT_CONFIG_INVALID')
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain(`invalid: ${path}`)
  })
})

describe('findProject / loadConfig', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, {recursive: true, force: true})))
  })

  it('walks up to the folder holding xai.config.json', async () => {
    const root = await mkdtemp(join(tmpdir(), 'xai-config-'))
    dirs.push(root)
    await writeFile(join(root, 'xai.config.json'), '{"solc": {"evmVersion": "cancun"}}')
    await mkdir(join(root, 'contracts', 'deep'), {recursive: true})
    const project = await findProject(join(root, 'contracts', 'deep'))
    expect(project.root).toBe(root)
    expect(project.config.solc.evmVersion).toBe('cancun')
    expect(project.paths.compileCache).toBe(join(root, 'cache', 'compile.json'))
  })

  it('fails with a hint to run init when there is no project', async () => {
    const root = await mkdtemp(join(tmpdir(), 'xai-config-'))
    dirs.push(root)
    const err = await findProject(root).catch((e: XaiError) => e)
    expect(err).toBeInstanceOf(XaiError)
    expect((err as XaiError).code).toBe('CONTRACT_PROJECT_NOT_FOUND')
    expect((err as XaiError).exitCode).toBe(3)
    expect((err as XaiError).hint).toContain('xai contract init')
  })

  it('reports invalid JSON with the file name', async () => {
    const root = await mkdtemp(join(tmpdir(), 'xai-config-'))
    dirs.push(root)
    await writeFile(join(root, 'xai.config.json'), '{"solc": ')
    const err = (await loadConfig(join(root, 'xai.config.json')).catch((e: XaiError) => e)) as XaiError
    expect(err.code).toBe('CONTRACT_CONFIG_INVALID')
    expect(err.message).toContain('is not valid JSON')
  })
})
