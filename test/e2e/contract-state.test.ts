// End to end: `xai contract state` (the built CLI) reads an ERC-20 deployed by the CLI on a real
// devnet (automine) and decodes its storage through the artifact's storage layout.
import {rm} from 'node:fs/promises'

import {type Hex, getAddress} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai, tokenProject} from '../helpers/cli.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, startE2eDevnet} from '../helpers/devnet.js'

let devnet: E2eDevnet | undefined
let tmp: string
let project: string

function xai(args: string[], cwd = project): Promise<CliResult> {
  return runXai(args, cwd)
}

const rpc = (): string[] => ['--rpc-url', devnet!.rpcUrl]
const [alice, bob] = STANDARD_DEV_ACCOUNTS

describe('xai contract state (CLI, devnet)', () => {
  let token: Hex
  let deployBlock: string

  beforeAll(async () => {
    ;({tmp, project} = await tokenProject('xai-state-e2e-'))
    devnet = await startE2eDevnet({blockTime: 0})
    const deployed = await xai(['contract', 'deploy', 'Token', 'MyToken', 'MTK', '1000', ...rpc(), '--json'])
    expect(deployed.exitCode, explain(deployed)).toBe(0)
    // Checksummed, as every address state prints.
    token = getAddress(json(deployed).address)
    deployBlock = json(deployed).blockNumber
    for (const args of [
      ['transfer', bob!.address, '250'],
      ['approve', bob!.address, '40'],
    ]) {
      const sent = await xai(['contract', 'send', 'Token', ...args, ...rpc()])
      expect(sent.exitCode, explain(sent)).toBe(0)
    }
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('--json: name, symbol, totalSupply, the owner and the balances and allowance at the keys given', async () => {
    const result = await xai(['contract', 'state', 'Token', '--slot-key', `balanceOf=${alice!.address}`, '--slot-key', `balanceOf=${bob!.address}`, '-k', `allowance=${alice!.address},${bob!.address}`, ...rpc(), '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc).toMatchObject({address: token, contract: 'Token', chainId: devnet!.chainId})
    expect(Number(doc.blockNumber)).toBeGreaterThan(Number(deployBlock))
    expect(doc.variables).toEqual([
      {label: 'name', type: 'string', slot: '0', offset: 0, value: 'MyToken'},
      {label: 'symbol', type: 'string', slot: '1', offset: 0, value: 'MTK'},
      {label: 'totalSupply', type: 'uint256', slot: '2', offset: 0, value: '1000'},
      {label: 'balanceOf', type: 'mapping(address => uint256)', slot: '3', offset: 0, value: {entries: [{key: alice!.address, value: '750'}, {key: bob!.address, value: '250'}]}},
      {label: 'allowance', type: 'mapping(address => mapping(address => uint256))', slot: '4', offset: 0, value: {entries: [{key: alice!.address, value: {entries: [{key: bob!.address, value: '40'}]}}]}},
      {label: '_owner', type: 'address', slot: '5', offset: 0, value: alice!.address},
    ])
  })

  it('human output: one line per variable, mapping entries as label[key] = value; a mapping without keys says so', async () => {
    const result = await xai(['contract', 'state', 'Token', '--slot-key', bob!.address, ...rpc()])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(result.stdout.split('\n')).toEqual([
      'name (string) = "MyToken"',
      'symbol (string) = "MTK"',
      'totalSupply (uint256) = 1000',
      'balanceOf (mapping(address => uint256))',
      `  balanceOf[${bob!.address}] = 250`,
      'allowance (mapping(address => mapping(address => uint256)))',
      `  allowance[${bob!.address}][${bob!.address}] = 0`,
      `_owner (address) = ${alice!.address}`,
    ])
    expect(result.stderr).toContain(`Token at ${token}, chain ${devnet!.chainId}, block `)

    const keyless = await xai(['contract', 'state', 'Token', ...rpc()])
    expect(keyless.exitCode, explain(keyless)).toBe(0)
    expect(keyless.stdout).toContain('\nbalanceOf (mapping(address => uint256)): no keys given\n')
    expect(keyless.stderr).toContain('Note: allowance: Mappings are read only at the keys given: --slot-key allowance=<key>,<key>')
  })

  it('an address with --abi, at an earlier --block', async () => {
    const result = await xai(['contract', 'state', token, '--abi', 'Token', '--block', deployBlock, '--slot-key', `balanceOf=${alice!.address}`, ...rpc(), '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc).toMatchObject({address: token, contract: 'Token', blockNumber: deployBlock})
    expect(doc.variables.find((v: {label: string}) => v.label === 'balanceOf').value).toEqual({entries: [{key: alice!.address, value: '1000'}]})
  })

  it('fails clearly: unknown contract, address without --abi, nothing deployed, bad keys and blocks', async () => {
    const unknown = await xai(['contract', 'state', 'Tokn', ...rpc()])
    expect(unknown.exitCode, explain(unknown)).toBe(2)
    expect(unknown.stderr).toContain('No compiled contract named Tokn [CONTRACT_ARTIFACT_NOT_FOUND]')

    const noAbi = await xai(['contract', 'state', token, ...rpc(), '--json'])
    expect(noAbi.exitCode, explain(noAbi)).toBe(2)
    expect(json(noAbi).error).toMatchObject({code: 'CONTRACT_INVALID_ARGUMENT', message: 'An address needs an ABI (and, for state, its storage layout)'})

    const notInJournal = await xai(['contract', 'state', 'Counter', ...rpc()])
    expect(notInJournal.exitCode, explain(notInJournal)).toBe(3)
    expect(notInJournal.stderr).toContain('[CONTRACT_NOT_DEPLOYED]')

    const empty = '0x000000000000000000000000000000000000dEaD'
    const noCode = await xai(['contract', 'state', empty, '--abi', 'Token', ...rpc(), '--json'])
    expect(noCode.exitCode, explain(noCode)).toBe(3)
    expect(json(noCode).error).toMatchObject({code: 'CONTRACT_NOT_DEPLOYED', details: {address: empty, chainId: devnet!.chainId}})
    expect(json(noCode).error.message).toContain(`No contract code at ${empty} on chain ${devnet!.chainId}`)

    const badKey = await xai(['contract', 'state', 'Token', '--slot-key', 'balanceOf=0x1234', ...rpc()])
    expect(badKey.exitCode, explain(badKey)).toBe(2)
    expect(badKey.stderr).toContain('Invalid key 1 of balanceOf: expected address')

    const notMapping = await xai(['contract', 'state', 'Token', '--slot-key', 'totalSupply=1', ...rpc()])
    expect(notMapping.exitCode, explain(notMapping)).toBe(2)
    expect(notMapping.stderr).toContain('Cannot read keys of totalSupply: totalSupply is a uint256, not a mapping [CONTRACT_INVALID_ARGUMENT]')
    expect(notMapping.stderr).toContain('Its mappings: balanceOf (address); allowance (address, address).')

    const future = await xai(['contract', 'state', 'Token', '--block', '100000', ...rpc()])
    expect(future.exitCode, explain(future)).toBe(2)
    expect(future.stderr).toContain(`Block 100000 is not on chain ${devnet!.chainId}`)
  })
})
