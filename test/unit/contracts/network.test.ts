import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {type Server, createServer} from 'node:http'
import {type AddressInfo, createServer as createNetServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {resolveNetwork} from '../../../src/contracts/network.js'
import {locateDevnet} from '../../../src/devnet/devnet-folder.js'
import {resolveSigner} from '../../../src/contracts/signer.js'

let home: string
let server: Server
let url: string

/** A port nothing listens on: bind one, read it, release it. */
async function closedPort(): Promise<number> {
  const srv = createNetServer()
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res))
  const {port} = srv.address() as AddressInfo
  await new Promise((res) => srv.close(res))
  return port
}

async function fakeDevnet(name: string, rpcPort: number): Promise<void> {
  await mkdir(join(home, 'devnets', name), {recursive: true})
  const record = {name, chainId: 31337, createdAt: new Date().toISOString(), blockTime: 0, nodes: [{index: 0, rpcPort, pid: null, home: join(home, 'devnets', name, 'node-0')}]}
  await writeFile(join(home, 'devnets', name, 'devnet.json'), JSON.stringify(record))
}

const config = (networks: Record<string, {devnet: string} | {rpcUrl: string}>, defaultNetwork: string) => ({networks, defaultNetwork})

describe('resolveNetwork', () => {
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'xai-network-'))
    // A minimal JSON-RPC endpoint answering eth_chainId.
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        const {id} = JSON.parse(body)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({jsonrpc: '2.0', id, result: '0x7a69'}))
      })
    })
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((res) => server.close(res))
    await rm(home, {recursive: true, force: true})
  })

  it('--rpc-url beats --network beats defaultNetwork; the chain id comes from eth_chainId', async () => {
    const cfg = config({local: {devnet: 'missing'}, remote: {rpcUrl: url}}, 'local')
    expect(await resolveNetwork({config: cfg, rpcUrl: url, network: 'nope', home, locateDevnet})).toEqual({name: null, rpcUrl: url, chainId: 31337, devnet: null})
    expect(await resolveNetwork({config: cfg, network: 'remote', home, locateDevnet})).toEqual({name: 'remote', rpcUrl: url, chainId: 31337, devnet: null})
    await expect(resolveNetwork({config: cfg, home, locateDevnet})).rejects.toMatchObject({code: 'CONTRACT_DEVNET_NOT_RUNNING'})
  })

  it('a devnet network resolves to node 0 of devnet.json under the home', async () => {
    await fakeDevnet('up', Number(new URL(url).port))
    const resolved = await resolveNetwork({config: config({local: {devnet: 'up'}}, 'local'), home, locateDevnet})
    expect(resolved).toEqual({name: 'local', rpcUrl: url, chainId: 31337, devnet: 'up'})
  })

  it('a devnet that is not running or does not exist: exit 3 with a hint to start it', async () => {
    await fakeDevnet('down', await closedPort())
    const down = resolveNetwork({config: config({local: {devnet: 'down'}}, 'local'), home, timeoutMs: 1_000, locateDevnet})
    await expect(down).rejects.toMatchObject({code: 'CONTRACT_DEVNET_NOT_RUNNING', exitCode: 3, message: expect.stringContaining('is not running')})
    await expect(down).rejects.toMatchObject({hint: expect.stringContaining('xai devnet up --name down')})
    await expect(resolveNetwork({config: config({local: {devnet: 'ghost'}}, 'local'), home, locateDevnet})).rejects.toMatchObject({
      message: expect.stringContaining('does not exist'),
      exitCode: 3,
    })
  })

  it('an unknown network lists the known ones; a refusing RPC URL is CONTRACT_RPC_UNREACHABLE', async () => {
    await expect(resolveNetwork({config: config({a: {rpcUrl: url}, b: {devnet: 'x'}}, 'a'), network: 'c', home})).rejects.toMatchObject({
      code: 'CONTRACT_UNKNOWN_NETWORK',
      exitCode: 2,
      hint: expect.stringContaining('a, b'),
    })
    const refused = `http://127.0.0.1:${await closedPort()}`
    await expect(resolveNetwork({rpcUrl: refused, home, timeoutMs: 1_000, locateDevnet})).rejects.toMatchObject({code: 'CONTRACT_RPC_UNREACHABLE', exitCode: 3, hint: expect.stringContaining('xai devnet')})
    await expect(resolveNetwork({rpcUrl: 'ftp://x', home, locateDevnet})).rejects.toMatchObject({exitCode: 2})
    await expect(resolveNetwork({home, locateDevnet})).rejects.toMatchObject({code: 'CONTRACT_UNKNOWN_NETWORK'})
  })
})

describe('resolveSigner', () => {
  it('dev account i of the test mnemonic, or a private key; bad ones are usage errors', () => {
    expect(resolveSigner().address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266')
    expect(resolveSigner({account: 1}).address).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')
    expect(resolveSigner({privateKey: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a', account: 0}).address).toBe('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')
    expect(() => resolveSigner({privateKey: '0x1234'})).toThrow(/32 bytes/)
    expect(() => resolveSigner({account: 10})).toThrow(/no dev account 10/)
  })
})
