import {Flags} from '@oclif/core'

import {XaiCommand} from '../cli/xai-command.js'
import {CONFORMANCE_GROUPS, type ConformanceGroup, runConformance} from '../conformance/conformance.js'
import {type ConformanceReport, formatConformanceReport} from '../conformance/report.js'
import {ExitCode, XaiError} from '../util/errors.js'

export default class Conformance extends XaiCommand<ConformanceReport> {
  static override summary = 'Check a node (ours or another client) against the JSON-RPC dApps use, its OpenAPI document and the XAI spec.'
  static override description = `Runs groups of checks against the node at --rpc-url and prints a pass/fail table (or, with --json, the report with every check):
- jsonrpc: the Ethereum JSON-RPC behaviour dApps rely on (block hashes recomputed from headers, nulls for unknown things, error codes, batches, fees, eth_getProof verified; with --private-key also a transfer followed to its receipt);
- rest: every GET route of the node's own /openapi.json, and malformed POST bodies, validated against their schemas (skipped for nodes without /openapi.json);
- commits: every block the node serves (the last --max-blocks) hashes to its header, extends its parent and is decided by a commit (xai_getBlockCommit) of the validator set of its height, read from the module registry (docs/spec/CONSENSUS_NETWORK_SPEC.md);
- registry: the module registry's calls against its storage layout and eth_getProof of the validator set (docs/spec/MODULE_REGISTRY.md).
The commits and registry groups are skipped for nodes that are not XAI nodes. Exits 1 when any group fails.`

  static override examples = [
    {description: 'Check the default devnet node', command: '<%= config.bin %> <%= command.id %> --rpc-url http://127.0.0.1:8545'},
    {description: 'Only the JSON-RPC group, against anvil, sending a transfer from a funded key', command: '<%= config.bin %> <%= command.id %> --rpc-url http://127.0.0.1:8545 --group jsonrpc --private-key 0x2a87…'},
    {description: 'The failed checks, for scripts', command: "<%= config.bin %> <%= command.id %> --rpc-url http://127.0.0.1:8545 --json | jq '.groups[].checks[] | select(.ok | not)'"},
  ]

  static override flags = {
    'rpc-url': Flags.string({description: 'JSON-RPC endpoint of the node to check', required: true, env: 'XAI_RPC_URL'}),
    group: Flags.string({description: 'Run only this group (repeatable)', options: [...CONFORMANCE_GROUPS], multiple: true}),
    'private-key': Flags.string({description: 'A funded key: adds a transfer followed to its receipt to the jsonrpc group', env: 'XAI_CONFORMANCE_KEY'}),
    'max-blocks': Flags.integer({description: 'Verify the commits of at most this many latest blocks', default: 1000, min: 1, env: 'XAI_CONFORMANCE_MAX_BLOCKS'}),
  }

  async run(): Promise<ConformanceReport> {
    const {flags} = await this.parse(Conformance)
    const key = flags['private-key']
    if (key !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      throw new XaiError('USAGE', '--private-key is not a 32-byte hex key', {exitCode: ExitCode.usage, hint: 'Pass 0x followed by 64 hex digits.'})
    }
    const report = await runConformance({
      rpcUrl: flags['rpc-url'],
      ...(key ? {privateKey: key as `0x${string}`} : {}),
      maxBlocks: flags['max-blocks'],
      ...(flags.group ? {groups: flags.group as ConformanceGroup[]} : {}),
    })
    if (!this.jsonEnabled()) process.stdout.write(formatConformanceReport(report))
    if (!report.ok) process.exitCode = ExitCode.bug
    return report
  }
}
