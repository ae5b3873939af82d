import {type Address, type Hex, concat, encodePacked, getAddress, isAddress, keccak256, parseAbi, stringToBytes, toHex} from 'viem'
import {z} from 'zod'

import {type ModuleContext, type NativeModule, type ReadonlyModuleContext, moduleAddress, revert} from '../module.js'
import {addressToWord, hexToWord, mappingSlot, namespaceSlot, slotAdd, wordToAddress, wordToHex} from '../storage-codec.js'
import type {ModuleWorkload} from '../test-kit.js'

/**
 * fl: anchors federated-learning rounds on chain, pays rewards from the treasury and keeps a
 * reputation per client address.
 *
 * A federation is registered by its coordinator (`registerFederation(name, configHash)`); its id
 * is keccak256(abi.encodePacked(coordinator, name)), so names never collide between coordinators.
 * Only that coordinator may commit the federation's rounds, round numbers strictly increase, and
 * a round is committed once. A commit carries the round's global model hash, the Merkle root of
 * its accepted updates together with the leaves' inputs (each accepted client's address and the
 * hash of the update it sent; the module recomputes the root and refuses a mismatch), the rejected
 * clients with their reason class, and ε spent so far (in millionths; 0 without DP).
 *
 * Merkle tree (what `fl verify` recomputes): leaf = keccak256(updateHash ‖ client address) (32 +
 * 20 bytes, abi.encodePacked), leaves in the order committed (the federation's client order);
 * a parent is keccak256(left ‖ right); an odd node at the end of a level moves up unchanged; the
 * root of no leaves is bytes32(0).
 *
 * Rewards: each accepted update is paid `reward` wei out of the treasury's balance (moved by the
 * module's system operations); 0 stops rewards. When the treasury holds less, that client is not
 * paid (RewardUnpaid) and the round is still committed. At most `maxRewardedPerRound` updates a
 * round are paid. Until proofs are verified by the chain, the coordinator is trusted for which
 * updates it accepted: governance sets the reward (and may stop it) with that in mind.
 *
 * Reputation (int256 per client, from 0): +10 per accepted update; per rejection −5 for
 * `aggregator` (left out by a robust aggregator), −20 for `attestation`, −50 for `proof`, −20 for
 * `signature` (signature, round, model hash, replay or encoding checks failed).
 *
 * Proofs: `verifierKey` (bytes32, governance-set) names the Groth16 verifying key rounds must
 * prove against; 0 means "no proof required", and a round's `proofsVerified` is then false. This
 * version verifies no proofs, so it refuses every commit while a verifier key is set.
 *
 * Storage layout (slots of the module's system address):
 * - F = mappingSlot(namespaceSlot("xai.fl.federation"), id): F+0 coordinator, F+1 config hash,
 *   F+2 last committed round
 * - R = mappingSlot(mappingSlot(namespaceSlot("xai.fl.round"), id), round): R+0 model hash,
 *   R+1 updates root, R+2 accepted, R+3 rejected counts (4 × 64 bits: aggregator, attestation,
 *   proof, signature from the low bits up), R+4 ε in millionths, R+5 height committed at,
 *   R+6 proofs verified (0/1), R+7 reward paid per update
 * - C = mappingSlot(namespaceSlot("xai.fl.client"), address): C+0 reputation (two's complement),
 *   C+1 accepted, C+2 rejected, C+3 wei earned, C+4 index in the client list + 1
 * - namespaceSlot("xai.fl.clientCount"), mappingSlot(namespaceSlot("xai.fl.clients"), i): the
 *   clients in the order first seen
 */

export const FL_ID = 'fl'
export const TREASURY_ADDRESS: Address = moduleAddress('treasury')

/** Reason classes of a rejected update, as committed (uint8). */
export const REJECT_CLASSES = ['aggregator', 'attestation', 'proof', 'signature'] as const
export type RejectClass = (typeof REJECT_CLASSES)[number]

/** Reputation change per accepted update and per rejection class. */
export const REPUTATION = {accepted: 10n, aggregator: -5n, attestation: -20n, proof: -50n, signature: -20n} as const

/** The most accepted or rejected clients one commit may list. */
export const MAX_COMMIT_CLIENTS = 1024

export const NO_VERIFIER_KEY: Hex = `0x${'0'.repeat(64)}`

const FEDERATION_BASE = namespaceSlot('xai.fl.federation')
const ROUND_BASE = namespaceSlot('xai.fl.round')
const CLIENT_BASE = namespaceSlot('xai.fl.client')
const CLIENT_COUNT = namespaceSlot('xai.fl.clientCount')
const CLIENT_LIST = namespaceSlot('xai.fl.clients')
const U64 = (1n << 64n) - 1n

