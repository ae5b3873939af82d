import {access, constants, copyFile, mkdir} from 'node:fs/promises'
import {openSync, closeSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa} from 'execa'

import {writeFileAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {isProcessAlive, readLogTail, readProcessCommandLine, stopProcess} from '../util/process.js'
import {type DevnetPaths, type DevnetRecord, writeDevnetRecord} from './devnet-folder.js'

/** The alert rules shipped with xai (templates/monitoring/xai-alerts.yml). */
export function alertRulesFile(): string {
  return fileURLToPath(new URL('../../templates/monitoring/xai-alerts.yml', import.meta.url))
}

/** The Grafana dashboard shipped with xai. */
export function grafanaDashboardFile(): string {
  return fileURLToPath(new URL('../../templates/monitoring/xai-grafana-dashboard.json', import.meta.url))
}

/** An executable named `name` on PATH, or undefined. */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** prometheus.yml scraping every node of a devnet (label `node`), with xai's alert rules. */
export function prometheusConfig(options: {targets: {index: number; address: string}[]; rulesFile: string; scrapeIntervalSeconds?: number; devnet: string}): string {
  const interval = `${options.scrapeIntervalSeconds ?? 5}s`
  const lines = [
    '# Written by xai devnet up --prometheus; rewritten on every start.',
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'rule_files:',
    `  - ${JSON.stringify(options.rulesFile)}`,
    'scrape_configs:',
    '  - job_name: xai',
    '    metrics_path: /metrics',
    '    static_configs:',
    ...options.targets.flatMap((t) => [`      - targets: [${JSON.stringify(t.address)}]`, '        labels:', `          node: ${JSON.stringify(String(t.index))}`, `          devnet: ${JSON.stringify(options.devnet)}`]),
  ]
  return `${lines.join('\n')}\n`
}

/**
 * Starts Prometheus beside a running devnet: writes its config (every node's /metrics, the alert
 * rules) under <devnet>/prometheus/, spawns the binary detached (its PID goes to devnet.json, so
 * `devnet down` stops it by PID) and waits until it is ready. Fails with how to install it when
 * the binary is missing.
 */
export async function startPrometheus(options: {paths: DevnetPaths; record: DevnetRecord; port: number; host?: string; binary?: string; readyTimeoutMs?: number}): Promise<{pid: number; url: string; configFile: string; record: DevnetRecord}> {
  const binary = options.binary ?? (await findExecutable('prometheus'))
  if (!binary) {
    throw new XaiError('PROMETHEUS_NOT_INSTALLED', 'No prometheus binary on PATH', {
      hint: 'Install it (Debian/Ubuntu: sudo apt-get install -y prometheus; or a release from https://prometheus.io/download/), or start the devnet without --prometheus.',
    })
  }
  const host = options.host ?? '127.0.0.1'
  const dir = options.paths.prometheus
  await mkdir(join(dir, 'data'), {recursive: true})
  const rulesFile = join(dir, 'xai-alerts.yml')
  await copyFile(alertRulesFile(), rulesFile)
  const configFile = join(dir, 'prometheus.yml')
  const rpcHost = options.record.rpcHost ?? '127.0.0.1'
  const targets = options.record.nodes.map((n) => ({index: n.index, address: `${rpcHost.includes(':') ? `[${rpcHost}]` : rpcHost}:${n.rpcPort}`}))
  await writeFileAtomic(configFile, prometheusConfig({targets, rulesFile, devnet: options.record.name}))
  const logPath = join(dir, 'prometheus.log')
  const logFd = openSync(logPath, 'a') as 3
  let pid: number | undefined
  try {
    const child = execa(binary, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${host}:${options.port}`, '--storage.tsdb.retention.time=2d'], {
      cwd: dir,
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      stdout: logFd,
      stderr: logFd,
    })
    child.catch(() => undefined)
    child.unref()
    pid = child.pid
  } finally {
    closeSync(logFd)
  }
  if (pid === undefined) throw new XaiError('PROMETHEUS_FAILED', `Could not start ${binary}`, {hint: `See ${logPath}.`})
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`
  const record = await writeDevnetRecord(options.paths, {...options.record, prometheus: {pid, port: options.port, url}})
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) {
      const tail = await readLogTail(logPath, 8)
      await writeDevnetRecord(options.paths, {...record, prometheus: {pid: null, port: options.port, url}})
      throw new XaiError('PROMETHEUS_FAILED', `Prometheus exited while starting (port ${options.port} in use?)`, {hint: `Its log (${logPath}) ends with:\n${tail.join('\n')}`})
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) return {pid, url, configFile, record}
    await new Promise((r) => setTimeout(r, 250))
  }
  await stopProcess(pid, {graceMs: 5_000})
  throw new XaiError('PROMETHEUS_FAILED', `Prometheus did not become ready within ${Math.round((options.readyTimeoutMs ?? 30_000) / 1000)} s`, {hint: `See ${logPath}.`})
}

/** Stops the devnet's Prometheus by its recorded PID (only if that PID is still our Prometheus). */
export async function stopPrometheus(paths: DevnetPaths, record: DevnetRecord, graceMs = 10_000): Promise<'not-running' | 'SIGTERM' | 'SIGKILL'> {
  const pid = record.prometheus?.pid
  if (!pid || !isProcessAlive(pid)) return 'not-running'
  const cmdline = await readProcessCommandLine(pid)
  // A recycled PID is never signalled: the process must be prometheus with this devnet's config.
  if (cmdline && !cmdline.some((arg) => arg === `--config.file=${join(paths.prometheus, 'prometheus.yml')}`)) return 'not-running'
  return stopProcess(pid, {graceMs})
}
