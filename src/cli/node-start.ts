// `xai node start` without the CLI framework: its flags, and what it runs for them. The command
// (src/commands/node/start.ts) and the lean entry (bin/xai-node.js, which `xai devnet up` spawns)
// both use this module, so the two parse the same flags the same way and start the same node.
// It loads oclif's flag definitions only, not its runtime (plugins, manifest, help).
import type {Interfaces} from '@oclif/core'
import * as Flags from '@oclif/core/flags'

import {type NodeProcessResult, runNodeProcess} from '../node/node-process.js'
import {DEFAULT_BLOCK_TIME_MS} from '../node/node-options.js'

export const nodeStartFlags = {
  home: Flags.string({description: 'Node folder (created if missing): database, node.log, node.pid', required: true, env: 'XAI_NODE_HOME'}),
  genesis: Flags.string({description: 'genesis.json to start from [default: <home>/genesis.json, created with the dev accounts if missing]', env: 'XAI_GENESIS'}),
  'rpc-host': Flags.string({description: 'Interface the JSON-RPC server listens on', default: '127.0.0.1', env: 'XAI_RPC_HOST'}),
  'rpc-port': Flags.integer({description: 'JSON-RPC port (HTTP and WebSocket)', default: 8545, min: 0, max: 65_535, env: 'XAI_RPC_PORT'}),
  'block-time': Flags.integer({description: 'Milliseconds between blocks; 0 mines one block per transaction', default: DEFAULT_BLOCK_TIME_MS, min: 0, env: 'XAI_BLOCK_TIME'}),
  'unlock-dev-accounts': Flags.boolean({
    description: 'Hold the keys of the dev accounts the genesis funds, for eth_accounts and eth_sendTransaction (as anvil does)',
    default: true,
    allowNo: true,
    env: 'XAI_UNLOCK_DEV_ACCOUNTS',
  }),
  'dev-accounts-file': Flags.string({
    description: 'JSON file {mnemonic, derivationPath, count} naming the dev accounts to unlock [default: those of the standard test mnemonic the genesis funds]',
    env: 'XAI_DEV_ACCOUNTS_FILE',
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
  'clock-skew': Flags.integer({description: "Test only: milliseconds added to this node's consensus clock", default: 0, hidden: true}),
  'api-key-file': Flags.string({description: 'File holding the API key that REST writes (POST /contracts/deploy) need; without it the node refuses them', env: 'XAI_API_KEY_FILE'}),
  project: Flags.string({description: 'Contracts project whose artifacts REST requests may name (POST /contracts/deploy {"artifact": "Token"})', env: 'XAI_PROJECT'}),
  webhook: Flags.string({description: 'POST every security event and governance state change here as signed JSON (X-Xai-Signature); needs --webhook-secret-file', env: 'XAI_WEBHOOK', dependsOn: ['webhook-secret-file']}),
  'webhook-secret-file': Flags.string({description: 'File holding the shared secret webhook deliveries are signed with (HMAC-SHA256)', env: 'XAI_WEBHOOK_SECRET_FILE', dependsOn: ['webhook']}),
  'api-read-auth': Flags.boolean({description: 'REST reads need an API key with the read scope too (writes always need the write scope)', default: false, env: 'XAI_API_READ_AUTH'}),
  'log-level': Flags.option({options: ['debug', 'info', 'warn', 'error'] as const, description: 'Least severe log level written', default: 'info', env: 'XAI_LOG_LEVEL'})(),
}

export type NodeStartFlags = Interfaces.InferredFlags<typeof nodeStartFlags>

/**
 * Runs the node `xai node start` describes with `flags` until SIGTERM or SIGINT. On a terminal
 * (and without --json) the node's log lines are echoed to stderr and a line says where it listens.
 */
export function runNodeStart(flags: NodeStartFlags, options: {json: boolean}): Promise<NodeProcessResult> {
  const interactive = process.stderr.isTTY === true && !options.json
  return runNodeProcess(
    {
      home: flags.home,
      genesisPath: flags.genesis,
      rpcHost: flags['rpc-host'],
      rpcPort: flags['rpc-port'],
      blockTime: flags['block-time'],
      logLevel: flags['log-level'],
      unlockDevAccounts: flags['unlock-dev-accounts'],
      devAccountsFile: flags['dev-accounts-file'],
      apiKeyFile: flags['api-key-file'],
      project: flags.project,
      ...(flags.webhook && flags['webhook-secret-file'] ? {webhook: {url: flags.webhook, secretFile: flags['webhook-secret-file']}} : {}),
      apiReadAuth: flags['api-read-auth'],
      p2p: {
        host: flags['p2p-host'],
        port: flags['p2p-port'],
        peers: (flags.peers ?? '').split(',').map((p) => p.trim()).filter((p) => p.length > 0),
        emptyBlocks: flags['empty-blocks'],
        doubleSign: flags['double-sign'],
        clockSkewMs: flags['clock-skew'],
        index: flags.index,
      },
      echo: interactive ? (line) => process.stderr.write(line) : undefined,
    },
    {
      onReady: (ready) => {
        if (interactive) process.stderr.write(`Node listening on ${ready.rpcUrl} (${ready.wsUrl}); home ${ready.home}. Ctrl-C stops it.\n`)
      },
    },
  )
}
