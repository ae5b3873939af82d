import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type TestModuleResult, testModule} from '../../modules/test-module.js'

export default class ModuleTest extends XaiCommand<TestModuleResult> {
  static override summary = 'Check a native module for determinism: static source check, then a replay of its workload.'
  static override description = `Checks every source under <dir>/src/ for what would make validators disagree (the clock, randomness, timers, I/O, disallowed imports, floating point), reporting each finding as file:line:col, then loads src/<dir name>.ts and, when it exports a \`workload\`, replays it on fresh harnesses comparing storage and events after every step. Exits 2 on any finding or divergence. The module's unit tests run with vitest (npx vitest run test/).`

  static override examples = [
    {description: 'The module in this folder', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A module elsewhere, as JSON (with its code hash)', command: '<%= config.bin %> <%= command.id %> modules/my-counter --json'},
  ]

  static override args = {
    dir: Args.string({description: 'Module folder', default: '.'}),
  }

  static override flags = {
    runs: Flags.integer({description: 'Runs the replay compares', min: 2, max: 16, default: 2, env: 'XAI_MODULE_RUNS'}),
  }

  async run(): Promise<TestModuleResult> {
    const {args, flags} = await this.parse(ModuleTest)
    const result = await testModule({dir: args.dir, runs: flags.runs})
    if (!this.jsonEnabled()) {
      const lines = [
        `  static   ok (${result.static.files.length} file${result.static.files.length === 1 ? '' : 's'})`,
        result.replay.ran ? `  replay   ok (${result.replay.runs} runs × ${result.replay.steps} steps, ${result.replay.events} events${result.sandboxed ? ', in the node\'s sandbox' : ''})` : `  replay   skipped: ${result.replay.reason}`,
        ...(result.replay.ran ? Object.entries(result.replay.gas).map(([name, g]) => `  gas      ${name}: ${g.min === g.max ? g.min : `${g.min}-${g.max}`} (${g.calls} calls)`) : []),
        `  codeHash ${result.codeHash}`,
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    }
    return result
  }
}
