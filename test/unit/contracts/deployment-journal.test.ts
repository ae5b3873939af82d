import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import type {Address, Hex} from 'viem'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type DeploymentEntry, type DeploymentJournal, decideDeploy, journalPath, latestDeployed, readJournal, withEntry, writeJournal} from '../../../src/contracts/deployment-journal.js'

const ADDRESS = '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Address
const entry = (over: Partial<DeploymentEntry> = {}): DeploymentEntry => ({
  name: 'Token',
  bytecodeHash: '0xaa',
  argsEncoded: '0x01',
  from: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  nonce: 0,
  rawTx: '0x02f8',
  txHash: '0x11',
  status: 'sent',
  sentAt: '2025-01-01T00:00:00.000Z',
  ...over,
})
const empty = (): DeploymentJournal => ({_format: 'xai-deployments-1', contract: 'Token', chainId: 31337, deployments: []})
const target = {bytecodeHash: '0xaa' as Hex, argsEncoded: '0x01' as Hex}
const codeAt = (present: boolean) => async () => present

describe('deployment journal', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'xai-journal-'))
  })
  afterAll(async () => {
    await rm(root, {recursive: true, force: true})
  })

  it('lives at .xai/deployments/<chainId>/<Name>.json; a missing file is an empty journal', async () => {
    const path = journalPath(root, 31337, 'Token')
    expect(path).toBe(join(root, '.xai/deployments/31337/Token.json'))
    expect(await readJournal(path, 'Token', 31337)).toEqual(empty())
  })

  it('write-ahead: the sent entry (raw tx included) is on disk, then replaced by the deployed one; atomic, no temp files left', async () => {
    const path = journalPath(root, 1, 'Token')
    let journal = withEntry(empty(), entry())
    await writeJournal(path, journal)
    expect((await readJournal(path, 'Token', 1)).deployments).toEqual([entry()])
    journal = withEntry(journal, entry({status: 'deployed', address: ADDRESS, blockNumber: '3', gasUsed: '100'}))
    await writeJournal(path, journal)
    const read = await readJournal(path, 'Token', 1)
    expect(read.deployments).toHaveLength(1)
    expect(read.deployments[0]).toMatchObject({status: 'deployed', address: ADDRESS, rawTx: '0x02f8'})
    expect(latestDeployed(read)?.address).toBe(ADDRESS)
    expect(await readdir(dirname(path))).toEqual(['Token.json'])
  })

  it('a corrupt journal is an environment error naming the file', async () => {
    const path = journalPath(root, 2, 'Token')
    await writeJournal(path, empty())
    await writeFile(path, '{"deployments": 1')
    await expect(readJournal(path, 'Token', 2)).rejects.toMatchObject({code: 'CONTRACT_JOURNAL_CORRUPT', exitCode: 3})
    await writeFile(path, JSON.stringify({_format: 'other'}))
    await expect(readJournal(path, 'Token', 2)).rejects.toMatchObject({code: 'CONTRACT_JOURNAL_CORRUPT'})
    expect(await readFile(path, 'utf8')).toContain('other')
  })
})

describe('decideDeploy', () => {
  it('first deployment, and changed bytecode or args, deploy anew (keeping the history)', async () => {
    expect(await decideDeploy(empty(), target, codeAt(true))).toEqual({action: 'deploy', reason: 'first'})
    const journal = withEntry(empty(), entry({status: 'deployed', address: ADDRESS}))
    expect(await decideDeploy(journal, {...target, bytecodeHash: '0xbb'}, codeAt(true))).toEqual({action: 'deploy', reason: 'changed'})
    expect(await decideDeploy(journal, {...target, argsEncoded: '0x02'}, codeAt(true))).toEqual({action: 'deploy', reason: 'changed'})
  })

  it('deployed with code at the address: existing; code gone (reset chain): deploy again', async () => {
    const journal = withEntry(empty(), entry({status: 'deployed', address: ADDRESS}))
    expect(await decideDeploy(journal, target, codeAt(true))).toMatchObject({action: 'existing', entry: {address: ADDRESS}})
    expect(await decideDeploy(journal, target, codeAt(false))).toEqual({action: 'deploy', reason: 'code-missing'})
  })

  it('sent but never confirmed: resume that transaction (never sign a new one)', async () => {
    const journal = withEntry(withEntry(empty(), entry({txHash: '0x10', status: 'deployed', address: ADDRESS})), entry({txHash: '0x20', nonce: 1}))
    expect(await decideDeploy(journal, target, codeAt(true))).toMatchObject({action: 'resume', entry: {txHash: '0x20', nonce: 1}})
  })

  it('a failed deployment is retried; --force always deploys', async () => {
    expect(await decideDeploy(withEntry(empty(), entry({status: 'failed'})), target, codeAt(true))).toEqual({action: 'deploy', reason: 'previous-failed'})
    const deployed = withEntry(empty(), entry({status: 'deployed', address: ADDRESS}))
    expect(await decideDeploy(deployed, {...target, force: true}, codeAt(true))).toEqual({action: 'deploy', reason: 'forced'})
  })
})
