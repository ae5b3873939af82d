import {existsSync} from 'node:fs'
import {readFile, readdir, rm, symlink} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type Address, createPublicClient, defineChain, http, keccak256} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {readArtifact} from '../../../src/contracts/artifacts.js'
import {compileProject} from '../../../src/contracts/compile-project.js'
import {type DeploymentEntry, type DeploymentJournal, journalPath, writeJournal} from '../../../src/contracts/deployment-journal.js'
import {BINDINGS_HEADER, bindingNames, generateBindings} from '../../../src/contracts/generate-bindings.js'
import {HEADER, tempProject} from './helpers.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FIRST = '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Address
const SECOND = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' as Address
const OTHER_CHAIN = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0' as Address

const entry = (over: Partial<DeploymentEntry>): DeploymentEntry => ({
  name: 'Token',
  bytecodeHash: '0xaa',
  argsEncoded: '0x',
  from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  nonce: 0,
  rawTx: '0x02f8',
  txHash: '0x11',
  status: 'deployed',
  sentAt: '2025-01-01T00:00:00.000Z',
  ...over,
})
const journal = (contract: string, chainId: number, deployments: DeploymentEntry[]): DeploymentJournal => ({_format: 'xai-deployments-1', contract, chainId, deployments})

const TOKEN = `${HEADER}
contract Token {
    mapping(address => uint256) public balanceOf;
    event Transfer(address indexed from, address indexed to, uint256 value);
    constructor(uint256 supply) { balanceOf[msg.sender] = supply; }
    function transfer(address to, uint256 value) external returns (bool) {
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}
`
const GREETER = `${HEADER}interface IGreeter { function greet(string calldata who) external view returns (string memory); }\n`

