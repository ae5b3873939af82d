// README: every flag has an XAI_* environment fallback (a flag beats the environment), except the
// ones the rule below names. This walks every command class under src/commands, so a command or
// flag added without a fallback fails here, naming the command and the flag.
import {readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import * as Flags from '@oclif/core/flags'
import {parse} from '@oclif/core/parser'
import {afterEach, beforeAll, describe, expect, it} from 'vitest'

const COMMANDS_DIR = fileURLToPath(new URL('../../../src/commands/', import.meta.url))

interface FlagInfo {
  command: string
  flag: string
  env?: string
  hidden: boolean
  multiple: boolean
}

/** oclif's own flags (--json from enableJsonFlag, --help): the framework defines them, not us. */
const FRAMEWORK_FLAGS = new Set(['json', 'help'])

function commandFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return commandFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Every command id (`xai devnet logs`) and every flag of each, from the command classes. */
async function allFlags(): Promise<{commands: string[]; flags: FlagInfo[]}> {
  const out: FlagInfo[] = []
  const commands: string[] = []
  for (const file of commandFiles(COMMANDS_DIR).sort()) {
    const id = relative(COMMANDS_DIR, file).replace(/\.ts$/, '').split(/[\\/]/).join(' ')
    const mod = (await import(pathToFileURL(file).href)) as {default?: unknown}
    if (typeof mod.default !== 'function') throw new Error(`${file} has no default export (a command class)`)
    commands.push(`xai ${id}`)
    const command = mod.default as {flags?: Record<string, unknown>; baseFlags?: Record<string, unknown>}
    const flags = {...command.baseFlags, ...command.flags} as Record<string, {env?: string; hidden?: boolean; multiple?: boolean}>
    for (const [name, flag] of Object.entries(flags)) {
      out.push({command: `xai ${id}`, flag: name, env: flag.env, hidden: flag.hidden === true, multiple: flag.multiple === true})
    }
  }
  return {commands, flags: out}
}

describe('XAI_* environment fallbacks', () => {
  let flags: FlagInfo[]
  let commands: string[]
  beforeAll(async () => {
    ;({commands, flags} = await allFlags())
  }, 300_000)

  it('walks every command', () => {
    expect(commands.length).toBeGreaterThanOrEqual(30)
    expect(commands).toContain('xai devnet logs')
    expect(commands).toContain('xai node start')
    expect(flags.find((f) => f.command === 'xai devnet logs' && f.flag === 'lines')).toMatchObject({env: 'XAI_DEVNET_LINES'})
  })

  it('every flag has one, except oclif\'s own, hidden internal/test flags and repeatable flags', () => {
    const problems: string[] = []
    for (const f of flags) {
      const name = `${f.command} --${f.flag}`
      if (FRAMEWORK_FLAGS.has(f.flag)) continue
      if (f.hidden || f.multiple) {
        // Hidden flags are devnet-internal or fault injection (--double-sign, --clock-skew): a
        // variable left in a shell must never turn them on. A repeatable flag would get the
        // variable as one string instead of a list (see the test below).
        if (f.env !== undefined) problems.push(`${name}: ${f.hidden ? 'hidden' : 'repeatable'} flag must not read ${f.env}`)
        continue
      }
      if (f.env === undefined) problems.push(`${name}: no environment fallback (add env: 'XAI_<TOPIC>_<FLAG>', see README "Commands")`)
      else if (!/^XAI_[A-Z][A-Z0-9_]*$/.test(f.env)) problems.push(`${name}: env ${f.env} is not XAI_<UPPER_SNAKE>`)
    }
    expect(problems).toEqual([])
  })

  it('no command reads one variable for two flags', () => {
    const seen = new Map<string, string>()
    const problems: string[] = []
    for (const f of flags) {
      if (f.env === undefined) continue
      const key = `${f.command} ${f.env}`
      if (seen.has(key)) problems.push(`${f.command}: --${seen.get(key)} and --${f.flag} both read ${f.env}`)
      seen.set(key, f.flag)
    }
    expect(problems).toEqual([])
  })
})

describe('how oclif applies an environment fallback', () => {
  const saved = {...process.env}
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
  })

  it('uses the variable when the flag is absent, and the flag when both are given', async () => {
    const {default: DevnetLogs} = await import('../../../src/commands/devnet/logs.js')
    process.env.XAI_DEVNET_LINES = '7'
    process.env.XAI_DEVNET_FOLLOW = '1'
    const fromEnv = await parse([], {flags: DevnetLogs.flags, strict: true})
    expect(fromEnv.flags).toMatchObject({lines: 7, follow: true})
    const fromFlag = await parse(['--lines', '3'], {flags: DevnetLogs.flags, strict: true})
    expect(fromFlag.flags.lines).toBe(3)
  })

  it('gives a repeatable flag the variable as one string, not a list: why those have none', async () => {
    process.env.XAI_TEST_REPEATABLE = 'a'
    const flags = {item: Flags.string({multiple: true, env: 'XAI_TEST_REPEATABLE'})}
    const parsed = await parse([], {flags, strict: true})
    expect(Array.isArray(parsed.flags.item)).toBe(false)
    expect(parsed.flags.item).toBe('a')
  })
})
