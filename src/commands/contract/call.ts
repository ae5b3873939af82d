import {XaiCommand} from '../../cli/xai-command.js'
import {type CallContractResult, callContract} from '../../contracts/call-contract.js'
import {resolveContractTarget} from '../../contracts/contract-target.js'
import {resolveSigner} from '../../contracts/signer.js'
import {abiFlag, chainFlags, resolveChainContext, signerFlags, targetArgs} from './deploy.js'

export default class ContractCall extends XaiCommand<CallContractResult> {
  static override summary = 'Call a contract function without sending a transaction (eth_call) and decode what it returns.'
  static override description = `The contract is a name (its newest deployment on the current chain, from the deploy journal, with its artifact's ABI) or an address with --abi <Name>. The function is a name, or a signature such as 'transfer(address,uint256)' for overloads. Return values are printed as JSON (integers as decimal strings).`

  static override examples = [
    {description: 'A balance', command: '<%= config.bin %> <%= command.id %> Token balanceOf 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'},
    {description: 'At an address, with an ABI from the project', command: '<%= config.bin %> <%= command.id %> 0x5FbDB2315678afecb367f032d93F642f64180aa3 totalSupply --abi Token'},
    {description: 'An overload by signature', command: "<%= config.bin %> <%= command.id %> Nft 'safeTransferFrom(address,address,uint256)' 0x… 0x… 1"},
  ]

  static override strict = false
  static override args = targetArgs

  static override flags = {
    ...chainFlags,
    ...signerFlags,
    ...abiFlag,
  }

  async run(): Promise<CallContractResult> {
    const {args, argv, flags} = await this.parse(ContractCall)
    const {project, network} = await resolveChainContext(flags)
    const from = flags['private-key'] !== undefined || flags.account !== undefined ? resolveSigner({privateKey: flags['private-key'], account: flags.account}).address : undefined
    const target = await resolveContractTarget(project, args.contract, {chainId: network.chainId, abiName: flags.abi})
    const result = await callContract({target, function: args.function, args: (argv as string[]).slice(2), network, from})
    if (!this.jsonEnabled()) {
      process.stdout.write(`${typeof result.result === 'string' ? result.result : JSON.stringify(result.result, null, 2)}\n`)
    }
    return result
  }
}
