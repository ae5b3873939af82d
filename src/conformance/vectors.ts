import {Address as EthAddress} from '@ethereumjs/util'
import {RLP} from '@ethereumjs/rlp'
import {getMerkleStateProof} from '@ethereumjs/statemanager'
import {type Hex, bytesToHex as viemBytesToHex, encodeFunctionData, hexToBytes as viemHexToBytes, keccak256, stringToBytes} from 'viem'
import {privateKeyToAccount} from 'viem/accounts'

import {Chain} from '../chain/chain.js'
import {createDevGenesis} from '../chain/genesis.js'
import {Mempool} from '../chain/mempool.js'
import {encodeBundle} from '../consensus/block-codec.js'
import {encodeConsensusRecord} from '../consensus/engine.js'
import {bytesToHex, hexToBytes, keccak_256, validatorKeyFromPrivate, type ValidatorKey} from '../consensus/keys.js'
import {type Commit, MessageError, encodeCommit, encodeEvidenceList, encodeMessage, evidenceCommitment, int, proposalDigest, signProposal, signVote, verifyCommit, voteDigest} from '../consensus/messages.js'
import type {ValidatorAddress, ValidatorInfo, ValueId, VoteType} from '../consensus/types.js'
import {ValidatorSet} from '../consensus/validator-set.js'
import {canonicalProposal, parseProposal} from '../governance/proposal.js'
import {silentLogger} from '../util/logger.js'
import {defaultGenesisModules} from '../modules/builtin/index.js'
import {createModuleHost} from '../modules/host/create-host.js'
import {moduleHostOf} from '../modules/host/host-of.js'
import {addModulesToGenesis} from '../modules/host/genesis-modules.js'
import {governanceAbi} from '../modules/host/governance-module.js'
import {REGISTRY_VERSION, builtinCodeHash, writeValidators} from '../modules/host/registry.js'
import {MODULE_ADDRESS_PREFIX, MODULE_REGISTRY_ADDRESS, type ModuleStorage, moduleAddress} from '../modules/module.js'
import {encodeFrame, encodeVarint} from '../p2p/framing.js'
import {addressToWord, mappingSlot, namespaceSlot, slotAdd, wordToHex, writeString} from '../modules/storage-codec.js'
import {openMemoryStore} from '../storage/database.js'

/**
 * Conformance vectors: every protocol rule a second client must reproduce, computed by this
 * implementation from fixed keys, heights and timestamps, so that regenerating them gives the same
 * bytes. `npm run vectors` writes them to docs/spec/vectors/; a unit test regenerates them in
 * memory and fails on any difference, so a protocol change is always a visible diff.
 */

export const VECTORS_VERSION = 1
export const VECTOR_CHAIN_ID = 31337
/** The files under docs/spec/vectors/, by name. */
export type VectorFiles = Record<string, unknown>

