// End to end on a four-validator devnet (Tendermint BFT, one block a second): the FL-on-chain
// scenario of fl-chain.test.ts, with every round read back and `fl verify` run against every node.
// Listed in MULTI_VALIDATOR (vitest.config.ts): runs in the sequential tail. Needs `npm run build`.
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type E2eDevnet, startE2eDevnet} from '../helpers/devnet.js'
import {flChainScenario} from '../helpers/fl-chain-scenario.js'

let devnet: E2eDevnet | undefined
let tmp: string

describe('FL rounds anchored on chain (four validators)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-fl-chain-4-'))
    devnet = await startE2eDevnet({target: 'xai', blockTime: 1000, startTimeoutMs: 240_000, upArgs: ['--nodes', '4', '--voting-period', '45', '--timelock', '2']})
  }, 300_000)
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('every round is on every node; verify, rewards and a reward proposal as on one node', async () => {
    expect(devnet!.nodes).toHaveLength(4)
    const figures = await flChainScenario(devnet!, tmp, {mine: false})
    process.stderr.write(`fl round, 3 rounds, 4 validators: ${figures.chainMs} ms with --chain (funding and registration included), ${figures.plainMs} ms without\n`)
    expect(figures.chainMs).toBeGreaterThan(0)
  }, 1_200_000)
})
