import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {headerHash} from '../../../src/conformance/conformance.js'
import {SkipGroup, formatConformanceReport, runGroup} from '../../../src/conformance/report.js'

const NAMES = ['parentHash', 'sha3Uncles', 'miner', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'logsBloom', 'difficulty', 'number', 'gasLimit', 'gasUsed', 'timestamp', 'extraData', 'mixHash', 'nonce', 'baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed', 'excessBlobGas', 'parentBeaconBlockRoot', 'requestsHash']
const QUANTITIES = new Set(['difficulty', 'number', 'gasLimit', 'gasUsed', 'timestamp', 'baseFeePerGas', 'blobGasUsed', 'excessBlobGas'])

describe('conformance checks', () => {
  it('recomputes a block hash from JSON-RPC header fields (the vectors\' blocks) and refuses a missing field', async () => {
    const chain = JSON.parse(await readFile(join(import.meta.dirname, '../../../docs/spec/vectors/chain.json'), 'utf8')) as {blocks: {hash: string; headerFields: string[]}[]}
    for (const block of chain.blocks) {
      const json = Object.fromEntries(NAMES.map((name, i) => [name, QUANTITIES.has(name) ? `0x${BigInt(block.headerFields[i] === '0x' ? 0 : block.headerFields[i]!).toString(16)}` : block.headerFields[i]]))
      expect(headerHash(json)).toBe(block.hash)
      expect(headerHash({...json, gasUsed: '0x1'})).not.toBe(block.hash)
    }
    const {stateRoot: _, ...missing} = Object.fromEntries(NAMES.map((name) => [name, '0x00']))
    expect(() => headerHash(missing)).toThrow(/no stateRoot/)
  })

  it('a group passes, fails on any failed check (a throwing body included), or skips with its reason', async () => {
    const pass = await runGroup('a', 'A', async (c) => {
      await c.check('one', () => 'fine')
    })
    expect(pass).toMatchObject({status: 'pass', passed: 1, failed: 0})
    const fail = await runGroup('b', 'B', async (c) => {
      await c.check('ok', () => undefined)
      await c.check('broken', () => {
        throw new Error('the node said 7')
      })
      throw new Error('malformed answer')
    })
    expect(fail).toMatchObject({status: 'fail', passed: 1, failed: 2})
    expect(fail.checks.map((x) => x.detail)).toEqual([undefined, 'the node said 7', 'malformed answer'])
    const skip = await runGroup('c', 'C', async () => {
      throw new SkipGroup('not an XAI node')
    })
    expect(skip).toMatchObject({status: 'skip', reason: 'not an XAI node', passed: 0, failed: 0})
    const text = formatConformanceReport({rpcUrl: 'http://x', chainId: 1, clientVersion: 'v', xai: false, ok: false, groups: [pass, fail, skip]})
    expect(text).toMatch(/^b\s+FAIL\s+1\/3/m)
    expect(text).toMatch(/^c\s+SKIP\s+0\/0\s+\d+ ms\s+not an XAI node/m)
    expect(text).toContain('✖ b: broken: the node said 7')
    expect(text).toContain('conformance: 1 group(s) failed')
  })
})
