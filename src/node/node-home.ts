import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {hexToBytes} from '@ethereumjs/util'

import {writeFileAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {type ValidatorKey, deriveDevnetSeeds, validatorKeyFromPrivate} from '../consensus/keys.js'

/**
 * A node's home folder, and the one place that knows its layout: the node process and the devnet
 * orchestrator both read and write homes through this module.
 */
export interface NodeHomePaths {
  db: string
  wal: string
  keys: string
  validatorKey: string
  p2pKey: string
  adminToken: string
  /** API keys with scopes, stored hashed (`xai devnet key create|list|revoke`). */
  apiKeys: string
  /** Undelivered webhook events, one file each. */
  webhookQueue: string
  pidFile: string
  log: string
  /** The genesis a node uses when none is given. */
  genesis: string
}

export function nodeHomePaths(home: string): NodeHomePaths {
  const keys = join(home, 'keys')
  return {
    db: join(home, 'db'),
    wal: join(home, 'wal'),
    keys,
    validatorKey: join(keys, 'validator.key'),
    p2pKey: join(keys, 'p2p.key'),
    adminToken: join(keys, 'admin.token'),
    apiKeys: join(keys, 'api-keys.json'),
    webhookQueue: join(home, 'webhooks', 'queue'),
    pidFile: join(home, 'node.pid'),
    log: join(home, 'node.log'),
    genesis: join(home, 'genesis.json'),
  }
}

/** The keys of one node, in `<home>/keys/`. */
export interface NodeKeys {
  /** Signs votes and proposals; absent on a node that follows the chain without voting. */
  validator?: ValidatorKey
  /** Seed of the libp2p identity (stable across restarts, so peers find the node again). */
  p2pSeed: Uint8Array
  /** Bearer token for the node's /admin endpoint. */
  adminToken: string
}

export function keysDir(home: string): string {
  return join(home, 'keys')
}

/**
 * Reads the node's keys, creating what is missing: a random p2p seed and admin token. A validator
 * key is never created here: it is written by `xai devnet up` (or by the operator) and its
 * address must be in the genesis validator set to count.
 */
export async function loadNodeKeys(home: string): Promise<NodeKeys> {
  const dir = keysDir(home)
  const validatorHex = await readOptional(join(dir, 'validator.key'))
  let validator: ValidatorKey | undefined
  if (validatorHex !== undefined) {
    try {
      validator = validatorKeyFromPrivate(hexToBytes(validatorHex.trim() as `0x${string}`))
    } catch (err) {
      throw new XaiError('NODE_KEY_INVALID', `${join(dir, 'validator.key')} does not hold a secp256k1 private key.`, {
        hint: 'It must be one line: 0x and 64 hex digits. Recreate the devnet (xai devnet reset) if it came from one.',
        cause: err,
      })
    }
  }
  let p2pHex = (await readOptional(join(dir, 'p2p.key')))?.trim()
  if (p2pHex === undefined) {
    p2pHex = `0x${randomBytes(32).toString('hex')}`
    await writeFileAtomic(join(dir, 'p2p.key'), `${p2pHex}\n`, {mode: 0o600})
  }
  let adminToken = (await readOptional(join(dir, 'admin.token')))?.trim()
  if (!adminToken) {
    adminToken = randomBytes(24).toString('base64url')
    await writeFileAtomic(join(dir, 'admin.token'), `${adminToken}\n`, {mode: 0o600})
  }
  return {validator, p2pSeed: hexToBytes(p2pHex as `0x${string}`), adminToken}
}

/** Writes a node's validator key and p2p seed (devnet creation). */
export async function writeNodeKeys(home: string, keys: {validator: Uint8Array; p2pSeed: Uint8Array}): Promise<void> {
  const dir = keysDir(home)
  const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}\n`
  await writeFileAtomic(join(dir, 'validator.key'), hex(keys.validator), {mode: 0o600})
  await writeFileAtomic(join(dir, 'p2p.key'), hex(keys.p2pSeed), {mode: 0o600})
}

export async function readAdminToken(home: string): Promise<string | undefined> {
  return (await readOptional(join(keysDir(home), 'admin.token')))?.trim() || undefined
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Writes the keys of node `index` of a local devnet, derived from the chain id, the devnet's name
 * and the index (anyone who knows those can recompute them: for throwaway local devnets only), and
 * returns its validator address.
 */
export async function writeDevnetNodeKeys(home: string, devnet: {chainId: number; name: string; index: number}): Promise<string> {
  const seeds = deriveDevnetSeeds(devnet.chainId, devnet.name, devnet.index)
  await writeNodeKeys(home, {validator: seeds.validator, p2pSeed: seeds.p2p})
  return validatorKeyFromPrivate(seeds.validator).address
}

/** A node's validator address and libp2p peer id, from the keys in its home. */
export async function nodeIdentity(home: string): Promise<{validator?: string; peerId?: string}> {
  const keys = await loadNodeKeys(home)
  const {peerIdFromSeed} = await import('../p2p/host.js')
  return {validator: keys.validator?.address, peerId: await peerIdFromSeed(keys.p2pSeed)}
}
