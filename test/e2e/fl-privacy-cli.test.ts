// End to end: the real CLI (bin/run.js → dist, so `npm run build` first) computing ε with the RDP
// accountant, for humans and with --json, and refusing bad flags with exit code 2.
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'
import {beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json} from '../helpers/cli.js'

import {REPO_ROOT, XAI_CLI, cliEnv} from '../helpers/devnet.js'

/** Runs the CLI with the caller's environment minus any XAI_FL_* settings, plus `env`. */
async function xai(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(cliEnv()).filter(([key]) => !key.startsWith('XAI_FL_')))
  const result = await execa(process.execPath, [XAI_CLI, ...args], {cwd: REPO_ROOT, env: {...base, ...env}, extendEnv: false, reject: false, timeout: 60_000, stdin: 'ignore'})
  return {exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr}
}

// pytorch/opacus, opacus/tests/accountants_test.py (test_rdp_accountant): σ = 1.5, q = 0.04, 2250 steps, δ = 1e-5 → ε = 7.32911117143.
const OPACUS = ['--noise-multiplier', '1.5', '--sample-rate', '0.04', '--steps', '2250', '--delta', '1e-5']

describe('xai fl privacy (CLI)', () => {
  beforeAll(() => {
    if (process.env.XAI_E2E_CLI === undefined && !existsSync(join(REPO_ROOT, 'dist/commands/fl/privacy.js'))) {
      throw new Error('xai is not built (dist/commands/fl/privacy.js is missing): run `npm run build` first')
    }
  })

  it("prints ε for Opacus's reference case", async () => {
    const result = await xai(['fl', 'privacy', ...OPACUS])
    expect(result.exitCode, explain(result)).toBe(0)
    expect(result.stdout).toMatch(/^ε = 7\.3291 \(δ = 1e-05, best order α = \d+(\.\d+)?\)$/)
  })

  it('--json gives ε, δ, the order and the parameters', async () => {
    const result = await xai(['fl', 'privacy', ...OPACUS, '--json'])
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json<{epsilon: number; delta: number; order: number; noiseMultiplier: number; sampleRate: number; steps: number}>(result)
    expect(Object.keys(doc).sort()).toEqual(['delta', 'epsilon', 'noiseMultiplier', 'order', 'sampleRate', 'steps'])
    expect(Math.abs(doc.epsilon - 7.32911117143)).toBeLessThanOrEqual(1e-7)
    expect(doc).toMatchObject({delta: 1e-5, noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250})
    expect(doc.order).toBeGreaterThan(1)
    expect(result.stderr).toBe('')
  })

  it('reads its parameters from XAI_FL_* variables, δ defaulting to 1e-5', async () => {
    const result = await xai(['fl', 'privacy', '--json'], {XAI_FL_NOISE_MULTIPLIER: '1.5', XAI_FL_SAMPLE_RATE: '0.04', XAI_FL_STEPS: '2250'})
    expect(result.exitCode, explain(result)).toBe(0)
    const doc = json(result)
    expect(doc.delta).toBe(1e-5)
    expect(Math.abs(doc.epsilon - 7.32911117143)).toBeLessThanOrEqual(1e-7)
  })

  it('refuses a sampling rate above 1 with exit code 2 and a hint', async () => {
    const result = await xai(['fl', 'privacy', '--noise-multiplier', '1.5', '--sample-rate', '1.5', '--steps', '10'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('✖ The sampling rate must be in [0, 1], not 1.5 [FL_INVALID_PRIVACY_PARAMS]')
    expect(result.stderr).toContain('Hint: ')
  })

  it('refuses a value that is not a number, with the error as JSON under --json', async () => {
    const result = await xai(['fl', 'privacy', '--noise-multiplier', 'lots', '--sample-rate', '0.04', '--steps', '10', '--json'])
    expect(result.exitCode, explain(result)).toBe(2)
    expect(json(result).error).toMatchObject({code: 'FL_INVALID_PRIVACY_PARAMS', message: '--noise-multiplier must be a number, not "lots"'})
  })

  it('refuses fractional steps and an unknown flag with exit code 2', async () => {
    const fractional = await xai(['fl', 'privacy', '--noise-multiplier', '1', '--sample-rate', '0.04', '--steps', '2.5'])
    expect(fractional.exitCode, explain(fractional)).toBe(2)
    expect(fractional.stderr).toContain('[FL_INVALID_PRIVACY_PARAMS]')
    const unknown = await xai(['fl', 'privacy', ...OPACUS, '--epochs', '3'])
    expect(unknown.exitCode, explain(unknown)).toBe(2)
    expect(unknown.stderr).toContain('[USAGE]')
  })
})