const enc = new TextEncoder()
const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`

/** Validator key i of the vectors: keccak256("xai/vectors/validator/" + i). */
export function vectorKey(i: number): ValidatorKey {
  return validatorKeyFromPrivate(keccak_256(enc.encode(`xai/vectors/validator/${i}`)))
}

function keyJson(key: ValidatorKey): {privateKey: Hex; address: ValidatorAddress} {
  return {privateKey: hex(key.privateKey), address: key.address}
}

const VALUE_A = hex(keccak_256(enc.encode('xai/vectors/value/a'))) as ValueId
const VALUE_B = hex(keccak_256(enc.encode('xai/vectors/value/b'))) as ValueId

function signingVectors(): unknown {
  const key = vectorKey(0)
  const votes: unknown[] = []
  const cases: {type: VoteType; height: number; round: number; value: ValueId | null; chainId: number}[] = [
    {type: 'prevote', height: 1, round: 0, value: VALUE_A, chainId: VECTOR_CHAIN_ID},
    {type: 'precommit', height: 1, round: 0, value: VALUE_A, chainId: VECTOR_CHAIN_ID},
    {type: 'prevote', height: 7, round: 2, value: null, chainId: VECTOR_CHAIN_ID},
    {type: 'precommit', height: 300, round: 0, value: null, chainId: VECTOR_CHAIN_ID},
    {type: 'precommit', height: 1, round: 0, value: VALUE_A, chainId: 1},
    {type: 'precommit', height: 65536, round: 255, value: VALUE_B, chainId: VECTOR_CHAIN_ID},
  ]
  for (const c of cases) {
    const preimage = RLP.encode([enc.encode('xai/vote'), int(c.chainId), int(c.type === 'prevote' ? 1 : 2), int(c.height), int(c.round), c.value === null ? new Uint8Array(0) : hexToBytes(c.value.slice(2))])
    const digest = voteDigest(c.chainId, c.type, c.height, c.round, c.value)
    const signed = signVote(c.chainId, key, {type: c.type, height: c.height, round: c.round, value: c.value})
    votes.push({
      chainId: c.chainId,
      type: c.type,
      height: c.height,
      round: c.round,
      value: c.value,
      signer: key.address,
      preimage: hex(preimage),
      digest: hex(digest),
      signature: hex(signed.signature),
      wire: hex(encodeMessage({kind: 'vote', vote: signed})),
    })
  }
  const proposals: unknown[] = []
  const block = enc.encode('block bytes (opaque here)')
  for (const p of [
    {height: 1, round: 0, validRound: -1, value: VALUE_A},
    {height: 12, round: 3, validRound: 1, value: VALUE_B},
  ]) {
    const preimage = RLP.encode([enc.encode('xai/proposal'), int(VECTOR_CHAIN_ID), int(p.height), int(p.round), int(p.validRound + 1), hexToBytes(p.value.slice(2))])
    const signed = signProposal(VECTOR_CHAIN_ID, key, p, block)
    proposals.push({
      chainId: VECTOR_CHAIN_ID,
      ...p,
      signer: key.address,
      preimage: hex(preimage),
      digest: hex(proposalDigest(VECTOR_CHAIN_ID, p)),
      signature: hex(signed.signature),
      block: hex(block),
      wire: hex(encodeMessage({kind: 'proposal', proposal: signed})),
    })
  }
  const first = signVote(VECTOR_CHAIN_ID, key, {type: 'prevote', height: 9, round: 1, value: VALUE_A})
  const second = signVote(VECTOR_CHAIN_ID, key, {type: 'prevote', height: 9, round: 1, value: VALUE_B})
  const nil = signVote(VECTOR_CHAIN_ID, key, {type: 'precommit', height: 9, round: 2, value: null})
  const conflicting = signVote(VECTOR_CHAIN_ID, key, {type: 'precommit', height: 9, round: 2, value: VALUE_A})
  const evidence = [{first, second}, {first: nil, second: conflicting}]
  const syncRequest = RLP.encode([int(17), int(32)])
  const header = (n: number): Uint8Array => {
    const varint = encodeVarint(n)
    const out = new Uint8Array(1 + varint.length)
    out.set(varint, 1)
    return out
  }
  const frame = (payload: Uint8Array): Uint8Array => Uint8Array.from(encodeFrame(payload).flatMap((chunk) => [...chunk]))
  return {
    description: 'Signing bytes, digests and signatures of votes and proposals, and their gossip encodings on the consensus topic; evidence lists and their extraData commitment; block-sync request and response framing. Signatures are RFC 6979 deterministic secp256k1, 65 bytes r || s || recid.',
    key: keyJson(key),
    votes,
    proposals,
    status: [{height: 42, round: 1, wire: hex(encodeMessage({kind: 'status', status: {height: 42, round: 1}}))}],
    evidence: {
      pairs: evidence.map((e) => ({
        first: {type: e.first.vote.type, height: e.first.vote.height, round: e.first.vote.round, value: e.first.vote.value, signature: hex(e.first.signature)},
        second: {type: e.second.vote.type, height: e.second.vote.height, round: e.second.vote.round, value: e.second.vote.value, signature: hex(e.second.signature)},
        validator: key.address,
      })),
      encoded: hex(encodeEvidenceList(evidence)),
      commitment: hex(evidenceCommitment(evidence)),
      emptyEncoded: hex(encodeEvidenceList([])),
      emptyCommitment: hex(evidenceCommitment([])),
    },
    sync: {
      protocol: `/xai/${VECTOR_CHAIN_ID}/req/sync/1`,
      request: {from: 17, count: 32, encoded: hex(syncRequest), frame: hex(frame(syncRequest))},
      responseHeader: [0, 1, 32, 200].map((n) => ({items: n, header: hex(header(n)), frame: hex(frame(header(n)))})),
      errorHeader: {reason: 'no such block', header: hex(Uint8Array.from([1, ...enc.encode('no such block')]))},
    },
  }
}

function commitCase(name: string, set: ValidatorSet, commit: Commit, height: number, blockHash: ValueId, chainId = VECTOR_CHAIN_ID): unknown {
  let valid = true
  let error: string | undefined
  let signers: ValidatorAddress[] = []
  try {
    signers = verifyCommit(chainId, set, commit, height, blockHash)
  } catch (err) {
    if (!(err instanceof MessageError)) throw err
    valid = false
    error = err.message
  }
  return {
    name,
    chainId,
    height,
    blockHash,
    commit: {height: commit.height, round: commit.round, value: commit.value, signatures: commit.signatures.map(hex)},
    encoded: hex(encodeCommit(commit)),
    valid,
    ...(valid ? {signers} : {error}),
  }
}

function commitVectors(): unknown {
  const keys = [0, 1, 2, 3, 4].map(vectorKey)
  const validators: ValidatorInfo[] = [
    {address: keys[0]!.address, power: 1},
    {address: keys[1]!.address, power: 1},
    {address: keys[2]!.address, power: 1},
    {address: keys[3]!.address, power: 2},
  ]
  const set = new ValidatorSet(validators)
  const height = 10
  const value = VALUE_A
  const sig = (i: number, chainId = VECTOR_CHAIN_ID, v: ValueId = value, h = height, round = 0): Uint8Array =>
    signVote(chainId, keys[i]!, {type: 'precommit', height: h, round, value: v}).signature
  const prevote = signVote(VECTOR_CHAIN_ID, keys[0]!, {type: 'prevote', height, round: 0, value}).signature
  const commit = (signatures: Uint8Array[], round = 0): Commit => ({height, round, value, signatures})
  const forged = Uint8Array.from(sig(0))
  forged[10] ^= 0x01
  return {
    description: 'Commit verification: a commit decides blockHash at height when every signature recovers, from the precommit digest of (chainId, height, commit.round, blockHash), to a distinct validator of the set, and the signers hold at least the quorum. The error texts are this implementation\'s and informative only.',
    validators,
    totalPower: set.totalPower,
    quorum: set.quorum,
    keys: keys.map(keyJson),
    cases: [
      commitCase('valid: validators 0, 1, 3 (power 4 of 5)', set, commit([sig(0), sig(1), sig(3)]), height, value),
      commitCase('valid: every validator', set, commit([sig(3), sig(2), sig(1), sig(0)]), height, value),
      commitCase('valid: decided in round 2', set, commit([sig(0, VECTOR_CHAIN_ID, value, height, 2), sig(1, VECTOR_CHAIN_ID, value, height, 2), sig(3, VECTOR_CHAIN_ID, value, height, 2)], 2), height, value),
      commitCase('too little power: validators 0, 1, 2 (power 3 of 5, quorum 4)', set, commit([sig(0), sig(1), sig(2)]), height, value),
      commitCase('too little power: validator 3 alone', set, commit([sig(3)]), height, value),
      commitCase('wrong chain id: signed for chain 1', set, commit([sig(0, 1), sig(1, 1), sig(3, 1)]), height, value),
      commitCase('duplicate signer: validator 3 twice', set, commit([sig(3), sig(3), sig(0)]), height, value),
      commitCase('signer outside the set: key 4', set, commit([sig(0), sig(1), sig(3), sig(4)]), height, value),
      commitCase('a prevote signature in a commit', set, commit([prevote, sig(1), sig(3)]), height, value),
      commitCase('forged signature: one byte of r flipped', set, commit([forged, sig(1), sig(3)]), height, value),
      commitCase('commit for another block', set, commit([sig(0), sig(1), sig(3)]), height, VALUE_B),
      commitCase('commit for another height', set, commit([sig(0), sig(1), sig(3)]), height + 1, value),
      commitCase('empty commit', set, commit([]), height, value),
    ],
  }
}

function setJson(set: ValidatorSet, heights: number, rounds: number[]): unknown {
  const proposers: {height: number; round: number; proposer: ValidatorAddress}[] = []
  for (let h = 0; h < heights; h++) for (const r of rounds) proposers.push({height: h, round: r, proposer: set.proposer(h, r)})
  return {
    validators: set.validators.map((v) => ({...v})),
    totalPower: set.totalPower,
    quorum: set.quorum,
    skipThreshold: set.skipThreshold,
    proposers,
  }
}

/** A storage map that records writes in order. */
function recordingStorage(initial: Map<bigint, bigint> = new Map()): ModuleStorage & {words: Map<bigint, bigint>} {
  const words = new Map(initial)
  return {
    words,
    get: (slot) => words.get(slot) ?? 0n,
    set: (slot, value) => {
      if (value === 0n) words.delete(slot)
      else words.set(slot, value)
    },
  }
}

function storageJson(words: Map<bigint, bigint>): Record<string, Hex> {
  return Object.fromEntries([...words].sort(([a], [b]) => (a < b ? -1 : 1)).map(([slot, value]) => [wordToHex(slot), wordToHex(value)]))
}

function validatorSetVectors(): unknown {
  const addresses = [0, 1, 2, 3, 4, 5].map((i) => vectorKey(i).address)
  const sets = [
    {name: 'four equal', validators: addresses.slice(0, 4).map((address) => ({address, power: 1}))},
    {name: 'weighted 1, 1, 1, 2', validators: addresses.slice(0, 4).map((address, i) => ({address, power: i === 3 ? 2 : 1}))},
    {name: 'weighted 5, 3, 2', validators: addresses.slice(0, 3).map((address, i) => ({address, power: [5, 3, 2][i]!}))},
    {name: 'gcd reduced 10, 20, 30', validators: addresses.slice(0, 3).map((address, i) => ({address, power: [10, 20, 30][i]!}))},
    {name: 'single validator', validators: [{address: addresses[0]!, power: 7}]},
    {name: 'seven, powers 1..7', validators: addresses.concat([vectorKey(6).address]).slice(0, 7).map((address, i) => ({address, power: i + 1}))},
    {name: 'scaled schedule 150000, 50000, 1', validators: addresses.slice(0, 3).map((address, i) => ({address, power: [150_000, 50_000, 1][i]!}))},
  ]
  const quorumTable = [1, 2, 3, 4, 5, 6, 7, 10, 100, 101, 3 * 2 ** 50 + 1, Number.MAX_SAFE_INTEGER].map((total) => {
    const set = new ValidatorSet([{address: addresses[0]!, power: total}])
    return {totalPower: total, quorum: set.quorum, skipThreshold: set.skipThreshold}
  })
  // Transitions as governance writes them into the registry's storage.
  const transitions: unknown[] = []
  let storage = recordingStorage()
  let current = sets[0]!.validators
  writeValidators(storage, current)
  const steps: {name: string; next: ValidatorInfo[]}[] = [
    {name: 'add validator 4 with power 1', next: [...current, {address: addresses[4]!, power: 1}]},
    {name: 'remove validator 1', next: [...current, {address: addresses[4]!, power: 1}].filter((v) => v.address !== addresses[1])},
    {name: 'replace with validator 5 alone, power 3', next: [{address: addresses[5]!, power: 3}]},
  ]
  for (const step of steps) {
    const before = storageJson(storage.words)
    const next = recordingStorage(storage.words)
    writeValidators(next, step.next)
    transitions.push({name: step.name, before: current, after: new ValidatorSet(step.next).validators, storageBefore: before, storageAfter: storageJson(next.words)})
    storage = next
    current = step.next
  }
  return {
    description: 'Validator sets: quorum (smallest power > 2/3 of the total), skip threshold (> 1/3), and the proposer of (height, round) for heights 0..11 and rounds 0..2; registry storage before and after validator-set changes.',
    quorumTable,
    sets: sets.map((s) => ({name: s.name, ...(setJson(new ValidatorSet(s.validators), 12, [0, 1, 2]) as object)})),
    validatorsSlot: wordToHex(namespaceSlot('xai.registry.validators')),
    transitions,
  }
}

function registryVectors(): unknown {
  const ids = ['registry', 'governance', 'treasury', 'faucet', 'withdrawal-guard', 'mev-redistribution', 'rule-engine', 'counter', 'my-module-2']
  const namespaces = ['xai.registry.ids', 'xai.registry.entry', 'xai.registry.code', 'xai.registry.chain', 'xai.registry.flags', 'xai.registry.flagNames', 'xai.registry.validators', 'xai.registry.supply', 'xai.registry.circulating']
  const strings = ['', 'a', '1.0.0', 'x'.repeat(31), 'y'.repeat(32), '{"limit":"0"}'.repeat(5)]
  return {
    description: 'Module registry layout: namespace slots, module addresses, entry base slots, built-in code hashes, chain-parameter and flag slots, and Solidity-style string storage.',
    registryAddress: MODULE_REGISTRY_ADDRESS,
    modulePrefix: MODULE_ADDRESS_PREFIX,
    namespaces: namespaces.map((name) => ({name, slot: wordToHex(namespaceSlot(name))})),
    modules: ids.map((id) => {
      const address = moduleAddress(id)
      return {id, address, entryBase: wordToHex(mappingSlot(namespaceSlot('xai.registry.entry'), addressToWord(address)))}
    }),
    builtinCodeHashes: [
      {id: 'registry', version: REGISTRY_VERSION, codeHash: builtinCodeHash('registry', REGISTRY_VERSION)},
      {id: 'governance', version: '1.0.0', codeHash: builtinCodeHash('governance', '1.0.0')},
    ],
    chainParameters: ['blockGasLimit', 'baseFeeMaxChangeDenominator', 'elasticityMultiplier'].map((name) => ({
      name,
      slot: wordToHex(mappingSlot(namespaceSlot('xai.registry.chain'), BigInt(keccak256(stringToBytes(name))))),
    })),
    featureFlags: ['example-flag'].map((name) => ({name, slot: wordToHex(mappingSlot(namespaceSlot('xai.registry.flags'), BigInt(keccak256(stringToBytes(name)))))})),
    strings: strings.map((value) => {
      const storage = recordingStorage()
      const slot = slotAdd(namespaceSlot('xai.registry.ids'), 1n)
      writeString(storage, slot, value)
      return {value, slot: wordToHex(slot), storage: storageJson(storage.words)}
    }),
  }
}

/** Fixed times and accounts of the in-process chain. */
const GENESIS_TIME = 1_700_000_000
const DEV_KEYS: Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
]

/**
 * A chain built in-process with the real chain, module and consensus code: 4 validators of power 1,
 * a transfer, and a governance proposal that adds a fifth validator (executed in block 6, so block
 * 7 is the first decided by the 5-validator set). Every block's commit is signed by the validators
 * of its height (all of them but the last, so commits hold a quorum and not every signature).
 */
async function chainVectors(): Promise<unknown> {
  const keys = [0, 1, 2, 3, 4].map(vectorKey)
  const accounts = DEV_KEYS.map((k) => privateKeyToAccount(k))
  const genesisValidators = keys.slice(0, 4).map((k) => ({address: k.address, power: 1}))
  const genesis = addModulesToGenesis(
    createDevGenesis({chainId: VECTOR_CHAIN_ID, accounts: accounts.map((a) => a.address), timestamp: GENESIS_TIME, validators: genesisValidators}),
    defaultGenesisModules({governance: {votingPeriod: 3, timelock: 1}}),
  )
  const chain = await Chain.create({store: openMemoryStore(), genesis, modules: (c) => createModuleHost(c, silentLogger)})
  try {
    const mempool = new Mempool(chain)
    const nonces = [0, 0, 0]
    const send = async (from: number, tx: {to: Hex; data?: Hex; value?: bigint; gas?: bigint}): Promise<void> => {
      const raw = await accounts[from]!.signTransaction({
        chainId: VECTOR_CHAIN_ID,
        type: 'eip1559',
        nonce: nonces[from]!++,
        to: tx.to,
        data: tx.data,
        value: tx.value ?? 0n,
        gas: tx.gas ?? 21_000n,
        maxFeePerGas: 10_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
      })
      await mempool.addRaw(viemHexToBytes(raw))
    }
    const governance = moduleAddress('governance')
    const proposal = parseProposal({kind: 'validator-add', title: 'Add validator 4', summary: 'Conformance vectors.', riskAnalysis: 'None.', dependencyDiff: 'None.', migrationSteps: 'None.', address: keys[4]!.address})
    const plan: (() => Promise<void>)[] = [
      () => send(2, {to: '0x000000000000000000000000000000000000dEaD', value: 10n ** 15n}),
      () => send(0, {to: governance, gas: 2_000_000n, data: encodeFunctionData({abi: governanceAbi, functionName: 'propose', args: [viemBytesToHex(canonicalProposal(proposal))]})}),
      async () => {
        await send(0, {to: governance, gas: 500_000n, data: encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]})})
        await send(1, {to: governance, gas: 500_000n, data: encodeFunctionData({abi: governanceAbi, functionName: 'vote', args: [1n, 1]})})
      },
      async () => undefined,
      async () => undefined,
      async () => undefined,
      () => send(2, {to: '0x000000000000000000000000000000000000dEaD', value: 2n * 10n ** 15n}),
    ]
    const validatorsSlot = namespaceSlot('xai.registry.validators')
    const registryProof = async (stateRoot: Uint8Array, count: number): Promise<unknown> => {
      const sm = chain.createStateManager()
      await sm.setStateRoot(stateRoot)
      const slots = Array.from({length: 1 + 2 * count}, (_, i) => viemHexToBytes(wordToHex(slotAdd(validatorsSlot, BigInt(i)))))
      const proof = await getMerkleStateProof(sm, new EthAddress(viemHexToBytes(MODULE_REGISTRY_ADDRESS)), slots)
      return proof
    }
    const genesisBlock = chain.head
    let set = new ValidatorSet(genesisValidators)
    const blocks: unknown[] = []
    for (let i = 0; i < plan.length; i++) {
      await plan[i]!()
      const height = Number(chain.head.header.number) + 1
      const round = 0
      const proposer = set.proposer(height, round)
      const txs = mempool.selectForBlock(chain.nextBaseFee())
      const built = await chain.buildBlock(txs, {timestamp: BigInt(GENESIS_TIME + 5 * height), coinbase: new EthAddress(hexToBytes(proposer.slice(2)))})
      if (built.rejected.length > 0) throw new Error(`vector block ${height}: a transaction was rejected: ${built.rejected[0]!.error}`)
      const block = built.record.block
      const hash = hex(block.hash()) as ValueId
      const signers = set.validators.slice(0, set.validators.length - 1).map((v) => keys.find((k) => k.address === v.address)!)
      const commit: Commit = {height, round, value: hash, signatures: signers.map((k) => signVote(VECTOR_CHAIN_ID, k, {type: 'precommit', height, round, value: hash}).signature)}
      verifyCommit(VECTOR_CHAIN_ID, set, commit, height, hash)
      const record = encodeConsensusRecord(commit, [])
      await chain.commitBlock(built, [chain.blocks.consensusOp(BigInt(height), record)])
      mempool.drop(block.transactions, 'included')
      const sm = chain.createStateManager()
      await sm.setStateRoot(block.header.stateRoot)
      const nextList = await moduleHostOf(chain)!.validators(sm as never)
      const next = new ValidatorSet(nextList.map((v) => ({address: v.address as ValidatorAddress, power: v.power})))
      blocks.push({
        number: height,
        hash,
        header: hex(block.header.serialize()),
        block: hex(block.serialize()),
        headerFields: block.header.raw().map((f) => hex(f as Uint8Array)),
        stateRoot: hex(block.header.stateRoot),
        transactions: block.transactions.map((tx) => hex(tx.hash())),
        proposer,
        validators: set.validators.map((v) => ({...v})),
        commit: {height, round, blockHash: hash, signatures: commit.signatures.map(hex)},
        commitEncoded: hex(encodeCommit(commit)),
        consensusRecord: hex(record),
        syncItem: hex(RLP.encode([encodeBundle(block.serialize(), []), encodeCommit(commit)])),
        nextValidators: next.validators.map((v) => ({...v})),
        registryProof: await registryProof(block.header.stateRoot, next.size),
      })
      set = next
    }
    return {
      description: 'The genesis document and blocks 1-7 of an in-process chain (chain id 31337, genesis time 1700000000, block time 5 s, the real chain, module and consensus code): serialized blocks, headers and hashes, commits signed by all validators but the last of each height, consensus records, the validator set each block was decided by and the one its state names for the next height, and eth_getProof of the registry validator slots against each block\'s state root. A governance validator-add proposal is executed in block 6: block 7 is the first decided by five validators.',
      chainId: VECTOR_CHAIN_ID,
      genesis: {
        document: genesis,
        hash: hex(genesisBlock.hash()),
        header: hex(genesisBlock.header.serialize()),
        stateRoot: hex(genesisBlock.header.stateRoot),
        validators: new ValidatorSet(genesisValidators).validators.map((v) => ({...v})),
        registryProof: await registryProof(genesisBlock.header.stateRoot, 4),
      },
      keys: keys.map(keyJson),
      blocks,
    }
  } finally {
    await chain.close()
  }
}

/** Every vector file, by file name. */
export async function generateVectors(): Promise<VectorFiles> {
  const meta = {version: VECTORS_VERSION, generator: 'npm run vectors (src/conformance/vectors.ts)'}
  return {
    'signing.json': {...meta, ...(signingVectors() as object)},
    'commits.json': {...meta, ...(commitVectors() as object)},
    'validator-sets.json': {...meta, ...(validatorSetVectors() as object)},
    'registry.json': {...meta, ...(registryVectors() as object)},
    'chain.json': {...meta, ...((await chainVectors()) as object)},
  }
}

/** A vector file as written: two-space JSON and a final newline. */
export function formatVectorFile(content: unknown): string {
  return `${JSON.stringify(content, null, 2)}\n`
}

/** The JSON paths where two vector documents differ (at most `limit`). */
export function vectorDiff(expected: unknown, actual: unknown, path = '$', out: string[] = [], limit = 20): string[] {
  if (out.length >= limit) return out
  if (typeof expected !== typeof actual || Array.isArray(expected) !== Array.isArray(actual) || (expected === null) !== (actual === null)) {
    out.push(`${path}: ${JSON.stringify(expected)?.slice(0, 120)} -> ${JSON.stringify(actual)?.slice(0, 120)}`)
    return out
  }
  if (expected !== null && typeof expected === 'object') {
    const a = expected as Record<string, unknown>
    const b = actual as Record<string, unknown>
    if (Array.isArray(a) && a.length !== (b as unknown as unknown[]).length) out.push(`${path}: length ${a.length} -> ${(b as unknown as unknown[]).length}`)
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const name = name0(a, key, path)
      if (!(key in b)) out.push(`${name}: removed`)
      else if (!(key in a)) out.push(`${name}: added`)
      else vectorDiff(a[key], b[key], name, out, limit)
    }
    return out
  }
  if (expected !== actual) out.push(`${path}: ${JSON.stringify(expected)?.slice(0, 120)} -> ${JSON.stringify(actual)?.slice(0, 120)}`)
  return out
}

function name0(container: Record<string, unknown>, key: string, path: string): string {
  if (Array.isArray(container)) {
    const item = container[Number(key)] as {name?: unknown} | undefined
    return `${path}[${key}]${item && typeof item === 'object' && typeof item.name === 'string' ? ` (${item.name})` : ''}`
  }
  return `${path}.${key}`
}
