import {XaiCommand} from '../../cli/xai-command.js'
import type {NodeProcessResult} from '../../node/node-process.js'
import {nodeStartFlags, runNodeStart} from '../../cli/node-start.js'

export default class NodeStart extends XaiCommand<NodeProcessResult> {
  static override summary = 'Run one XAI node in the foreground.'
  static override description = `Runs a node (chain, mempool, block producer, JSON-RPC over HTTP and WebSocket on one port) until SIGTERM or Ctrl-C. This is the node \`xai devnet up\` runs for each of its nodes (it spawns bin/xai-node.js, which takes these flags without the CLI framework around them); run it by hand to debug a node or to host one yourself.

The home folder holds the node's database (db/), its JSON-lines log (node.log) and node.pid while it runs. Without --genesis the node uses home/genesis.json, writing the default dev genesis there (chain id 31337, the ten accounts of the test mnemonic funded) when it is missing.

When the genesis names validators, the node takes part in Tendermint consensus: it reads its keys from home/keys/ (validator.key, p2p.key; admin.token is created for the /admin endpoint), listens for peers on --p2p-port and keeps connected to --peers.

With --json, one JSON document describing the node is printed when it stops.`

  static override examples = [
    {description: 'Start a node with the default dev genesis on port 8545', command: '<%= config.bin %> <%= command.id %> --home ./my-node'},
    {description: 'Mine a block per transaction (automine), on another port', command: '<%= config.bin %> <%= command.id %> --home ./my-node --block-time 0 --rpc-port 9545'},
    {
      description: 'Start from an existing genesis and listen on every interface',
      command: '<%= config.bin %> <%= command.id %> --home /var/lib/xai --genesis ./genesis.json --rpc-host 0.0.0.0',
    },
    {
      description: 'Join a chain with validators: listen for peers on 26656 and dial two known peers',
      command:
        '<%= config.bin %> <%= command.id %> --home ./val-1 --genesis ./genesis.json --p2p-port 26656 --peers /ip4/10.0.0.2/tcp/26656/p2p/12D3KooWA…,/ip4/10.0.0.3/tcp/26656/p2p/12D3KooWB…',
    },
    {description: 'Debug-level logs', command: 'XAI_LOG_LEVEL=debug <%= config.bin %> <%= command.id %> --home ./my-node'},
  ]

  static override flags = nodeStartFlags

  async run(): Promise<NodeProcessResult> {
    const {flags} = await this.parse(NodeStart)
    return runNodeStart(flags, {json: this.jsonEnabled()})
  }
}
