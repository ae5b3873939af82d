import {type Address, type Hex, concat, getAddress, keccak256, toHex} from 'viem'
import {describe, expect, it} from 'vitest'

import {REPUTATION, TREASURY_ADDRESS, federationId, fl, flWorkload, merkleRoot, updateLeaf, updatesRoot} from '../../../../src/modules/builtin/fl.js'
import {createTestHarness, replayDeterminism} from '../../../../src/modules/test-kit.js'

const COORDINATOR = getAddress('0x00000000000000000000000000000000000c0011')
const OTHER = getAddress('0x0000000000000000000000000000000000000bad')
const A = getAddress('0x00000000000000000000000000000000000000a1')
const B = getAddress('0x00000000000000000000000000000000000000b2')
const C = getAddress('0x00000000000000000000000000000000000000c3')
const ETHER = 10n ** 18n
const CONFIG = keccak256(toHex('config'))
const h = (n: number): Hex => keccak256(toHex(n, {size: 32}))

function setup(params: Record<string, unknown> = {}, treasury = 10n * ETHER) {
  const harness = createTestHarness(fl, {params, balances: {[TREASURY_ADDRESS]: treasury}, system: true})
  const id = harness.call('registerFederation', ['digits', CONFIG], {sender: COORDINATOR}).result as Hex
  return {harness, id}
}

function commit(harness: ReturnType<typeof setup>['harness'], id: Hex, round: bigint, accepted: Address[], rejected: [Address, number][] = [], sender: Address = COORDINATOR, root?: Hex) {
  const hashes = accepted.map((_, i) => h(Number(round) * 100 + i))
  const computed = updatesRoot(accepted.map((client, i) => ({hash: hashes[i]!, client})))
  return harness.call(
    'commitRound',
    [id, round, h(Number(round)), root ?? computed, 1_500_000n, accepted, hashes, rejected.map(([who]) => who), rejected.map(([, reason]) => reason)],
    {sender},
  )
}

describe('fl module: the Merkle tree', () => {
  it('hashes leaves as keccak256(updateHash ‖ client), pairs in order and moves an odd node up', () => {
    const leaf = updateLeaf(h(1), A)
    expect(leaf).toBe(keccak256(concat([h(1), A])))
    expect(merkleRoot([])).toBe(`0x${'0'.repeat(64)}`)
    expect(merkleRoot([leaf])).toBe(leaf)
    const [l1, l2, l3] = [h(1), h(2), h(3)]
    expect(merkleRoot([l1, l2, l3])).toBe(keccak256(concat([keccak256(concat([l1, l2])), l3])))
    expect(merkleRoot([l2, l1])).not.toBe(merkleRoot([l1, l2]))
  })
})

