import {createHmac, pbkdf2Sync} from 'node:crypto'
import {createRequire} from 'node:module'

import {keccak_256} from '@noble/hashes/sha3.js'


/** The standard test mnemonic whose accounts anvil and Hardhat fund. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export interface DevAccount {
  address: `0x${string}`
  privateKey: `0x${string}`
}

export interface DeriveDevAccountsOptions {
  /** BIP-39 mnemonic; the standard test mnemonic (the accounts anvil and Hardhat fund) by default. */
  mnemonic?: string
  count?: number
  /** BIP-44 account path prefix; the address index is appended. */
  basePath?: string
}

export const DEV_ACCOUNT_COUNT = 10
export const DEV_DERIVATION_PATH = "m/44'/60'/0'/0"

interface Secp256k1 {
  privateKeyVerify(key: Uint8Array): boolean
  privateKeyTweakAdd(key: Uint8Array, tweak: Uint8Array): Uint8Array
  publicKeyCreate(key: Uint8Array, compressed?: boolean): Uint8Array
}

const HARDENED = 0x8000_0000

/**
 * The funded development accounts: addresses and private keys at m/44'/60'/0'/0/i of the mnemonic
 * (BIP-39 seed, BIP-32 derivation), the keys viem's `mnemonicToAccount(mnemonic, {addressIndex: i})`
 * gives. Derived with node:crypto (PBKDF2, HMAC-SHA512) and the `secp256k1` package's native
 * binding: every node process and every `devnet up` derives them, and the pure-JS route costs
 * about 0.25 s of start-up each.
 *
 * @example
 * const [first] = deriveDevAccounts()
 * first.address // 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
 */
export function deriveDevAccounts(options: DeriveDevAccountsOptions = {}): DevAccount[] {
  const secp = createRequire(import.meta.url)('secp256k1') as Secp256k1
  const mnemonic = options.mnemonic ?? DEV_MNEMONIC
  const count = options.count ?? DEV_ACCOUNT_COUNT
  // BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" + passphrase, 2048 rounds, 64 bytes).
  const seed = pbkdf2Sync(Buffer.from(mnemonic.normalize('NFKD'), 'utf8'), Buffer.from('mnemonic', 'utf8'), 2048, 64, 'sha512')
  let node = split(createHmac('sha512', 'Bitcoin seed').update(seed).digest())
  for (const index of parsePath(options.basePath ?? DEV_DERIVATION_PATH)) node = child(secp, node, index)
  const accounts: DevAccount[] = []
  for (let i = 0; i < count; i++) {
    const {key} = child(secp, node, i)
    const address = checksumAddress(keccak_256(secp.publicKeyCreate(key, false).subarray(1)).subarray(12))
    accounts.push({address, privateKey: `0x${Buffer.from(key).toString('hex')}`})
  }
  return accounts
}

interface ExtendedKey {
  key: Uint8Array
  chainCode: Uint8Array
}

function split(digest: Buffer): ExtendedKey {
  return {key: new Uint8Array(digest.subarray(0, 32)), chainCode: new Uint8Array(digest.subarray(32))}
}

/** BIP-32 CKDpriv: the child private key at `index` (hardened from 2^31). */
function child(secp: Secp256k1, parent: ExtendedKey, index: number): ExtendedKey {
  const data = Buffer.alloc(37)
  if (index >= HARDENED) data.set(parent.key, 1)
  else data.set(secp.publicKeyCreate(parent.key, true), 0)
  data.writeUInt32BE(index, 33)
  const digest = createHmac('sha512', parent.chainCode).update(data).digest()
  const tweak = new Uint8Array(digest.subarray(0, 32))
  if (!secp.privateKeyVerify(tweak)) throw new Error(`BIP-32: index ${index} gives an invalid key; use the next index`)
  const key = secp.privateKeyTweakAdd(new Uint8Array(parent.key), tweak)
  return {key, chainCode: new Uint8Array(digest.subarray(32))}
}

function parsePath(path: string): number[] {
  const parts = path.split('/')
  if (parts[0] !== 'm') throw new Error(`A derivation path starts with m/: ${path}`)
  return parts.slice(1).map((part) => {
    const hardened = part.endsWith("'")
    const n = Number(hardened ? part.slice(0, -1) : part)
    if (!Number.isInteger(n) || n < 0 || n >= HARDENED) throw new Error(`Bad derivation path segment "${part}" in ${path}`)
    return hardened ? n + HARDENED : n
  })
}

/** EIP-55 mixed-case checksum encoding of a 20-byte address. */
function checksumAddress(bytes: Uint8Array): `0x${string}` {
  const hex = Buffer.from(bytes).toString('hex')
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(hex))).toString('hex')
  let out = '0x'
  for (let i = 0; i < hex.length; i++) out += Number.parseInt(hash[i]!, 16) >= 8 ? hex[i]!.toUpperCase() : hex[i]!
  return out as `0x${string}`
}
