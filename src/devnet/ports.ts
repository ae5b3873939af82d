import {createServer} from 'node:net'

import {ExitCode, XaiError} from '../errors.js'
import {DevnetErrorCode} from './errors.js'

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

/** A port the operating system says is free right now (bind to port 0, read it, release it). */
export async function findFreePort(host: string = DEFAULT_RPC_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({port: 0, host, exclusive: true}, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Throws DEVNET_PORT_IN_USE for the first port something else already listens on. */
export async function assertPortsFree(ports: number[], host: string = DEFAULT_RPC_HOST): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port, host))) {
      throw new XaiError(DevnetErrorCode.portInUse, `Port ${port} on ${host} is already in use`, {
        exitCode: ExitCode.environment,
        hint: `Stop whatever listens there (\`lsof -i :${port}\` names it) or pick other ports: xai devnet up --base-port ${port + 100}`,
        details: {port, host},
      })
    }
  }
}

/** The first of `count` consecutive ports that are free right now (for a devnet's nodes). */
export async function findFreePortRange(count: number, host: string = DEFAULT_RPC_HOST): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await findFreePort(host)
    if (base + count > 65_000) continue
    let free = true
    for (let i = 1; i < count && free; i++) free = await isPortFree(base + i, host)
    if (free) return base
  }
  throw new XaiError(DevnetErrorCode.portInUse, `No ${count} consecutive free ports found on ${host}`, {
    exitCode: ExitCode.environment,
    hint: 'Free some ports, or pick them yourself with --base-port and --p2p-base-port.',
  })
}
