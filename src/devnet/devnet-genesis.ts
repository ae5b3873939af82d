import {createHash} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'
import {resolve} from 'node:path'

import {Hardfork} from '@ethereumjs/common'
import {z} from 'zod'

import {
  BEACON_ROOTS_ADDRESS,
  DEFAULT_BASE_FEE,
  DEFAULT_GAS_LIMIT,
  DEV_BALANCE,
  type Genesis,
  type GenesisAccount,
  type GenesisValidator,
  HISTORY_STORAGE_ADDRESS,
  createDevGenesis,
} from '../chain/genesis.js'
import {type StateDump, decodeStateBlob, integer, stateDumpToAlloc} from '../chain/state-dump.js'
import {isModuleAddress} from '../modules/module.js'
import {DEV_ACCOUNT_COUNT, DEV_DERIVATION_PATH, DEV_MNEMONIC} from '../util/dev-accounts.js'
import {XaiError, isXaiError} from '../util/errors.js'

/**
 * What a devnet's genesis was made from (devnet.json `genesisSettings`). A resumed devnet keeps
 * these: its chain exists, so a flag asking for another value is a conflict, not a change.
 * Wei amounts and gas are decimal strings (JSON has no bigints).
 */
export const genesisSettingsSchema = z.object({
  accounts: z.number().int().min(0),
  /** Wei each dev account starts with. */
  balance: z.string().regex(/^\d+$/),
  mnemonic: z.string().min(1),
  /** BIP-44 prefix without the trailing slash; account i is at `<path>/i`. */
  derivationPath: z.string().min(1),
  gasLimit: z.string().regex(/^\d+$/),
  baseFee: z.string().regex(/^\d+$/),
  hardfork: z.string().min(1),
  /** The geth-style genesis file the devnet was created from (`--genesis`), with its SHA-256. */
  genesisFile: z.object({path: z.string().min(1), sha256: z.string()}).optional(),
})
export type GenesisSettings = z.infer<typeof genesisSettingsSchema>

/** The flags of `xai devnet up` that shape a new devnet's genesis (undefined: not given). */
export interface GenesisFlags {
  chainId?: number
  accounts?: number
  /** Ether per dev account, as typed: "10000", "0.5". */
  balance?: string
  mnemonic?: string
  /** anvil's form, with or without the trailing slash: m/44'/60'/0'/0/ */
  derivationPath?: string
  gasLimit?: number
  /** Wei. */
  baseFee?: string
  hardfork?: string
  /** A geth-style genesis.json whose chain id, gas limit, base fee, timestamp, extra data and alloc the devnet starts from. */
  genesisFile?: string
}

/** The hardforks a devnet can run: the chain builds Prague blocks (Cancun and Prague header fields, system contracts). */
export const SUPPORTED_HARDFORKS = ['prague'] as const
export const DEFAULT_HARDFORK = 'prague'
export const MAX_DEV_ACCOUNTS = 1_000
/** Largest --genesis file read. */
export const MAX_GENESIS_FILE_BYTES = 256 * 1024 * 1024
/** Largest --state file read (the dump's own limits apply after it is unpacked). */
export const MAX_STATE_FILE_BYTES = 512 * 1024 * 1024

const WEI_PER_ETH = 10n ** 18n
const UINT256_MAX = (1n << 256n) - 1n

function invalidSetting(message: string, hint: string): XaiError {
  return new XaiError('DEVNET_SETTING_INVALID', message, {hint})
}

/** The settings of the genesis of a devnet created without flags (also what devnets created before these flags had). */
export function defaultGenesisSettings(): GenesisSettings {
  return {
    accounts: DEV_ACCOUNT_COUNT,
    balance: DEV_BALANCE.toString(),
    mnemonic: DEV_MNEMONIC,
    derivationPath: DEV_DERIVATION_PATH,
    gasLimit: DEFAULT_GAS_LIMIT.toString(),
    baseFee: DEFAULT_BASE_FEE.toString(),
    hardfork: DEFAULT_HARDFORK,
  }
}

/**
 * The genesis settings of a new devnet from the flags (each checked), over the defaults. The
 * genesis file's own values (chain id, gas limit, base fee) count where no flag is given; the
 * caller reads them from the parsed file.
 */
