import {Args, Flags} from '@oclif/core'

import {chainTargetFlags, resolveChainTarget} from '../../cli/chain-target.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {resolveSigner} from '../../contracts/signer.js'
import {XaiError} from '../../util/errors.js'
import {type ProposeResult, prepareProposal, submitPreparedProposal} from '../../client/propose-file.js'
import {keySender} from '../../client/module-tx.js'
import {signerFlags} from '../contract/deploy.js'

export default class GovernancePropose extends XaiCommand<ProposeResult> {
  static override summary = 'Submit a proposal file to the chain and wait until it is mined.'
  static override description = `Validates the file as \`xai governance validate\` does, then sends governance.propose with the proposal's canonical bytes and the deposit, waits for the receipt and prints the proposal id, its hash, the snapshot block (voting power is the balance there) and the last block that takes votes.

For a module-activate or module-upgrade of a user module, the module's source must be in the registry before the proposal executes. The source is src/<id>.ts of --module-dir, or of the folder above the proposal file (the layout \`xai module create\` makes); its code hash must be the proposal's codeHash, else nothing is sent. When the registry does not hold that code yet, it is uploaded first (registry.storeCode, about 21 000 gas + 5 000 per 32 bytes).

The chain's refusal (a deposit below minDeposit, an invalid proposal) exits with code 4 and the module's reason.`

  static override examples = [
    {description: 'Propose a parameter change on the default devnet', command: '<%= config.bin %> <%= command.id %> proposal-parameter-change.yaml'},
    {description: "Activate a module: its source is uploaded when the chain doesn't have it", command: '<%= config.bin %> <%= command.id %> my-counter/proposals/activate.yaml'},
    {description: 'As dev account 3, with a deposit', command: '<%= config.bin %> <%= command.id %> proposal.yaml --account 3 --deposit 1000000000000000000'},
    {description: 'The proposal id, for scripts', command: '<%= config.bin %> <%= command.id %> proposal.yaml --json | jq .id'},
  ]

  static override args = {
    file: Args.string({description: 'Proposal file (YAML)', required: true}),
  }

  static override flags = {
    ...chainTargetFlags,
    ...signerFlags,
    deposit: Flags.string({description: "Wei deposited with the proposal, refunded unless it is vetoed [default: the chain's minDeposit]", env: 'XAI_GOVERNANCE_DEPOSIT'}),
    'module-dir': Flags.string({description: 'Module folder holding src/<id>.ts, for module-activate and module-upgrade [default: the folder above the proposal file]', env: 'XAI_GOVERNANCE_MODULE_DIR'}),
  }

  async run(): Promise<ProposeResult> {
    const {args, flags} = await this.parse(GovernancePropose)
    if (flags.deposit !== undefined && !/^\d+$/.test(flags.deposit)) {
      throw new XaiError('USAGE', `--deposit ${flags.deposit} is not a whole number of wei`, {hint: 'e.g. --deposit 1000000000000000000 (1 ether)'})
    }
    const prepared = await prepareProposal({file: args.file, cwd: process.cwd(), moduleDir: flags['module-dir']})
    const network = await resolveChainTarget(flags)
    const signer = resolveSigner({privateKey: flags['private-key'], account: flags.account})
    const client = createChainClient(network)
    const result = await submitPreparedProposal(prepared, {
      client,
      sender: keySender(client, signer, network.chainId),
      chainId: network.chainId,
      deposit: flags.deposit === undefined ? undefined : BigInt(flags.deposit),
      onProgress: (event) => this.note(`${event.type === 'uploaded' ? '✔' : '…'} ${event.detail}`),
    })
    if (!this.jsonEnabled()) {
      process.stdout.write(formatProposeResult(result))
      this.note(`Next: xai governance vote ${result.id} yes`)
    }
    return result
  }
}

export function formatProposeResult(r: ProposeResult): string {
  return `${[
    `Proposal #${r.id} submitted: ${r.title}`,
    ...r.actions.map((a, i) => `  ${i === 0 ? 'action    ' : '          '} ${a}`),
    `  hash       ${r.proposalHash}`,
    `  tx         ${r.txHash}`,
    `  submitted  block ${r.submitHeight} by ${r.proposer}${r.deposit === '0' ? '' : ` (deposit ${r.deposit} wei)`}`,
    `  snapshot   block ${r.snapshotHeight} (voting power is the balance there)`,
    `  voting     until block ${r.votingEndHeight}`,
    ...(r.codeUploaded === undefined ? [] : [`  code       ${r.codeUploaded ? `uploaded (tx ${r.codeTxHash})` : 'already in the registry'}`]),
  ].join('\n')}\n`
}
