// End to end on a one-node automine devnet: `xai fl round --chain` anchors every round in the fl
// module, `fl verify` passes and fails after one model hash of the history is edited, rewards
// reach the clients from the treasury, and a parameter-change proposal changes the reward paid by
// the next round. Needs `npm run build`.
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type E2eDevnet, startE2eDevnet} from '../helpers/devnet.js'
import {flChainScenario} from '../helpers/fl-chain-scenario.js'

let devnet: E2eDevnet | undefined
let tmp: string

describe('FL rounds anchored on chain (one node)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-fl-chain-'))
    devnet = await startE2eDevnet({target: 'xai', blockTime: 0, upArgs: ['--voting-period', '4', '--timelock', '1']})
  })
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('commits, verifies, rewards, and pays the reward a proposal sets', async () => {
    const figures = await flChainScenario(devnet!, tmp, {mine: true})
    process.stderr.write(`fl round, 3 rounds: ${figures.chainMs} ms with --chain (first run: funding and registration included), ${figures.plainMs} ms without\n`)
    expect(figures.chainMs).toBeGreaterThan(0)
  }, 900_000)
})
