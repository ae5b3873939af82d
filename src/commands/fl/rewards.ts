import {Flags} from '@oclif/core'
import {formatEther} from 'viem'

import {resolveChainArg} from '../../cli/chain-target.js'
import {devnetsRoot} from '../../cli/devnet-flags.js'
import {XaiCommand} from '../../cli/xai-command.js'
import {createChainClient} from '../../contracts/chain-clients.js'
import {type ClientReward, clientAddress, listRewards} from '../../fl/anchor.js'
import {federationPaths, readFederation} from '../../fl/federation.js'
import {clientKey} from '../../fl/update-message.js'
import {federationFlags} from './round.js'

export interface FlRewardsResult {
  /** Wei the treasury holds now. */
  treasury: string
  clients: ClientReward[]
}

export default class FlRewards extends XaiCommand<FlRewardsResult> {
  static override summary = 'Every FL client the chain knows: reputation, accepted and rejected updates, rewards earned and balance.'
  static override description = `Reads the fl module: each client address that took part in an anchored round, its reputation (+10 per accepted update; −5 aggregator, −20 attestation, −50 proof, −20 signature per rejection), its counts and the wei the module paid it from the treasury, with its balance now. Addresses of the local federation --name are labelled with their client ids.`

  static override examples = [
    {description: 'On the default devnet', command: '<%= config.bin %> <%= command.id %> --chain default'},
    {description: 'Rewards as JSON', command: "<%= config.bin %> <%= command.id %> --chain http://127.0.0.1:8545 --json | jq '.clients[] | {address, earned}'"},
  ]

  static override flags = {
    ...federationFlags,
    chain: Flags.string({description: 'A devnet name or a JSON-RPC URL', required: true, env: 'XAI_FL_CHAIN'}),
  }

  async run(): Promise<FlRewardsResult> {
    const {flags} = await this.parse(FlRewards)
    const state = await readFederation(federationPaths(devnetsRoot(flags.dir), flags.name))
    const names = new Map<string, string>()
    if (state) for (let c = 0; c < state.config.clients; c++) names.set(clientAddress(clientKey(state.config.seed, `client-${c}`).publicKey).toLowerCase(), `client-${c}`)
    const network = await resolveChainArg(flags.chain, flags.dir)
    const result = await listRewards(createChainClient(network), names)
    if (!this.jsonEnabled()) {
      if (result.clients.length === 0) process.stdout.write('No FL client on this chain yet.\n')
      for (const c of result.clients) process.stdout.write(`${c.address}  ${(c.clientId ?? '').padEnd(10)}  reputation ${c.reputation.padStart(5)}  accepted ${String(c.accepted).padStart(4)}  rejected ${String(c.rejected).padStart(4)}  earned ${formatEther(BigInt(c.earned))} ETH  balance ${formatEther(BigInt(c.balance))} ETH\n`)
      this.note(`Treasury: ${formatEther(BigInt(result.treasury))} ETH`)
    }
    return result
  }
}