export async function genesisSettingsFromFlags(flags: GenesisFlags, imported?: ImportedGenesis): Promise<GenesisSettings> {
  const defaults = defaultGenesisSettings()
  const settings: GenesisSettings = {
    accounts: flags.accounts ?? defaults.accounts,
    balance: flags.balance === undefined ? defaults.balance : parseEther(flags.balance).toString(),
    mnemonic: flags.mnemonic === undefined ? defaults.mnemonic : await checkMnemonic(flags.mnemonic),
    derivationPath: flags.derivationPath === undefined ? defaults.derivationPath : checkDerivationPath(flags.derivationPath),
    gasLimit: (flags.gasLimit === undefined ? (imported?.gasLimit ?? DEFAULT_GAS_LIMIT) : checkGasLimit(BigInt(flags.gasLimit))).toString(),
    baseFee: (flags.baseFee === undefined ? (imported?.baseFeePerGas ?? DEFAULT_BASE_FEE) : parseBaseFee(flags.baseFee)).toString(),
    hardfork: flags.hardfork === undefined ? defaults.hardfork : checkHardfork(flags.hardfork),
    ...(imported ? {genesisFile: {path: imported.path, sha256: imported.sha256}} : {}),
  }
  if (!Number.isInteger(settings.accounts) || settings.accounts < 0 || settings.accounts > MAX_DEV_ACCOUNTS) {
    throw invalidSetting(`--accounts ${settings.accounts} is out of range`, `Give 0 to ${MAX_DEV_ACCOUNTS} dev accounts.`)
  }
  if (BigInt(settings.balance) * BigInt(Math.max(1, settings.accounts)) > UINT256_MAX >> 8n) {
    throw invalidSetting(`--balance ${flags.balance} ETH for ${settings.accounts} accounts is more ether than the chain can count`, 'Give a smaller --balance.')
  }
  return settings
}

/**
 * Checks the flags given to `up` on an existing devnet against what it was created with: a
 * genesis setting cannot change once the chain exists. Throws DEVNET_SETTING_CONFLICT naming
 * the first flag that differs.
 */
export async function assertGenesisFlagsMatch(
  flags: GenesisFlags,
  recorded: {chainId: number; settings: GenesisSettings; name: string},
): Promise<void> {
  const {settings, chainId, name} = recorded
  const conflict = (flag: string, given: string, had: string): XaiError =>
    new XaiError('DEVNET_SETTING_CONFLICT', `Devnet "${name}" was created with ${flag} ${had}, not ${given}: a resumed devnet keeps the genesis it was created with`, {
      hint: `Resume it without ${flag}, or wipe it and create it afresh: xai devnet reset${name === 'default' ? '' : ` --name ${name}`} --force, then xai devnet up ${flag} ${given}${name === 'default' ? '' : ` --name ${name}`}`,
      details: {flag, given, recorded: had},
    })
  if (flags.chainId !== undefined && flags.chainId !== chainId) throw conflict('--chain-id', String(flags.chainId), String(chainId))
  if (flags.accounts !== undefined && flags.accounts !== settings.accounts) throw conflict('--accounts', String(flags.accounts), String(settings.accounts))
  if (flags.balance !== undefined && parseEther(flags.balance).toString() !== settings.balance) throw conflict('--balance', flags.balance, formatEther(BigInt(settings.balance)))
  if (flags.mnemonic !== undefined && normalizeMnemonic(flags.mnemonic) !== settings.mnemonic) throw conflict('--mnemonic', `"${flags.mnemonic}"`, `"${settings.mnemonic}"`)
  if (flags.derivationPath !== undefined && checkDerivationPath(flags.derivationPath) !== settings.derivationPath) {
    throw conflict('--derivation-path', flags.derivationPath, `${settings.derivationPath}/`)
  }
  if (flags.gasLimit !== undefined && BigInt(flags.gasLimit).toString() !== settings.gasLimit) throw conflict('--gas-limit', String(flags.gasLimit), settings.gasLimit)
  if (flags.baseFee !== undefined && parseBaseFee(flags.baseFee).toString() !== settings.baseFee) throw conflict('--base-fee', flags.baseFee, settings.baseFee)
  if (flags.hardfork !== undefined && canonicalHardfork(flags.hardfork) !== settings.hardfork) throw conflict('--hardfork', flags.hardfork, settings.hardfork)
  if (flags.genesisFile !== undefined) {
    const imported = await readGenesisFile(flags.genesisFile)
    if (!settings.genesisFile) throw conflict('--genesis', flags.genesisFile, '(none: the built-in dev genesis)')
    if (imported.sha256 !== settings.genesisFile.sha256) throw conflict('--genesis', `${flags.genesisFile} (sha256 ${imported.sha256.slice(0, 12)}…)`, `${settings.genesisFile.path} (sha256 ${settings.genesisFile.sha256.slice(0, 12)}…)`)
  }
}

