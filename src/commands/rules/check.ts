import {Args, Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type CheckRuleFileResult, checkRuleFile} from '../../modules/rule-engine/check-rule-file.js'

export default class RulesCheck extends XaiCommand<CheckRuleFileResult> {
  static override summary = 'Compile a YAML rule set, print its rules and hash, and optionally evaluate a transaction.'
  static override description = `A rule set is {version: 1, name, description?, lists?, rules: [{id, when, action, reason?}], default}. Conditions compare a field (tx.from, tx.to, tx.value, tx.gasLimit, tx.maxFeePerGas, tx.data.length, tx.selector, tx.nonce, from.balance, to.balance, to.isContract) with eq, ne, lt, lte, gt, gte or in/notIn <list>, combined with all, any and not. The first matching allow/reject rule decides; every matching flag rule is reported; otherwise the default applies.

The hash (keccak256 of the normalized rule set) is what a governance proposal activates. With --tx the transaction is evaluated: {from, to, value, gasLimit, maxFeePerGas, data, nonce, state: {from: {balance}, to: {balance, isContract}}}; amounts may carry units ("2 ether"). A rejected transaction still exits 0: the check succeeded.`

  static override examples = [
    {description: 'Compile a rule set and show its hash', command: '<%= config.bin %> <%= command.id %> templates/rules/large-transfers.yaml'},
    {
      description: 'Evaluate a transfer',
      command: `<%= config.bin %> <%= command.id %> templates/rules/large-transfers.yaml --tx '{"from":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","to":"0x90F79bf6EB2c4f870365E785982E1f101E93b906","value":"11 ether"}'`,
    },
    {
      description: 'With the state the transaction sees',
      command: `<%= config.bin %> <%= command.id %> templates/rules/large-withdrawals.yaml --tx '{"from":"0xf39F…","to":"0x7099…","value":"95 ether","state":{"from":{"balance":"150 ether"}}}' --json`,
    },
  ]

  static override args = {
    file: Args.string({description: 'YAML rule set', required: true}),
  }

  static override flags = {
    tx: Flags.string({description: 'A transaction to evaluate, as JSON (with its state under "state")', env: 'XAI_RULES_TX'}),
  }

  async run(): Promise<CheckRuleFileResult> {
    const {args, flags} = await this.parse(RulesCheck)
    const result = await checkRuleFile({file: args.file, tx: flags.tx})
    if (!this.jsonEnabled()) process.stdout.write(formatCheck(result))
    return result
  }
}

function formatCheck(result: CheckRuleFileResult): string {
  const lines = [`${result.name}  ${result.hash}`]
  if (result.description) lines.push(`  ${result.description}`)
  lines.push('')
  for (const rule of result.rules) {
    lines.push(`  ${rule.action.padEnd(7)}${rule.id}`, `         when ${rule.when}`)
    if (rule.reason) lines.push(`         reason: ${rule.reason}`)
  }
  lines.push(`  default ${result.default}`)
  if (result.lists.length > 0) lines.push('', `lists: ${result.lists.map((list) => `${list.name} (${list.size})`).join(', ')}`)
  lines.push(`reads state: ${result.requiredState.length > 0 ? result.requiredState.join(', ') : 'none'}`)
  const {decision} = result
  if (decision) {
    lines.push('', `decision: ${decision.action}${decision.ruleId ? ` by ${decision.ruleId}` : ' by default'}${decision.reason ? `: ${decision.reason}` : ''}`)
    for (const flag of decision.flags) lines.push(`  flag ${flag.ruleId}: ${flag.reason}`)
  }
  return `${lines.join('\n')}\n`
}
