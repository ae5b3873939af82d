/**
 * What viem and ethers v6 users do against a local chain, checked against the Ethereum JSON-RPC
 * spec and the clients' expectations (validated on anvil first: XAI_E2E_TARGET=anvil).
 * One devnet for the whole file, automining (a block per transaction) by default; set
 * XAI_E2E_CLIENTS_BLOCK_TIME=1000 to run the same tests with interval mining, which
 * websocket.test.ts and crash-recovery.test.ts use anyway.
 */
import {
  Contract,
  ContractFactory,
  JsonRpcProvider,
  NonceManager,
  Wallet,
  ZeroAddress,
  isError as isEthersError,
  type TransactionReceipt as EthersReceipt,
} from 'ethers'
import {
  type Address,
  ContractFunctionRevertedError,
  type Hash,
  type Hex,
  InsufficientFundsError,
  IntrinsicGasTooLowError,
  NonceTooLowError,
  RpcRequestError,
  type TransactionReceipt,
  bytesToHex,
  createWalletClient,
  encodeErrorResult,
  fromRlp,
  hexToBytes,
  http,
  verifyMessage,
  encodeFunctionData,
  getAbiItem,
  keccak256,
  numberToHex,
  parseEther,
  parseEventLogs,
  parseGwei,
  zeroAddress,
} from 'viem'
import {generatePrivateKey, privateKeyToAccount} from 'viem/accounts'
import {verifyMerkleProof} from '@ethereumjs/mpt'
import {afterAll, beforeAll, beforeEach, describe, expect, test} from 'vitest'

import {
  EMPTY_REQUESTS_HASH,
  EMPTY_TRIE_ROOT,
  EMPTY_UNCLES_HASH,
  PRAGUE_HEADER_FIELDS,
  type RawBlock,
  type RawReceipt,
  computeBlockHash,
  e2eChain,
  encodeReceipt,
  findInChain,
  logsBloom,
  orderedTrieRoot,
  publicClientFor,
  receiptWaiter,
  rejectionOf,
  serializeFromRpc,
  walletClientFor,
} from '../helpers/clients.js'
import {type E2eDevnet, rpc, rpcRaw, startE2eDevnet, waitFor} from '../helpers/devnet.js'
import {type CompiledContract, e2eContract} from '../helpers/solidity.js'

const TIMEOUT = 120_000
const TOKEN_SUPPLY = 1_000_000n * 10n ** 18n

// Each test sends from its own account so that tests do not depend on each other's nonces.
const DEPLOYER = 0
const TRANSFERS = 1
const TX_TYPES = 2
const ERRORS = 3
const ETHERS = 4
const BLOCK_INFO = 5
const ESTIMATES = 6
const EMPTY_TOKEN_HOLDER = 7
const PENDING = 8
const JSON_RPC_ACCOUNT = 9
const QUEUED = 7 // shares with EMPTY_TOKEN_HOLDER, which only reads

let devnet: E2eDevnet
let client: ReturnType<typeof publicClientFor>
let token: CompiledContract
let blockInfo: CompiledContract
let tokenAddress: Address
let deployReceipt: TransactionReceipt

const wallet = (index: number) => walletClientFor(devnet, index)
const addressOf = (index: number): Address => devnet.accounts[index]!.address
const freshAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address
const waiter = receiptWaiter(() => client, () => devnet)
const receiptOf = waiter.receiptOf

beforeEach((context) => {
  if (waiter.stalled) context.skip(`the chain stopped mining (${waiter.stalled}); see the first failure`)
})

beforeAll(async () => {
  token = e2eContract('TestToken')
  blockInfo = e2eContract('BlockInfo')
  devnet = await startE2eDevnet({blockTime: Number(process.env.XAI_E2E_CLIENTS_BLOCK_TIME ?? 0)})
  client = publicClientFor(devnet)
  const hash = await wallet(DEPLOYER).deployContract({abi: token.abi, bytecode: token.bytecode, args: ['Test Token', 'TST', TOKEN_SUPPLY]})
  deployReceipt = await receiptOf(hash)
  if (!deployReceipt.contractAddress) throw new Error(`Deployment receipt without contractAddress: ${JSON.stringify(deployReceipt, bigints)}`)
  tokenAddress = deployReceipt.contractAddress
}, TIMEOUT)

afterAll(async () => {
  await devnet?.stop()
}, TIMEOUT)

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

async function tokenTransfer(fromIndex: number, to: Address, amount: bigint): Promise<TransactionReceipt> {
  const hash = await wallet(fromIndex).writeContract({address: tokenAddress, abi: token.abi, functionName: 'transfer', args: [to, amount]})
  const receipt = await receiptOf(hash)
  expect(receipt.status).toBe('success')
  return receipt
}

async function tokenBalance(holder: Address, blockNumber?: bigint): Promise<bigint> {
  return (await client.readContract({address: tokenAddress, abi: token.abi, functionName: 'balanceOf', args: [holder], blockNumber})) as bigint
}

describe('viem: accounts and chain', {timeout: TIMEOUT}, () => {
  test('eth_chainId is 31337 and net_version agrees', async () => {
    expect(await client.getChainId()).toBe(31337)
    expect(devnet.chainId).toBe(31337)
    expect(await rpc(devnet.rpcUrl, 'net_version')).toBe('31337')
  })

  test('the ten standard dev accounts are funded with 10,000 ETH', async () => {
    expect(devnet.accounts.map((a) => a.address.toLowerCase()).slice(0, 10)).toEqual([
      '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
      '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
      '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
      '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65',
      '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc',
      '0x976ea74026e726554db657fa54763abd0c3a0aa9',
      '0x14dc79964da2c08b23698b3d3cc7ca32193d9955',
      '0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f',
      '0xa0ee7a142d267c1f36714e4a8f75612f20a79720',
    ])
    for (const account of devnet.accounts.slice(0, 10)) {
      expect(privateKeyToAccount(account.privateKey).address).toBe(account.address)
      // At genesis: later blocks have spent some of it.
      expect(await client.getBalance({address: account.address, blockNumber: 0n})).toBe(parseEther('10000'))
    }
  })
})

