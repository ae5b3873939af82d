import {Flags} from '@oclif/core'

import {resolveChainArg} from '../../cli/chain-target.js'
import {devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {type VerifyReport, checkpointHash, verifyFederation} from '../../fl/anchor.js'
import {federationPaths, requireFederation} from '../../fl/federation.js'
import {ExitCode} from '../../util/errors.js'
import {federationFlags} from './round.js'

export default class FlVerify extends XaiCommand<VerifyReport> {
  static override summary = "Check a federation's local history and checkpoints against the rounds anchored on chain."
  static override description = `For every round of the local history: recomputes the model hash from its checkpoint (sha256 of the float32 parameters) and the Merkle root of its accepted updates from the history, and compares them with the history and with the round the fl module holds for this federation (its id is keccak256(coordinator address, name), the coordinator key being the folder's coordinator.key). A round not committed, or any difference, fails the check: exit code 4, with the problems listed per round. Proofs are not re-verified: this version of the fl module requires none.`

  static override examples = [
    {description: 'Verify the default federation against the default devnet', command: '<%= config.bin %> <%= command.id %> --chain default'},
    {description: 'Against one node of a devnet, as JSON', command: "<%= config.bin %> <%= command.id %> --name anchored --chain http://127.0.0.1:8546 --json | jq '.rounds[] | select(.ok | not)'"},
  ]

  static override flags = {
    ...federationFlags,
    chain: Flags.string({description: 'The chain the rounds were committed to: a devnet name or a JSON-RPC URL', required: true, env: 'XAI_FL_CHAIN'}),
  }

  async run(): Promise<VerifyReport> {
    const {flags} = await this.parse(FlVerify)
    const paths = federationPaths(devnetsRoot(flags.dir), flags.name)
    const state = await requireFederation(paths, flags.name)
    const network = await resolveChainArg(flags.chain, flags.dir)
    const report = await verifyFederation(state, {client: createChainClient(network), paths, modelHashOf: (round) => checkpointHash(paths, round)})
    if (!this.jsonEnabled()) {
      for (const round of report.rounds) process.stdout.write(`round ${round.round}  ${round.ok ? 'ok' : `MISMATCH  ${round.problems.join('; ')}`}\n`)
      this.note(report.ok ? `All ${report.rounds.length} rounds of "${report.name}" match the chain (federation ${report.federationId})` : `"${report.name}" does not match the chain (federation ${report.federationId})`)
    }
    if (!report.ok) process.exitCode = ExitCode.chainRejected
    return report
  }
}
