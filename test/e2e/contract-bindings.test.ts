// End to end: `xai contract bindings` (the built CLI) on a project made by the CLI, with Token
// deployed to a real devnet; the generated TypeScript is type-checked with the project's own
// tsconfig.json (strict, NodeNext) and then run against the devnet.
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa} from 'execa'
import {type Hex, getAddress} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {type E2eDevnet, REPO_ROOT, STANDARD_DEV_ACCOUNTS, cliEnv, startE2eDevnet} from '../helpers/devnet.js'

let devnet: E2eDevnet | undefined
let tmp: string
let project: string
let token: Hex

function xai(args: string[], cwd = project): Promise<CliResult> {
  return runXai(args, cwd)
}

/** `tsc -p tsconfig.json` in the project (the TypeScript of the repository). */
async function tsc(): Promise<CliResult> {
  const result = await execa(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {cwd: project, reject: false, timeout: 120_000, stdin: 'ignore'})
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}

const [alice, bob] = STANDARD_DEV_ACCOUNTS

/** Lines of a TypeScript file that uses the bindings against the devnet (chain id inlined as a literal). */
function clientsPreamble(chainId: number): string[] {
  return [
    `import {createPublicClient, createWalletClient, defineChain, http} from 'viem'`,
    `import {privateKeyToAccount} from 'viem/accounts'`,
    ``,
    `import {type ChainId, addresses, getToken, tokenAbi, tokenBytecode} from '../bindings/index.js'`,
    ``,
    `const rpcUrl = process.env.XAI_RPC_URL ?? 'http://127.0.0.1:8545'`,
    `const chain = defineChain({id: ${chainId}, name: 'xai', nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18}, rpcUrls: {default: {http: [rpcUrl]}}})`,
    `const account = privateKeyToAccount('${alice!.privateKey}')`,
    `const publicClient = createPublicClient({chain, transport: http(rpcUrl)})`,
    `const walletClient = createWalletClient({account, chain, transport: http(rpcUrl)})`,
    `const token = getToken({public: publicClient, wallet: walletClient})`,
  ]
}

