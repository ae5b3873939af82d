// Operations end to end on a 4-validator devnet started as a user would (`xai devnet up --nodes 4
// --webhook URL --prometheus`): a real Prometheus (Debian's `prometheus` package) scrapes every
// node, promtool checks the rules and a node's /metrics, webhook deliveries arrive signed, API keys
// with scopes and rate limits guard REST and /admin, and every refusal is a security event.
import {execFile} from 'node:child_process'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {findExecutable} from '../../src/devnet/prometheus.js'
import {verifyWebhook} from '../../src/util/webhook-signature.js'
import {REPO_ROOT, XAI_CLI, cliEnv, freePort, isAlive, killProcess} from '../helpers/devnet.js'
import {type MultiNodeDevnet, startMultiNodeDevnet, until} from '../helpers/multinode.js'

const run = promisify(execFile)
const promtool = await findExecutable('promtool')
const prometheusBinary = await findExecutable('prometheus')
const missing = !promtool || !prometheusBinary
if (missing) console.warn('operations e2e skipped: install Debian\'s prometheus package (apt-get install -y prometheus) for prometheus and promtool')

interface Delivery {
  at: number
  headers: http.IncomingHttpHeaders
  body: string
  event: {id: string; type: string; kind?: string; source?: {node?: number}}
}

