import {Args} from '@oclif/core'
import {type Address, isAddress} from 'viem'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {ether} from '../../cli/governance-format.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {rpcFailed} from '../../contracts/deploy-contract.js'
import {locateDevnet} from '../../devnet/devnet-folder.js'
import {resolveNetwork} from '../../contracts/network.js'
import {XaiError} from '../../util/errors.js'
import {ModulesErrorCode} from '../../modules/errors.js'
import {type FaucetClaimResult, claimFromFaucet} from '../../client/faucet-client.js'
import {nodeAccountSender} from '../../client/module-tx.js'

export default class DevnetFaucet extends XaiCommand<FaucetClaimResult> {
  static override summary = "Pay development funds to an address from the devnet's faucet module."
  static override description = `Sends faucet.claimFor(<address>) signed by the devnet's first dev account (the account its node signs for) and waits for it: the faucet pays its amount (100 ETH by default) out of its own balance and records the block from which the address may claim again.

A second claim within the cooldown (cooldownBlocks, 100 blocks by default; \`xai module show faucet\`) is refused by the faucet with the block it is possible again: exit code 4.`

  static override examples = [
    {description: 'Fund an address on the default devnet', command: '<%= config.bin %> <%= command.id %> 0x8ba1f109551bD432803012645Ac136ddd64DBA72'},
    {description: 'On a named devnet, as JSON', command: '<%= config.bin %> <%= command.id %> 0x8ba1f109551bD432803012645Ac136ddd64DBA72 --name staging --json'},
  ]

  static override args = {
    address: Args.string({description: 'The address to pay', required: true}),
  }

  static override flags = {...devnetFlags}

  async run(): Promise<FaucetClaimResult> {
    const {args, flags} = await this.parse(DevnetFaucet)
    if (!isAddress(args.address, {strict: false})) {
      throw new XaiError('USAGE', `"${args.address}" is not an address`, {hint: 'Pass 0x and 40 hex digits.'})
    }
    const network = await resolveNetwork({config: {networks: {[flags.name]: {devnet: flags.name}}, defaultNetwork: flags.name}, home: devnetsRoot(flags.dir), locateDevnet})
    const client = createChainClient(network)
    const accounts = await client.request({method: 'eth_accounts'} as never).then(
      (result) => result as string[],
      (err: unknown) => {
        throw rpcFailed('Listing the devnet\'s accounts (eth_accounts)', network.rpcUrl, err)
      },
    )
    const from = accounts[0]
    if (from === undefined) {
      throw new XaiError(ModulesErrorCode.noSigner, `The devnet "${flags.name}" signs for no account, so it cannot send the claim`, {
        hint: 'Devnets made by `xai devnet up` unlock their dev accounts; or call faucet.claim() yourself (`xai contract send`).',
      })
    }
    const result = await claimFromFaucet(client, nodeAccountSender(client, from as Address), args.address as Address)
    if (!this.jsonEnabled()) {
      process.stdout.write(`Paid ${ether(result.amount)} (${result.amount} wei) to ${result.address}\n  tx          ${result.txHash}\n  block       ${result.blockNumber}\n  next claim  block ${result.nextClaimAt}\n`)
    }
    return result
  }
}