/**
 * The genesis of a new devnet: the dev accounts of `settings` funded, the imported genesis file's
 * header values and allocations over them, then the accounts of a state dump over those.
 */
export function buildDevnetGenesis(options: {
  chainId: number
  settings: GenesisSettings
  accounts: string[]
  validators: GenesisValidator[]
  imported?: ImportedGenesis
  state?: StateDump
}): {genesis: Genesis; skipped: string[]} {
  const {settings, imported, state} = options
  const genesis = createDevGenesis({
    chainId: options.chainId,
    accounts: options.accounts,
    balance: BigInt(settings.balance),
    gasLimit: BigInt(settings.gasLimit),
    baseFeePerGas: BigInt(settings.baseFee),
    timestamp: imported?.timestamp === undefined ? undefined : Number(imported.timestamp),
    extraData: imported?.extraData,
    validators: options.validators,
  })
  if (imported) {
    for (const [address, account] of Object.entries(imported.alloc)) {
      if (address === HISTORY_STORAGE_ADDRESS || address === BEACON_ROOTS_ADDRESS) continue // checked equal on import
      genesis.alloc[address] = account
    }
    if (imported.coinbase) genesis.coinbase = imported.coinbase as `0x${string}`
  }
  const skipped: string[] = []
  if (state) {
    for (const [address, account] of Object.entries(stateDumpToAlloc(state))) {
      // Module accounts and the system contracts are the new chain's own: a dump's would describe another registry.
      if (isModuleAddress(address) || address === HISTORY_STORAGE_ADDRESS || address === BEACON_ROOTS_ADDRESS) {
        skipped.push(address)
        continue
      }
      const before = genesis.alloc[address]
      genesis.alloc[address] = {...account, ...(before?.storage || account.storage ? {storage: {...before?.storage, ...account.storage}} : {})}
    }
  }
  return {genesis, skipped}
}

// ----- --genesis FILE ---------------------------------------------------------------------------

/** What a devnet takes from a geth-style genesis file. */
export interface ImportedGenesis {
  path: string
  sha256: string
  chainId?: number
  gasLimit?: bigint
  baseFeePerGas?: bigint
  timestamp?: bigint
  extraData?: string
  coinbase?: string
  alloc: Record<string, GenesisAccount>
}

/** Most accounts a --genesis file may allocate. */
export const MAX_GENESIS_ACCOUNTS = 100_000
const MAX_GENESIS_CODE_BYTES = 1 << 20
const MAX_GENESIS_SLOTS = 1_000_000

function badGenesis(path: string, reason: string): XaiError {
  return new XaiError('DEVNET_GENESIS_INVALID', `The genesis file ${path} is refused: ${reason}`, {
    hint: 'Give a geth-style genesis.json: {"config": {"chainId": …}, "gasLimit": "0x…", "alloc": {"0x<address>": {"balance": "0x…", "code": "0x…", "storage": {…}}}}.',
    details: {path, reason},
  })
}

/** Reads and checks a --genesis file (size first, then {@link parseGenesisFile}). */
export async function readGenesisFile(file: string): Promise<ImportedGenesis> {
  const path = resolve(file)
  let size: number
  try {
    size = (await stat(path)).size
  } catch (err) {
    throw badGenesis(path, `it cannot be read (${(err as Error).message})`)
  }
  if (size > MAX_GENESIS_FILE_BYTES) throw badGenesis(path, `it is ${size} bytes, more than ${MAX_GENESIS_FILE_BYTES}`)
  return parseGenesisFile(await readFile(path, 'utf8'), path)
}

/**
 * Parses a geth-style genesis document as a devnet's starting point, refusing what the devnet
 * cannot honour or what would break it, with the reason: not JSON; no config.chainId; a fork
 * scheduled after block 0 (a devnet runs one fork from genesis, chosen with --hardfork); a
 * `validators` list (the devnet writes its own); allocations at the native modules' reserved
 * addresses or replacing the system contracts; malformed addresses, amounts, code or storage; and
 * anything over the size limits.
 */