describe.skipIf(missing)('operations on a 4-validator devnet: Prometheus, webhooks, API keys', () => {
  let devnet: MultiNodeDevnet
  let receiver: http.Server
  const deliveries: Delivery[] = []
  let prometheus: {pid: number; url: string}
  let secretFile: string

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        deliveries.push({at: Date.now(), headers: req.headers, body, event: JSON.parse(body) as Delivery['event']})
        res.writeHead(204)
        res.end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    const prometheusPort = await freePort()
    devnet = await startMultiNodeDevnet({nodes: 4, extraArgs: ['--webhook', hook, '--prometheus', '--prometheus-port', String(prometheusPort)]})
    const record = JSON.parse(await readFile(join(devnet.dir, 'devnets/default/devnet.json'), 'utf8')) as {prometheus: {pid: number; url: string}; webhook: {secretFile: string}}
    prometheus = record.prometheus
    secretFile = record.webhook.secretFile
  }, 300_000)

  afterAll(async () => {
    await devnet?.stop()
    // devnet down stops Prometheus by its PID; make sure, by PID only.
    if (prometheus?.pid && isAlive(prometheus.pid)) await killProcess(prometheus.pid)
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()))
  }, 120_000)

  it("passes promtool's checks: the alert rules, and a running node's /metrics", async () => {
    const rules = await run(promtool!, ['check', 'rules', join(REPO_ROOT, 'templates/monitoring/xai-alerts.yml')])
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/)
    const text = await (await fetch(`${devnet.nodes[0]!.rpcUrl}/metrics`)).text()
    const checked = await execa(promtool!, ['check', 'metrics'], {input: text, reject: false})
    // promtool exits non-zero for lint problems and prints them; there must be none.
    expect(`${checked.stdout}${checked.stderr}`.trim()).toBe('')
    expect(checked.exitCode).toBe(0)
    for (const name of ['xai_security_events_total', 'xai_chain_block_interval_seconds_bucket', 'xai_chain_block_execution_seconds_bucket', 'xai_consensus_reexecution_seconds_bucket', 'xai_rpc_request_duration_seconds_bucket', 'xai_consensus_round_duration_seconds_bucket', 'xai_governance_proposals', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) {
      expect(text, name).toContain(name)
    }
    expect(text).not.toContain('xai_governance_proposals_total')
  })

  it("a real Prometheus scrapes every node's series, with the alert rules loaded", async () => {
    const query = async (q: string): Promise<{metric: Record<string, string>; value: [number, string]}[]> => {
      const body = (await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {status: string; data: {result: {metric: Record<string, string>; value: [number, string]}[]}}
      expect(body.status).toBe('success')
      return body.data.result
    }
    const up = await until(async () => {
      const result = await query('up{job="xai"} == 1')
      return result.length === 4 ? result : undefined
    }, 'four nodes up in Prometheus', 90_000)
    expect(up.map((r) => r.metric.node).sort()).toEqual(['0', '1', '2', '3'])
    const heights = await until(async () => {
      const result = await query('xai_chain_height')
      return result.length === 4 && result.every((r) => Number(r.value[1]) > 0) ? result : undefined
    }, 'every node\'s height', 60_000)
    expect(heights.map((r) => r.metric.node).sort()).toEqual(['0', '1', '2', '3'])
    expect((await query('xai_security_events_total{kind="duplicate-vote"}')).length).toBe(4)
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {data: {groups: {name: string; rules: unknown[]}[]}}
    expect(rules.data.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['xai-security', 'xai-chain', 'xai-operations']))
    // Figures for the note: how long a scrape of each node takes.
    const durations = await query('scrape_duration_seconds{job="xai"}')
    console.log(`scrape_duration_seconds per node: ${durations.map((d) => `node ${d.metric.node}: ${(Number(d.value[1]) * 1000).toFixed(1)} ms`).join(', ')}`)
  }, 180_000)

  it('API keys: scopes, revocation, rate limit with Retry-After, /admin, and every refusal a signed webhook event', async () => {
    const url = devnet.nodes[1]!.rpcUrl
    const write = await devnet.cli<{key: string; info: {id: string; scopes: string[]}}>(['key', 'create', '--key-name', 'ci', '--scope', 'write'])
    const read = await devnet.cli<{key: string; info: {id: string}}>(['key', 'create', '--key-name', 'reader', '--scope', 'read'])
    const admin = await devnet.cli<{key: string; info: {id: string}}>(['key', 'create', '--key-name', 'ops', '--scope', 'admin', '--rate-limit', '3'])
    expect(write.info.scopes).toEqual(['write'])
    const list = await devnet.cli<{keys: {id: string; sha256?: string}[]}>(['key', 'list'])
    expect(list.keys.map((k) => k.id)).toEqual([write.info.id, read.info.id, admin.info.id])
    expect(JSON.stringify(list)).not.toContain(write.key)
    // Stored hashed on every node.
    const stored = await readFile(join(devnet.dir, 'devnets/default/node-3/keys/api-keys.json'), 'utf8')
    expect(stored).toContain(write.info.id)
    expect(stored).not.toContain(write.key.split('_')[2])

    const claim = (key?: string) =>
      fetch(`${url}/faucet/claim`, {method: 'POST', headers: {'content-type': 'application/json', ...(key ? {'x-api-key': key} : {})}, body: JSON.stringify({address: '0x000000000000000000000000000000000000dEaD'})})
    await until(async () => ((await claim(write.key)).status === 401 ? undefined : true), 'the nodes read the new keys', 10_000)
    expect((await claim()).status).toBe(401)
    const forbidden = await claim(read.key)
    expect(forbidden.status).toBe(403)
    expect(((await forbidden.json()) as {error: {code: string}}).error.code).toBe('REST_FORBIDDEN')

    // /admin: an admin-scoped key works, a write key does not; past 3 a minute: 429 + Retry-After.
    const adminCall = (key: string) =>
      fetch(`${url}/admin`, {method: 'POST', headers: {'content-type': 'application/json', authorization: `Bearer ${key}`}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'xai_unknownAdminMethod', params: []})})
    expect((await adminCall(write.key)).status).toBe(403)
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 4; i++) {
      const res = await adminCall(admin.key)
      statuses.push(res.status)
      if (res.status === 429) retryAfter = res.headers.get('retry-after')
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)

    // Revoked: refused (401) from the next read of the key file.
    await devnet.cli(['key', 'revoke', write.info.id])
    await until(async () => ((await claim(write.key)).status === 401 ? true : undefined), 'the revocation reaches node 1', 10_000)

    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(Number(/^xai_security_events_total\{kind="api-unauthorized"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4)
    expect(metrics).toMatch(/^xai_security_events_total\{kind="api-rate-limited"\} 1$/m)

    // The same refusals arrive at the webhook, signed, from node 1, each with its own id.
    const secret = (await readFile(secretFile, 'utf8')).trim()
    const fromNode1 = await until(async () => {
      const got = deliveries.filter((d) => d.event.source?.node === 1 && (d.event.kind === 'api-unauthorized' || d.event.kind === 'api-rate-limited'))
      return got.length >= 5 && got.some((d) => d.event.kind === 'api-rate-limited') ? got : undefined
    }, 'webhook deliveries of the refusals', 60_000)
    for (const d of fromNode1) {
      expect(verifyWebhook({secret, header: d.headers['x-xai-signature'] as string, body: d.body}).ok).toBe(true)
      expect(d.headers['x-xai-event-id']).toBe(d.event.id)
    }
    expect(new Set(fromNode1.map((d) => d.event.id)).size).toBe(fromNode1.length)

    // `xai webhook verify` agrees, and refuses a tampered body with exit code 4.
    const one = fromNode1[0]!
    const http1 = `POST /hook HTTP/1.1\nContent-Type: application/json\nX-Xai-Signature: ${one.headers['x-xai-signature'] as string}\nX-Xai-Event-Id: ${one.event.id}\n\n${one.body}`
    const verify = (input: string) => execa(process.execPath, [XAI_CLI, 'webhook', 'verify', '--secret-file', secretFile, '--json'], {input, reject: false, env: cliEnv(), extendEnv: false, timeout: 60_000})
    const ok = await verify(http1)
    expect(ok.exitCode).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({authentic: true, eventId: one.event.id})
    const bad = await verify(http1.replace('api-', 'apx-'))
    expect(bad.exitCode).toBe(4)
    expect(bad.stdout + bad.stderr).toContain('WEBHOOK_NOT_AUTHENTIC')
  }, 180_000)

  it('stops Prometheus by its PID on devnet down', async () => {
    expect(isAlive(prometheus.pid)).toBe(true)
    const down = await devnet.cli<{prometheus?: string}>(['down', '--grace-period', '5000'])
    expect(down.prometheus).toMatch(/SIGTERM|SIGKILL/)
    expect(isAlive(prometheus.pid)).toBe(false)
  }, 120_000)
})
