// End to end: `xai contract deploy|call|send` (the built CLI) against a real devnet (automine),
// with a contracts project made by the CLI itself.
import {readFile, rm, mkdtemp, writeFile, mkdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Hex, createPublicClient, encodeDeployData, http, keccak256, parseAbi} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, freePort, startE2eDevnet} from '../helpers/devnet.js'

let devnet: E2eDevnet | undefined
let tmp: string
let project: string

function xai(args: string[], cwd = project): Promise<CliResult> {
  return runXai(args, cwd)
}

const rpc = (): string[] => ['--rpc-url', devnet!.rpcUrl]
const [alice, bob, carol, dave] = STANDARD_DEV_ACCOUNTS

describe('xai contract deploy/call/send (CLI, devnet)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-deploy-e2e-'))
    project = join(tmp, 'proj')
    devnet = await startE2eDevnet({blockTime: 0})
    for (const args of [['contract', 'init', 'proj'], ['contract', 'new', 'Token', '--template', 'erc20']]) {
      const result = await xai(args, args[1] === 'init' ? tmp : project)
      expect(result.exitCode, explain(result)).toBe(0)
    }
    const compiled = await xai(['contract', 'compile'])
    expect(compiled.exitCode, explain(compiled)).toBe(0)
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  let token: Hex

  it('deploys Token with constructor args, then a second deploy is a no-op with the same address', async () => {
    const first = await xai(['contract', 'deploy', 'Token', 'MyToken', 'MTK', '1000', ...rpc(), '--json'])
    expect(first.exitCode, explain(first)).toBe(0)
    const doc = json(first)
    expect(doc).toMatchObject({contract: 'Token', status: 'deployed', chainId: devnet!.chainId, from: alice!.address, journal: `.xai/deployments/${devnet!.chainId}/Token.json`})
    expect(doc.address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(Number(doc.gasUsed)).toBeGreaterThan(0)
    token = doc.address

    const journal = JSON.parse(await readFile(join(project, doc.journal), 'utf8'))
    expect(journal.deployments).toHaveLength(1)
    expect(journal.deployments[0]).toMatchObject({status: 'deployed', address: token, txHash: doc.txHash, nonce: doc.nonce})
    expect(journal.deployments[0].rawTx).toMatch(/^0x/)

    const again = await xai(['contract', 'deploy', 'Token', '--args', 'MyToken', '--args', 'MTK', '--args', '1000', ...rpc()])
    expect(again.exitCode, explain(again)).toBe(0)
    expect(again.stdout).toContain('already deployed')
    expect(again.stdout).toContain(token)
  })

  it('call balanceOf decodes the return value; an unknown function lists the candidates', async () => {
    const call = await xai(['contract', 'call', 'Token', 'balanceOf', alice!.address, ...rpc(), '--json'])
    expect(call.exitCode, explain(call)).toBe(0)
    expect(json(call)).toMatchObject({address: token, function: 'balanceOf(address)', result: '1000'})

    const human = await xai(['contract', 'call', token, 'symbol', '--abi', 'Token', ...rpc()])
    expect(human.exitCode, explain(human)).toBe(0)
    expect(human.stdout).toBe('MTK')

    const unknown = await xai(['contract', 'call', 'Token', 'balance', alice!.address, ...rpc()])
    expect(unknown.exitCode, explain(unknown)).toBe(2)
    expect(unknown.stderr).toContain('[CONTRACT_UNKNOWN_FUNCTION]')
    expect(unknown.stderr).toContain('balanceOf(address)')
  })

  it('send transfer waits for the receipt and decodes the Transfer event', async () => {
    const sent = await xai(['contract', 'send', 'Token', 'transfer', bob!.address, '250', ...rpc(), '--json'])
    expect(sent.exitCode, explain(sent)).toBe(0)
    const doc = json(sent)
    expect(doc).toMatchObject({status: 'success', function: 'transfer(address,uint256)', from: alice!.address})
    expect(doc.events).toEqual([{address: token, event: 'Transfer', args: {from: alice!.address, to: bob!.address, value: '250'}}])

    const balance = await xai(['contract', 'call', 'Token', 'balanceOf', bob!.address, ...rpc()])
    expect(balance.stdout).toBe('250')
  })

  it('a send that reverts shows the decoded custom error and exits 4, sending nothing', async () => {
    const client = createPublicClient({transport: http(devnet!.rpcUrl)})
    const nonce = await client.getTransactionCount({address: carol!.address})
    const result = await xai(['contract', 'send', 'Token', 'transfer', bob!.address, '5', '--account', '2', ...rpc()])
    expect(result.exitCode, explain(result)).toBe(4)
    expect(result.stderr).toContain(`reverted: InsufficientBalance(from=${carol!.address}, balance=0, needed=5) [CONTRACT_REVERTED]`)

    const asJson = await xai(['contract', 'send', 'Token', 'transfer', bob!.address, '5', '--account', '2', ...rpc(), '--json'])
    expect(asJson.exitCode).toBe(4)
    expect(json(asJson).error).toMatchObject({code: 'CONTRACT_REVERTED', details: {revert: {kind: 'custom', name: 'InsufficientBalance', args: {from: carol!.address, balance: '0', needed: '5'}}}})
    expect(await client.getTransactionCount({address: carol!.address})).toBe(nonce)
  })

  it('an interrupted deploy (journal says sent, tx never broadcast) resumes without signing again', async () => {
    const client = createPublicClient({transport: http(devnet!.rpcUrl)})
    const artifact = JSON.parse(await readFile(join(project, 'artifacts/contracts/Token.sol/Token.json'), 'utf8'))
    const data = encodeDeployData({abi: artifact.abi, bytecode: artifact.bytecode, args: ['Other', 'OTH', 7n]})
    const signer = privateKeyToAccount(dave!.privateKey)
    const nonce = await client.getTransactionCount({address: dave!.address})
    const rawTx = await signer.signTransaction({chainId: devnet!.chainId, type: 'eip1559', nonce, gas: 3_000_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, data})
    const path = join(project, '.xai/deployments', String(devnet!.chainId), 'Token.json')
    const journal = JSON.parse(await readFile(path, 'utf8'))
    const entry = {
      name: 'Token',
      bytecodeHash: keccak256(artifact.bytecode),
      argsEncoded: `0x${data.slice(artifact.bytecode.length)}`,
      from: dave!.address,
      nonce,
      rawTx,
      txHash: keccak256(rawTx),
      status: 'sent',
      sentAt: new Date().toISOString(),
    }
    journal.deployments.push(entry)
    await writeFile(path, JSON.stringify(journal, null, 2))

    const resumed = await xai(['contract', 'deploy', 'Token', 'Other', 'OTH', '7', '--account', '3', ...rpc(), '--json'])
    expect(resumed.exitCode, explain(resumed)).toBe(0)
    expect(json(resumed)).toMatchObject({status: 'resumed', txHash: entry.txHash, from: dave!.address, nonce})
    expect(await client.getTransactionCount({address: dave!.address})).toBe(nonce + 1)

    const after = JSON.parse(await readFile(path, 'utf8'))
    expect(after.deployments.map((e: {status: string}) => e.status)).toEqual(['deployed', 'deployed'])
    expect(after.deployments[1]).toMatchObject({txHash: entry.txHash, address: json(resumed).address})
    expect(after.deployments[0].address).toBe(token)

    // Now deployed: the next run is a no-op, and the first deployment is still the one by name… the newest wins.
    const again = await xai(['contract', 'deploy', 'Token', 'Other', 'OTH', '7', '--account', '3', ...rpc(), '--json'])
    expect(json(again)).toMatchObject({status: 'existing', address: json(resumed).address})
    expect(await client.getTransactionCount({address: dave!.address})).toBe(nonce + 1)
    const symbol = await xai(['contract', 'call', 'Token', 'symbol', ...rpc()])
    expect(symbol.stdout).toBe('OTH')
    const erc20 = parseAbi(['function totalSupply() view returns (uint256)'])
    expect(await client.readContract({address: token, abi: erc20, functionName: 'totalSupply'})).toBe(1000n)
  })

  it('--force deploys a new instance and keeps the history', async () => {
    const forced = await xai(['contract', 'deploy', 'Token', 'MyToken', 'MTK', '1000', '--force', ...rpc(), '--json'])
    expect(forced.exitCode, explain(forced)).toBe(0)
    expect(json(forced).status).toBe('deployed')
    expect(json(forced).address).not.toBe(token)
    const journal = JSON.parse(await readFile(join(project, '.xai/deployments', String(devnet!.chainId), 'Token.json'), 'utf8'))
    expect(journal.deployments).toHaveLength(3)
  })

  it('a devnet network from xai.config.json resolves to its node-0 RPC URL', async () => {
    const config = JSON.parse(await readFile(join(project, 'xai.config.json'), 'utf8'))
    await writeFile(join(project, 'xai.config.json'), JSON.stringify({...config, networks: {...config.networks, here: {rpcUrl: devnet!.rpcUrl}}}))
    const call = await xai(['contract', 'call', 'Token', 'decimals', '--network', 'here'])
    expect(call.exitCode, explain(call)).toBe(0)
    expect(call.stdout).toBe('18')
    if (devnet!.target === 'xai') {
      const viaDevnet = await xai(['contract', 'call', 'Token', 'decimals', '--network', 'local', '--dir', devnet!.dir])
      expect(viaDevnet.exitCode, explain(viaDevnet)).toBe(0)
      expect(viaDevnet.stdout).toBe('18')
    }
    const unknown = await xai(['contract', 'call', 'Token', 'decimals', '--network', 'mainnet'])
    expect(unknown.exitCode, explain(unknown)).toBe(2)
    expect(unknown.stderr).toContain('Unknown network "mainnet" [CONTRACT_UNKNOWN_NETWORK]')
    expect(unknown.stderr).toMatch(/Known networks.*local, here/)
    const noDevnet = await xai(['contract', 'call', 'Token', 'decimals', '--dir', join(tmp, 'nowhere')])
    expect(noDevnet.exitCode, explain(noDevnet)).toBe(3)
    expect(noDevnet.stderr).toContain('[CONTRACT_DEVNET_NOT_RUNNING]')
    expect(noDevnet.stderr).toContain('xai devnet up')
  })

  it('bad inputs fail clearly with the right exit code and leave the journal as it was', async () => {
    const path = join(project, '.xai/deployments', String(devnet!.chainId), 'Token.json')
    const before = await readFile(path, 'utf8')

    const unknown = await xai(['contract', 'deploy', 'Tokn', ...rpc()])
    expect(unknown.exitCode, explain(unknown)).toBe(2)
    expect(unknown.stderr).toContain('No compiled contract named Tokn [CONTRACT_ARTIFACT_NOT_FOUND]')

    const count = await xai(['contract', 'deploy', 'Token', 'OnlyName', ...rpc(), '--json'])
    expect(count.exitCode, explain(count)).toBe(2)
    expect(json(count).error).toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT'})
    expect(json(count).error.message).toContain('takes 3 arguments (name_: string, symbol_: string, initialSupply: uint256), got 1')

    const type = await xai(['contract', 'deploy', 'Token', 'A', 'B', 'lots', ...rpc()])
    expect(type.exitCode, explain(type)).toBe(2)
    expect(type.stderr).toContain('Invalid argument 3 (initialSupply): expected uint256')

    const badAddress = await xai(['contract', 'send', 'Token', 'transfer', '0x1234', '1', ...rpc()])
    expect(badAddress.exitCode, explain(badAddress)).toBe(2)
    expect(badAddress.stderr).toContain('Invalid argument 1 (to): expected address')

    const port = await freePort()
    const unreachable = await xai(['contract', 'deploy', 'Token', 'A', 'B', '1', '--rpc-url', `http://127.0.0.1:${port}`])
    expect(unreachable.exitCode, explain(unreachable)).toBe(3)
    expect(unreachable.stderr).toContain(`Cannot reach the JSON-RPC endpoint http://127.0.0.1:${port}`)
    expect(unreachable.stderr).toContain('Hint: ')

    expect(await readFile(path, 'utf8')).toBe(before)
  })

  it('every command has --help with examples', async () => {
    await mkdir(project, {recursive: true})
    for (const command of ['deploy', 'call', 'send']) {
      const help = await xai(['contract', command, '--help'])
      expect(help.exitCode, explain(help)).toBe(0)
      expect(help.stdout).toContain('EXAMPLES')
    }
  })
})
