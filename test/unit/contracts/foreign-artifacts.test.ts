import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {fromForeignArtifact, listArtifacts, readArtifact} from '../../../src/contracts/artifacts.js'
import {findDeployProject} from '../../../src/contracts/project.js'
import {XaiError} from '../../../src/util/errors.js'

const ABI = [{type: 'function', name: 'x', inputs: [], outputs: [{type: 'uint256', name: ''}], stateMutability: 'view'}]

const cleanups: string[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((d) => rm(d, {recursive: true, force: true})))
})

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'xai-foreign-'))
  cleanups.push(root)
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), {recursive: true})
    await writeFile(join(root, path), content)
  }
  return root
}

const foundryArtifact = JSON.stringify({
  abi: ABI,
  bytecode: {object: '0x6080', sourceMap: '1:2:0', linkReferences: {}},
  deployedBytecode: {object: '0x60aa', sourceMap: '', linkReferences: {}},
  metadata: {compiler: {version: '0.8.30+commit.73712a01'}, settings: {compilationTarget: {'src/Counter.sol': 'Counter'}}},
})
const hardhatArtifact = JSON.stringify({
  _format: 'hh-sol-artifact-1',
  contractName: 'Counter',
  sourceName: 'contracts/Counter.sol',
  abi: ABI,
  bytecode: '0x6080',
  deployedBytecode: '0x60aa',
  linkReferences: {},
  deployedLinkReferences: {},
})

describe('foreign artifacts', () => {
  it('a Foundry project (foundry.toml, found from a subfolder) deploys from its out folder', async () => {
    const root = await tree({
      'foundry.toml': '[profile.default]\nsrc = "src"\nout = "build/out"\n',
      'build/out/Counter.sol/Counter.json': foundryArtifact,
      'build/out/Counter.sol/Counter.0.8.20.json': foundryArtifact,
      'build/out/build-info/abc.json': '{}',
      'src/sub/.keep': '',
    })
    const project = await findDeployProject(join(root, 'src', 'sub'))
    expect(project.root).toBe(root)
    expect(project.external).toEqual({kind: 'foundry', dir: join(root, 'build', 'out')})
    expect((await listArtifacts(project)).map((a) => a.fullyQualifiedName)).toEqual(['Counter.sol:Counter'])
    const artifact = await readArtifact(project, 'Counter')
    expect(artifact).toMatchObject({contractName: 'Counter', sourceName: 'src/Counter.sol', abi: ABI, bytecode: '0x6080', deployedBytecode: '0x60aa', sourceMap: '1:2:0'})
    expect(artifact.compiler.version).toBe('0.8.30+commit.73712a01')
  })

  it('a Hardhat project (hardhat.config.ts) reads artifacts/, skipping .dbg.json and build-info', async () => {
    const root = await tree({
      'hardhat.config.ts': 'export default {}\n',
      'artifacts/contracts/Counter.sol/Counter.json': hardhatArtifact,
      'artifacts/contracts/Counter.sol/Counter.dbg.json': '{"_format":"hh-sol-dbg-1","buildInfo":"../../build-info/x.json"}',
      'artifacts/build-info/x.json': '{}',
    })
    const project = await findDeployProject(root)
    expect(project.external?.kind).toBe('hardhat')
    expect((await listArtifacts(project)).map((a) => a.fullyQualifiedName)).toEqual(['contracts/Counter.sol:Counter'])
    expect(await readArtifact(project, 'contracts/Counter.sol:Counter')).toMatchObject({contractName: 'Counter', sourceName: 'contracts/Counter.sol', bytecode: '0x6080', deployedBytecode: '0x60aa'})
  })

  it('xai.config.json wins in the same folder; --artifacts points anywhere, even outside a project', async () => {
    const root = await tree({
      'xai.config.json': '{}',
      'foundry.toml': '',
      'elsewhere/Counter.sol/Counter.json': foundryArtifact,
    })
    const native = await findDeployProject(root)
    expect(native.external).toBeUndefined()
    const pointed = await findDeployProject(root, {artifacts: 'elsewhere'})
    expect(pointed.external).toEqual({kind: 'folder', dir: join(root, 'elsewhere')})
    expect((await readArtifact(pointed, 'Counter')).bytecode).toBe('0x6080')
    const bare = await tree({'a/Counter.sol/Counter.json': hardhatArtifact})
    expect((await readArtifact(await findDeployProject(bare, {artifacts: 'a'}), 'Counter')).deployedBytecode).toBe('0x60aa')
  })

  it('refuses malformed artifacts with the reason', async () => {
    const ref = {contractName: 'C', sourceName: 'C.sol'}
    expect(() => fromForeignArtifact([], ref)).toThrow('not a JSON object')
    expect(() => fromForeignArtifact({abi: {}}, ref)).toThrow('no "abi" array')
    expect(() => fromForeignArtifact({abi: [], bytecode: 5, deployedBytecode: '0x'}, ref)).toThrow('"bytecode" is neither a hex string')
    expect(() => fromForeignArtifact({abi: [], bytecode: {object: '0xzz'}, deployedBytecode: '0x'}, ref)).toThrow('"bytecode" is not hex')
    expect(fromForeignArtifact({abi: [], bytecode: {object: '6080'}, deployedBytecode: {object: ''}}, ref)).toMatchObject({bytecode: '0x6080', deployedBytecode: '0x'})
    const root = await tree({'hardhat.config.js': '', 'artifacts/contracts/C.sol/C.json': '{"abi": 1}'})
    const err = (await readArtifact(await findDeployProject(root), 'C').catch((e: unknown) => e)) as XaiError
    expect(err).toBeInstanceOf(XaiError)
    expect(err.code).toBe('CONTRACT_ARTIFACT_CORRUPT')
    expect(err.message).toBe('Cannot read the artifact artifacts/contracts/C.sol/C.json: no "abi" array (is it a Foundry out/ or Hardhat artifacts/ file?)')
  })
})