export function parseGenesisFile(text: string, path: string): ImportedGenesis {
  const sha256 = createHash('sha256').update(text).digest('hex')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw badGenesis(path, `it is not JSON (${(err as Error).message})`)
  }
  if (!isObject(value)) throw badGenesis(path, 'the top level is not a JSON object')
  const {config} = value
  if (!isObject(config)) throw badGenesis(path, '"config" is missing or not an object')
  const chainId = config.chainId
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) throw badGenesis(path, `config.chainId must be a positive integer, not ${JSON.stringify(chainId)}`)
  for (const [key, at] of Object.entries(config)) {
    if (!/(Block|Time)$/.test(key) || at === null || at === undefined) continue
    if (at !== 0 && at !== '0x0' && at !== '0') {
      throw badGenesis(path, `config.${key} schedules a fork at ${JSON.stringify(at)}: a devnet runs one fork from block 0 (choose it with --hardfork)`)
    }
  }
  if ('validators' in value) throw badGenesis(path, '"validators" is set: a devnet writes its own validator set (--nodes)')
  const num = (field: string, raw: unknown, max: bigint): bigint => {
    try {
      return integer(raw, field, max)
    } catch (err) {
      throw badGenesis(path, isXaiError(err) ? err.message.replace(/^Not a usable state dump: /, '') : String(err))
    }
  }
  const out: ImportedGenesis = {path, sha256, chainId, alloc: {}}
  if (value.gasLimit !== undefined) out.gasLimit = checkGenesisGasLimit(path, num('gasLimit', value.gasLimit, (1n << 63n) - 1n))
  if (value.baseFeePerGas !== undefined && value.baseFeePerGas !== null) out.baseFeePerGas = num('baseFeePerGas', value.baseFeePerGas, (1n << 64n) - 1n)
  if (value.timestamp !== undefined) out.timestamp = num('timestamp', value.timestamp, (1n << 63n) - 1n)
  if (value.extraData !== undefined) {
    if (typeof value.extraData !== 'string' || !/^0x([0-9a-fA-F]{2}){0,32}$/.test(value.extraData)) throw badGenesis(path, 'extraData must be 0x-hex of at most 32 bytes')
    out.extraData = value.extraData.toLowerCase()
  }
  if (value.coinbase !== undefined) {
    if (typeof value.coinbase !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value.coinbase)) throw badGenesis(path, 'coinbase must be a 20-byte 0x-hex address')
    out.coinbase = value.coinbase.toLowerCase()
  }
  const alloc = value.alloc ?? {}
  if (!isObject(alloc)) throw badGenesis(path, '"alloc" is not an object')
  const entries = Object.entries(alloc)
  if (entries.length > MAX_GENESIS_ACCOUNTS) throw badGenesis(path, `it allocates ${entries.length} accounts, more than ${MAX_GENESIS_ACCOUNTS}`)
  let slots = 0
  for (const [key, raw] of entries) {
    // geth takes addresses with or without 0x.
    const address = `0x${key.replace(/^0x/i, '')}`.toLowerCase()
    if (!/^0x[0-9a-f]{40}$/.test(address)) throw badGenesis(path, `alloc key "${key.slice(0, 60)}" is not a 20-byte hex address`)
    if (address in out.alloc) throw badGenesis(path, `alloc names ${address} twice`)
    if (isModuleAddress(address)) throw badGenesis(path, `alloc ${address} is under the native modules' reserved prefix 0x00000000000000000000000000000a11`)
    if (!isObject(raw)) throw badGenesis(path, `alloc ${address} is not an object`)
    const account: GenesisAccount = {balance: `0x${(raw.balance === undefined ? 0n : num(`alloc ${address}: balance`, raw.balance, UINT256_MAX)).toString(16)}`}
    if (raw.nonce !== undefined) account.nonce = `0x${num(`alloc ${address}: nonce`, raw.nonce, (1n << 64n) - 1n).toString(16)}`
    if (raw.code !== undefined && raw.code !== '0x' && raw.code !== '') {
      if (typeof raw.code !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(raw.code)) throw badGenesis(path, `alloc ${address}: code must be even-length 0x-hex`)
      if ((raw.code.length - 2) / 2 > MAX_GENESIS_CODE_BYTES) throw badGenesis(path, `alloc ${address}: code is longer than ${MAX_GENESIS_CODE_BYTES} bytes`)
      account.code = raw.code.toLowerCase()
    }
    if (raw.storage !== undefined && raw.storage !== null) {
      if (!isObject(raw.storage)) throw badGenesis(path, `alloc ${address}: storage is not an object`)
      const storage: Record<string, string> = {}
      for (const [slotKey, slotValue] of Object.entries(raw.storage)) {
        if (++slots > MAX_GENESIS_SLOTS) throw badGenesis(path, `it sets more than ${MAX_GENESIS_SLOTS} storage slots`)
        const slot = word(slotKey)
        const val = typeof slotValue === 'string' ? word(slotValue) : undefined
        if (slot === undefined) throw badGenesis(path, `alloc ${address}: storage key "${slotKey.slice(0, 80)}" is not 0x-hex of at most 32 bytes`)
        if (val === undefined) throw badGenesis(path, `alloc ${address}: storage ${slot} is not 0x-hex of at most 32 bytes`)
        if (slot in storage) throw badGenesis(path, `alloc ${address}: storage ${slot} appears twice`)
        if (BigInt(val) !== 0n) storage[slot] = val
      }
      if (Object.keys(storage).length > 0) account.storage = storage
    }
    for (const [system, name] of [[HISTORY_STORAGE_ADDRESS, 'EIP-2935 block hash history'], [BEACON_ROOTS_ADDRESS, 'EIP-4788 beacon roots']] as const) {
      if (address !== system) continue
      // geth's dev genesis carries the same system contracts: accept an identical copy only.
      const same = createDevGenesis({accounts: []}).alloc[system]
      if (account.code !== same?.code || account.storage !== undefined || BigInt(account.balance) !== 0n) {
        throw badGenesis(path, `alloc ${address} would replace the ${name} system contract the chain calls every block`)
      }
    }
    out.alloc[address] = account
  }
  return out
}

