// The lean node process entry (bin/xai-node.js): `xai node start` without oclif's runtime. It
// takes the command's flags (`xai-node.js --home … --rpc-port …`), parses them with oclif's
// parser and the command's own flag definitions, reports errors as the command does, and runs
// the same node. Skipping the CLI framework (plugin and manifest loading, help classes) makes a
// node process start faster and hold less memory; a devnet spawns one per node.
import {parse} from '@oclif/core/parser'
import * as Flags from '@oclif/core/flags'

import {reportCommandError} from './command-error.js'
import {ExitCode} from '../util/errors.js'
import {nodeStartFlags, runNodeStart} from './node-start.js'

/** The `--json` flag every xai command has (oclif's enableJsonFlag). */
const jsonFlag = Flags.boolean({description: 'Format output as json.', helpGroup: 'GLOBAL'})

/**
 * Runs `xai node start <argv>` in this process and resolves with the exit code once the node has
 * stopped. --help is answered by the full CLI, so it prints the command's usual help.
 */
export async function runNodeEntry(argv: string[]): Promise<number> {
  const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv
  if (options.includes('--help') || options.includes('-h')) return showHelp(argv)
  const json = options.includes('--json') || process.env.XAI_CONTENT_TYPE?.toLowerCase() === 'json'
  try {
    const {flags} = await parse(argv, {flags: {json: jsonFlag, ...nodeStartFlags}, strict: true})
    const result = await runNodeStart(flags, {json})
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    return ExitCode.ok
  } catch (err) {
    return reportCommandError(err, json).exitCode
  }
}

async function showHelp(argv: string[]): Promise<number> {
  const {execute} = await import('@oclif/core')
  await execute({dir: new URL('../../bin/run.js', import.meta.url).href, args: ['node', 'start', ...argv]})
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok
}