describe('generateBindings', () => {
  let t: Awaited<ReturnType<typeof tempProject>>
  const read = (path: string): Promise<string> => readFile(join(t.root, path), 'utf8')

  beforeAll(async () => {
    t = await tempProject()
    await t.write('contracts/Token.sol', TOKEN)
    await t.write('contracts/IGreeter.sol', GREETER)
    await compileProject(t.project)
    const tokenHash = keccak256((await readArtifact(t.project, 'Token')).bytecode)
    // Token: two successful deployments, then one sent and never confirmed; the newest deployed one counts.
    await writeJournal(
      journalPath(t.root, 31337, 'Token'),
      journal('Token', 31337, [
        entry({txHash: '0x01', bytecodeHash: tokenHash, address: FIRST.toLowerCase() as Address}),
        entry({txHash: '0x02', bytecodeHash: tokenHash, address: SECOND, nonce: 1}),
        entry({txHash: '0x03', bytecodeHash: tokenHash, status: 'sent', nonce: 2}),
      ]),
    )
    await writeJournal(journalPath(t.root, 1337, 'Token'), journal('Token', 1337, [entry({address: OTHER_CHAIN})]))
    await writeJournal(journalPath(t.root, 31337, 'Counter'), journal('Counter', 31337, [entry({name: 'Counter', status: 'failed'})]))
    await writeJournal(journalPath(t.root, 31337, 'Ghost'), journal('Ghost', 31337, [entry({name: 'Ghost', address: FIRST})]))
  })
  afterAll(async () => {
    await t.cleanup()
  })

  it('writes <Name>.ts per artifact (ABI as const, bytecode when deployable), the address book and an index', async () => {
    const result = await generateBindings(t.project)
    expect(result.out).toBe('bindings')
    expect(result.contracts).toEqual([
      {name: 'Counter', contract: 'contracts/Counter.sol:Counter', file: 'bindings/Counter.ts', bytecode: true, chains: []},
      {name: 'IGreeter', contract: 'contracts/IGreeter.sol:IGreeter', file: 'bindings/IGreeter.ts', bytecode: false, chains: []},
      {name: 'Token', contract: 'contracts/Token.sol:Token', file: 'bindings/Token.ts', bytecode: true, chains: [1337, 31337]},
    ])
    expect(result.written).toEqual(['bindings/Counter.ts', 'bindings/IGreeter.ts', 'bindings/Token.ts', 'bindings/addresses.ts', 'bindings/index.ts'])
    expect(result.unchanged).toEqual([])
    expect(result.removed).toEqual([])
    expect(result.addresses).toEqual({1337: {Token: OTHER_CHAIN}, 31337: {Token: SECOND}})
    expect(result.skipped).toEqual([
      {journal: '.xai/deployments/31337/Counter.json', reason: 'Counter has no successful deployment'},
      {journal: '.xai/deployments/31337/Ghost.json', reason: 'no compiled contract is named Ghost'},
    ])

    const token = await read('bindings/Token.ts')
    const artifact = await readArtifact(t.project, 'Token')
    expect(token.startsWith(`${BINDINGS_HEADER} from artifacts/contracts/Token.sol/Token.json`)).toBe(true)
    expect(token).toContain(`import {type Address, type GetContractReturnType, getContract} from 'viem'\n`)
    expect(token).toContain(`import {type ContractClient, type DeployedChainId, resolveAddress} from './addresses.js'\n`)
    expect(token).toMatch(/\nexport const tokenAbi = \[\n[^]*\n\] as const\n/)
    expect(token).toContain(`      {internalType: 'address', name: 'to', type: 'address'},\n      {internalType: 'uint256', name: 'value', type: 'uint256'},\n`)
    expect(token).toContain(`\nexport const tokenBytecode = '${artifact.bytecode}' as const\n`)
    expect(token).toContain('export function getToken<const client extends ContractClient>(')
    expect(token).toContain(`  at?: Address | {chainId: DeployedChainId<'Token'>},\n): GetContractReturnType<typeof tokenAbi, client, Address> {`)
    expect(token).toContain(`return getContract({abi: tokenAbi, address: resolveAddress('Token', client, at), client})`)
    // The literal is the ABI itself, item for item.
    const literal = token.slice(token.indexOf('export const tokenAbi = ') + 'export const tokenAbi = '.length, token.indexOf(' as const'))
    expect(new Function(`return ${literal}`)()).toEqual(artifact.abi)

    const greeter = await read('bindings/IGreeter.ts')
    expect(greeter).toContain(`name: 'greet'`)
    expect(greeter).not.toContain('Bytecode')

    const addresses = await read('bindings/addresses.ts')
    expect(addresses).toContain(`export const addresses = {\n  1337: {\n    Token: '${OTHER_CHAIN}',\n  },\n  31337: {\n    Token: '${SECOND}',\n  },\n} as const\n`)
    expect(addresses).toContain('export type ChainId = keyof typeof addresses\n')
    expect(await read('bindings/index.ts')).toBe(
      `${BINDINGS_HEADER}: do not edit, run it again instead.\nexport * from './addresses.js'\nexport * from './Counter.js'\nexport * from './IGreeter.js'\nexport * from './Token.js'\n`,
    )
  })

  it('the helpers find the address from the client chain, a chain id or an argument', async () => {
    // The generated modules import viem: lend the project the repository's node_modules.
    await symlink(join(REPO_ROOT, 'node_modules'), join(t.root, 'node_modules'), 'dir')
    try {
      const bindings = await import(join(t.root, 'bindings', 'index.ts'))
      const chain = (id: number) => defineChain({id, name: 'test', nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18}, rpcUrls: {default: {http: ['http://127.0.0.1:1']}}})
      const client = createPublicClient({chain: chain(31337), transport: http()})
      expect(bindings.getToken(client).address).toBe(SECOND)
      expect(bindings.getToken(client).abi).toBe(bindings.tokenAbi)
      expect(bindings.getToken({public: createPublicClient({chain: chain(1), transport: http()})}, {chainId: 1337}).address).toBe(OTHER_CHAIN)
      expect(bindings.getToken(client, FIRST).address).toBe(FIRST)
      expect(() => bindings.getCounter(client)).toThrow('Counter has no address on chain 31337 in the address book')
      expect(() => bindings.getToken(createPublicClient({transport: http('http://127.0.0.1:1')}))).toThrow('The client has no chain: pass the address or {chainId}')
    } finally {
      await rm(join(t.root, 'node_modules'))
    }
  })

  it('a second run writes nothing: the output is deterministic', async () => {
    const before = await Promise.all(['Token', 'addresses', 'index'].map((file) => read(`bindings/${file}.ts`)))
    const again = await generateBindings(t.project)
    expect(again.written).toEqual([])
    expect(again.unchanged).toEqual(['bindings/Counter.ts', 'bindings/IGreeter.ts', 'bindings/Token.ts', 'bindings/addresses.ts', 'bindings/index.ts'])
    expect(await Promise.all(['Token', 'addresses', 'index'].map((file) => read(`bindings/${file}.ts`)))).toEqual(before)
  })

  it('removes the generated files of contracts that are gone and never touches other files', async () => {
    await t.write('bindings/notes.ts', 'export const mine = 1\n')
    await t.write('bindings/README.md', `${BINDINGS_HEADER}\n`)
    await rm(join(t.root, 'contracts/IGreeter.sol'))
    await compileProject(t.project)
    const result = await generateBindings(t.project)
    expect(result.removed).toEqual(['bindings/IGreeter.ts'])
    expect(result.written).toEqual(['bindings/index.ts'])
    expect((await readdir(join(t.root, 'bindings'))).sort()).toEqual(['Counter.ts', 'README.md', 'Token.ts', 'addresses.ts', 'index.ts', 'notes.ts'])
    expect(await read('bindings/index.ts')).not.toContain('IGreeter')
    expect(await read('bindings/notes.ts')).toBe('export const mine = 1\n')
  })

  it('refuses to overwrite a file it did not generate, and writes nothing then', async () => {
    await t.write('bindings/Counter.ts', 'export const counter = 1\n')
    await rm(join(t.root, 'bindings/addresses.ts'))
    await expect(generateBindings(t.project)).rejects.toMatchObject({
      code: 'CONTRACT_NAME_TAKEN',
      exitCode: 3,
      message: 'bindings/Counter.ts exists and was not generated by xai contract bindings',
    })
    expect(await read('bindings/Counter.ts')).toBe('export const counter = 1\n')
    expect(existsSync(join(t.root, 'bindings/addresses.ts'))).toBe(false)
  })

  it('writes into --out, relative to the project root or absolute', async () => {
    const result = await generateBindings(t.project, {out: 'src/generated'})
    expect(result.out).toBe('src/generated')
    expect(result.written).toContain('src/generated/Token.ts')
    const absolute = await generateBindings(t.project, {out: join(t.root, 'src/generated')})
    expect(absolute.written).toEqual([])
  })
})

