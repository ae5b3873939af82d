import {readFile} from 'node:fs/promises'

import {z} from 'zod'

import {ExitCode, XaiError} from '../util/errors.js'
import {ContractsErrorCode} from './errors.js'

/** The project file whose folder is a contracts project's root. */
export const CONFIG_FILE = 'xai.config.json'

/** The EVM versions the bundled solc (0.8.37) accepts without experimental mode. */
export const EVM_VERSIONS = [
  'homestead',
  'tangerineWhistle',
  'spuriousDragon',
  'byzantium',
  'constantinople',
  'petersburg',
  'istanbul',
  'berlin',
  'london',
  'paris',
  'shanghai',
  'cancun',
  'prague',
  'osaka',
] as const
export type EvmVersion = (typeof EVM_VERSIONS)[number]

const networkNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'network names are letters, digits, "-" and "_"')

/** A network the later `deploy`/`call` commands target: a devnet by name, or any JSON-RPC URL. */
export const networkSchema = z.union([
  z.strictObject({devnet: z.string().min(1).describe('Name of an xai devnet (xai devnet up --name …)')}),
  z.strictObject({rpcUrl: z.url({protocol: /^(https?|wss?)$/}).describe('A JSON-RPC endpoint')}),
])
export type NetworkConfig = z.infer<typeof networkSchema>

const DEFAULT_OPTIMIZER = {enabled: true, runs: 200}

/**
 * xai.config.json. Objects are strict: an unknown key is an error (a typo such as "optimiser"
 * would otherwise be silently ignored).
 */
export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    solc: z
      .strictObject({
        optimizer: z
          .strictObject({
            enabled: z.boolean().default(DEFAULT_OPTIMIZER.enabled),
            runs: z.int().min(1).max(2 ** 32 - 1).default(DEFAULT_OPTIMIZER.runs),
          })
          .default(DEFAULT_OPTIMIZER),
        evmVersion: z.enum(EVM_VERSIONS).default('prague'),
      })
      .default({optimizer: DEFAULT_OPTIMIZER, evmVersion: 'prague'}),
    networks: z.record(networkNameSchema, networkSchema).default({local: {devnet: 'default'}}),
    defaultNetwork: z.string().default('local'),
  })
  .superRefine((config, ctx) => {
    if (!(config.defaultNetwork in config.networks)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultNetwork'],
        message: `"${config.defaultNetwork}" is not one of the networks (${Object.keys(config.networks).join(', ') || 'none'})`,
      })
    }
  })
export type XaiConfig = z.infer<typeof configSchema>

/** The configuration `xai contract init` writes. */
export function defaultConfig(): XaiConfig {
  return configSchema.parse({})
}

/**
 * Validates a parsed xai.config.json document; `file` names it in errors.
 *
 * @example
 * parseConfig({solc: {optimizer: {enabled: true, runs: 1000}}}).solc.evmVersion // 'prague'
 */
export function parseConfig(value: unknown, file = CONFIG_FILE): XaiConfig {
  const result = configSchema.safeParse(value)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
  throw new XaiError(ContractsErrorCode.configInvalid, `${file} is invalid: ${problems.join('; ')}`, {
    hint: `Fix ${file}; e.g. {"solc": {"optimizer": {"enabled": true, "runs": 200}, "evmVersion": "prague"}, "networks": {"local": {"devnet": "default"}}, "defaultNetwork": "local"}`,
    details: {file, problems},
  })
}

/** Reads and validates the config file at `path`. */
export async function loadConfig(path: string): Promise<XaiConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new XaiError(ContractsErrorCode.configInvalid, `Cannot read ${path}: ${(err as Error).message}`, {
      exitCode: ExitCode.environment,
      cause: err,
      details: {file: path},
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new XaiError(ContractsErrorCode.configInvalid, `${path} is not valid JSON: ${(err as Error).message}`, {
      hint: `Fix the JSON syntax of ${path}.`,
      cause: err,
      details: {file: path},
    })
  }
  return parseConfig(json, path)
}