function checkGenesisGasLimit(path: string, gasLimit: bigint): bigint {
  if (gasLimit < 21_000n) throw badGenesis(path, `gasLimit ${gasLimit} is below 21000, the gas of a plain transfer`)
  return gasLimit
}

/** A storage word as 32-byte lowercase 0x-hex, or undefined when it is not one. */
function word(text: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{0,64}$/.test(text)) return undefined
  return `0x${text.slice(2).toLowerCase().padStart(64, '0')}`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ----- --state FILE -----------------------------------------------------------------------------

/** Reads a state file (anvil's or xai's dump: JSON, gzipped JSON, or its hex), or undefined when there is none yet. */
export async function readStateFile(file: string): Promise<StateDump | undefined> {
  const path = resolve(file)
  let size: number
  try {
    size = (await stat(path)).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new XaiError('STATE_DUMP_INVALID', `Cannot read the state file ${path}: ${(err as Error).message}`, {hint: 'Check the path and its permissions.'})
  }
  if (size > MAX_STATE_FILE_BYTES) {
    throw new XaiError('STATE_DUMP_INVALID', `The state file ${path} is ${size} bytes, more than ${MAX_STATE_FILE_BYTES}`, {hint: 'Give a dump written by xai devnet state save or anvil --dump-state.'})
  }
  try {
    return decodeStateBlob(await readFile(path))
  } catch (err) {
    if (isXaiError(err)) throw new XaiError('STATE_DUMP_INVALID', `${path}: ${err.message}`, {hint: err.hint ?? 'Give a dump written by xai devnet state save or anvil --dump-state.', cause: err})
    throw err
  }
}

// ----- flag values ------------------------------------------------------------------------------

/** Ether as typed ("10000", "0.5") → wei. */
export function parseEther(text: string): bigint {
  const match = /^(\d{1,60})(?:\.(\d{1,18}))?$/.exec(text.trim())
  if (!match) throw invalidSetting(`--balance "${text}" is not an amount of ether`, 'Give ether as a decimal number, e.g. --balance 10000 or --balance 0.5 (at most 18 decimals).')
  return BigInt(match[1]!) * WEI_PER_ETH + BigInt((match[2] ?? '').padEnd(18, '0'))
}

