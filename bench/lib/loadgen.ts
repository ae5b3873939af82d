// Load-generator self-test: push the exact request shape of the transaction scenarios
// (pre-serialized eth_sendRawTransaction bodies, same window, same client) at a do-nothing
// JSON-RPC server in a child process. The achieved req/s is a lower bound (the null server itself
// is single-threaded Node and shares the 2 cores); the client CPU per request gives the client's
// own ceiling on one core (1e6 / µs per request). If that is far above the figures measured
// against the targets, the load generator is not the bottleneck.
import path from 'node:path'
import {freePort, killTracked, sleep, spawnTracked} from './proc.js'
import {body, pool, RpcClient, type Transport} from './rpc.js'
import {percentile} from './stats.js'
import {REPO_ROOT} from './targets.js'

export interface LoadgenResult {
  requests: number
  concurrency: number
  reqPerSec: number
  p50Ms: number
  p95Ms: number
  loadgenCpuPct: number
  /** Client CPU per request, µs. */
  cpuUsPerReq: number
  /** What one core could push at that cost per request: 1e6 / cpuUsPerReq. */
  estCeilingReqPerSec: number
}

export async function loadgenSelfTest(requests: number, concurrency: number, transport: Transport): Promise<LoadgenResult> {
  const port = await freePort()
  const server = spawnTracked(process.execPath, [path.join(REPO_ROOT, 'bench', 'lib', 'null-server.mjs'), String(port)])
  const rpc = new RpcClient(`http://127.0.0.1:${port}/`, {transport, maxSockets: concurrency + 4})
  try {
    for (let i = 0; ; i++) {
      if (server.hasExited()) throw new Error(`null server exited: ${server.tail()}`)
      if (i > 2000) throw new Error('null server did not start within 10 s')
      try {
        await rpc.request('eth_chainId')
        break
      } catch {
        await sleep(5)
      }
    }
    // A raw EIP-1559 transfer is ~115 bytes; use a body of the same size.
    const payloads = Array.from({length: requests}, (_, i) => body('eth_sendRawTransaction', [`0x02f8${i.toString(16).padStart(8, '0')}${'ab'.repeat(109)}`]))
    const deadline = performance.now() + 60_000
    // Warm-up pass (JIT, connections), untimed.
    await pool(Math.min(requests, 2000), concurrency, async (i) => void (await rpc.send(payloads[i]!)), deadline, 'loadgen warm-up')
    const latencies = new Float64Array(requests)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await pool(
      requests,
      concurrency,
      async (i) => {
        const start = performance.now()
        await rpc.send(payloads[i]!)
        latencies[i] = performance.now() - start
      },
      deadline,
      'loadgen self-test',
    )
    const elapsed = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const lat = Array.from(latencies)
    return {
      requests,
      concurrency,
      reqPerSec: (requests * 1000) / elapsed,
      p50Ms: percentile(lat, 50),
      p95Ms: percentile(lat, 95),
      loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / elapsed) * 100,
      cpuUsPerReq: (cpu.user + cpu.system) / requests,
      estCeilingReqPerSec: (requests * 1e6) / (cpu.user + cpu.system),
    }
  } finally {
    rpc.close()
    await killTracked(server)
  }
}
