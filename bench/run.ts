// `npm run bench` — measure xai's node and anvil side by side with one load generator.
// See bench/README.md for the method. Usage: npm run bench -- --help
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {compileBenchToken} from './lib/contract.js'
import {loadgenSelfTest, type LoadgenResult} from './lib/loadgen.js'
import {TRANSPORTS, type Transport} from './lib/rpc.js'
import {killAllTracked, killAllTrackedSync, procStatusBytes, RssSampler} from './lib/proc.js'
import {checks, nodeCpuLines, summarize, table, type RunRecord} from './lib/report.js'
import {DEFAULT_SCENARIOS, devAccounts, FUNDED_DEV_ACCOUNTS, SCENARIOS, type ScenarioOptions} from './lib/scenarios.js'
import {MiB, round} from './lib/stats.js'
import {ANVIL_BIN, REPO_ROOT, TARGETS, type Target} from './lib/targets.js'

/** Standalone benchmarks, run as `npm run bench -- <name> [options]` (each has its own --help). */
const ENTRIES: Record<string, () => Promise<{main(argv: string[]): Promise<number>}>> = {
  'fl-aggregate': () => import('./fl-aggregate.js'),
  'fl-round': () => import('./fl-round.js'),
  snapshot: () => import('./snapshot.js'),
  'fl-seeds': () => import('./fl-seeds.js'),
  'module-sandbox': () => import('./module-sandbox.js'),
  'tx-cost': () => import('./tx-cost.js'),
}

const HELP = `Usage: npm run bench -- [options]
       npm run bench -- <${Object.keys(ENTRIES).join('|')}> [options]   (a standalone benchmark; see its --help)

  --target <list>      targets, comma-separated (${Object.keys(TARGETS).join(', ')}); default: xai,anvil
  --scenario <list>    scenarios, comma-separated (${Object.keys(SCENARIOS).join(', ')});
                       default: ${DEFAULT_SCENARIOS.join(',')} (calls: every eth_call distinct;
                       calls-cached: 10 request bodies repeated, answered mostly from a cache)
  --txs <n>            pre-signed txs per transaction scenario (default 2000)
  --calls <n>          eth_call requests per round (default 2000)
  --call-rounds <n>    timed eth_call rounds; the median round is reported (default 5)
  --concurrency <n>    requests in flight (default 64)
  --senders <n>        senders, 1..256 (default 10 = the genesis-funded dev accounts; more are derived
                       from the same mnemonic and funded from those 10 before timing)
  --block-time <s>     block interval in seconds (default 1; xai gets --block-time <ms>)
  --timeout <s>        per-scenario timeout in seconds (default 120)
  --transport <t>      load-generator HTTP client: raw (minimal HTTP/1.1 on node:net) | http (node:http
                       keep-alive Agent) | fetch (global fetch); default raw
  --skip-selftest      skip the load-generator self-test against a null JSON-RPC server
  --json               print the full result as JSON on stdout instead of the table
  --check              exit 1 when any of xai's targets fails (default: only on errors)
  --no-save            do not write bench/results/<timestamp>.json
  -h, --help`