const params = z.object({
  /** Wei paid from the treasury per accepted update (0: no rewards). */
  reward: z.coerce.bigint().min(0n).default(10n ** 15n),
  /** The most updates paid per round. */
  maxRewardedPerRound: z.coerce.bigint().min(0n).max(BigInt(MAX_COMMIT_CLIENTS)).default(64n),
  /** keccak256 of the Groth16 verifying key rounds must prove against; zero: no proof required. */
  verifierKey: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/)
    .default(NO_VERIFIER_KEY),
})
export type FlParams = z.output<typeof params>

export const flAbi = parseAbi([
  'function registerFederation(string name, bytes32 configHash) returns (bytes32)',
  'function federationId(address coordinator, string name) pure returns (bytes32)',
  'function federation(bytes32 id) view returns (address coordinator, bytes32 configHash, uint256 lastRound)',
  'function commitRound(bytes32 id, uint256 round, bytes32 modelHash, bytes32 updatesRoot, uint256 epsilonMicros, address[] accepted, bytes32[] updateHashes, address[] rejected, uint8[] reasons)',
  'function getRound(bytes32 id, uint256 round) view returns (bytes32 modelHash, bytes32 updatesRoot, uint256 accepted, uint256 rejectedAggregator, uint256 rejectedAttestation, uint256 rejectedProof, uint256 rejectedSignature, uint256 epsilonMicros, bool proofsVerified, uint256 committedAt, uint256 rewardPerUpdate)',
  'function client(address who) view returns (int256 reputation, uint256 accepted, uint256 rejected, uint256 earned)',
  'function clientCount() view returns (uint256)',
  'function clientAt(uint256 index) view returns (address)',
  'event FederationRegistered(bytes32 indexed id, address indexed coordinator, bytes32 configHash, string name)',
  'event RoundCommitted(bytes32 indexed id, uint256 indexed round, bytes32 modelHash, bytes32 updatesRoot, uint256 accepted, uint256 rejected, uint256 epsilonMicros, bool proofsVerified)',
  'event RewardPaid(bytes32 indexed id, address indexed client, uint256 round, uint256 amount)',
  'event RewardUnpaid(bytes32 indexed id, address indexed client, uint256 round, uint256 amount)',
])

/** keccak256(abi.encodePacked(coordinator, name)): a federation's id on chain. */
export function federationId(coordinator: Address, name: string): Hex {
  return keccak256(encodePacked(['address', 'string'], [getAddress(coordinator), name]))
}

/** A Merkle leaf: keccak256(updateHash ‖ client) (abi.encodePacked, 52 bytes). */
export function updateLeaf(updateHash: Hex, client: Address): Hex {
  return keccak256(concat([updateHash, getAddress(client)]))
}

/** The root over `leaves` in order: parent = keccak256(left ‖ right), an odd last node moves up; none: bytes32(0). */
export function merkleRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) return NO_VERIFIER_KEY
  let level = [...leaves]
  while (level.length > 1) {
    const next: Hex[] = []
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? keccak256(concat([level[i]!, level[i + 1]!])) : level[i]!)
    level = next
  }
  return level[0]!
}

/** The root of the accepted updates of a round: see {@link merkleRoot} and {@link updateLeaf}. */
export function updatesRoot(updates: readonly {hash: Hex; client: Address}[]): Hex {
  return merkleRoot(updates.map((u) => updateLeaf(u.hash, u.client)))
}

function federationSlot(id: Hex): bigint {
  return mappingSlot(FEDERATION_BASE, hexToWord(id))
}

function roundSlot(id: Hex, round: bigint): bigint {
  return mappingSlot(mappingSlot(ROUND_BASE, hexToWord(id)), round)
}

function clientSlot(who: Address): bigint {
  return mappingSlot(CLIENT_BASE, who)
}

function readReputation(ctx: Pick<ReadonlyModuleContext, 'storage'>, who: Address): bigint {
  return BigInt.asIntN(256, ctx.storage.get(clientSlot(who)))
}

/** Adds `who` to the client list (once) and applies one accepted update or rejection to its record. */
function recordClient(ctx: ModuleContext, who: Address, outcome: 'accepted' | RejectClass, earned: bigint): void {
  const slot = clientSlot(who)
  if (ctx.storage.get(slotAdd(slot, 4n)) === 0n) {
    const count = ctx.storage.get(CLIENT_COUNT)
    ctx.storage.set(mappingSlot(CLIENT_LIST, count), addressToWord(who))
    ctx.storage.set(CLIENT_COUNT, count + 1n)
    ctx.storage.set(slotAdd(slot, 4n), count + 1n)
  }
  ctx.storage.set(slot, BigInt.asUintN(256, readReputation(ctx, who) + REPUTATION[outcome]))
  const counter = slotAdd(slot, outcome === 'accepted' ? 1n : 2n)
  ctx.storage.set(counter, ctx.storage.get(counter) + 1n)
  if (earned > 0n) ctx.storage.set(slotAdd(slot, 3n), ctx.storage.get(slotAdd(slot, 3n)) + earned)
}

