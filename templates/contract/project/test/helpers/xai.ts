// Test helpers for contracts compiled by `xai contract compile`: clients for the network the tests
// run against (XAI_RPC_URL, default the local devnet at http://127.0.0.1:8545, whose first ten
// accounts are the standard funded test accounts; `xai contract test` sets XAI_RPC_URL,
// XAI_CHAIN_ID and XAI_PRIVATE_KEYS for its throwaway devnet), a deploy() that reads artifacts/
// and loadFixture() for per-test isolation by snapshots.
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
} from 'viem'
import {type PrivateKeyAccount, privateKeyToAccount} from 'viem/accounts'

export const rpcUrl = process.env.XAI_RPC_URL ?? 'http://127.0.0.1:8545'

export const chain = defineChain({
  id: Number(process.env.XAI_CHAIN_ID ?? 31337),
  name: 'xai',
  nativeCurrency: {name: 'Ether', symbol: 'ETH', decimals: 18},
  rpcUrls: {default: {http: [rpcUrl]}},
})

/**
 * Funded accounts: XAI_PRIVATE_KEYS (comma-separated, as `xai contract test` sets it), else the
 * first three of the standard test mnemonic, funded on every xai devnet.
 */
export const accounts: readonly PrivateKeyAccount[] = (
  process.env.XAI_PRIVATE_KEYS?.split(',').filter((key) => key !== '') ?? [
    '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
    '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  ]
).map((key) => privateKeyToAccount(key as Hex))

export const publicClient = createPublicClient({chain, transport: http(rpcUrl), pollingInterval: 250})

export interface Artifact {
  contractName: string
  sourceName: string
  abi: Abi
  bytecode: Hex
}

/** The artifact of a contract by name, from artifacts/<source>/<Name>.json. */
export function artifact(name: string, root = process.cwd()): Artifact {
  const found: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (entry.isDirectory() && entry.name !== 'build-info') walk(path)
      else if (entry.name === `${name}.json`) found.push(path)
    }
  }
  walk(join(root, 'artifacts'))
  if (found.length !== 1) throw new Error(`${found.length === 0 ? 'No' : 'More than one'} artifact for ${name}; run \`xai contract compile\``)
  return JSON.parse(readFileSync(found[0]!, 'utf8')) as Artifact
}

export interface Deployed {
  address: Address
  abi: Abi
  read(functionName: string, args?: readonly unknown[]): Promise<unknown>
  write(functionName: string, args?: readonly unknown[], options?: {account?: PrivateKeyAccount}): Promise<TransactionReceipt>
}

/** Deploys the compiled contract `name` from `account` (default accounts[0]) and waits for it. */
export async function deploy(name: string, args: readonly unknown[] = [], account: PrivateKeyAccount = accounts[0]!): Promise<Deployed> {
  const {abi, bytecode} = artifact(name)
  const hash = await createWalletClient({account, chain, transport: http(rpcUrl)}).deployContract({abi, bytecode, args: [...args]})
  const receipt = await publicClient.waitForTransactionReceipt({hash})
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`Deploying ${name} failed (${hash})`)
  const address = receipt.contractAddress
  return {
    address,
    abi,
    read: (functionName, readArgs = []) => publicClient.readContract({address, abi, functionName, args: [...readArgs]}),
    async write(functionName, writeArgs = [], options = {}) {
      const sender = options.account ?? account
      const request = {address, abi, functionName, args: [...writeArgs], account: sender}
      // Estimated against the pending block (the one the transaction lands in), so code that
      // depends on block.number (checkpoints) is estimated as it will run; a revert throws here.
      const gas = await publicClient.estimateContractGas({...request, blockTag: 'pending'})
      const txHash = await createWalletClient({account: sender, chain, transport: http(rpcUrl)}).writeContract({...request, gas})
      const receipt = await publicClient.waitForTransactionReceipt({hash: txHash})
      if (receipt.status !== 'success') throw new Error(`${functionName} reverted (${txHash})`)
      return receipt
    },
  }
}

/** Resolves to the custom error name a failed call or transaction reverted with. */
export async function revertName(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    let cause: unknown = err
    while (cause instanceof Error) {
      const data = (cause as {data?: {errorName?: string}}).data
      if (data?.errorName) return data.errorName
      cause = cause.cause
    }
    throw err
  }
  return undefined
}

/** One JSON-RPC call to the node the tests run against. */
export async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(rpcUrl, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params})})
  const body = (await response.json()) as {result?: T; error?: {code: number; message: string}}
  if (body.error) throw Object.assign(new Error(`${method}: ${body.error.message}`), {code: body.error.code})
  return body.result as T
}

const fixtures = new Map<() => Promise<unknown>, {snapshot: string; value: unknown}>()

/**
 * Hardhat's loadFixture: the first call runs `fixture` and takes an evm_snapshot of the chain
 * after it; later calls evm_revert to that snapshot (and take a fresh one, as snapshot ids are
 * single-use) instead of running it again, so every test starts from the same state quickly.
 * Pass the same function (declared once, not an inline arrow) every time.
 *
 * Needs a node with evm_snapshot/evm_revert (single-node xai devnets that have them, anvil,
 * Hardhat); elsewhere it fails with an error saying so rather than sharing state between tests.
 */
export async function loadFixture<T>(fixture: () => Promise<T>): Promise<T> {
  const known = fixtures.get(fixture)
  if (known) {
    const reverted = await snapshotCall<boolean>('evm_revert', [known.snapshot])
    if (reverted !== true) throw new Error('loadFixture: evm_revert refused the snapshot (was it reverted by something else?)')
    known.snapshot = await snapshotCall<string>('evm_snapshot')
    return known.value as T
  }
  const value = await fixture()
  fixtures.set(fixture, {snapshot: await snapshotCall<string>('evm_snapshot'), value})
  return value
}

async function snapshotCall<T>(method: 'evm_snapshot' | 'evm_revert', params: unknown[] = []): Promise<T> {
  try {
    return await rpc<T>(method, params)
  } catch (err) {
    const code = (err as {code?: number}).code
    if (code === -32601) {
      throw new Error(`loadFixture needs ${method}, which the node at ${rpcUrl} does not have (method not found): use a single-node devnet of an xai with cheat methods, or deploy afresh in each test instead`)
    }
    throw err
  }
}
