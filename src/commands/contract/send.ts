import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {revertedError} from '../../contracts/chain-clients.js'
import {resolveContractTarget} from '../../contracts/contract-target.js'
import {ContractsErrorCode} from '../../contracts/errors.js'
import {type SendContractResult, sendContract} from '../../contracts/send-contract.js'
import {resolveSigner} from '../../contracts/signer.js'
import {XaiError} from '../../util/errors.js'
import {abiFlag, chainFlags, resolveChainContext, signerFlags, targetArgs} from './deploy.js'

export default class ContractSend extends XaiCommand<SendContractResult> {
  static override summary = 'Send a transaction calling a contract function: simulate, sign, send, wait, decode the events.'
  static override description = `Simulates first: a revert stops there (exit 4) with the custom error and its arguments, or the Error(string)/Panic reason, decoded. Then signs with --private-key or dev account --account i (default 0), sends, waits for the receipt and prints its status, gas used and the events decoded with the contract's ABI. A transaction that reverts once mined also exits 4.`

  static override examples = [
    {description: 'Transfer tokens', command: '<%= config.bin %> <%= command.id %> Token transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 1000'},
    {description: 'As dev account 2, with ether', command: '<%= config.bin %> <%= command.id %> Vault deposit --value 1000000000000000000 --account 2'},
    {description: 'The events, for scripts', command: "<%= config.bin %> <%= command.id %> Token mint 0x… 5 --json | jq '.events'"},
  ]

  static override strict = false
  static override args = targetArgs

  static override flags = {
    ...chainFlags,
    ...signerFlags,
    ...abiFlag,
    value: Flags.string({description: 'Wei to send with the call (decimal or 0x-hex)', default: '0', env: 'XAI_CONTRACT_VALUE'}),
  }

  async run(): Promise<SendContractResult> {
    const {args, argv, flags} = await this.parse(ContractSend)
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(flags.value)) {
      throw new XaiError(ContractsErrorCode.invalidArgument, `--value ${flags.value} is not a whole number of wei`, {hint: 'e.g. --value 1000000000000000000 (1 ether)'})
    }
    const {project, network} = await resolveChainContext(flags)
    const signer = resolveSigner({privateKey: flags['private-key'], account: flags.account})
    const target = await resolveContractTarget(project, args.contract, {chainId: network.chainId, abiName: flags.abi})
    const result = await sendContract({
      target,
      function: args.function,
      args: (argv as string[]).slice(2),
      network,
      signer,
      value: BigInt(flags.value),
      onEvent: (event) => this.note(`✔ ${event.type === 'simulated' ? 'Simulated' : event.type === 'sent' ? 'Sent' : 'Mined'}: ${event.detail}`),
    })
    if (result.status !== 'success') {
      throw revertedError(`${result.function} (tx ${result.txHash}, block ${result.blockNumber})`, result.revert ?? {kind: 'unknown', data: null, message: 'reverted'}, {result})
    }
    if (!this.jsonEnabled()) process.stdout.write(formatSendResult(result))
    return result
  }
}

export function formatSendResult(result: SendContractResult): string {
  const lines = [`${result.contract ?? result.address}.${result.function}: ${result.status}`, `  tx        ${result.txHash}`, `  block     ${result.blockNumber}`, `  gas used  ${result.gasUsed}`]
  if (result.events.length > 0) {
    lines.push('  events')
    for (const e of result.events) lines.push('args' in e ? `    ${e.event} ${JSON.stringify(e.args)}` : `    (unknown log at ${e.address}) topics ${e.topics.join(',')}`)
  }
  return `${lines.join('\n')}\n`
}
