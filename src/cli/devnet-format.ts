import type {DevnetEvent} from '../devnet/events.js'
import type {StartDevnetResult} from '../devnet/start-devnet.js'

/** The human forms of devnet results and events (the devnet commands print them). */

/** The human result of `devnet up`, like anvil's banner: on stdout, since it is the data a user copies. */
export function formatDevnetBanner(result: StartDevnetResult): string {
  const eth = result.balance
  const lines = [
    '',
    `XAI devnet "${result.name}" ${result.resumed ? 'resumed' : 'created'} (${result.folder})`,
    '',
    'Available Accounts',
    '==================',
    ...result.accounts.map((a, i) => `(${i}) ${a.address} (${eth} ETH)`),
    '',
    'Private Keys',
    '==================',
    ...result.accounts.map((a, i) => `(${i}) ${a.privateKey}`),
    '',
    'Wallet',
    '==================',
    `Mnemonic:          ${result.mnemonic}`,
    `Derivation path:   ${result.derivationPath}`,
    '',
    `Chain ID:          ${result.chainId}`,
    `Hardfork:          ${result.hardfork}`,
    `Gas limit:         ${result.gasLimit}`,
    `Genesis base fee:  ${result.baseFee} wei`,
    ...(result.genesisFile ? [`Genesis file:      ${result.genesisFile}`] : []),
    ...(result.stateLoaded ? [`State loaded:      ${result.stateLoaded.accounts} accounts from ${result.stateLoaded.file}${result.stateLoaded.skipped > 0 ? ` (${result.stateLoaded.skipped} module/system accounts kept as the new genesis has them)` : ''}`] : []),
    ...(result.stateFile ? [`State file:        ${result.stateFile} (written by xai devnet down)`] : []),
    `API key:           ${result.apiKey} (REST writes: x-api-key header; also in ${result.folder}/api.key)`,
    ...(result.project ? [`Contracts project: ${result.project}`] : []),
    result.consensus
      ? `Consensus:         Tendermint BFT, ${result.nodes.length} validators${result.firstBlockMs === undefined ? '' : ` (first block ${result.firstBlockMs} ms after start)`}`
      : 'Consensus:         single node',
    `Block time:        ${result.blockTime === 0 ? (result.consensus ? 'as fast as consensus goes' : 'automine (one block per transaction)') : `${result.blockTime} ms`}`,
    '',
    ...result.nodes.flatMap((n) => [
      `Node ${n.index} (PID ${n.pid}${n.started ? '' : ', already running'})`,
      `  RPC URL:         ${n.rpcUrl}`,
      `  WS URL:          ${n.wsUrl}`,
      ...(n.validator ? [`  Validator:       ${n.validator}`, `  P2P:             /ip4/127.0.0.1/tcp/${n.p2pPort}/p2p/${n.peerId}`] : []),
      `  Log:             ${n.logPath}`,
    ]),
    '',
  ]
  return `${lines.join('\n')}\n`
}

/** One line for a devnet event (progress without a terminal, node exits while supervising). */
export function describeDevnetEvent(event: DevnetEvent): string {
  switch (event.type) {
    case 'node-stopped':
      return event.outcome === 'not-running'
        ? `Node ${event.index} (PID ${event.pid}) was not running`
        : `Stopped node ${event.index} (PID ${event.pid}, ${event.outcome})`
    case 'node-exited':
      return `Node ${event.index} (PID ${event.pid}) exited${event.exitCode === undefined ? '' : ` with code ${event.exitCode}`}${event.signal ? ` (${event.signal})` : ''}`
    case 'state-saved':
      return event.error === undefined ? `Wrote the state (${event.accounts} accounts) to ${event.file}` : `Could not write the state to ${event.file}: ${event.error}`
    case 'step':
      return `${event.status === 'done' ? '✔' : event.status === 'fail' ? '✖' : '›'} ${event.title}`
  }
}
