import {Errors, Flags} from '@oclif/core'

import {devnetFlags, devnetsRoot} from '../../cli/devnet-flags.js'
import {describeDevnetEvent, formatDevnetBanner} from '../../cli/devnet-format.js'
import {createTaskList, taskListOutput} from '../../cli/task-list.js'
import {XaiCommand} from '../../cli/xai-command.js'
import type {DevnetEvent} from '../../devnet/events.js'
import {type StartDevnetResult, startDevnet, startDevnetSteps} from '../../devnet/start-devnet.js'
import {superviseDevnet} from '../../devnet/supervise-devnet.js'
import {watchDevnet} from '../../devnet/watch-devnet.js'
import {readDevnetRecord, devnetPaths} from '../../devnet/devnet-folder.js'
import {findProject, openProject} from '../../contracts/project.js'
import {isXaiError} from '../../util/errors.js'
import {DEFAULT_BLOCK_TIME_MS} from '../../devnet/start-devnet.js'
import {DEFAULT_HARDFORK, MAX_DEV_ACCOUNTS, SUPPORTED_HARDFORKS} from '../../devnet/devnet-genesis.js'
import {DEFAULT_CHAIN_ID} from '../../chain/genesis.js'
import {DEV_ACCOUNT_COUNT} from '../../util/dev-accounts.js'
import {startPrometheus, stopPrometheus} from '../../devnet/prometheus.js'
import {stopDevnet} from '../../devnet/stop-devnet.js'

export default class DevnetUp extends XaiCommand<StartDevnetResult> {
  static override summary = 'Start (or resume) a local XAI devnet.'
  static override description = `Creates .xai/devnets/<name>/ in the current directory (genesis.json, devnet.json, node-<i>/), or resumes it with the same genesis and chain data, and starts its nodes as background processes. Once they answer JSON-RPC it prints the RPC and WebSocket URLs, the chain id and the ten funded accounts with their private keys, like anvil.

With --nodes N (N > 1) the genesis names N validators (keys derived from the devnet's name and chain id, stored in node-<i>/keys/), node i listens for peers on p2p-base-port + i, and the nodes decide blocks by Tendermint BFT consensus; up returns once they have committed the first block. A transaction sent to any node reaches all of them. On a devnet some of whose nodes are down, up starts just those.

Without --detach it stays in the foreground until Ctrl-C, which stops the nodes: a single node also stops the devnet if it dies; with several nodes a live dashboard (on a terminal) shows heights, rounds, peers and faults, and a node that dies is marked, not fatal. With --detach it returns as soon as the chain is live and the devnet keeps running until \`xai devnet down\`.

Each node serves REST beside JSON-RPC: GET /health, POST /contracts/deploy, POST /contracts/call, GET /contracts/<address>/state, and its OpenAPI document at GET /openapi.json. Writes need the devnet's API key, created here and printed below (also in devnet.json and api.key); REST requests may name the artifacts of --project.\n\nWith --json, stdout carries one JSON document: {name, chainId, apiKey, nodes: [{index, rpcUrl, wsUrl, pid}], accounts: [{address, privateKey}], …}. Progress goes to stderr, never stdout.`

