import {createServer} from 'node:net'

import {ExitCode, XaiError} from './errors.js'

export const DEFAULT_RPC_HOST = '127.0.0.1'

/** True when nothing listens on host:port (checked by listening on it for a moment). */
export async function isPortFree(port: number, host: string = DEFAULT_RPC_HOST): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false)
      else reject(err)
    })
    server.listen({port, host, exclusive: true}, () => server.close(() => resolve(true)))
  })
}

/** Throws DEVNET_PORT_IN_USE for the first port something else already listens on. */
export async function assertPortsFree(ports: number[], host: string = DEFAULT_RPC_HOST): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port, host))) {
      throw new XaiError('DEVNET_PORT_IN_USE', `Port ${port} on ${host} is already in use`, {
        hint: `Stop whatever listens there (\`lsof -i :${port}\` names it) or pick other ports: xai devnet up --base-port ${port + 100}`,
        details: {port, host},
      })
    }
  }
}

/**
 * Listening ports are picked below Linux's ephemeral range (32768–60999 by default): a port the
 * kernel may hand to an outgoing connection at any moment can be taken between the check and
 * the listen, which a busy test run or benchmark (many client sockets) does hit.
 */
export const PICKED_PORT_RANGE: readonly [number, number] = [20_000, 32_000]

/**
 * The first of `count` consecutive ports that are free right now, at a random place in
 * PICKED_PORT_RANGE (for tests and benchmarks that start devnets side by side).
 */
export async function findFreePortRange(count: number, host: string = DEFAULT_RPC_HOST): Promise<number> {
  const [low, high] = PICKED_PORT_RANGE
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - count))
    let free = true
    for (let i = 0; i < count && free; i++) free = await isPortFree(base + i, host)
    if (free) return base
  }
  throw new XaiError('DEVNET_PORT_IN_USE', `No ${count} consecutive free ports found on ${host} between ${low} and ${high}`, {
    hint: 'Free some ports, or pick them yourself with --base-port and --p2p-base-port.',
  })
}