function positiveInt(name: string, value: string | undefined, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer in 1..${max}, got ${value}`)
  return n
}

function list(name: string, value: string | undefined, known: Record<string, unknown>, fallback: string[]): string[] {
  if (value === undefined) return fallback
  const items = value.split(',').map((s) => s.trim()).filter(Boolean)
  for (const item of items) if (!(item in known)) throw new Error(`unknown --${name} "${item}" (known: ${Object.keys(known).join(', ')})`)
  if (items.length === 0) throw new Error(`--${name} is empty`)
  return [...new Set(items)]
}

const log = (message: string) => process.stderr.write(`${message}\n`)

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function toolVersion(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, {encoding: 'utf8', timeout: 10_000, cwd: REPO_ROOT})
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined
}

async function main(): Promise<number> {
  const entry = ENTRIES[process.argv[2] ?? '']
  if (entry) return (await entry()).main(process.argv.slice(3))
  const {values} = parseArgs({
    options: {
      target: {type: 'string'},
      scenario: {type: 'string'},
      txs: {type: 'string'},
      calls: {type: 'string'},
      'call-rounds': {type: 'string'},
      concurrency: {type: 'string'},
      senders: {type: 'string'},
      'block-time': {type: 'string'},
      timeout: {type: 'string'},
      transport: {type: 'string'},
      'skip-selftest': {type: 'boolean', default: false},
      json: {type: 'boolean', default: false},
      check: {type: 'boolean', default: false},
      'no-save': {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const targets = list('target', values.target, TARGETS, ['xai', 'anvil'])
  const scenarios = list('scenario', values.scenario, SCENARIOS, DEFAULT_SCENARIOS)
  const transport = (values.transport ?? 'raw') as Transport
  if (!TRANSPORTS.includes(transport)) throw new Error(`--transport must be one of ${TRANSPORTS.join(', ')}`)
  const blockTimeSec = positiveInt('block-time', values['block-time'], 1, 60)
  const options: ScenarioOptions = {
    txs: positiveInt('txs', values.txs, 2000),
    calls: positiveInt('calls', values.calls, 2000),
    callRounds: positiveInt('call-rounds', values['call-rounds'], 5, 100),
    concurrency: positiveInt('concurrency', values.concurrency, 64, 1024),
    senders: positiveInt('senders', values.senders, 10, 256),
    recipients: 100,
    pollMs: 20,
    scenarioTimeoutMs: positiveInt('timeout', values.timeout, 120, 3600) * 1000,
    transport,
  }

  const loadBefore = os.loadavg()
  if (loadBefore[0]! > os.cpus().length * 0.5) log(`warning: 1-min load average is ${loadBefore[0]!.toFixed(2)} on ${os.cpus().length} CPUs; other work on this machine will skew the figures`)
  log(`xai bench: targets ${targets.join(', ')}; scenarios ${scenarios.join(', ')}; ${options.txs} txs / ${options.calls} calls, ${options.concurrency} in flight, ${blockTimeSec} s blocks`)
  const tCompile = performance.now()
  const token = await compileBenchToken()
  log(`compiled BenchToken with solc ${token.solcVersion} (evm ${token.evmVersion}) in ${Math.round(performance.now() - tCompile)} ms`)
  const accounts = devAccounts(Math.max(options.senders, FUNDED_DEV_ACCOUNTS))

  let loadgen: LoadgenResult | undefined
  if (!values['skip-selftest']) {
    loadgen = await loadgenSelfTest(Math.max(options.txs, options.calls) * 2, options.concurrency, transport)
    log(
      `load generator self-test (null server): ${Math.round(loadgen.reqPerSec)} req/s, p50 ${loadgen.p50Ms.toFixed(1)} ms; ` +
        `client CPU ${Math.round(loadgen.cpuUsPerReq)} µs/request → one-core ceiling ≈ ${Math.round(loadgen.estCeilingReqPerSec)} req/s`,
    )
  }

  const runs: RunRecord[] = []
  const broken = new Map<string, string>()
  for (const scenarioName of scenarios) {
    const scenario = SCENARIOS[scenarioName]!
    for (const targetName of targets) {
      const record: RunRecord = {target: targetName, scenario: scenarioName, ok: false}
      runs.push(record)
      const prefix = `[${targetName}/${scenarioName}]`
      const brokenReason = broken.get(targetName)
      if (brokenReason) {
        record.error = `skipped: target failed to start earlier`
        log(`${prefix} skipped (target failed to start)`)
        continue
      }
      const target: Target = TARGETS[targetName]!({blockTimeSec, startTimeoutMs: 30_000})
      let sampler: RssSampler | undefined
      let started = false
      let timer: NodeJS.Timeout | undefined
      try {
        log(`${prefix} starting ${targetName}`)
        const info = await target.start()
        started = true
        record.startupMs = info.startupMs
        record.chainId = info.chainId
        log(`${prefix} answered eth_chainId (${info.chainId}) after ${Math.round(info.startupMs)} ms`)
        sampler = new RssSampler(() => target.pids())
        sampler.start()
        const deadline = performance.now() + options.scenarioTimeoutMs
        const hardStop = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${targetName}: scenario ${scenarioName} exceeded ${options.scenarioTimeoutMs / 1000} s`)), options.scenarioTimeoutMs + 15_000)
        })
        record.result = await Promise.race([
          scenario.run({target, chainId: info.chainId, accounts, token, options, deadline, log: (m) => log(`${prefix} ${m}`)}),
          hardStop,
        ])
        record.ok = true
        const r = record.result
        log(
          r.kind === 'tx'
            ? `${prefix} ${r.tps.toFixed(1)} tx/s (${r.count} in ${Math.round(r.elapsedMs)} ms, ${r.blocks.length} blocks), latency p50 ${Math.round(r.latencyP50Ms)} ms p95 ${Math.round(r.latencyP95Ms)} ms, submit ${Math.round(r.submitRate)} tx/s`
            : `${prefix} ${Math.round(r.callsPerSec)} calls/s, p50 ${r.latencyP50Ms.toFixed(1)} ms p95 ${r.latencyP95Ms.toFixed(1)} ms`,
        )
      } catch (error) {
        record.error = errorText(error)
        if (!started) broken.set(targetName, record.error)
        log(`${prefix} FAILED: ${record.error}`)
      } finally {
        if (timer) clearTimeout(timer)
        if (sampler) {
          sampler.sample()
          sampler.stop()
          record.peakTreeRssBytes = sampler.peakTreeBytes
        }
        const pid = target.pid()
        if (pid !== undefined) record.peakRssBytes = procStatusBytes(pid, 'VmHWM')
        const perNode = target.peakRssPerNode?.()
        if (perNode && perNode.length > 0) {
          // A several-node target reports its largest node (the figure is RSS per node).
          record.peakRssBytes = Math.max(...perNode)
          log(`${prefix} peak RSS per node ${perNode.map((b) => (b / MiB).toFixed(1)).join(', ')} MiB`)
        }
        await target.stop()
        if (record.peakRssBytes !== undefined) log(`${prefix} peak RSS ${(record.peakRssBytes / MiB).toFixed(1)} MiB; stopped`)
      }
    }
  }

  const summary = summarize(runs, targets)
  const checkList = targets.filter((t) => t.startsWith('xai')).flatMap((subject) => checks(summary, subject).map((c) => ({...c, subject})))
  const now = new Date()
  const report = {
    date: now.toISOString(),
    host: {
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGiB: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      loadavgBefore: loadBefore.map((v) => round(v, 2)),
      loadavgAfter: os.loadavg().map((v) => round(v, 2)),
    },
    versions: {
      anvil: targets.includes('anvil') ? toolVersion(ANVIL_BIN, ['--version']) : undefined,
      xaiCommit: toolVersion('git', ['rev-parse', '--short', 'HEAD']),
      solc: token.solcVersion,
    },
    options: {targets, scenarios, blockTimeSec, ...options},
    method: {
      inclusion: `watcher polls eth_blockNumber every ${options.pollMs} ms and reads each new block with eth_getBlockByNumber(n, false); a tx's inclusion time is when its block was first seen; latency = inclusion − send start; tx/s = N / (last inclusion − first send)`,
      startup: 'spawn → first successful eth_chainId (polled every 5 ms); median over all fresh starts',
      rss: 'VmHWM of the node process read from /proc at the end of each run; max over runs',
    },
    loadgen,
    summary,
    checks: checkList,
    runs,
  }

  if (!values['no-save']) {
    const dir = path.join(REPO_ROOT, 'bench', 'results')
    mkdirSync(dir, {recursive: true})
    const file = path.join(dir, `${now.toISOString().replace(/[:.]/g, '-')}.json`)
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
    log(`results written to ${path.relative(process.cwd(), file)}`)
  }

  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  else {
    // One table per xai target (the single node, a multi-validator devnet), each beside anvil.
    const subjects = targets.filter((t) => t.startsWith('xai'))
    for (const subject of subjects.length > 0 ? subjects : ['xai']) process.stdout.write(`\n${table(summary, targets, subject)}\n`)
    const perNode = nodeCpuLines(summary, targets)
    if (perNode.length > 0) process.stdout.write(`\n${perNode.join('\n')}\n`)
    if (loadgen) {
      process.stdout.write(
        `\nload generator: ${Math.round(loadgen.cpuUsPerReq)} µs CPU/request → ≈ ${Math.round(loadgen.estCeilingReqPerSec)} req/s on one core ` +
          `(null server reached ${Math.round(loadgen.reqPerSec)} req/s at ${loadgen.concurrency} in flight)\n`,
      )
    }
  }

  const errored = runs.some((r) => !r.ok)
  const failed = checkList.some((c) => c.pass === false)
  return errored || (values.check && failed) ? 1 : 0
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      killAllTrackedSync()
      process.exit(130)
    }
    interrupted = true
    log(`\n${signal}: stopping spawned processes…`)
    void killAllTracked().finally(() => process.exit(130))
  })
}
process.on('exit', killAllTrackedSync)

main().then(
  (code) => {
    process.exitCode = code
  },
  async (error) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    await killAllTracked()
    process.exitCode = 1
  },
)
