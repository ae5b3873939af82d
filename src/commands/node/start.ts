import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {type NodeProcessResult, runNodeProcess} from '../../devnet/node/main.js'

export default class NodeStart extends XaiCommand<NodeProcessResult> {
  static override summary = 'Run one XAI node in the foreground.'
  static override description = `Runs a node (chain, mempool, block producer, JSON-RPC over HTTP and WebSocket on one port) until SIGTERM or Ctrl-C. This is the process \`xai devnet up\` spawns for each node; run it by hand to debug a node or to host one yourself.

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

  static override flags = {
    home: Flags.string({description: 'Node folder (created if missing): database, node.log, node.pid', required: true, env: 'XAI_NODE_HOME'}),
    genesis: Flags.string({description: 'genesis.json to start from [default: <home>/genesis.json, created with the dev accounts if missing]', env: 'XAI_GENESIS'}),
    'rpc-host': Flags.string({description: 'Interface the JSON-RPC server listens on', default: '127.0.0.1', env: 'XAI_RPC_HOST'}),
    'rpc-port': Flags.integer({description: 'JSON-RPC port (HTTP and WebSocket)', default: 8545, min: 0, max: 65_535, env: 'XAI_RPC_PORT'}),
    'block-time': Flags.integer({description: 'Milliseconds between blocks; 0 mines one block per transaction', default: 1000, min: 0, env: 'XAI_BLOCK_TIME'}),
    'unlock-dev-accounts': Flags.boolean({
      description: 'Hold the keys of the dev accounts the genesis funds, for eth_accounts and eth_sendTransaction (as anvil does)',
      default: true,
      allowNo: true,
      env: 'XAI_UNLOCK_DEV_ACCOUNTS',
    }),
    'p2p-host': Flags.string({description: 'Interface the peer-to-peer (libp2p) listener binds to (chains with validators)', default: '127.0.0.1', env: 'XAI_P2P_HOST'}),
    'p2p-port': Flags.integer({description: 'Peer-to-peer TCP port (chains with validators)', default: 26656, min: 0, max: 65_535, env: 'XAI_P2P_PORT'}),
    peers: Flags.string({
      description: 'Comma-separated multiaddrs of peers to keep connected to, e.g. /ip4/10.0.0.2/tcp/26656/p2p/12D3KooW…',
      env: 'XAI_PEERS',
    }),
    'empty-blocks': Flags.boolean({description: 'Make blocks without transactions (chains with validators)', default: true, allowNo: true, env: 'XAI_EMPTY_BLOCKS'}),
    index: Flags.integer({description: 'This node\'s index in its devnet (reported by xai_nodeInfo)', min: 0, hidden: true}),
    'double-sign': Flags.boolean({description: 'Test only: sign a conflicting second vote for every vote', default: false, hidden: true}),
    'api-key-file': Flags.string({description: 'File holding the API key that REST writes (POST /contracts/deploy) need; without it the node refuses them', env: 'XAI_API_KEY_FILE'}),
    project: Flags.string({description: 'Contracts project whose artifacts REST requests may name (POST /contracts/deploy {"artifact": "Token"})', env: 'XAI_PROJECT'}),
    'log-level': Flags.option({options: ['debug', 'info', 'warn', 'error'] as const, description: 'Least severe log level written', default: 'info', env: 'XAI_LOG_LEVEL'})(),
  }

  async run(): Promise<NodeProcessResult> {
    const {flags} = await this.parse(NodeStart)
    const interactive = process.stderr.isTTY === true && !this.jsonEnabled()
    return runNodeProcess(
      {
        home: flags.home,
        genesisPath: flags.genesis,
        rpcHost: flags['rpc-host'],
        rpcPort: flags['rpc-port'],
        blockTime: flags['block-time'],
        logLevel: flags['log-level'],
        unlockDevAccounts: flags['unlock-dev-accounts'],
        apiKeyFile: flags['api-key-file'],
        project: flags.project,
        p2p: {
          host: flags['p2p-host'],
          port: flags['p2p-port'],
          peers: (flags.peers ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0),
          emptyBlocks: flags['empty-blocks'],
          doubleSign: flags['double-sign'],
          index: flags.index,
        },
        echo: interactive ? (line) => process.stderr.write(line) : undefined,
      },
      {
        onReady: (ready) => {
          if (interactive) this.note(`Node listening on ${ready.rpcUrl} (${ready.wsUrl}); home ${ready.home}. Ctrl-C stops it.`)
        },
      },
    )
  }
}