describe('fl module', () => {
  it('registers a federation under keccak256(coordinator, name) once', () => {
    const {harness, id} = setup()
    expect(id).toBe(federationId(COORDINATOR, 'digits'))
    expect(harness.call('federationId', [COORDINATOR, 'digits']).result).toBe(id)
    expect(harness.call('federation', [id]).result).toEqual([COORDINATOR, CONFIG, 0n])
    expect(() => harness.call('registerFederation', ['digits', CONFIG], {sender: COORDINATOR})).toThrow(/already registered/)
    // Another coordinator's federation of the same name is another id.
    expect(harness.call('registerFederation', ['digits', CONFIG], {sender: OTHER}).result).not.toBe(id)
    expect(() => harness.call('registerFederation', ['', CONFIG], {sender: OTHER})).toThrow(/1 to 64 bytes/)
  })

  it('records a round, pays each accepted update from the treasury and moves reputation by the formula', () => {
    const {harness, id} = setup()
    const out = commit(harness, id, 1n, [A, B], [[C, 0], [C, 3]])
    expect(out.events.map((e) => e.name)).toEqual(['RoundCommitted', 'RewardPaid', 'RewardPaid'])
    const [modelHash, root, accepted, ...rest] = harness.call('getRound', [id, 1n]).result as unknown[]
    expect(modelHash).toBe(h(1))
    expect(root).toBe(updatesRoot([{hash: h(100), client: A}, {hash: h(101), client: B}]))
    expect(accepted).toBe(2n)
    expect(rest).toEqual([1n, 0n, 0n, 1n, 1_500_000n, false, harness.height, 10n ** 15n])
    expect(harness.balanceOf(A)).toBe(10n ** 15n)
    expect(harness.balanceOf(B)).toBe(10n ** 15n)
    expect(harness.balanceOf(TREASURY_ADDRESS)).toBe(10n * ETHER - 2n * 10n ** 15n)
    expect(harness.call('client', [A]).result).toEqual([REPUTATION.accepted, 1n, 0n, 10n ** 15n])
    expect(harness.call('client', [C]).result).toEqual([REPUTATION.aggregator + REPUTATION.signature, 0n, 2n, 0n])
    expect(REPUTATION.aggregator + REPUTATION.signature).toBe(-25n)
    expect(harness.call('clientCount').result).toBe(3n)
    expect([0n, 1n, 2n].map((i) => harness.call('clientAt', [i]).result)).toEqual([A, B, C])
    expect(harness.call('federation', [id]).result).toEqual([COORDINATOR, CONFIG, 1n])
  })

  it('lets only the coordinator commit, rounds strictly increasing, each once', () => {
    const {harness, id} = setup()
    expect(() => commit(harness, id, 1n, [A], [], OTHER)).toThrow(/only the federation's coordinator/)
    expect(() => commit(harness, id, 0n, [A])).toThrow(/start at 1/)
    commit(harness, id, 1n, [A])
    expect(() => commit(harness, id, 1n, [B])).toThrow(/not after the last committed round 1/)
    commit(harness, id, 3n, [A])
    expect(() => commit(harness, id, 2n, [A])).toThrow(/not after the last committed round 3/)
    expect(() => commit(harness, keccak256(toHex('nope')), 1n, [A])).toThrow(/no federation/)
  })

  it('refuses a root that is not the listed updates, a client listed twice, and a bad reason class', () => {
    const {harness, id} = setup()
    expect(() => commit(harness, id, 1n, [A, B], [], COORDINATOR, h(9))).toThrow(/is not the root of the listed updates/)
    expect(() => commit(harness, id, 1n, [A, A])).toThrow(/listed twice/)
    expect(() => commit(harness, id, 1n, [A], [[B, 4]])).toThrow(/not a class/)
    expect(() => harness.call('commitRound', [id, 1n, h(1), h(2), 0n, [A], [], [], []], {sender: COORDINATOR})).toThrow(/1 accepted clients but 0 update hashes/)
    expect(harness.call('federation', [id]).result).toEqual([COORDINATOR, CONFIG, 0n])
  })

  it('pays the reward governance sets, none at 0, and commits unpaid when the treasury is short', () => {
    const {harness, id} = setup({reward: '7'}, 10n)
    const first = commit(harness, id, 1n, [A, B])
    expect(first.events.map((e) => [e.name, e.args.amount])).toEqual([['RoundCommitted', undefined], ['RewardPaid', 7n], ['RewardUnpaid', 7n]])
    expect(harness.balanceOf(A)).toBe(7n)
    expect(harness.balanceOf(B)).toBe(0n)
    expect(harness.call('client', [B]).result).toEqual([REPUTATION.accepted, 1n, 0n, 0n])
    const stopped = setup({reward: 0})
    expect(commit(stopped.harness, stopped.id, 1n, [A]).events.map((e) => e.name)).toEqual(['RoundCommitted'])
    expect(stopped.harness.balanceOf(A)).toBe(0n)
  })

  it('refuses commits while governance requires proofs (a verifier key is set)', () => {
    const {harness, id} = setup({verifierKey: h(5)})
    expect(() => commit(harness, id, 1n, [A])).toThrow(/verifies none/)
    expect(fl.params.safeParse({verifierKey: '0x12'}).success).toBe(false)
  })

  it('takes no value and replays deterministically', () => {
    const {harness, id} = setup()
    expect(harness.validate({name: 'commitRound', args: [id, 1n, h(1), h(1), 0n, [], [], [], []], sender: COORDINATOR, value: 1n})).toMatchObject({ok: false})
    expect(replayDeterminism(fl, flWorkload).steps).toBeGreaterThan(0)
  })
})