describe('viem: value transfers', {timeout: TIMEOUT}, () => {
  test('a transfer moves exactly value + gasUsed × effectiveGasPrice', async () => {
    const sender = addressOf(TRANSFERS)
    const recipient = freshAddress()
    const value = parseEther('1.25')
    const nonceBefore = await client.getTransactionCount({address: sender})

    const hash = await wallet(TRANSFERS).sendTransaction({to: recipient, value})
    const receipt = await receiptOf(hash)
    expect(receipt).toMatchObject({status: 'success', transactionHash: hash, to: recipient.toLowerCase(), gasUsed: 21_000n, type: 'eip1559'})
    expect(receipt.from.toLowerCase()).toBe(sender.toLowerCase())
    expect(receipt.cumulativeGasUsed).toBeGreaterThanOrEqual(receipt.gasUsed)
    expect(receipt.contractAddress ?? null).toBeNull()
    expect(receipt.logs).toEqual([])

    const block = await client.getBlock({blockNumber: receipt.blockNumber})
    expect(block.hash).toBe(receipt.blockHash)
    expect(block.miner.toLowerCase()).not.toBe(sender.toLowerCase())
    const tx = await client.getTransaction({hash})
    expect(tx).toMatchObject({hash, nonce: nonceBefore, value, blockHash: receipt.blockHash, blockNumber: receipt.blockNumber, input: '0x', chainId: 31337, type: 'eip1559'})
    expect(tx.transactionIndex).toBe(receipt.transactionIndex)
    // EIP-1559: effective price = min(maxFee, baseFee + tip).
    const expectedPrice = bigMin(tx.maxFeePerGas!, block.baseFeePerGas! + tx.maxPriorityFeePerGas!)
    expect(receipt.effectiveGasPrice).toBe(expectedPrice)

    const before = await client.getBalance({address: sender, blockNumber: receipt.blockNumber - 1n})
    const after = await client.getBalance({address: sender, blockNumber: receipt.blockNumber})
    expect(before - after).toBe(value + receipt.gasUsed * receipt.effectiveGasPrice)
    expect(await client.getBalance({address: recipient})).toBe(value)
    expect(await client.getBalance({address: recipient, blockNumber: receipt.blockNumber - 1n})).toBe(0n)
    expect(await client.getTransactionCount({address: sender})).toBe(nonceBefore + 1)

    // The same transaction by block and index.
    const byIndex = await client.getTransaction({blockNumber: receipt.blockNumber, index: receipt.transactionIndex})
    expect(byIndex.hash).toBe(hash)
    const byBlockHash = await client.getTransaction({blockHash: receipt.blockHash, index: receipt.transactionIndex})
    expect(byBlockHash.hash).toBe(hash)
  })

  test('estimateGas of a plain transfer is 21000', async () => {
    expect(await client.estimateGas({account: addressOf(TRANSFERS), to: freshAddress(), value: 1n})).toBe(21_000n)
  })

  test("getTransactionCount 'pending' counts mined transactions", async () => {
    const sender = addressOf(PENDING)
    const start = await client.getTransactionCount({address: sender, blockTag: 'pending'})
    for (let i = 0; i < 3; i++) {
      // viem takes the nonce from getTransactionCount(pending) each time.
      const hash = await wallet(PENDING).sendTransaction({to: freshAddress(), value: 1n})
      const receipt = await receiptOf(hash)
      expect(receipt.status).toBe('success')
      expect((await client.getTransaction({hash})).nonce).toBe(start + i)
    }
    expect(await client.getTransactionCount({address: sender, blockTag: 'pending'})).toBe(start + 3)
    expect(await client.getTransactionCount({address: sender, blockTag: 'latest'})).toBe(start + 3)
  })

  test('legacy, EIP-2930 and EIP-1559 transactions all mine with the right fields', async () => {
    const w = wallet(TX_TYPES)
    const gasPrice = (await client.getGasPrice()) * 2n
    const accessList = [{address: tokenAddress, storageKeys: [numberToHex(0, {size: 32})]}] as const

    const legacyHash = await w.sendTransaction({type: 'legacy', to: freshAddress(), value: 1n, gasPrice})
    const legacy = await receiptOf(legacyHash)
    expect(legacy).toMatchObject({status: 'success', type: 'legacy', effectiveGasPrice: gasPrice})
    const legacyTx = await client.getTransaction({hash: legacyHash})
    expect(legacyTx).toMatchObject({type: 'legacy', gasPrice, chainId: 31337})
    // EIP-155: v = chainId * 2 + 35 + yParity.
    expect([31337n * 2n + 35n, 31337n * 2n + 36n]).toContain(legacyTx.v)

    const eip2930Hash = await w.sendTransaction({type: 'eip2930', to: freshAddress(), value: 1n, gasPrice, accessList})
    const eip2930 = await receiptOf(eip2930Hash)
    expect(eip2930).toMatchObject({status: 'success', type: 'eip2930', effectiveGasPrice: gasPrice})
    // 21000 + one address (2400) + one storage key (1900).
    expect(eip2930.gasUsed).toBe(21_000n + 2_400n + 1_900n)
    const eip2930Tx = await client.getTransaction({hash: eip2930Hash})
    expect(eip2930Tx).toMatchObject({type: 'eip2930', gasPrice, chainId: 31337})
    expect(eip2930Tx.accessList?.map((e) => ({address: e.address.toLowerCase(), storageKeys: e.storageKeys}))).toEqual([
      {address: tokenAddress.toLowerCase(), storageKeys: [numberToHex(0, {size: 32})]},
    ])
    expect([0, 1]).toContain(eip2930Tx.yParity)

    const eip1559Hash = await w.sendTransaction({type: 'eip1559', to: freshAddress(), value: 1n, maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1')})
    const eip1559 = await receiptOf(eip1559Hash)
    expect(eip1559).toMatchObject({status: 'success', type: 'eip1559'})
    const eip1559Tx = await client.getTransaction({hash: eip1559Hash})
    expect(eip1559Tx).toMatchObject({type: 'eip1559', maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1'), chainId: 31337})
    const block = await client.getBlock({blockNumber: eip1559.blockNumber})
    expect(eip1559.effectiveGasPrice).toBe(bigMin(parseGwei('50'), block.baseFeePerGas! + parseGwei('1')))
  })

  test('an EIP-7702 (type 4) transaction sets a delegation (Prague)', async () => {
    // A fresh EOA, funded here, delegates to the BlockInfo contract and is then called like it.
    const target = await deployBlockInfo()
    const eoa = privateKeyToAccount(generatePrivateKey())
    await receiptOf(await wallet(TX_TYPES).sendTransaction({to: eoa.address, value: parseEther('1')}))
    const authorization = await wallet(TX_TYPES).signAuthorization({account: eoa, contractAddress: target})
    // Calls record() on the EOA itself: the delegated code runs with the EOA's address.
    const data = encodeFunctionData({abi: blockInfo.abi, functionName: 'record'})
    const hash = await wallet(TX_TYPES).sendTransaction({authorizationList: [authorization], to: eoa.address, data})
    const receipt = await receiptOf(hash)
    expect(receipt).toMatchObject({status: 'success', type: 'eip7702'})
    expect(receipt.logs.map((l) => l.address.toLowerCase())).toEqual([eoa.address.toLowerCase()])
    expect(await client.readContract({address: eoa.address, abi: blockInfo.abi, functionName: 'recordedNumber'})).toBe(receipt.blockNumber)
    expect(await client.getCode({address: eoa.address})).toBe(`0xef0100${target.slice(2).toLowerCase()}`)
    const tx = await client.getTransaction({hash})
    expect(tx.type).toBe('eip7702')
    expect(tx.authorizationList?.[0]?.address.toLowerCase()).toBe(target.toLowerCase())
    expect(await client.readContract({address: eoa.address, abi: blockInfo.abi, functionName: 'chainId'})).toBe(31337n)
  })
})

describe('viem: node errors are typed', {timeout: TIMEOUT}, () => {
  test('nonce too low → NonceTooLowError', async () => {
    const w = wallet(ERRORS)
    await receiptOf(await w.sendTransaction({to: freshAddress(), value: 1n}))
    const err = await rejectionOf(w.sendTransaction({to: freshAddress(), value: 1n, nonce: 0, gas: 21_000n}))
    findInChain(err, NonceTooLowError)
  })

  test('insufficient funds → InsufficientFundsError', async () => {
    const balance = await client.getBalance({address: addressOf(ERRORS)})
    const err = await rejectionOf(wallet(ERRORS).sendTransaction({to: freshAddress(), value: balance + 1n, gas: 21_000n}))
    findInChain(err, InsufficientFundsError)
  })

  test('gas below the intrinsic cost → IntrinsicGasTooLowError', async () => {
    const err = await rejectionOf(wallet(ERRORS).sendTransaction({to: freshAddress(), value: 1n, gas: 20_000n}))
    findInChain(err, IntrinsicGasTooLowError)
  })

  test('same nonce without a fee bump is "replacement transaction underpriced"; a bumped one replaces it', async () => {
    const w = wallet(ERRORS)
    const nonce = await client.getTransactionCount({address: addressOf(ERRORS), blockTag: 'pending'})
    const fees = {maxFeePerGas: parseGwei('100'), maxPriorityFeePerGas: parseGwei('1'), gas: 21_000n}
    // nonce + 1 waits in the pool behind the gap at `nonce`, so it can be replaced deterministically.
    const first = await w.sendTransaction({to: freshAddress(), value: 1n, nonce: nonce + 1, ...fees})
    const err = await rejectionOf(w.sendTransaction({to: freshAddress(), value: 2n, nonce: nonce + 1, ...fees}))
    const rpcError = findInChain(err, RpcRequestError)
    expect(rpcError.details).toMatch(/underpriced/i)

    const bumped = await w.sendTransaction({
      to: freshAddress(),
      value: 3n,
      nonce: nonce + 1,
      gas: 21_000n,
      maxFeePerGas: parseGwei('200'),
      maxPriorityFeePerGas: parseGwei('2'),
    })
    const gapFiller = await w.sendTransaction({to: freshAddress(), value: 1n, nonce, ...fees})
    expect((await receiptOf(gapFiller)).status).toBe('success')
    const replaced = await receiptOf(bumped)
    expect(replaced.status).toBe('success')
    expect((await client.getTransaction({hash: bumped})).nonce).toBe(nonce + 1)
    // The replaced transaction is gone for good.
    expect(await rpc(devnet.rpcUrl, 'eth_getTransactionReceipt', [first])).toBeNull()
    expect(await client.getTransactionCount({address: addressOf(ERRORS)})).toBe(nonce + 2)
  })
})

describe('viem: contracts', {timeout: TIMEOUT}, () => {
  test('deployContract: receipt.contractAddress holds the runtime code', async () => {
    expect(deployReceipt.status).toBe('success')
    expect(deployReceipt.to ?? null).toBeNull()
    expect(await client.getCode({address: tokenAddress})).toBe(token.deployedBytecode)
    // The constructor's mint is the receipt's only log.
    const [mint] = parseEventLogs({abi: token.abi, logs: deployReceipt.logs, eventName: 'Transfer'}) as unknown as TransferLog[]
    expect(mint?.args).toEqual({from: zeroAddress, to: addressOf(DEPLOYER), value: TOKEN_SUPPLY})
    expect(await client.readContract({address: tokenAddress, abi: token.abi, functionName: 'name'})).toBe('Test Token')
    expect(await tokenBalance(addressOf(DEPLOYER), deployReceipt.blockNumber)).toBe(TOKEN_SUPPLY)
    // eth_getStorageAt: totalSupply is slot 2 (after name and symbol), a 32-byte word.
    expect(await client.getStorageAt({address: tokenAddress, slot: numberToHex(2)})).toBe(numberToHex(TOKEN_SUPPLY, {size: 32}))
    expect(await client.getStorageAt({address: tokenAddress, slot: numberToHex(2), blockNumber: deployReceipt.blockNumber - 1n})).toBe(numberToHex(0, {size: 32}))
  })

  test('writeContract: the Transfer log decodes with parseEventLogs', async () => {
    const to = freshAddress()
    const receipt = await tokenTransfer(DEPLOYER, to, 1234n)
    const logs = parseEventLogs({abi: token.abi, logs: receipt.logs, eventName: 'Transfer'}) as unknown as TransferLog[]
    expect(logs).toHaveLength(1)
    const [log] = logs
    expect(log!.args).toEqual({from: addressOf(DEPLOYER), to, value: 1234n})
    expect(log).toMatchObject({
      address: tokenAddress.toLowerCase(),
      blockHash: receipt.blockHash,
      blockNumber: receipt.blockNumber,
      transactionHash: receipt.transactionHash,
      transactionIndex: receipt.transactionIndex,
      removed: false,
    })
    expect(typeof log!.logIndex).toBe('number')
    expect(await tokenBalance(to)).toBe(1234n)
  })

  test('getLogs / getContractEvents filter by indexed args, address and block range', async () => {
    const a = freshAddress()
    const b = freshAddress()
    const r1 = await tokenTransfer(DEPLOYER, a, 1n)
    const r2 = await tokenTransfer(DEPLOYER, b, 2n)
    const r3 = await tokenTransfer(DEPLOYER, a, 3n)
    const range = {fromBlock: r1.blockNumber, toBlock: r3.blockNumber}

    const toA = (await client.getContractEvents({address: tokenAddress, abi: token.abi, eventName: 'Transfer', args: {to: a}, ...range})) as unknown as TransferLog[]
    expect(toA.map((l) => l.args.value)).toEqual([1n, 3n])
    expect(toA.map((l) => l.transactionHash)).toEqual([r1.transactionHash, r3.transactionHash])

    const toAorB = (await client.getContractEvents({address: tokenAddress, abi: token.abi, eventName: 'Transfer', args: {to: [a, b]}, ...range})) as unknown as TransferLog[]
    expect(toAorB.map((l) => l.args.value)).toEqual([1n, 2n, 3n])

    const transferEvent = getAbiItem({abi: token.abi, name: 'Transfer'}) as TransferEventAbi
    const onlyR2 = await client.getLogs({address: tokenAddress, event: transferEvent, args: {from: addressOf(DEPLOYER)}, fromBlock: r2.blockNumber, toBlock: r2.blockNumber})
    expect(onlyR2.map((l) => l.transactionHash)).toEqual([r2.transactionHash])
    expect(onlyR2[0]!.args).toEqual({from: addressOf(DEPLOYER), to: b, value: 2n})

    const byBlockHash = await client.getLogs({address: tokenAddress, event: transferEvent, blockHash: r3.blockHash})
    expect(byBlockHash.map((l) => l.transactionHash)).toEqual([r3.transactionHash])

    // Any address, topic-only: the same three logs (and no others to a, b).
    const anyAddress = await client.getLogs({event: transferEvent, args: {to: [a, b]}, ...range})
    expect(anyAddress.map((l) => l.transactionHash)).toEqual([r1.transactionHash, r2.transactionHash, r3.transactionHash])

    // A range before the transfers has none of them; a range in the future (block numbers past
    // the head) is empty or an error, never logs.
    expect(await client.getLogs({address: tokenAddress, event: transferEvent, args: {to: a}, fromBlock: 0n, toBlock: r1.blockNumber - 1n})).toEqual([])
    // Logs are ordered by block then index and carry their position.
    const all = await client.getLogs({address: tokenAddress, ...range})
    expect(all.map((l) => l.transactionHash)).toEqual([r1.transactionHash, r2.transactionHash, r3.transactionHash])
    expect(all.every((l) => l.topics.length === 3 && l.removed === false)).toBe(true)
  })

  test('filters: eth_newFilter + eth_getFilterChanges deliver each new log once; eth_newBlockFilter new hashes', async () => {
    const to = freshAddress()
    const transferEvent = getAbiItem({abi: token.abi, name: 'Transfer'}) as TransferEventAbi
    const logFilter = await client.createEventFilter({address: tokenAddress, event: transferEvent, args: {to}})
    const blockFilter = await client.createBlockFilter()
    const receipt = await tokenTransfer(DEPLOYER, to, 77n)
    const changes = (await client.getFilterChanges({filter: logFilter})) as unknown as TransferLog[]
    expect(changes.map((l) => [l.transactionHash, l.args.value])).toEqual([[receipt.transactionHash, 77n]])
    expect(await client.getFilterChanges({filter: logFilter})).toEqual([])
    const all = (await client.getFilterLogs({filter: logFilter})) as unknown as TransferLog[]
    expect(all.map((l) => l.transactionHash)).toEqual([receipt.transactionHash])
    const hashes = await client.getFilterChanges({filter: blockFilter})
    expect(hashes).toContain(receipt.blockHash)
    expect(await client.uninstallFilter({filter: logFilter})).toBe(true)
    expect(await client.uninstallFilter({filter: blockFilter})).toBe(true)
  })

  test('readContract at a past blockNumber reads archived state', async () => {
    const to = freshAddress()
    const r1 = await tokenTransfer(DEPLOYER, to, 10n)
    const r2 = await tokenTransfer(DEPLOYER, to, 20n)
    expect(await tokenBalance(to, r1.blockNumber - 1n)).toBe(0n)
    expect(await tokenBalance(to, r1.blockNumber)).toBe(10n)
    expect(await tokenBalance(to, r2.blockNumber)).toBe(30n)
    expect(await tokenBalance(to)).toBe(30n)
    // The token did not exist before its deployment block.
    expect(await client.getCode({address: tokenAddress, blockNumber: deployReceipt.blockNumber - 1n})).toBeUndefined()
  })

  test('simulateContract of a failing transfer: ContractFunctionRevertedError InsufficientBalance with args', async () => {
    const holder = addressOf(EMPTY_TOKEN_HOLDER)
    const err = await rejectionOf(
      client.simulateContract({account: holder, address: tokenAddress, abi: token.abi, functionName: 'transfer', args: [freshAddress(), 5n]}),
    )
    const reverted = findInChain(err, ContractFunctionRevertedError)
    expect(reverted.data?.errorName).toBe('InsufficientBalance')
    expect(reverted.data?.args).toEqual([holder, 0n, 5n])
  })

  test('eth_call revert: error code 3, "execution reverted", revert data', async () => {
    const holder = addressOf(EMPTY_TOKEN_HOLDER)
    const to = freshAddress()
    const data = encodeFunctionData({abi: token.abi, functionName: 'transfer', args: [to, 5n]})
    const {json} = await rpcRaw(devnet.rpcUrl, {jsonrpc: '2.0', id: 7, method: 'eth_call', params: [{from: holder, to: tokenAddress, data}, 'latest']})
    const expected = encodeErrorResult({abi: token.abi, errorName: 'InsufficientBalance', args: [holder, 0n, 5n]})
    expect(json).toMatchObject({jsonrpc: '2.0', id: 7, error: {code: 3, data: expected}})
    expect((json as {error: {message: string}}).error.message).toMatch(/execution reverted/)
  })

  test('a require(cond, "reason") revert is decoded', async () => {
    const err = await rejectionOf(
      client.simulateContract({account: addressOf(DEPLOYER), address: tokenAddress, abi: token.abi, functionName: 'transfer', args: [zeroAddress, 1n]}),
    )
    const reverted = findInChain(err, ContractFunctionRevertedError)
    expect(reverted.reason).toBe('TestToken: transfer to the zero address')
    expect(reverted.data?.errorName).toBe('Error')
  })

  test('estimateContractGas of a reverting call rejects with the decoded error', async () => {
    const holder = addressOf(EMPTY_TOKEN_HOLDER)
    const err = await rejectionOf(client.estimateContractGas({account: holder, address: tokenAddress, abi: token.abi, functionName: 'transfer', args: [freshAddress(), 9n]}))
    const reverted = findInChain(err, ContractFunctionRevertedError)
    expect(reverted.data?.errorName).toBe('InsufficientBalance')
    expect(reverted.data?.args).toEqual([holder, 0n, 9n])
  })

  test('estimateGas is enough: the transaction succeeds with exactly the estimate', async () => {
    const w = wallet(ESTIMATES)
    // Give the account tokens first, so its transfer writes a fresh balance slot.
    await tokenTransfer(DEPLOYER, addressOf(ESTIMATES), 1_000n)
    const args = [freshAddress(), 999n] as const
    const estimate = await client.estimateContractGas({account: addressOf(ESTIMATES), address: tokenAddress, abi: token.abi, functionName: 'transfer', args})
    expect(estimate).toBeGreaterThan(21_000n)
    expect(estimate).toBeLessThan(200_000n)
    const hash = await w.writeContract({address: tokenAddress, abi: token.abi, functionName: 'transfer', args, gas: estimate})
    const receipt = await receiptOf(hash)
    expect(receipt.status).toBe('success')
    expect(receipt.gasUsed).toBeLessThanOrEqual(estimate)
    expect((await client.getTransaction({hash})).gas).toBe(estimate)
    // Deployment too: viem estimates a contract creation and it succeeds.
    const deployHash = await w.deployContract({abi: blockInfo.abi, bytecode: blockInfo.bytecode})
    expect((await receiptOf(deployHash)).status).toBe('success')
  })

  test('the EVM sees the block it runs in: number, timestamp, basefee, chainid, BLOCKHASH(n-1)', async () => {
    const address = await deployBlockInfo()
    const hash = await wallet(BLOCK_INFO).writeContract({address, abi: blockInfo.abi, functionName: 'record'})
    const receipt = await receiptOf(hash)
    expect(receipt.status).toBe('success')
    const [recorded] = parseEventLogs({abi: blockInfo.abi, logs: receipt.logs, eventName: 'Recorded'}) as unknown as {args: Record<string, unknown>}[]
    const block = await client.getBlock({blockNumber: receipt.blockNumber})
    expect(recorded!.args).toEqual({
      number: receipt.blockNumber,
      timestamp: block.timestamp,
      basefee: block.baseFeePerGas,
      chainId: 31337n,
      previousBlockHash: block.parentHash,
      gasLimit: block.gasLimit,
      coinbase: expect.stringMatching(new RegExp(`^${block.miner}$`, 'i')),
    })
    const parent = await client.getBlock({blockNumber: receipt.blockNumber - 1n})
    expect(block.parentHash).toBe(parent.hash)
    // eth_call sees the same history: BLOCKHASH of an older block from the latest state.
    expect(await client.readContract({address, abi: blockInfo.abi, functionName: 'hashOf', args: [receipt.blockNumber - 1n]})).toBe(parent.hash)
    expect(await client.readContract({address, abi: blockInfo.abi, functionName: 'recordedPreviousHash'})).toBe(parent.hash)
    expect(await client.readContract({address, abi: blockInfo.abi, functionName: 'chainId'})).toBe(31337n)
  })
})

describe('viem: blocks and fees', {timeout: TIMEOUT}, () => {
  test('getBlock with includeTransactions returns full transaction objects', async () => {
    const hash = await wallet(TRANSFERS).sendTransaction({to: freshAddress(), value: 5n})
    const receipt = await receiptOf(hash)
    const full = await client.getBlock({blockNumber: receipt.blockNumber, includeTransactions: true})
    expect(full.hash).toBe(receipt.blockHash)
    const tx = full.transactions.find((t) => t.hash === hash)
    expect(tx).toMatchObject({hash, blockHash: receipt.blockHash, blockNumber: receipt.blockNumber, value: 5n, type: 'eip1559'})
    expect(tx!.from.toLowerCase()).toBe(addressOf(TRANSFERS).toLowerCase())
    const hashesOnly = await client.getBlock({blockHash: receipt.blockHash})
    expect(hashesOnly.transactions).toEqual(full.transactions.map((t) => t.hash))
    expect(await client.getBlockTransactionCount({blockHash: receipt.blockHash})).toBe(full.transactions.length)
    expect(await client.getBlockTransactionCount({blockNumber: receipt.blockNumber})).toBe(full.transactions.length)
    const receipts = await client.getBlockReceipts({blockHash: receipt.blockHash})
    expect(receipts.map((r) => r.transactionHash)).toEqual(full.transactions.map((t) => t.hash))
  })

  test('block tags: earliest is genesis; safe and finalized are at most latest', async () => {
    const latest = await client.getBlock({blockTag: 'latest'})
    const earliest = await client.getBlock({blockTag: 'earliest'})
    expect(earliest.number).toBe(0n)
    expect(earliest.parentHash).toBe(`0x${'0'.repeat(64)}`)
    for (const blockTag of ['safe', 'finalized'] as const) {
      const block = await client.getBlock({blockTag})
      expect(block.number).toBeLessThanOrEqual(latest.number + 1n)
    }
    expect(await client.getBlockNumber({cacheTime: 0})).toBeGreaterThanOrEqual(latest.number)
  })

  test('getFeeHistory: shapes, base fees match the blocks, the next base fee follows EIP-1559', async () => {
    const latest = await client.getBlock({blockTag: 'latest'})
    const blockCount = 4
    const history = await client.getFeeHistory({blockCount, rewardPercentiles: [25, 75], blockNumber: latest.number})
    expect(history.oldestBlock).toBe(latest.number - BigInt(blockCount) + 1n)
    expect(history.baseFeePerGas).toHaveLength(blockCount + 1)
    expect(history.gasUsedRatio).toHaveLength(blockCount)
    expect(history.reward).toHaveLength(blockCount)
    for (const reward of history.reward!) expect(reward).toHaveLength(2)
    for (let i = 0; i < blockCount; i++) {
      const block = await client.getBlock({blockNumber: history.oldestBlock + BigInt(i)})
      expect(history.baseFeePerGas[i]).toBe(block.baseFeePerGas)
      expect(history.gasUsedRatio[i]).toBeCloseTo(Number(block.gasUsed) / Number(block.gasLimit), 6)
    }
    expect(history.baseFeePerGas[blockCount]).toBe(nextBaseFee(latest.baseFeePerGas!, latest.gasUsed, latest.gasLimit))
  })

  test('fee estimation: gasPrice, maxPriorityFeePerGas and estimateFeesPerGas are usable', async () => {
    const latest = await client.getBlock({blockTag: 'latest'})
    const gasPrice = await client.getGasPrice()
    expect(gasPrice).toBeGreaterThan(0n)
    const fees = await client.estimateFeesPerGas()
    expect(fees.maxFeePerGas).toBeGreaterThanOrEqual(latest.baseFeePerGas!)
    expect(fees.maxPriorityFeePerGas).toBeGreaterThanOrEqual(0n)
    expect(fees.maxFeePerGas).toBeGreaterThanOrEqual(fees.maxPriorityFeePerGas)
  })

  test('block headers: the hash is keccak(rlp(header)) with the Prague fields, and parentHash chains', async () => {
    const head = BigInt(await rpc<Hex>(devnet.rpcUrl, 'eth_blockNumber'))
    expect(head).toBeGreaterThanOrEqual(5n)
    let previous: RawBlock | undefined
    for (let n = 0n; n <= head; n++) {
      const block = await rpc<RawBlock>(devnet.rpcUrl, 'eth_getBlockByNumber', [numberToHex(n), false])
      for (const field of PRAGUE_HEADER_FIELDS) expect(block, `block ${n} field ${field}`).toHaveProperty(field)
      expect(computeBlockHash(block), `hash of block ${n}`).toBe(block.hash)
      expect(block.number).toBe(numberToHex(n))
      if (previous) expect(block.parentHash, `parentHash of block ${n}`).toBe(previous.hash)
      expect(block.sha3Uncles).toBe(EMPTY_UNCLES_HASH)
      expect(block.uncles).toEqual([])
      expect(BigInt(block.difficulty as Hex)).toBe(0n)
      expect(block.nonce).toBe('0x0000000000000000')
      expect(block.withdrawals).toEqual([])
      expect(block.withdrawalsRoot).toBe(EMPTY_TRIE_ROOT)
      expect(block.requestsHash).toBe(EMPTY_REQUESTS_HASH)
      const txs = block.transactions as Hex[]
      if (txs.length === 0) {
        expect(block.transactionsRoot).toBe(EMPTY_TRIE_ROOT)
        expect(block.receiptsRoot).toBe(EMPTY_TRIE_ROOT)
      } else {
        expect(block.transactionsRoot).not.toBe(EMPTY_TRIE_ROOT)
      }
      const byHash = await rpc<RawBlock>(devnet.rpcUrl, 'eth_getBlockByHash', [block.hash, false])
      expect(byHash).toEqual(block)
      previous = block
    }
  })
})

describe('block contents match their header (every block so far)', {timeout: TIMEOUT}, () => {
  test('each transaction re-serializes to its hash; transactionsRoot, receiptsRoot, logsBloom, gasUsed and logIndex agree', async () => {
    const head = await client.getBlockNumber({cacheTime: 0})
    let checkedTransactions = 0
    for (let n = 1n; n <= head; n++) {
      const block = await client.getBlock({blockNumber: n, includeTransactions: true})
      const raw: Hex[] = []
      for (const tx of block.transactions) {
        const serialized = serializeFromRpc(tx)
        expect(keccak256(serialized), `block ${n}: ${tx.type} transaction ${tx.hash} re-serialized from its RPC fields`).toBe(tx.hash)
        raw.push(serialized)
        expect(tx.blockHash).toBe(block.hash)
      }
      expect(await orderedTrieRoot(raw), `transactionsRoot of block ${n}`).toBe(block.transactionsRoot)
      const receipts = await Promise.all(block.transactions.map((tx) => rpc<RawReceipt & {logs: (RawReceipt['logs'][number] & {logIndex: Hex})[]; gasUsed: Hex; transactionIndex: Hex}>(devnet.rpcUrl, 'eth_getTransactionReceipt', [tx.hash])))
      expect(await orderedTrieRoot(receipts.map(encodeReceipt)), `receiptsRoot of block ${n}`).toBe(block.receiptsRoot)
      let cumulative = 0n
      let logIndex = 0
      for (const [i, receipt] of receipts.entries()) {
        cumulative += BigInt(receipt.gasUsed)
        expect(BigInt(receipt.cumulativeGasUsed), `cumulativeGasUsed of tx ${i} in block ${n}`).toBe(cumulative)
        expect(Number(receipt.transactionIndex)).toBe(i)
        expect(receipt.logsBloom, `logsBloom of tx ${i} in block ${n}`).toBe(logsBloom(receipt.logs))
        for (const log of receipt.logs) expect(Number(log.logIndex), `logIndex in block ${n}`).toBe(logIndex++)
      }
      expect(block.gasUsed).toBe(cumulative)
      expect(block.logsBloom, `logsBloom of block ${n}`).toBe(logsBloom(receipts.flatMap((r) => r.logs)))
      checkedTransactions += raw.length
    }
    expect(checkedTransactions).toBeGreaterThan(20)
  })
})

describe('JSON-RPC over HTTP', {timeout: TIMEOUT}, () => {
  test('a batch gets an array of responses matched by id', async () => {
    const {json} = await rpcRaw(devnet.rpcUrl, [
      {jsonrpc: '2.0', id: 'a', method: 'eth_chainId', params: []},
      {jsonrpc: '2.0', id: 2, method: 'eth_blockNumber', params: []},
      {jsonrpc: '2.0', id: 3, method: 'no_such_method', params: []},
    ])
    expect(Array.isArray(json)).toBe(true)
    const byId = new Map((json as {id: unknown}[]).map((r) => [r.id, r]))
    expect(byId.get('a')).toMatchObject({jsonrpc: '2.0', result: '0x7a69'})
    expect(byId.get(2)).toMatchObject({jsonrpc: '2.0', result: expect.stringMatching(/^0x[0-9a-f]+$/)})
    expect(byId.get(3)).toMatchObject({jsonrpc: '2.0', error: {code: -32601}})
  })

  test('malformed JSON → -32700 with id null; unknown method → -32601; bad params → -32602', async () => {
    const parse = await rpcRaw(devnet.rpcUrl, '{"jsonrpc":"2.0","id":1,"method":')
    expect(parse.json).toMatchObject({jsonrpc: '2.0', id: null, error: {code: expect.any(Number)}})
    // JSON-RPC 2.0 says -32700 (geth answers so); anvil answers -32600. Either is an error clients handle.
    expect([-32700, -32600]).toContain((parse.json as {error: {code: number}}).error.code)
    const unknown = await rpcRaw(devnet.rpcUrl, {jsonrpc: '2.0', id: 9, method: 'eth_noSuchMethod', params: []})
    expect(unknown.json).toMatchObject({jsonrpc: '2.0', id: 9, error: {code: -32601}})
    const badParams = await rpcRaw(devnet.rpcUrl, {jsonrpc: '2.0', id: 10, method: 'eth_getBalance', params: ['0x1234', 'latest']})
    expect(badParams.json).toMatchObject({jsonrpc: '2.0', id: 10, error: {code: -32602}})
  })

  test('EIP-1898: state methods accept {blockHash} and {blockNumber} objects', async () => {
    const block = await client.getBlock({blockNumber: deployReceipt.blockNumber})
    const address = addressOf(DEPLOYER)
    const expected = numberToHex(await client.getBalance({address, blockNumber: block.number}))
    expect(await rpc(devnet.rpcUrl, 'eth_getBalance', [address, {blockHash: block.hash}])).toBe(expected)
    expect(await rpc(devnet.rpcUrl, 'eth_getBalance', [address, {blockNumber: numberToHex(block.number)}])).toBe(expected)
  })

  test('unknown transaction and block lookups return null', async () => {
    const missing = `0x${'ab'.repeat(32)}`
    expect(await rpc(devnet.rpcUrl, 'eth_getTransactionByHash', [missing])).toBeNull()
    expect(await rpc(devnet.rpcUrl, 'eth_getTransactionReceipt', [missing])).toBeNull()
    expect(await rpc(devnet.rpcUrl, 'eth_getBlockByHash', [missing, false])).toBeNull()
    expect(await rpc(devnet.rpcUrl, 'eth_getBlockByNumber', ['0xffffff', false])).toBeNull()
  })
})

describe('HTTP transport details clients depend on', {timeout: TIMEOUT}, () => {
  test('CORS: a browser preflight is allowed and responses carry Access-Control-Allow-Origin', async () => {
    // dapps in a browser (viem/ethers/wagmi) talk to the node cross-origin.
    const preflight = await fetch(devnet.rpcUrl, {
      method: 'OPTIONS',
      headers: {origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type'},
    })
    expect(preflight.status).toBeLessThan(300)
    expect(['*', 'http://localhost:3000']).toContain(preflight.headers.get('access-control-allow-origin'))
    expect(preflight.headers.get('access-control-allow-headers') ?? '').toMatch(/content-type|\*/i)
    const post = await fetch(devnet.rpcUrl, {
      method: 'POST',
      headers: {origin: 'http://localhost:3000', 'content-type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: []}),
    })
    expect(['*', 'http://localhost:3000']).toContain(post.headers.get('access-control-allow-origin'))
    expect(post.headers.get('content-type') ?? '').toMatch(/^application\/json/)
  })

  test('an idle keep-alive connection is not closed after a few seconds', async () => {
    // Scripts pause between requests (compiling, waiting); Node's default 5 s keep-alive makes
    // their next request on the pooled socket fail with "fetch failed".
    const {connect} = await import('node:net')
    const url = new URL(devnet.rpcUrl)
    const socket = connect({host: url.hostname, port: Number(url.port)})
    let closedAt: number | undefined
    let received = ''
    socket.on('data', (chunk) => (received += chunk.toString()))
    socket.on('close', () => (closedAt = Date.now()))
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    const body = JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: []})
    socket.write(`POST / HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    await waitFor(async () => received.includes('0x7a69'), {timeoutMs: 10_000, what: 'the first response'})
    const idleFrom = Date.now()
    // The idle period is what is under test, so it is waited out on purpose.
    await new Promise((resolve) => setTimeout(resolve, 7_000))
    socket.destroy()
    expect(closedAt === undefined || closedAt - idleFrom >= 7_000, `the server closed the idle connection after ${closedAt! - idleFrom} ms`).toBe(true)
  })
})

describe('more of what clients use', {timeout: TIMEOUT}, () => {
  test('JSON-RPC accounts: eth_accounts lists the dev accounts and eth_sendTransaction sends from them', async () => {
    const accounts = await rpc<string[]>(devnet.rpcUrl, 'eth_accounts')
    expect(accounts.map((a) => a.toLowerCase())).toEqual(expect.arrayContaining(devnet.accounts.slice(0, 10).map((a) => a.address.toLowerCase())))
    // viem with a JSON-RPC account (an address, no key): eth_sendTransaction, as with anvil.
    const walletRpc = createWalletClient({account: addressOf(JSON_RPC_ACCOUNT), chain: e2eChain(devnet), transport: http(devnet.rpcUrl)})
    const to = freshAddress()
    const hash = await walletRpc.sendTransaction({to, value: 7n})
    const receipt = await receiptOf(hash)
    expect(receipt.status).toBe('success')
    expect(receipt.from.toLowerCase()).toBe(addressOf(JSON_RPC_ACCOUNT).toLowerCase())
    expect(await client.getBalance({address: to})).toBe(7n)
    // personal_sign (viem signMessage with a JSON-RPC account; ethers getSigner().signMessage).
    const signature = await walletRpc.signMessage({message: 'hello xai'})
    expect(await verifyMessage({address: addressOf(JSON_RPC_ACCOUNT), message: 'hello xai', signature})).toBe(true)
  })

  test('eth_getProof: the account and storage proofs verify against the block roots', async () => {
    const block = await client.getBlock({blockTag: 'latest'})
    const slot = numberToHex(2, {size: 32}) // totalSupply
    const proof = await client.getProof({address: tokenAddress, storageKeys: [slot], blockNumber: block.number})
    expect(keccak256(proof.accountProof[0]!)).toBe(block.stateRoot)
    const account = await verifyMerkleProof(hexToBytes(keccak256(tokenAddress)), proof.accountProof.map((n) => hexToBytes(n)), {useKeyHashing: false})
    expect(account).not.toBeNull()
    const [nonce, balance, storageRoot, codeHash] = fromRlp(bytesToHex(account!)) as Hex[]
    expect(BigInt(nonce! === '0x' ? 0 : nonce!)).toBe(BigInt(proof.nonce))
    expect(BigInt(balance! === '0x' ? 0 : balance!)).toBe(proof.balance)
    expect(storageRoot).toBe(proof.storageHash)
    expect(codeHash).toBe(proof.codeHash)
    expect(proof.codeHash).toBe(keccak256(token.deployedBytecode))
    const [storage] = proof.storageProof
    expect(storage!.value).toBe(TOKEN_SUPPLY)
    expect(keccak256(storage!.proof[0]!)).toBe(proof.storageHash)
    const stored = await verifyMerkleProof(hexToBytes(keccak256(slot)), storage!.proof.map((n) => hexToBytes(n)), {useKeyHashing: false})
    expect(BigInt(fromRlp(bytesToHex(stored!), 'hex') as Hex)).toBe(TOKEN_SUPPLY)
  })

  test('EIP-2935 (Prague): the history contract serves recent block hashes', async () => {
    const historyContract = '0x0000F90827F1C53a10cb7A02335B175320002935'
    expect(await client.getCode({address: historyContract}), 'no code at the EIP-2935 history storage address').toBeDefined()
    const head = await client.getBlockNumber({cacheTime: 0})
    for (const height of [head - 1n, head - 2n, 1n]) {
      const {data} = await client.call({to: historyContract, data: numberToHex(height, {size: 32})})
      expect(data, `history contract's hash of block ${height}`).toBe((await client.getBlock({blockNumber: height})).hash)
    }
  })

  test('eth_blobBaseFee and eth_maxPriorityFeePerGas answer quantities', async () => {
    expect(await client.getBlobBaseFee()).toBeGreaterThanOrEqual(1n)
    expect(BigInt(await rpc<Hex>(devnet.rpcUrl, 'eth_maxPriorityFeePerGas'))).toBeGreaterThanOrEqual(0n)
  })

  test('a pending transaction is returned by hash with null block fields', async () => {
    const sender = addressOf(QUEUED)
    const nonce = await client.getTransactionCount({address: sender, blockTag: 'pending'})
    // nonce + 1 cannot be mined until the gap is filled: it stays in the pool.
    const waiting = await wallet(QUEUED).sendTransaction({to: freshAddress(), value: 1n, nonce: nonce + 1, gas: 21_000n, maxFeePerGas: parseGwei('100'), maxPriorityFeePerGas: parseGwei('1')})
    const raw = await rpc<Record<string, unknown> | null>(devnet.rpcUrl, 'eth_getTransactionByHash', [waiting])
    expect(raw).toMatchObject({hash: waiting, blockHash: null, blockNumber: null, transactionIndex: null, nonce: numberToHex(nonce + 1)})
    expect(await rpc(devnet.rpcUrl, 'eth_getTransactionReceipt', [waiting])).toBeNull()
    await receiptOf(await wallet(QUEUED).sendTransaction({to: freshAddress(), value: 1n, nonce}))
    expect((await receiptOf(waiting)).status).toBe('success')
  })
})

describe('ethers v6', {timeout: TIMEOUT}, () => {
  let provider: JsonRpcProvider
  let signer: NonceManager
  let signerAddress: Address

  beforeAll(() => {
    provider = new JsonRpcProvider(devnet.rpcUrl)
    provider.pollingInterval = 100
    // ethers caches identical requests for 250 ms, so back-to-back sends on an automining
    // chain would reuse a stale 'pending' nonce: NonceManager is the documented remedy.
    signer = new NonceManager(new Wallet(devnet.accounts[ETHERS]!.privateKey, provider))
    signerAddress = devnet.accounts[ETHERS]!.address
  })

  afterAll(() => {
    provider?.destroy()
  })

  test('network, transfer, balances', async () => {
    expect((await provider.getNetwork()).chainId).toBe(31337n)
    const to = freshAddress()
    const tx = await signer.sendTransaction({to, value: parseEther('0.5')})
    const receipt = (await tx.wait(1, 60_000)) as EthersReceipt
    expect(receipt.status).toBe(1)
    expect(receipt.hash).toBe(tx.hash)
    expect(receipt.gasUsed).toBe(21_000n)
    expect(await provider.getBalance(to)).toBe(parseEther('0.5'))
    expect(await provider.getTransactionCount(signerAddress)).toBe(tx.nonce + 1)
    const fetched = await provider.getTransaction(tx.hash)
    expect(fetched?.blockHash).toBe(receipt.blockHash)
  })

  test('ContractFactory deploy, calls, transfer and queryFilter', async () => {
    const factory = new ContractFactory(token.abi as never, token.bytecode, signer)
    const deployed = await factory.deploy('Ethers Token', 'ETK', 1_000n)
    await deployed.waitForDeployment()
    const address = await deployed.getAddress()
    expect(await provider.getCode(address)).toBe(token.deployedBytecode)
    const contract = new Contract(address, token.abi as never, signer)
    expect(await contract.getFunction('name')()).toBe('Ethers Token')
    expect(await contract.getFunction('balanceOf')(signerAddress)).toBe(1_000n)

    const to = freshAddress()
    const tx = await contract.getFunction('transfer')(to, 40n)
    const receipt = (await tx.wait(1, 60_000)) as EthersReceipt
    expect(receipt.status).toBe(1)
    const filter = contract.filters.Transfer!(signerAddress, to)
    const events = await contract.queryFilter(filter, receipt.blockNumber, receipt.blockNumber)
    expect(events).toHaveLength(1)
    const event = events[0] as unknown as {args: unknown[]; transactionHash: string; eventName: string}
    expect(event.eventName).toBe('Transfer')
    expect(event.transactionHash).toBe(receipt.hash)
    expect([...event.args]).toEqual([signerAddress, to, 40n])
    // The whole history from block 0: mint + transfer.
    const everything = await contract.queryFilter(contract.filters.Transfer!(), 0, 'latest')
    expect(everything).toHaveLength(2)
  })

  test('reverts: CALL_EXCEPTION with the custom error and the require reason decoded', async () => {
    const contract = new Contract(tokenAddress, token.abi as never, new Wallet(devnet.accounts[EMPTY_TOKEN_HOLDER]!.privateKey, provider))
    const custom = await rejectionOf(contract.getFunction('transfer').staticCall(freshAddress(), 3n))
    if (!isEthersError(custom, 'CALL_EXCEPTION')) throw custom
    expect(custom.revert?.name).toBe('InsufficientBalance')
    expect([...(custom.revert?.args ?? [])]).toEqual([devnet.accounts[EMPTY_TOKEN_HOLDER]!.address, 0n, 3n])
    const parsed = contract.interface.parseError(custom.data!)
    expect(parsed?.name).toBe('InsufficientBalance')

    const reason = await rejectionOf(contract.getFunction('transfer').staticCall(ZeroAddress, 1n))
    if (!isEthersError(reason, 'CALL_EXCEPTION')) throw reason
    expect(reason.reason).toBe('TestToken: transfer to the zero address')
    expect(reason.revert?.name).toBe('Error')

    // Sending it: ethers estimates gas first, which fails with the revert data.
    const sent = await rejectionOf(contract.getFunction('transfer')(freshAddress(), 3n))
    if (!isEthersError(sent, 'CALL_EXCEPTION')) throw sent
    expect(contract.interface.parseError(sent.data!)?.name).toBe('InsufficientBalance')
  })

  test("getBlock('latest') and getFeeData", async () => {
    const block = await provider.getBlock('latest')
    expect(block).not.toBeNull()
    expect(block!.hash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(block!.parentHash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(typeof block!.baseFeePerGas).toBe('bigint')
    expect(block!.number).toBeGreaterThan(0)
    expect(block!.timestamp).toBeGreaterThan(1_600_000_000)
    const withTxs = await provider.getBlock(deployReceipt.blockNumber, true)
    expect(withTxs!.prefetchedTransactions.map((t) => t.hash)).toEqual([deployReceipt.transactionHash])
    const fees = await provider.getFeeData()
    expect(fees.gasPrice).not.toBeNull()
    expect(fees.maxFeePerGas).not.toBeNull()
    expect(fees.maxPriorityFeePerGas).not.toBeNull()
    expect(fees.maxFeePerGas!).toBeGreaterThanOrEqual(block!.baseFeePerGas!)
  })
})

async function deployBlockInfo(): Promise<Address> {
  const hash = await wallet(BLOCK_INFO).deployContract({abi: blockInfo.abi, bytecode: blockInfo.bytecode})
  const receipt = await receiptOf(hash)
  expect(receipt.status).toBe('success')
  return receipt.contractAddress!
}

/** EIP-1559 base fee of the block after one with these values (elasticity 2, denominator 8). */
function nextBaseFee(baseFee: bigint, gasUsed: bigint, gasLimit: bigint): bigint {
  const target = gasLimit / 2n
  if (gasUsed === target) return baseFee
  if (gasUsed > target) {
    const delta = (baseFee * (gasUsed - target)) / target / 8n
    return baseFee + (delta > 1n ? delta : 1n)
  }
  return baseFee - (baseFee * (target - gasUsed)) / target / 8n
}

function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

interface TransferLog {
  args: {from: Address; to: Address; value: bigint}
  address: Address
  blockHash: Hash
  blockNumber: bigint
  transactionHash: Hash
  transactionIndex: number
  logIndex: number
  removed: boolean
  topics: Hex[]
}

type TransferEventAbi = {
  type: 'event'
  name: 'Transfer'
  inputs: [
    {type: 'address'; name: 'from'; indexed: true},
    {type: 'address'; name: 'to'; indexed: true},
    {type: 'uint256'; name: 'value'; indexed: false},
  ]
}