describe('xai contract bindings (CLI, devnet)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-bindings-e2e-'))
    project = join(tmp, 'proj')
    devnet = await startE2eDevnet({blockTime: 0})
    for (const args of [['contract', 'init', 'proj'], ['contract', 'new', 'Token', '--template', 'erc20']]) {
      const result = await xai(args, args[1] === 'init' ? tmp : project)
      expect(result.exitCode, explain(result)).toBe(0)
    }
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) {
      await rm(join(tmp, 'proj', 'node_modules'), {force: true})
      await rm(tmp, {recursive: true, force: true})
    }
  })

  it('without artifacts: exit 3 and a hint to compile', async () => {
    const result = await xai(['contract', 'bindings'])
    expect(result.exitCode, explain(result)).toBe(3)
    expect(result.stderr).toContain('No compiled contracts in artifacts/: there is nothing to generate bindings from [CONTRACT_ARTIFACT_NOT_FOUND]')
    expect(result.stderr).toContain('Hint: Compile first: xai contract compile')
    expect(existsSync(join(project, 'bindings'))).toBe(false)
  })

  it('generates a file per contract and the address book of the deployed Token; a second run changes nothing', async () => {
    const compiled = await xai(['contract', 'compile'])
    expect(compiled.exitCode, explain(compiled)).toBe(0)
    const deployed = await xai(['contract', 'deploy', 'Token', 'MyToken', 'MTK', '1000', '--rpc-url', devnet!.rpcUrl, '--json'])
    expect(deployed.exitCode, explain(deployed)).toBe(0)
    // The address book holds checksummed addresses, whatever the journal's case.
    token = getAddress(json(deployed).address)

    const result = await xai(['contract', 'bindings', '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc.out).toBe('bindings')
    expect(doc.contracts.map((c: {name: string}) => c.name)).toEqual(['Counter', 'Token', 'ERC20', 'Ownable'])
    expect(doc.contracts.find((c: {name: string}) => c.name === 'Token')).toEqual({
      name: 'Token',
      contract: 'contracts/Token.sol:Token',
      file: 'bindings/Token.ts',
      bytecode: true,
      chains: [devnet!.chainId],
    })
    expect(doc.addresses).toEqual({[devnet!.chainId]: {Token: token}})
    expect(doc.written).toEqual(['bindings/Counter.ts', 'bindings/Token.ts', 'bindings/ERC20.ts', 'bindings/Ownable.ts', 'bindings/addresses.ts', 'bindings/index.ts'])
    expect(doc.skipped).toEqual([])
    expect(await readFile(join(project, 'bindings/addresses.ts'), 'utf8')).toContain(`  ${devnet!.chainId}: {\n    Token: '${token}',\n  },`)

    const again = await xai(['contract', 'bindings'])
    expect(again.exitCode, explain(again)).toBe(0)
    expect(again.stdout).toBe(`Bindings for 4 contracts in bindings/ (address book: chain ${devnet!.chainId})\n  6 files unchanged`)
  })

  it('the generated code type-checks under the project tsconfig (strict, NodeNext), types inferred from the ABI', async () => {
    // The project's TypeScript imports viem: lend it the repository's node_modules.
    await symlink(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'), 'dir')
    const usage = [
      ...clientsPreamble(devnet!.chainId),
      ``,
      `const before: bigint = await token.read.balanceOf([account.address])`,
      `const hash = await token.write.transfer(['${bob!.address}', 10n])`,
      `await publicClient.waitForTransactionReceipt({hash})`,
      `const after: bigint = await token.read.balanceOf([account.address])`,
      `const byChainId = getToken(publicClient, {chainId: ${devnet!.chainId}})`,
      `const symbol: string = await byChainId.read.symbol()`,
      `const chainId: ChainId = ${devnet!.chainId}`,
      `const atAddress = getToken(publicClient, addresses[chainId].Token)`,
      `const bob: bigint = await atAddress.read.balanceOf(['${bob!.address}'])`,
      `process.stdout.write(JSON.stringify({address: token.address, before: String(before), after: String(after), bob: String(bob), symbol, abiItems: tokenAbi.length, bytecode: tokenBytecode.slice(0, 4)}))`,
      ``,
    ]
    await writeFile(join(project, 'test/usage.ts'), usage.join('\n'))
    const ok = await tsc()
    expect(ok.exitCode, explain(ok)).toBe(0)

    const bad = [
      ...clientsPreamble(devnet!.chainId),
      ``,
      `await token.write.transfer(['${bob!.address}', '10'])`,
      `await token.read.balanceOff([account.address])`,
      ``,
    ]
    await writeFile(join(project, 'test/bad.ts'), bad.join('\n'))
    const failed = await tsc()
    await rm(join(project, 'test/bad.ts'))
    expect(failed.exitCode, explain(failed)).toBe(2)
    const errors = failed.stdout.split('\n').filter((line) => line.includes('error TS'))
    const stringLine = bad.findIndex((line) => line.includes(`'10'`)) + 1
    const nameLine = bad.findIndex((line) => line.includes('balanceOff')) + 1
    expect(errors, failed.stdout).toEqual([
      expect.stringMatching(new RegExp(`^test/bad\\.ts\\(${stringLine},\\d+\\): error TS2322: Type 'string' is not assignable to type 'bigint'\\.$`)),
      expect.stringMatching(new RegExp(`^test/bad\\.ts\\(${nameLine},\\d+\\): error TS2551: Property 'balanceOff' does not exist on type .*Did you mean 'balanceOf'\\?$`)),
    ])
  })

  it('the generated code reads and writes the deployed contract', async () => {
    const run = await execa(process.execPath, ['--import', 'tsx', 'test/usage.ts'], {
      cwd: project,
      env: {...cliEnv(), XAI_RPC_URL: devnet!.rpcUrl},
      extendEnv: false,
      reject: false,
      timeout: 120_000,
      stdin: 'ignore',
    })
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({address: token, before: '1000', after: '990', bob: '10', symbol: 'MTK', bytecode: '0x60'})
  })

  it('--out writes elsewhere; contracts that are gone lose their generated file, other files stay', async () => {
    await writeFile(join(project, 'test/keep.ts'), 'export const keep = 1\n')
    const first = await xai(['contract', 'bindings', '--out', 'test', '--json'])
    expect(first.exitCode, explain(first)).toBe(0)
    expect(json(first).written).toContain('test/Counter.ts')

    await rm(join(project, 'contracts/Counter.sol'))
    await rm(join(project, 'test/Counter.test.ts'))
    expect((await xai(['contract', 'compile'])).exitCode).toBe(0)
    const second = await xai(['contract', 'bindings', '--out', 'test', '--json'])
    expect(second.exitCode, explain(second)).toBe(0)
    expect(json(second)).toMatchObject({out: 'test', removed: ['test/Counter.ts'], written: ['test/index.ts']})
    expect(await readFile(join(project, 'test/keep.ts'), 'utf8')).toBe('export const keep = 1\n')
    expect(existsSync(join(project, 'test/usage.ts'))).toBe(true)
  })

  it('has --help with examples', async () => {
    const help = await xai(['contract', 'bindings', '--help'])
    expect(help.exitCode, explain(help)).toBe(0)
    expect(help.stdout).toContain('EXAMPLES')
    expect(help.stdout).toContain('--out')
  })
})
