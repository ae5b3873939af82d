import {chmodSync, mkdirSync} from 'node:fs'

import Conf from 'conf'
import {z} from 'zod'

import {ExitCode, XaiError} from '../util/errors.js'

/**
 * User-level settings (`xai config get|set|unset|list`), in <config dir>/config.json with mode
 * 0600 (it may hold API keys). The folder is $XAI_CONFIG_DIR, else the OS's per-user config folder
 * for "xai" (~/.config/xai on Linux).
 *
 * Precedence, for every command: flag > XAI_* environment variable > the project's
 * xai.config.json (where it says something: its defaultNetwork) > these settings > defaults.
 * They are applied once, before a command parses its flags, by filling in the XAI_* variable of
 * each setting that the environment does not set (see applyUserConfig).
 */
export const USER_SETTINGS = {
  home: {env: 'XAI_HOME', schema: z.string().min(1), description: 'Folder holding devnets/ (default devnet folder) [default: ./.xai]'},
  devnet: {env: 'XAI_DEVNET', schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/), description: 'Default devnet name [default: default]'},
  network: {
    env: 'XAI_DEFAULT_NETWORK',
    schema: z.string().min(1),
    description: "Default network outside a project's xai.config.json: a devnet name or a JSON-RPC URL",
  },
  account: {env: 'XAI_ACCOUNT', schema: z.coerce.number().int().min(0).max(9), description: 'Default dev account index (0..9)'},
  json: {env: 'XAI_JSON', schema: z.enum(['true', 'false']).transform((v) => v === 'true'), description: 'Print JSON by default (true|false)'},
  color: {env: 'NO_COLOR', schema: z.enum(['true', 'false']).transform((v) => v === 'true'), description: 'Colour output (true|false); false sets NO_COLOR'},
} as const

export type UserSettingKey = keyof typeof USER_SETTINGS
/** API keys for remote networks: `apiKeys.<network>`; shown masked unless asked. */
const API_KEY = /^apiKeys\.([A-Za-z0-9][A-Za-z0-9_-]*)$/

export interface UserConfigEntry {
  key: string
  value: string | number | boolean
  /** API keys: the value is masked unless revealed. */
  secret: boolean
}

type Store = Record<string, unknown>

/** The config folder: $XAI_CONFIG_DIR, else undefined (conf's per-user default). */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.XAI_CONFIG_DIR && env.XAI_CONFIG_DIR !== '' ? env.XAI_CONFIG_DIR : undefined
}

/** Opens the store (nothing is written until a set). */
export function openUserConfig(env: NodeJS.ProcessEnv = process.env): Conf<Store> {
  const cwd = userConfigDir(env)
  if (cwd !== undefined) mkdirSync(cwd, {recursive: true, mode: 0o700})
  return new Conf<Store>({projectName: 'xai', projectSuffix: '', configName: 'config', configFileMode: 0o600, accessPropertiesByDotNotation: false, ...(cwd ? {cwd} : {})})
}

function checkKey(key: string): UserSettingKey | 'apiKey' {
  if (key in USER_SETTINGS) return key as UserSettingKey
  if (API_KEY.test(key)) return 'apiKey'
  throw new XaiError('CONFIG_UNKNOWN_KEY', `Unknown setting "${key}"`, {
    exitCode: ExitCode.usage,
    hint: `Settings: ${Object.keys(USER_SETTINGS).join(', ')}, apiKeys.<network>.`,
    details: {key},
  })
}

/**
 * Validates and stores a setting.
 *
 * @example
 * setUserSetting('devnet', 'staging') // 'staging'
 */
export function setUserSetting(key: string, raw: string, env: NodeJS.ProcessEnv = process.env): UserConfigEntry {
  const kind = checkKey(key)
  let value: string | number | boolean
  if (kind === 'apiKey') {
    if (raw.trim() === '' || /\s/.test(raw)) throw new XaiError('CONFIG_INVALID_VALUE', `${key}: an API key is one word`, {exitCode: ExitCode.usage})
    value = raw
  } else {
    const parsed = USER_SETTINGS[kind].schema.safeParse(raw)
    if (!parsed.success) {
      throw new XaiError('CONFIG_INVALID_VALUE', `${key}: "${raw}" is not valid (${parsed.error.issues[0]?.message ?? 'invalid'})`, {
        exitCode: ExitCode.usage,
        hint: USER_SETTINGS[kind].description,
        details: {key, value: raw},
      })
    }
    value = parsed.data
  }
  const store = openUserConfig(env)
  store.set(key, value)
  chmodSync(store.path, 0o600)
  return {key, value, secret: kind === 'apiKey'}
}

export function unsetUserSetting(key: string, env: NodeJS.ProcessEnv = process.env): boolean {
  checkKey(key)
  const store = openUserConfig(env)
  const had = store.has(key)
  store.delete(key)
  return had
}

/** Every stored setting, sorted by key; API keys masked unless `reveal`. */
export function listUserSettings(options: {reveal?: boolean} = {}, env: NodeJS.ProcessEnv = process.env): {path: string; settings: UserConfigEntry[]} {
  const store = openUserConfig(env)
  const settings: UserConfigEntry[] = []
  for (const [key, value] of Object.entries(store.store).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue
    const secret = API_KEY.test(key)
    settings.push({key, value: secret && !options.reveal ? mask(String(value)) : value, secret})
  }
  return {path: store.path, settings}
}

export function getUserSetting(key: string, options: {reveal?: boolean} = {}, env: NodeJS.ProcessEnv = process.env): UserConfigEntry | undefined {
  const kind = checkKey(key)
  const value = openUserConfig(env).get(key)
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined
  const secret = kind === 'apiKey'
  return {key, value: secret && !options.reveal ? mask(String(value)) : value, secret}
}

function mask(value: string): string {
  return value.length <= 4 ? '****' : `${'*'.repeat(Math.min(8, value.length - 4))}${value.slice(-4)}`
}

/**
 * Fills in, in `env`, the XAI_* variable of each stored setting that `env` does not already set,
 * so that oclif's flag `env` fallbacks see it below the real environment. A store that cannot be
 * read is reported by the returned warning and otherwise ignored: settings never stop a command.
 */
export function applyUserConfig(env: NodeJS.ProcessEnv = process.env): {applied: string[]; warning?: string} {
  let store: Store
  try {
    store = openUserConfig(env).store
  } catch (err) {
    return {applied: [], warning: `Ignoring the user settings: ${(err as Error).message}`}
  }
  const applied: string[] = []
  for (const [key, setting] of Object.entries(USER_SETTINGS) as [UserSettingKey, (typeof USER_SETTINGS)[UserSettingKey]][]) {
    const value = store[key]
    if (value === undefined || value === null || typeof value === 'object') continue
    if (key === 'color') {
      if (value === false && env.NO_COLOR === undefined) {
        env.NO_COLOR = '1'
        applied.push(key)
      }
      continue
    }
    if (env[setting.env] !== undefined && env[setting.env] !== '') continue
    env[setting.env] = String(value)
    applied.push(key)
  }
  return {applied}
}

/** The API key stored for a network (`apiKeys.<name>`), if any. */
export function userApiKey(network: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const value = openUserConfig(env).get(`apiKeys.${network}`)
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}