function checkClient(what: string, who: Address): void {
  if (!isAddress(who, {strict: false}) || BigInt(who) === 0n) revert(`fl: ${what} ${who} is not a client address`)
}

function commitRound(ctx: ModuleContext, args: readonly unknown[]): void {
  const [id, round, modelHash, root, epsilonMicros, accepted, updateHashes, rejected, reasons] = args as [Hex, bigint, Hex, Hex, bigint, readonly Address[], readonly Hex[], readonly Address[], readonly number[]]
  const fed = federationSlot(id)
  const coordinator = ctx.storage.get(fed)
  if (coordinator === 0n) revert(`fl: no federation ${id} is registered`)
  if (addressToWord(ctx.sender) !== coordinator) revert(`fl: only the federation's coordinator ${wordToAddress(coordinator)} commits its rounds, not ${ctx.sender}`)
  const last = ctx.storage.get(slotAdd(fed, 2n))
  if (round <= last) revert(last === 0n ? `fl: round numbers start at 1, not ${round}` : `fl: round ${round} is not after the last committed round ${last} (rounds strictly increase and are committed once)`)
  const {reward, maxRewardedPerRound, verifierKey} = ctx.params as FlParams
  if (hexToWord(verifierKey as Hex) !== 0n) revert(`fl: governance requires proofs verified against key ${verifierKey}, and this version of the module verifies none`)
  if (accepted.length !== updateHashes.length) revert(`fl: ${accepted.length} accepted clients but ${updateHashes.length} update hashes`)
  if (rejected.length !== reasons.length) revert(`fl: ${rejected.length} rejected clients but ${reasons.length} reasons`)
  if (accepted.length > MAX_COMMIT_CLIENTS || rejected.length > MAX_COMMIT_CLIENTS) revert(`fl: a commit lists at most ${MAX_COMMIT_CLIENTS} accepted and ${MAX_COMMIT_CLIENTS} rejected clients`)
  const seen = new Set<string>()
  for (const who of accepted) {
    checkClient('accepted client', who)
    const key = who.toLowerCase()
    if (seen.has(key)) revert(`fl: client ${who} is listed twice among the accepted updates`)
    seen.add(key)
  }
  for (const [i, reason] of reasons.entries()) {
    checkClient('rejected client', rejected[i]!)
    if (!(reason >= 0 && reason < REJECT_CLASSES.length)) revert(`fl: rejection reason ${reason} is not a class (0 aggregator, 1 attestation, 2 proof, 3 signature)`)
  }
  const computed = updatesRoot(accepted.map((client, i) => ({hash: updateHashes[i]!, client})))
  if (computed.toLowerCase() !== root.toLowerCase()) revert(`fl: the updates root ${root} is not the root of the listed updates (${computed})`)

  const slot = roundSlot(id, round)
  ctx.storage.set(slot, hexToWord(modelHash))
  ctx.storage.set(slotAdd(slot, 1n), hexToWord(root))
  ctx.storage.set(slotAdd(slot, 2n), BigInt(accepted.length))
  const counts = [0n, 0n, 0n, 0n]
  for (const reason of reasons) counts[reason]! += 1n
  ctx.storage.set(slotAdd(slot, 3n), counts.reduce((word, count, i) => word | ((count & U64) << (64n * BigInt(i))), 0n))
  ctx.storage.set(slotAdd(slot, 4n), epsilonMicros)
  ctx.storage.set(slotAdd(slot, 5n), ctx.height)
  ctx.storage.set(slotAdd(slot, 6n), 0n)
  ctx.storage.set(slotAdd(slot, 7n), reward)
  ctx.storage.set(slotAdd(fed, 2n), round)
  ctx.emit('RoundCommitted', {id, round, modelHash, updatesRoot: root, accepted: BigInt(accepted.length), rejected: BigInt(rejected.length), epsilonMicros, proofsVerified: false})

  for (const [i, who] of accepted.entries()) {
    let paid = 0n
    if (reward > 0n && BigInt(i) < maxRewardedPerRound) {
      if (ctx.system && ctx.balanceOf(TREASURY_ADDRESS) >= reward) {
        ctx.system.move(TREASURY_ADDRESS, who, reward)
        paid = reward
        ctx.emit('RewardPaid', {id, client: who, round, amount: reward})
      } else {
        ctx.emit('RewardUnpaid', {id, client: who, round, amount: reward})
      }
    }
    recordClient(ctx, getAddress(who), 'accepted', paid)
  }
  for (const [i, who] of rejected.entries()) recordClient(ctx, getAddress(who), REJECT_CLASSES[reasons[i]!]!, 0n)
}

