import {readFile, readdir, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {z} from 'zod'

import {type Genesis, assertGenesis} from '../chain/genesis.js'
import {XaiError, isXaiError} from '../util/errors.js'
import {writeJsonAtomic} from '../util/atomic-write.js'
import {DEFAULT_RPC_HOST} from '../util/ports.js'
import {nodeHomePaths} from '../node/node-home.js'
import {DevnetErrorCode, devnetCorrupt, devnetNotFound} from './errors.js'
import {genesisSettingsSchema} from './devnet-genesis.js'

export const DEFAULT_DEVNET_NAME = 'default'
export const DEVNET_RECORD_VERSION = 1

const nodeRecordSchema = z.object({
  index: z.number().int().min(0),
  rpcPort: z.number().int().min(1).max(65_535),
  /** PID of the running node process; null while stopped. */
  pid: z.number().int().positive().nullable(),
  home: z.string().min(1),
  /** libp2p port (multi-node devnets). */
  p2pPort: z.number().int().min(1).max(65_535).optional(),
  /** libp2p peer id, derived from the node's p2p key. */
  peerId: z.string().min(1).optional(),
  /** Address of the node's validator key. */
  validator: z.string().optional(),
})

const devnetRecordSchema = z.object({
  version: z.literal(DEVNET_RECORD_VERSION).optional(),
  name: z.string().min(1),
  chainId: z.number().int().positive(),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  blockTime: z.number().int().min(0),
  rpcHost: z.string().min(1).optional(),
  /** False: a multi-node devnet waits for a transaction before making a block. */
  emptyBlocks: z.boolean().optional(),
  /** The key REST writes need (POST /contracts/deploy); also in api.key beside devnet.json. */
  apiKey: z.string().min(16).optional(),
  /** A contracts project whose artifacts the nodes' REST requests may name. */
  project: z.string().min(1).optional(),
  /** What the genesis was made from (absent on devnets created before these settings: the defaults). */
  genesisSettings: genesisSettingsSchema.optional(),
  /** `--state FILE`: the dump `devnet down` writes (absolute path). */
  stateFile: z.string().min(1).optional(),
  /** Where the nodes POST security events and governance changes, and the secret's file. */
  webhook: z.object({url: z.string().min(1), secretFile: z.string().min(1)}).optional(),
  /** The Prometheus `devnet up --prometheus` started beside the devnet (stopped by PID on down). */
  prometheus: z.object({pid: z.number().int().positive().nullable(), port: z.number().int().min(1).max(65_535), url: z.string()}).optional(),
  nodes: z.array(nodeRecordSchema),
})

export type DevnetNodeRecord = z.infer<typeof nodeRecordSchema>
/** What devnet.json holds. */
export type DevnetRecord = z.infer<typeof devnetRecordSchema>

/** Where everything of one devnet lives. */
export interface DevnetPaths {
  name: string
  /** The devnet folder: `<dir>/devnets/<name>`. */
  folder: string
  record: string
  genesis: string
  /** The REST API key, readable by its owner only. */
  apiKey: string
  /** The dev accounts the nodes unlock (mnemonic, derivation path, count), readable by its owner only. */
  devAccounts: string
  /** The webhook secret `devnet up --webhook` creates when none is given. */
  webhookSecret: string
  /** Prometheus' config, rules and data (`devnet up --prometheus`). */
  prometheus: string
  nodeHome(index: number): string
  nodeLog(index: number): string
  nodePidFile(index: number): string
}

export interface DevnetLocation {
  /** The xai home holding `devnets/` (the CLI default is `<cwd>/.xai`). */
  dir: string
  name: string
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Paths of a devnet; rejects names that are not a plain folder name. */
export function devnetPaths(location: DevnetLocation): DevnetPaths {
  if (!NAME.test(location.name)) {
    throw new XaiError(DevnetErrorCode.invalidName, `"${location.name}" is not a valid devnet name`, {
      hint: 'Use letters, digits, ".", "_" and "-" (up to 64), starting with a letter or digit.',
    })
  }
  const folder = resolve(location.dir, 'devnets', location.name)
  const nodeHome = (index: number): string => join(folder, `node-${index}`)
  return {
    name: location.name,
    folder,
    record: join(folder, 'devnet.json'),
    genesis: join(folder, 'genesis.json'),
    apiKey: join(folder, 'api.key'),
    devAccounts: join(folder, 'dev-accounts.json'),
    webhookSecret: join(folder, 'webhook.secret'),
    prometheus: join(folder, 'prometheus'),
    nodeHome,
    nodeLog: (index) => nodeHomePaths(nodeHome(index)).log,
    nodePidFile: (index) => nodeHomePaths(nodeHome(index)).pidFile,
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** devnet.json, or undefined when there is none. Throws DEVNET_CORRUPT when it cannot be read as one. */
export async function readDevnetRecord(paths: DevnetPaths): Promise<DevnetRecord | undefined> {
  let text: string
  try {
    text = await readFile(paths.record, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw devnetCorrupt(paths.record, `cannot be read (${(err as Error).message})`, err)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw devnetCorrupt(paths.record, 'is not valid JSON', err)
  }
  const parsed = devnetRecordSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw devnetCorrupt(paths.record, `does not describe a devnet (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid'})`)
  }
  return parsed.data
}

/** Like readDevnetRecord, but a missing devnet is DEVNET_NOT_FOUND. */
export async function requireDevnetRecord(paths: DevnetPaths): Promise<DevnetRecord> {
  const record = await readDevnetRecord(paths)
  if (record) return record
  throw devnetNotFound(paths.name, paths.folder)
}

/** Writes devnet.json by atomic rename, stamping `updatedAt`. */
export async function writeDevnetRecord(paths: DevnetPaths, record: DevnetRecord, now: Date = new Date()): Promise<DevnetRecord> {
  const next: DevnetRecord = {...record, version: DEVNET_RECORD_VERSION, updatedAt: now.toISOString()}
  await writeJsonAtomic(paths.record, next)
  return next
}

/** genesis.json of the devnet, or undefined when there is none. Throws DEVNET_CORRUPT when unusable. */
export async function readGenesisFile(path: string): Promise<Genesis | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw devnetCorrupt(path, `cannot be read (${(err as Error).message})`, err)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw devnetCorrupt(path, 'is not valid JSON', err)
  }
  try {
    assertGenesis(value)
  } catch (err) {
    throw devnetCorrupt(path, isXaiError(err) ? `is not a genesis document (${err.message})` : 'is not a genesis document', err)
  }
  return value
}

/** PIDs written by node processes into their homes (`node-<i>/node.pid`), by node index. */
export async function readNodePidFiles(paths: DevnetPaths): Promise<Map<number, number>> {
  const pids = new Map<number, number>()
  let entries: string[]
  try {
    entries = await readdir(paths.folder)
  } catch {
    return pids
  }
  for (const entry of entries) {
    const match = /^node-(\d+)$/.exec(entry)
    if (!match) continue
    const index = Number(match[1])
    const pid = await readPidFile(paths.nodePidFile(index))
    if (pid !== undefined) pids.set(index, pid)
  }
  return pids
}

export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The JSON-RPC URL of a devnet's node 0 (how contracts and scripts reach a devnet by name), or undefined when it has none. */
export function devnetRpcUrl(record: DevnetRecord): string | undefined {
  const node = record.nodes.find((n) => n.index === 0) ?? record.nodes[0]
  if (!node) return undefined
  const host = record.rpcHost ?? DEFAULT_RPC_HOST
  return `http://${host.includes(':') ? `[${host}]` : host}:${node.rpcPort}`
}

/** Finds the devnet `name` under `home`: its node 0's RPC URL (undefined when there is no such devnet) and its record file. */
export async function locateDevnet(name: string, home: string): Promise<{rpcUrl: string | undefined; record: string}> {
  const paths = devnetPaths({dir: home, name})
  const record = await readDevnetRecord(paths)
  return {rpcUrl: record ? devnetRpcUrl(record) : undefined, record: paths.record}
}