/** Wei → ether as anvil prints it ("10000", "0.5"). */
export function formatEther(wei: bigint): string {
  const whole = wei / WEI_PER_ETH
  const fraction = (wei % WEI_PER_ETH).toString().padStart(18, '0').replace(/0+$/, '')
  return fraction ? `${whole}.${fraction}` : `${whole}`
}

function parseBaseFee(text: string): bigint {
  if (!/^\d{1,20}$/.test(text.trim()) || BigInt(text.trim()) >= 1n << 64n) {
    throw invalidSetting(`--base-fee "${text}" is not a base fee in wei`, 'Give the genesis base fee in wei as a whole number below 2^64, e.g. --base-fee 1000000000 (1 gwei).')
  }
  return BigInt(text.trim())
}

function checkGasLimit(gasLimit: bigint): bigint {
  if (gasLimit < 21_000n || gasLimit >= 1n << 63n) throw invalidSetting(`--gas-limit ${gasLimit} is out of range`, 'Give a block gas limit of at least 21000 (one transfer), e.g. --gas-limit 30000000.')
  return gasLimit
}

/** The hardfork's ethereumjs name, lowercased; "latest" is the newest a devnet runs. */
function canonicalHardfork(name: string): string {
  const lower = name.trim().toLowerCase()
  return lower === 'latest' ? DEFAULT_HARDFORK : lower
}

function checkHardfork(name: string): string {
  const fork = canonicalHardfork(name)
  const known = Object.values(Hardfork).map((h) => h.toLowerCase())
  if (!known.includes(fork)) {
    throw invalidSetting(`--hardfork "${name}" is not a hardfork @ethereumjs knows`, `Known: ${known.join(', ')}; a devnet runs ${SUPPORTED_HARDFORKS.join(', ')} (or "latest").`)
  }
  if (!(SUPPORTED_HARDFORKS as readonly string[]).includes(fork)) {
    throw invalidSetting(
      `--hardfork ${fork} is not one a devnet can run: the chain builds ${SUPPORTED_HARDFORKS.join(', ')} blocks (Cancun and Prague header fields, the EIP-2935 and EIP-4788 system contracts)`,
      `Use --hardfork ${DEFAULT_HARDFORK} (the default, also "latest"); anvil --hardfork ${fork} runs older rules.`,
    )
  }
  return fork
}

function checkDerivationPath(path: string): string {
  const trimmed = path.trim().replace(/\/$/, '')
  if (!/^m(\/\d{1,10}'?)+$/.test(trimmed) || trimmed.split('/').slice(1).some((p) => Number(p.replace("'", '')) >= 0x8000_0000)) {
    throw invalidSetting(`--derivation-path "${path}" is not a BIP-32 path`, `Give one like anvil's default, m/44'/60'/0'/0/ (the account index is appended).`)
  }
  return trimmed
}

function normalizeMnemonic(mnemonic: string): string {
  return mnemonic.trim().normalize('NFKD').split(/\s+/).join(' ')
}

/** A BIP-39 English mnemonic: 12–24 words of the list, with a valid checksum (as anvil requires). */
async function checkMnemonic(mnemonic: string): Promise<string> {
  const normalized = normalizeMnemonic(mnemonic)
  const words = normalized.split(' ')
  const hint = 'Give 12, 15, 18, 21 or 24 words of the BIP-39 English list, e.g. the standard test mnemonic "test test test test test test test test test test test junk".'
  if (![12, 15, 18, 21, 24].includes(words.length)) throw invalidSetting(`--mnemonic has ${words.length} words, not 12, 15, 18, 21 or 24`, hint)
  const {english} = await import('viem/accounts')
  const index = new Map(english.map((w, i) => [w, i]))
  let bits = ''
  for (const w of words) {
    const i = index.get(w)
    if (i === undefined) throw invalidSetting(`--mnemonic: "${w}" is not a BIP-39 English word`, hint)
    bits += i.toString(2).padStart(11, '0')
  }
  const checksumBits = words.length / 3
  const entropyBits = bits.slice(0, bits.length - checksumBits)
  const entropy = Buffer.from(entropyBits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)))
  const expected = createHash('sha256').update(entropy).digest()[0]!.toString(2).padStart(8, '0').slice(0, checksumBits)
  if (expected !== bits.slice(-checksumBits)) throw invalidSetting('--mnemonic has a wrong checksum (its last word does not match the others)', hint)
  return normalized
}