export const fl: NativeModule = {
  manifest: {id: FL_ID, version: '1.0.0', description: 'Anchors federated-learning rounds, pays rewards from the treasury, keeps client reputation'},
  params,
  abi: flAbi,
  gas: {registerFederation: 30_000n, federationId: 1_000n, federation: 6_300n, commitRound: 50_000n, getRound: 16_800n, client: 8_400n, clientCount: 2_100n, clientAt: 2_100n},
  validateTx(tx) {
    if (tx.value !== 0n) return {ok: false, reason: `fl: ${tx.name}() takes no value`}
    return {ok: true}
  },
  calls: {
    registerFederation(ctx, [name, configHash]) {
      const text = name as string
      if (text.length === 0 || stringToBytes(text).length > 64) revert('fl: a federation name is 1 to 64 bytes')
      const id = federationId(ctx.sender, text)
      const slot = federationSlot(id)
      if (ctx.storage.get(slot) !== 0n) revert(`fl: federation "${text}" of ${ctx.sender} is already registered as ${id}`)
      ctx.storage.set(slot, addressToWord(ctx.sender))
      ctx.storage.set(slotAdd(slot, 1n), hexToWord(configHash as Hex))
      ctx.emit('FederationRegistered', {id, coordinator: ctx.sender, configHash, name: text})
      return id
    },
    federationId(_ctx, [coordinator, name]) {
      return federationId(coordinator as Address, name as string)
    },
    federation(ctx, [id]) {
      const slot = federationSlot(id as Hex)
      return [wordToAddress(ctx.storage.get(slot)), wordToHex(ctx.storage.get(slotAdd(slot, 1n))), ctx.storage.get(slotAdd(slot, 2n))]
    },
    commitRound(ctx, args) {
      commitRound(ctx, args)
    },
    getRound(ctx, [id, round]) {
      const slot = roundSlot(id as Hex, round as bigint)
      const word = (i: bigint): bigint => ctx.storage.get(slotAdd(slot, i))
      const counts = word(3n)
      return [
        wordToHex(word(0n)),
        wordToHex(word(1n)),
        word(2n),
        counts & U64,
        (counts >> 64n) & U64,
        (counts >> 128n) & U64,
        (counts >> 192n) & U64,
        word(4n),
        word(6n) === 1n,
        word(5n),
        word(7n),
      ]
    },
    client(ctx, [who]) {
      const slot = clientSlot(who as Address)
      return [readReputation(ctx, who as Address), ctx.storage.get(slotAdd(slot, 1n)), ctx.storage.get(slotAdd(slot, 2n)), ctx.storage.get(slotAdd(slot, 3n))]
    },
    clientCount(ctx) {
      return ctx.storage.get(CLIENT_COUNT)
    },
    clientAt(ctx, [index]) {
      if ((index as bigint) >= ctx.storage.get(CLIENT_COUNT)) revert(`fl: no client at index ${index as bigint}`)
      return wordToAddress(ctx.storage.get(mappingSlot(CLIENT_LIST, index as bigint)))
    },
  },
}

const COORDINATORS: readonly Address[] = ['0x00000000000000000000000000000000000000c1', '0x00000000000000000000000000000000000000c2']
const CLIENTS: readonly Address[] = ['0x00000000000000000000000000000000000000d1', '0x00000000000000000000000000000000000000d2', '0x00000000000000000000000000000000000000d3']

/** A random workload for the determinism replay: registrations, commits (good and refused), views, blocks. */
export const flWorkload: ModuleWorkload = {
  steps: 64,
  seed: 16n,
  params: {reward: '1000'},
  balances: {[TREASURY_ADDRESS]: 5_000n},
  step(rng, index) {
    const roll = rng.below(6n)
    const coordinator = rng.pick(COORDINATORS)
    const id = federationId(coordinator, 'w')
    if (roll === 0n) return {kind: 'advance'}
    if (roll === 1n) return {kind: 'call', name: 'registerFederation', args: ['w', toHex(index, {size: 32})], sender: coordinator}
    if (roll === 2n) return {kind: 'call', name: 'clientCount'}
    const hash = keccak256(toHex(index, {size: 32}))
    const client = rng.pick(CLIENTS)
    return {kind: 'call', name: 'commitRound', args: [id, BigInt(index), hash, updatesRoot([{hash, client}]), 0n, [client], [hash], [rng.pick(CLIENTS)], [Number(rng.below(4n))]], sender: rng.pick(COORDINATORS)}
  },
}