  static override examples = [
    {description: 'Start the default devnet on http://127.0.0.1:8545 and keep it in the foreground', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Start it in the background for scripts and tests, reading the URL from JSON', command: "<%= config.bin %> <%= command.id %> --detach --json | jq -r '.nodes[0].rpcUrl'"},
    {description: 'Mine one block per transaction (automine) on port 9545', command: '<%= config.bin %> <%= command.id %> --block-time 0 --base-port 9545'},
    {description: 'A second, independent devnet next to the default one', command: '<%= config.bin %> <%= command.id %> --name staging --base-port 8645 --detach'},
    {description: 'Four validators agreeing by Tendermint consensus, with a live dashboard', command: '<%= config.bin %> <%= command.id %> --nodes 4'},
    {description: 'Four validators that make a block only when there is a transaction', command: '<%= config.bin %> <%= command.id %> --nodes 4 --no-empty-blocks --detach'},
    {description: 'Add a fifth node to a running 4-node devnet (it follows; a validator-add proposal makes it vote)', command: '<%= config.bin %> <%= command.id %> --nodes 5 --detach'},
    {description: 'Short governance cycles for trying proposals: 5-block votes, 2-block timelock', command: '<%= config.bin %> <%= command.id %> --nodes 4 --voting-period 5 --timelock 2 --detach'},
    {description: 'Keep devnets outside the project', command: 'XAI_HOME=~/.xai <%= config.bin %> <%= command.id %> --detach'},
    {description: "Anvil's genesis flags: chain id, three accounts of your own mnemonic with 5 ETH each", command: '<%= config.bin %> <%= command.id %> --chain-id 1337 --accounts 3 --balance 5 --mnemonic "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"'},
    {description: 'Start from a geth-style genesis.json (its chain id and alloc) on a 60M gas limit', command: '<%= config.bin %> <%= command.id %> --genesis genesis.json --gas-limit 60000000'},
    {description: 'Keep the state in a file, as anvil --state: loaded when the devnet is created, written by devnet down', command: '<%= config.bin %> <%= command.id %> --state state.json --detach'},
    {description: 'Listen on every interface (prints a warning: the dev keys are public)', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0'},
    {description: 'Send security events and governance changes to a webhook, signed with a secret of your own', command: '<%= config.bin %> <%= command.id %> --nodes 4 --webhook https://alerts.example.com/xai --webhook-secret-file ./webhook.secret --detach'},
    {description: 'Four validators with Prometheus scraping them (alert rules loaded) on port 9090', command: '<%= config.bin %> <%= command.id %> --nodes 4 --prometheus --detach'},
  ]

  static override flags = {
    ...devnetFlags,
    nodes: Flags.integer({
      description: 'Validator nodes of a new devnet [default: 1]. More than one: the nodes decide blocks by Tendermint BFT consensus; 4 survive one faulty validator. On an existing multi-node devnet a larger number adds following nodes, which vote once a validator-add proposal names them',
      min: 1,
      max: 16,
      env: 'XAI_NODES',
    }),
    'block-time': Flags.integer({
      description: `Milliseconds between blocks (with several nodes: the target between commits); 0 on one node mines one block per transaction [default: ${DEFAULT_BLOCK_TIME_MS}; a resumed devnet keeps its own unless this flag is given]`,
      min: 0,
      env: 'XAI_BLOCK_TIME',
    }),
    'base-port': Flags.integer({description: 'JSON-RPC port of node 0 (node i uses base-port + i)', default: 8545, min: 1, max: 65_535, env: 'XAI_BASE_PORT'}),
    'p2p-base-port': Flags.integer({description: 'Peer-to-peer port of node 0 (node i uses p2p-base-port + i; multi-node devnets)', default: 26656, min: 1, max: 65_535, env: 'XAI_P2P_BASE_PORT'}),
    'empty-blocks': Flags.boolean({
      description: 'Multi-node: make blocks without transactions [default: true; a resumed devnet keeps its setting]; --no-empty-blocks waits for a transaction, as CometBFT can',
      allowNo: true,
      env: 'XAI_EMPTY_BLOCKS',
    }),
    'test-double-sign': Flags.integer({description: 'Test only: the node with this index signs conflicting votes', min: 0, hidden: true}),
    'test-clock-ahead': Flags.integer({description: "Test only: the node with this index runs its consensus clock 60 s ahead", min: 0, hidden: true}),
    'start-timeout': Flags.integer({description: 'Milliseconds a node may take to answer JSON-RPC', default: 30_000, min: 1, env: 'XAI_START_TIMEOUT'}),
    project: Flags.string({description: "Contracts project whose artifacts the nodes' REST requests may name [default: the project holding the current folder, if any]", env: 'XAI_PROJECT'}),
    'voting-period': Flags.integer({description: 'Governance voting period in blocks, for a new devnet [default: 20]', min: 1, env: 'XAI_VOTING_PERIOD'}),
    timelock: Flags.integer({description: 'Governance timelock in blocks between a passed vote and execution, for a new devnet [default: 5]', min: 0, env: 'XAI_TIMELOCK'}),
    'chain-id': Flags.integer({description: `Chain id of a new devnet [default: the --genesis file's, else ${DEFAULT_CHAIN_ID}]`, min: 1, env: 'XAI_CHAIN_ID'}),
    accounts: Flags.integer({char: 'a', description: `Dev accounts to derive, fund and unlock in a new devnet [default: ${DEV_ACCOUNT_COUNT}]`, min: 0, max: MAX_DEV_ACCOUNTS, env: 'XAI_ACCOUNTS'}),
    balance: Flags.string({description: 'Ether each dev account of a new devnet starts with [default: 10000]', env: 'XAI_BALANCE'}),
    mnemonic: Flags.string({char: 'm', description: 'BIP-39 mnemonic the dev accounts of a new devnet are derived from [default: test test … junk, as anvil]', env: 'XAI_MNEMONIC'}),
    'derivation-path': Flags.string({description: "BIP-32 path of the dev accounts, the index appended [default: m/44'/60'/0'/0/]", env: 'XAI_DERIVATION_PATH'}),
    'gas-limit': Flags.integer({description: "Block gas limit of a new devnet [default: the --genesis file's, else 30000000]", min: 21_000, env: 'XAI_GAS_LIMIT'}),
    'base-fee': Flags.string({description: "Base fee of a new devnet's genesis block, in wei (EIP-1559 moves it from there) [default: the --genesis file's, else 1000000000]", aliases: ['block-base-fee-per-gas'], env: 'XAI_BASE_FEE'}),
    hardfork: Flags.string({description: `EVM hardfork of a new devnet, by its @ethereumjs name [default: ${DEFAULT_HARDFORK}, also "latest"; the chain builds ${SUPPORTED_HARDFORKS.join(', ')} blocks only]`, env: 'XAI_HARDFORK'}),
    host: Flags.string({description: 'Address the JSON-RPC servers listen on [default: 127.0.0.1; a resumed devnet keeps its own unless this flag is given]. Beyond loopback a warning is printed: the dev keys are public and unlocked', env: 'XAI_HOST'}),
    genesis: Flags.string({description: "A geth-style genesis.json a new devnet starts from: its chain id, gas limit, base fee, timestamp, extra data and alloc (the dev accounts are funded too; forks come from --hardfork)", env: 'XAI_GENESIS_FILE'}),
    state: Flags.string({description: 'As anvil --state: a state dump loaded into a new devnet when the file exists, and written there by xai devnet down (anvil\'s JSON format)', env: 'XAI_STATE'}),
    detach: Flags.boolean({description: 'Return once the devnet is up, leaving it running in the background', default: false, env: 'XAI_DETACH'}),
    webhook: Flags.string({description: 'POST every security event and governance state change to this URL as signed JSON (X-Xai-Signature: t=…,v1=… HMAC-SHA256); a resumed devnet keeps its webhook', env: 'XAI_WEBHOOK'}),
    'webhook-secret-file': Flags.string({description: 'File holding the webhook secret [default: <devnet>/webhook.secret, created with 32 random bytes]', env: 'XAI_WEBHOOK_SECRET_FILE', dependsOn: ['webhook']}),
    prometheus: Flags.boolean({description: "Start Prometheus beside the devnet (needs the prometheus binary), scraping every node's /metrics with xai's alert rules; `devnet down` stops it", default: false, env: 'XAI_PROMETHEUS'}),
    'prometheus-port': Flags.integer({description: "Port of Prometheus' web UI and API (with --prometheus)", default: 9090, min: 1, max: 65_535, env: 'XAI_PROMETHEUS_PORT'}),
  }

  /** Set once the result document is on stdout (foreground --json): nothing else goes there. */
  private resultPrinted = false

  async run(): Promise<StartDevnetResult> {
    const {flags} = await this.parse(DevnetUp)
    const stopOnSignal = (): void => this.abort.abort()
    process.on('SIGINT', stopOnSignal)
    process.on('SIGTERM', stopOnSignal)
    try {
      const json = this.jsonEnabled()
      const project = await contractsProject(flags.project)
      const progress = createTaskList<DevnetEvent>({
        output: taskListOutput(json),
        steps: json ? [] : startDevnetSteps(await plannedNodes(flags.dir, flags.name, flags.nodes)),
        updates: (event) => (event.type === 'step' ? {type: event.status, id: event.id, title: event.title, error: event.error} : undefined),
        line: (event) => (event.type === 'step' && event.status === 'start' ? undefined : describeDevnetEvent(event)),
      })
      const started = await progress.run(() =>
        startDevnet(
          {
            dir: devnetsRoot(flags.dir),
            name: flags.name,
            nodes: flags.nodes,
            blockTime: flags['block-time'],
            basePort: flags['base-port'],
            p2pBasePort: flags['p2p-base-port'],
            emptyBlocks: flags['empty-blocks'],
            nodeArgs: (index) => [...(index === flags['test-double-sign'] ? ['--double-sign'] : []), ...(index === flags['test-clock-ahead'] ? ['--clock-skew', '60000'] : [])],
            execPath: process.execPath,
            startTimeoutMs: flags['start-timeout'],
            project,
            governance: governanceOverrides(flags['voting-period'], flags.timelock),
            rpcHost: flags.host,
            genesis: {
              chainId: flags['chain-id'],
              accounts: flags.accounts,
              balance: flags.balance,
              mnemonic: flags.mnemonic,
              derivationPath: flags['derivation-path'],
              gasLimit: flags['gas-limit'],
              baseFee: flags['base-fee'],
              hardfork: flags.hardfork,
              genesisFile: flags.genesis,
            },
            stateFile: flags.state,
            ...(flags.webhook ? {webhook: {url: flags.webhook, ...(flags['webhook-secret-file'] ? {secretFile: flags['webhook-secret-file']} : {})}} : {}),
          },
          {signal: this.signal, onEvent: progress.onEvent},
        ),
      )
      const {result} = started
      for (const warning of result.warnings) this.warn(warning)
      if (flags.prometheus) {
        const record = await readDevnetRecord(started.paths)
        const prometheus = await startPrometheus({paths: started.paths, record: record!, port: flags['prometheus-port']}).catch(async (err: unknown) => {
          // What was asked for is a devnet with Prometheus: stop the nodes rather than leave them running unasked.
          await stopDevnet({dir: devnetsRoot(flags.dir), name: flags.name}).catch(() => undefined)
          throw err
        })
        result.prometheus = {pid: prometheus.pid, url: prometheus.url, configFile: prometheus.configFile}
        this.note(`Prometheus on ${prometheus.url} (PID ${prometheus.pid}), scraping ${result.nodes.length} node(s) with the alert rules loaded`)
      }
      if (json) {
        this.logJson(result)
        this.resultPrinted = true
      } else {
        process.stdout.write(formatDevnetBanner(result))
      }
      if (flags.detach) {
        this.note(`\nRunning in the background. Stop it with: xai devnet down${flags.name === 'default' ? '' : ` --name ${flags.name}`}`)
        return result
      }
      if (result.consensus && !json && process.stdout.isTTY === true) {
        const {runDashboard} = await import('../../cli/dashboard/index.js')
        const snapshots = watchDevnet({dir: devnetsRoot(flags.dir), name: flags.name}, {signal: this.signal})
        const dashboard = runDashboard({snapshots, name: flags.name, signal: this.signal, footer: 'Ctrl-C stops the devnet'})
        await superviseDevnet(started, {signal: this.signal, tolerateExits: true})
        await dashboard
      } else {
        this.note('\nPress Ctrl-C to stop the devnet.')
        await superviseDevnet(started, {signal: this.signal, tolerateExits: result.consensus, onEvent: (event) => this.note(describeDevnetEvent(event))})
      }
      if (result.prometheus) {
        const record = await readDevnetRecord(started.paths)
        if (record) await stopPrometheus(started.paths, record)
      }
      this.note('Devnet stopped.')
      return result
    } finally {
      process.off('SIGINT', stopOnSignal)
      process.off('SIGTERM', stopOnSignal)
    }
  }

  /** The result document is printed once, when the devnet is up (not again when it stops). */
  override logJson(json: unknown): void {
    if (this.resultPrinted) return
    super.logJson(json)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (this.resultPrinted && isXaiError(err)) {
      // stdout already holds the result document; the error that ended the devnet goes to stderr.
      process.stderr.write(`${JSON.stringify({error: err.toJSON()})}\n`)
      process.exitCode = err.exitCode
      throw new Errors.ExitError(err.exitCode)
    }
    return super.catch(err)
  }
}

/** How many nodes `up` will start, for the progress list: the existing devnet's, or the flag's. */
async function plannedNodes(dir: string | undefined, name: string, flag: number | undefined): Promise<number> {
  const record = await readDevnetRecord(devnetPaths({dir: devnetsRoot(dir), name})).catch(() => undefined)
  return record?.nodes.length ?? flag ?? 1
}

/** The contracts project the nodes may name artifacts of: --project, else the one around the cwd. */
async function contractsProject(flag: string | undefined): Promise<string | undefined> {
  if (flag !== undefined) return (await openProject(flag)).root
  return (await findProject(process.cwd()).catch(() => undefined))?.root
}

/** Governance parameters a new devnet's genesis takes from the flags. */
function governanceOverrides(votingPeriod: number | undefined, timelock: number | undefined): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {}
  if (votingPeriod !== undefined) out.votingPeriod = votingPeriod
  if (timelock !== undefined) out.timelock = timelock
  return Object.keys(out).length > 0 ? out : undefined
}