describe('generateBindings: names', () => {
  let t: Awaited<ReturnType<typeof tempProject>>
  afterAll(async () => {
    await t?.cleanup()
  })

  it('contracts of the same name in two sources are prefixed by their folder; the journal is matched by bytecode', async () => {
    t = await tempProject()
    await rm(join(t.root, 'contracts/Counter.sol'))
    await t.write('contracts/Token.sol', `${HEADER}contract Token { function one() external pure returns (uint256) { return 1; } }\n`)
    await t.write('contracts/lib/Token.sol', `${HEADER}contract Token { function two() external pure returns (uint256) { return 2; } }\n`)
    await t.write('contracts/Book.sol', `${HEADER}contract addresses {}\ncontract getFoo {}\ncontract FooAbi {}\n`)
    await compileProject(t.project)
    const lib = await readArtifact(t.project, 'contracts/lib/Token.sol:Token')
    await writeJournal(journalPath(t.root, 31337, 'Token'), journal('Token', 31337, [entry({bytecodeHash: keccak256(lib.bytecode), address: FIRST})]))

    const result = await generateBindings(t.project)
    expect(result.contracts.map((c) => [c.contract, c.name, c.file])).toEqual([
      ['contracts/Book.sol:FooAbi', 'Book_FooAbi', 'bindings/Book_FooAbi.ts'],
      ['contracts/Book.sol:addresses', 'Book_addresses', 'bindings/Book_addresses.ts'],
      ['contracts/Book.sol:getFoo', 'Book_getFoo', 'bindings/Book_getFoo.ts'],
      ['contracts/Token.sol:Token', 'Contracts_Token', 'bindings/Contracts_Token.ts'],
      ['contracts/lib/Token.sol:Token', 'Lib_Token', 'bindings/Lib_Token.ts'],
    ])
    expect(result.addresses).toEqual({31337: {Lib_Token: FIRST}})
    const libFile = await readFile(join(t.root, 'bindings/Lib_Token.ts'), 'utf8')
    expect(libFile).toContain('export const lib_TokenAbi = [')
    expect(libFile).toContain(`name: 'two'`)
    expect(libFile).toContain('export function getLib_Token<')
    expect(await readFile(join(t.root, 'bindings/addresses.ts'), 'utf8')).toContain(`  31337: {\n    Lib_Token: '${FIRST}',\n  },\n`)
  })

  it('names that differ only in case get distinct files, deterministically', () => {
    const refs = [
      {sourceName: 'contracts/T.sol', contractName: 'Token'},
      {sourceName: 'contracts/T.sol', contractName: 'token'},
      {sourceName: 'contracts/a/Vault.sol', contractName: 'Vault'},
      {sourceName: 'contracts/b/Vault.sol', contractName: 'Vault'},
      {sourceName: 'contracts/Plain.sol', contractName: 'Plain'},
    ]
    const names = bindingNames(refs)
    expect(names).toEqual(['Contracts_T_Token_1', 'Contracts_T_token_2', 'A_Vault', 'B_Vault', 'Plain'])
    expect(bindingNames(refs)).toEqual(names)
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length)
  })
})

describe('generateBindings: no artifacts', () => {
  it('is an environment error that says to compile first', async () => {
    const t = await tempProject()
    try {
      await expect(generateBindings(t.project)).rejects.toMatchObject({code: 'CONTRACT_ARTIFACT_NOT_FOUND', exitCode: 3, hint: 'Compile first: xai contract compile'})
      expect(existsSync(join(t.root, 'bindings'))).toBe(false)
    } finally {
      await t.cleanup()
    }
  })
})
